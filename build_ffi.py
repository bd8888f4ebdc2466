"""Build ``cfcntl._cfcntl``: a cffi out-of-line (API mode) module compiled from the system headers.

Nothing here states a size, an offset or a constant's value.  The cdef declares the
structs with ``...;`` and the constants with ``#define NAME ...``, and the C compiler
fills them in from ``<fcntl.h>``.  Which constants to declare is decided by asking the
same compiler which of the names listed in ``src/cfcntl/constants.py`` the headers
define, so a name the headers lack leaves the build working and the name absent.

Python never calls the variadic ``fcntl()``: the small fixed-signature helpers in
``HELPERS`` take scalars, build the struct on the C stack and return a status.  Getters
write their answer into a buffer the Python caller owns (no slot shared between calls,
which a signal handler's call could overwrite); the record-lock queries take theirs from
a pool, so the hot path allocates nothing.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cffi import FFI  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
CONSTANTS_FILE = HERE / "src" / "cfcntl" / "constants.py"
REQUESTS_FILE = HERE / "src" / "cfcntl" / "_requests.py"

PREAMBLE = """\
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <time.h>
#include <linux/fs.h>
#include <asm/ioctl.h>
#include <linux/sockios.h>
/* The types the kernel reads and writes for legacy requests (src/cfcntl/_requests.py). */
#include <sys/time.h>
#include <asm/termbits.h>
#include <linux/serial.h>
#include <net/if.h>
#include <net/if_arp.h>
"""

HELPERS = """\
/* glibc declares f_owner_ex.type as an enum, musl and the kernel as int: let the
   compiler say which integer type it is. */
typedef __typeof__(((struct f_owner_ex *)0)->type) cf_owner_type;

/* CLOCK_MONOTONIC in nanoseconds: the lock manager's deadlines, the C floor's timing. */
static int64_t cf_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* Every command whose argument is an int (or none): returns what fcntl returns. */
static int cf_fcntl(int fd, int cmd, int arg) { return fcntl(fd, cmd, arg); }

/* F_NOTIFY, whose mask the kernel reads as unsigned int (DN_MULTISHOT is bit 31). */
static int cf_fcntl_unsigned(int fd, int cmd, unsigned int arg) { return fcntl(fd, cmd, arg); }

/* The OFD commands came with Linux 3.15; with older headers their helpers answer EINVAL,
   and Python never calls them (cfcntl.require raises NotImplementedError first). */
#ifdef F_OFD_GETLK
#define CF_OFD_GETLK F_OFD_GETLK
#define CF_OFD_SETLK F_OFD_SETLK
#define CF_OFD_SETLKW F_OFD_SETLKW
#else
#define CF_OFD_GETLK (-1)
#define CF_OFD_SETLK (-1)
#define CF_OFD_SETLKW (-1)
#endif

/* One record-lock command on a struct flock built from scalars; a negative fd never
   reaches the kernel (EBADF here; Python reports it as ValueError). */
static int cf_flock(int fd, int cmd, struct flock *fl, short type, short whence,
                    off_t start, off_t len)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    memset(fl, 0, sizeof *fl);   /* l_pid must be 0 for the OFD commands */
    fl->l_type = type;
    fl->l_whence = whence;
    fl->l_start = start;
    fl->l_len = len;
    return fcntl(fd, cmd, fl);
}

/* F_SETLK, F_SETLKW and their OFD twins: 0 or -1. */
static int cf_setlk(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
    struct flock fl;
    return cf_flock(fd, cmd, &fl, type, whence, start, len);
}

/* One helper per command, so Python passes five arguments and no command number (each
   argument costs a conversion in the call). */
static int cf_posix_setlk(int fd, short type, short whence, off_t start, off_t len)
{ return cf_setlk(fd, F_SETLK, type, whence, start, len); }

static int cf_posix_setlkw(int fd, short type, short whence, off_t start, off_t len)
{ return cf_setlk(fd, F_SETLKW, type, whence, start, len); }

static int cf_ofd_setlk(int fd, short type, short whence, off_t start, off_t len)
{ return cf_setlk(fd, CF_OFD_SETLK, type, whence, start, len); }

static int cf_ofd_setlkw(int fd, short type, short whence, off_t start, off_t len)
{ return cf_setlk(fd, CF_OFD_SETLKW, type, whence, start, len); }

/* A conflicting lock as the five int64_t Python unpacks: type, whence, start, len, pid. */
static void cf_store_conflict(int64_t *found, const struct flock *fl)
{
    found[0] = fl->l_type;
    found[1] = fl->l_whence;
    found[2] = fl->l_start;
    found[3] = fl->l_len;
    found[4] = fl->l_pid;
}

/* The queries: 0 when nothing conflicts, 1 when the conflicting lock is in `found` as
   five int64_t (type, whence, start, len, pid), -1 on error.  `found` is the caller's
   (Python's, one buffer per call in progress), so that nothing another call does,
   in a signal handler or another thread, can change the answer before Python reads it;
   five int64_t make one ffi.unpack instead of five attribute reads. */
static int cf_query(int fd, int cmd, short type, short whence, off_t start, off_t len,
                    int64_t *found)
{
    struct flock fl;
    if (cf_flock(fd, cmd, &fl, type, whence, start, len) < 0)
        return -1;
    if (fl.l_type == F_UNLCK)
        return 0;
    cf_store_conflict(found, &fl);
    return 1;
}

static int cf_posix_getlk(int fd, short type, short whence, off_t start, off_t len,
                          int64_t *found)
{ return cf_query(fd, F_GETLK, type, whence, start, len, found); }

static int cf_ofd_getlk(int fd, short type, short whence, off_t start, off_t len,
                        int64_t *found)
{ return cf_query(fd, CF_OFD_GETLK, type, whence, start, len, found); }

/* The queries' fast form, with no buffer to pass: 0 when nothing conflicts, -1 on error,
   k + 1 when the conflicting lock is in cf_answers[k], a slot claimed (atomically, so a
   signal handler's or another thread's query claims another) for the caller until it
   calls cf_answer_free(k + 1); CF_SLOTS + 1 when a lock conflicts but every slot is claimed
   (answers not yet read, or lost to an exception): ask again with a buffer. */
#define CF_SLOTS 64
static int64_t cf_answers[CF_SLOTS][5];
static int cf_answer_busy[CF_SLOTS];

static int cf_query_slot(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
    struct flock fl;
    if (cf_flock(fd, cmd, &fl, type, whence, start, len) < 0)
        return -1;
    if (fl.l_type == F_UNLCK)
        return 0;
    for (int k = 0; k < CF_SLOTS; k++) {
        int free_slot = 0;
        if (__atomic_compare_exchange_n(&cf_answer_busy[k], &free_slot, 1, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            cf_store_conflict(cf_answers[k], &fl);
            return k + 1;
        }
    }
    return CF_SLOTS + 1;
}

static void cf_answer_free(int found)
{
    __atomic_store_n(&cf_answer_busy[found - 1], 0, __ATOMIC_RELEASE);
}

static int cf_posix_getlk_slot(int fd, short type, short whence, off_t start, off_t len)
{ return cf_query_slot(fd, F_GETLK, type, whence, start, len); }

static int cf_ofd_getlk_slot(int fd, short type, short whence, off_t start, off_t len)
{ return cf_query_slot(fd, CF_OFD_GETLK, type, whence, start, len); }

/* F_GETFL with the descriptor as the only argument: cffi passes a single argument
   without building an argument tuple. */
static int cf_getfl(int fd)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    return fcntl(fd, F_GETFL);
}

/* F_GETOWN_EX into the caller's struct; F_SETOWN_EX from scalars. */
static int cf_get_owner(int fd, int cmd, struct f_owner_ex *owner)
{ return fcntl(fd, cmd, owner); }

static int cf_set_owner(int fd, int cmd, cf_owner_type type, pid_t pid)
{
    struct f_owner_ex owner;
    memset(&owner, 0, sizeof owner);
    owner.type = type;
    owner.pid = pid;
    return fcntl(fd, cmd, &owner);
}

/* Commands that read or write a uint64_t through the pointer (the rw hints). */
static int cf_get_u64(int fd, int cmd, uint64_t *value) { return fcntl(fd, cmd, value); }

static int cf_set_u64(int fd, int cmd, uint64_t value) { return fcntl(fd, cmd, &value); }
"""

CDEF = """\
typedef int... off_t;
typedef int... pid_t;
typedef int... cf_owner_type;

struct flock { short l_type; short l_whence; off_t l_start; off_t l_len; pid_t l_pid; ...; };
struct f_owner_ex { cf_owner_type type; pid_t pid; ...; };
int cf_fcntl(int fd, int cmd, int arg);
int cf_fcntl_unsigned(int fd, int cmd, unsigned int arg);
int cf_posix_setlk(int fd, short type, short whence, off_t start, off_t len);
int cf_posix_setlkw(int fd, short type, short whence, off_t start, off_t len);
int cf_ofd_setlk(int fd, short type, short whence, off_t start, off_t len);
int cf_ofd_setlkw(int fd, short type, short whence, off_t start, off_t len);
int cf_posix_getlk(int fd, short type, short whence, off_t start, off_t len, int64_t *found);
int cf_ofd_getlk(int fd, short type, short whence, off_t start, off_t len, int64_t *found);
#define CF_SLOTS ...
extern int64_t cf_answers[...][5];
int cf_posix_getlk_slot(int fd, short type, short whence, off_t start, off_t len);
int cf_ofd_getlk_slot(int fd, short type, short whence, off_t start, off_t len);
void cf_answer_free(int found);
int cf_getfl(int fd);
int cf_get_owner(int fd, int cmd, struct f_owner_ex *owner);
int cf_set_owner(int fd, int cmd, cf_owner_type type, pid_t pid);
int cf_get_u64(int fd, int cmd, uint64_t *value);
int cf_set_u64(int fd, int cmd, uint64_t value);
"""

COMPAT_HELPERS = """\
/* cfcntl.compat: the calls CPython's fcntl module makes, one fixed signature each.

   Each returns the call's result, or on failure CF_COMPAT_FAILED - errno: the errno
   travels with the result, because a signal handler that Python runs before it reads
   cffi's saved errno could make a failing call of its own (and F_GETOWN's negated
   process group is a result, so -errno alone would not do). */

#define CF_COMPAT_BUFSZ 1024
#define CF_COMPAT_GUARDSZ 8
#define CF_COMPAT_FAILED (-(1LL << 32))
/* What a copying call returns when the kernel wrote past the argument. */
#define CF_COMPAT_OVERRUN (-(1LL << 33))
static long long cf_compat_result(int ret) { return ret == -1 ? CF_COMPAT_FAILED - errno : ret; }
/* NUL then random bytes after the copied argument, as CPython 3.14 puts them. */
static const char cf_compat_guard[CF_COMPAT_GUARDSZ] = {0x00, (char)0xfa, 0x69, (char)0xc4,
                                                        0x67, (char)0xa3, 0x6c, 0x58};

/* cf_compat_call's flags: copy the answer back into data; check the guard. */
#define CF_COMPAT_COPY_BACK 1
#define CF_COMPAT_CHECK 2

static long long cf_compat_flock(int fd, int operation)
{
    return cf_compat_result(flock(fd, operation));
}

/* fcntl() with the argument left out: the stdlib passes an int 0. */
static long long cf_compat_fcntl0(int fd, int cmd) { return cf_compat_result(fcntl(fd, cmd, 0)); }

static long long cf_compat_fcntl_int(int fd, int cmd, int arg)
{
    return cf_compat_result(fcntl(fd, cmd, arg));
}

static long long cf_compat_ioctl_int(int fd, unsigned long request, int arg)
{
    return cf_compat_result(ioctl(fd, request, arg));
}

static long long cf_compat_ioctl_ptr(int fd, unsigned long request, char *arg)
{
    return cf_compat_result(ioctl(fd, request, arg));
}

/* lockf's record lock (cf_setlk builds the struct flock on the stack). */
static long long cf_compat_setlk(int fd, int cmd, short type, short whence, off_t start,
                                 off_t len)
{
    return cf_compat_result(cf_setlk(fd, cmd, type, whence, start, len));
}

/* The stdlib's copy: len bytes of data into buf (the caller's, len + CF_COMPAT_GUARDSZ
   bytes: nothing here is shared between calls, so a signal handler that calls compat
   meanwhile uses another buf), then the guard; fcntl (or ioctl when use_ioctl) gets
   buf.  With CF_COMPAT_COPY_BACK the answer goes back into data whatever the result;
   with CF_COMPAT_CHECK a success is CF_COMPAT_OVERRUN if the kernel wrote past the
   argument. */
static long long cf_compat_call(int fd, int use_ioctl, int cmd, unsigned long request,
                                char *data, size_t len, char *buf, int flags)
{
    int ret;
    memcpy(buf, data, len);
    memcpy(buf + len, cf_compat_guard, sizeof cf_compat_guard);
    ret = use_ioctl ? ioctl(fd, request, buf) : fcntl(fd, cmd, buf);
    if (ret == -1)
        ret = -errno;
    if (flags & CF_COMPAT_COPY_BACK)
        memcpy(data, buf, len);
    if (ret < 0)
        return CF_COMPAT_FAILED + ret;
    if ((flags & CF_COMPAT_CHECK)
        && memcmp(buf + len, cf_compat_guard, sizeof cf_compat_guard) != 0)
        return CF_COMPAT_OVERRUN;
    return ret;
}

static long long cf_compat_fcntl_in(int fd, int cmd, char *data, size_t len, char *buf,
                                    int flags)
{
    return cf_compat_call(fd, 0, cmd, 0, data, len, buf, flags);
}

static long long cf_compat_ioctl_in(int fd, unsigned long request, char *data, size_t len,
                                    char *buf, int flags)
{
    return cf_compat_call(fd, 1, 0, request, data, len, buf, flags);
}

/* ioctl on a writable buffer of len <= CF_COMPAT_BUFSZ bytes, as the stdlib does it:
   through a copy on the C stack that goes back into data before the return (so no
   answer waits anywhere for Python to read it). */
static long long cf_compat_ioctl_mutate(int fd, unsigned long request, char *data, size_t len,
                                        int flags)
{
    char buf[CF_COMPAT_BUFSZ + CF_COMPAT_GUARDSZ];
    return cf_compat_call(fd, 1, 0, request, data, len, buf, flags | CF_COMPAT_COPY_BACK);
}

/* Whether the type at address (id() of a type, on CPython) has a bf_releasebuffer slot,
   which makes PyArg_Parse's "s#" refuse its objects; -1 on PyPy, which has no such
   rule.  PyType_GetSlot is in the stable ABI (static types too since 3.10), but the
   bare Py_LIMITED_API cffi compiles with hides its prototype, so it is declared here;
   Py_bf_releasebuffer is slot 2 in every version's typeslots.h.  It only reads the
   type, so it needs no GIL. */
#ifndef PYPY_VERSION
PyAPI_FUNC(void *) PyType_GetSlot(PyTypeObject *, int);
static int cf_compat_releases(uintptr_t type)
{
    return PyType_GetSlot((PyTypeObject *)type, 2) != NULL;
}
#else
static int cf_compat_releases(uintptr_t type) { (void)type; return -1; }
#endif
"""

COMPAT_CDEF = """\
#define CF_COMPAT_BUFSZ ...
#define CF_COMPAT_GUARDSZ ...
#define CF_COMPAT_FAILED ...
#define CF_COMPAT_OVERRUN ...
#define CF_COMPAT_COPY_BACK ...
#define CF_COMPAT_CHECK ...
long long cf_compat_flock(int fd, int operation);
long long cf_compat_fcntl0(int fd, int cmd);
long long cf_compat_fcntl_int(int fd, int cmd, int arg);
long long cf_compat_ioctl_int(int fd, unsigned long request, int arg);
long long cf_compat_ioctl_ptr(int fd, unsigned long request, char *arg);
long long cf_compat_setlk(int fd, int cmd, short type, short whence, off_t start, off_t len);
long long cf_compat_fcntl_in(int fd, int cmd, char *data, size_t len, char *buf, int flags);
long long cf_compat_ioctl_in(int fd, unsigned long request, char *data, size_t len, char *buf,
                             int flags);
long long cf_compat_ioctl_mutate(int fd, unsigned long request, char *data, size_t len,
                                 int flags);
int cf_compat_releases(uintptr_t type);
"""


LOCK_HELPERS = """\
/* The lock manager's wait with a deadline (src/cfcntl/manager.py). */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* Does nothing: installed without SA_RESTART, its signal makes F_SETLKW return EINTR. */
static void cf_lock_wake(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    (void)context;
}

static pthread_mutex_t cf_lock_mutex = PTHREAD_MUTEX_INITIALIZER;
static int cf_lock_signo;

/* fork() while another thread holds cf_lock_mutex would leave the child a mutex that no
   thread of it will unlock, and its first timed wait would hang: fork takes the mutex
   first (prepare) and both sides let it go. */
static void cf_lock_take(void) { pthread_mutex_lock(&cf_lock_mutex); }
static void cf_lock_give(void) { pthread_mutex_unlock(&cf_lock_mutex); }
static void cf_lock_at_fork(void) { pthread_atfork(cf_lock_take, cf_lock_give, cf_lock_give); }
static pthread_once_t cf_lock_once = PTHREAD_ONCE_INIT;

static int cf_lock_is_ours(int sig)
{
    struct sigaction cur;
    return sigaction(sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO)
           && cur.sa_sigaction == cf_lock_wake;
}

/* The real-time signal that carries cf_lock_wake: the one taken before while it is still
   ours, else the highest one nobody handles (SIG_DFL), taken now; 0 when none is free. */
static int cf_lock_signal(void)
{
    int sig;
    pthread_once(&cf_lock_once, cf_lock_at_fork);
    pthread_mutex_lock(&cf_lock_mutex);
    sig = cf_lock_signo;
    if (sig == 0 || !cf_lock_is_ours(sig)) {
        sig = 0;
        for (int s = SIGRTMAX; s >= SIGRTMIN && sig == 0; s--) {
            struct sigaction cur, mine;
            if (sigaction(s, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO)
                || cur.sa_handler != SIG_DFL)
                continue;
            memset(&mine, 0, sizeof mine);
            mine.sa_sigaction = cf_lock_wake;
            mine.sa_flags = SA_SIGINFO;
            sigemptyset(&mine.sa_mask);
            if (sigaction(s, &mine, NULL) == 0)
                sig = s;
        }
        cf_lock_signo = sig;
    }
    pthread_mutex_unlock(&cf_lock_mutex);
    return sig;
}

static struct timespec cf_lock_timespec(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    return ts;
}

/* No signal to spare: retry F_SETLK, sleeping 1 ms, doubling up to 20 ms. */
static int cf_lock_poll(int fd, int try_cmd, struct flock *fl, int64_t deadline)
{
    int64_t pause = 1000000;
    for (;;) {
        if (fcntl(fd, try_cmd, fl) == 0)
            return 0;
        if (errno != EAGAIN && errno != EACCES)
            return -1;
        int64_t left = deadline - cf_now();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct timespec ts = cf_lock_timespec(pause < left ? pause : left);
        if (nanosleep(&ts, NULL) != 0)
            return -1;
        if (pause < 20000000)
            pause *= 2;
    }
}

/* Wait in wait_cmd (F_SETLKW or F_OFD_SETLKW) until the lock is placed (0) or
   CLOCK_MONOTONIC reaches deadline (ns): -1 with errno ETIMEDOUT.  A timer of this thread
   (SIGEV_THREAD_ID) sends cf_lock_signal() at the deadline and every millisecond after, so
   a signal that lands just before the wait starts is followed by one that ends it.  Any
   other signal returns EINTR, for Python to run its handler and call again. */
static int cf_lock_until(int fd, int try_cmd, int wait_cmd, short type, short whence,
                         off_t start, off_t len, int64_t deadline)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = whence;
    fl.l_start = start;
    fl.l_len = len;
    int sig = cf_lock_signal();
    if (sig == 0)
        return cf_lock_poll(fd, try_cmd, &fl, deadline);

    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = sig;
    event.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
    int timer;
    if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &timer) != 0)
        return -1;
    struct itimerspec when = {cf_lock_timespec(1000000), cf_lock_timespec(deadline)};
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, sig);
    pthread_sigmask(SIG_UNBLOCK, &mask, &old);
    int result = -1;
    if (syscall(SYS_timer_settime, timer, TIMER_ABSTIME, &when, NULL) == 0) {
        if (cf_now() >= deadline)
            errno = ETIMEDOUT;
        else if ((result = fcntl(fd, wait_cmd, &fl)) != 0 && errno == EINTR
                 && cf_now() >= deadline)
            errno = ETIMEDOUT;
    }
    int saved = errno;
    syscall(SYS_timer_delete, timer);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return result;
}
"""

LOCK_CDEF = """\
int cf_lock_until(int fd, int try_cmd, int wait_cmd, short type, short whence,
                  off_t start, off_t len, int64_t deadline);
"""


# ioctl(2): the requests the typed helpers issue.  Each helper is C so that Python calls a
# fixed-signature function with scalars; a request the headers lack leaves its helper
# failing with ENOTTY (Python raises NotImplementedError before calling it).

#: (helper, request, C type the kernel writes) for the int getters: ``int64_t cf_NAME(int fd)``
#: returns the value, or CF_IOCTL_FAILED (outside every such type) with errno set.
IOCTL_GETTERS = (
    ("fionread", "FIONREAD", "int"),
    ("tiocoutq", "TIOCOUTQ", "int"),
    ("tiocgpgrp", "TIOCGPGRP", "pid_t"),
    ("tiocgsid", "TIOCGSID", "pid_t"),
    ("tiocgptn", "TIOCGPTN", "unsigned int"),
    ("tiocgetd", "TIOCGETD", "int"),
    ("fs_getflags", "FS_IOC_GETFLAGS", "int"),
    ("fs_getversion", "FS_IOC_GETVERSION", "int"),
    ("blksszget", "BLKSSZGET", "int"),
)
#: (helper, request, C type the kernel reads) for the int setters: ``int cf_NAME(int fd, T value)``.
IOCTL_SETTERS = (
    ("fionbio", "FIONBIO", "int"),
    ("fioasync", "FIOASYNC", "int"),
    ("tiocsptlck", "TIOCSPTLCK", "int"),
    ("tiocspgrp", "TIOCSPGRP", "pid_t"),
    ("fs_setflags", "FS_IOC_SETFLAGS", "int"),
)
#: (helper, request) for requests with no argument: ``int cf_NAME(int fd)`` passes 0.
IOCTL_PLAIN = (
    ("fioclex", "FIOCLEX"),
    ("fionclex", "FIONCLEX"),
    ("tiocexcl", "TIOCEXCL"),
    ("tiocnxcl", "TIOCNXCL"),
    ("tiocnotty", "TIOCNOTTY"),
    ("tiocsctty", "TIOCSCTTY"),
)


def _guarded(request: str, signature: str, body: str, fallback: str) -> str:
    """A static C helper that issues ``request``, or fails with ENOTTY without it."""
    return (
        f"static {signature}\n{{\n#ifdef {request}\n{body}\n#else\n"
        f"    errno = ENOTTY;\n    return {fallback};\n#endif\n}}\n"
    )


IOCTL_HELPERS = (
    """\
#define CF_IOCTL_FAILED INT64_MIN

/* The generic calls: the argument by pointer, by value (the kernel's unsigned long), or
   none (a zero). */
static int cf_ioctl_ptr(int fd, unsigned int request, void *arg) { return ioctl(fd, request, arg); }

static int cf_ioctl_value(int fd, unsigned int request, unsigned long value)
{
    return ioctl(fd, request, value);
}

static int cf_ioctl_none(int fd, unsigned int request)
{
    return ioctl(fd, request, (unsigned long)0);
}

/* TIOCGWINSZ: the four fields packed into one uint64_t, ws_row in the low 16 bits.
   UINT64_MAX is also a failure; errno is 0 when it is the real answer. */
static uint64_t cf_get_winsize(int fd)
{
    struct winsize ws;
    uint64_t packed;
    if (ioctl(fd, TIOCGWINSZ, &ws) == -1)
        return UINT64_MAX;
    packed = (uint64_t)ws.ws_row | (uint64_t)ws.ws_col << 16
           | (uint64_t)ws.ws_xpixel << 32 | (uint64_t)ws.ws_ypixel << 48;
    if (packed == UINT64_MAX)
        errno = 0;
    return packed;
}

static int cf_set_winsize(int fd, unsigned short row, unsigned short col,
                          unsigned short xpixel, unsigned short ypixel)
{
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = row;
    ws.ws_col = col;
    ws.ws_xpixel = xpixel;
    ws.ws_ypixel = ypixel;
    return ioctl(fd, TIOCSWINSZ, &ws);
}
"""
    + _guarded(
        "BLKGETSIZE64",
        "uint64_t cf_blkgetsize64(int fd)",
        "    uint64_t size = 0;\n"
        "    if (ioctl(fd, BLKGETSIZE64, &size) == -1)\n        return UINT64_MAX;\n"
        "    if (size == UINT64_MAX)\n        errno = 0;\n    return size;",
        "UINT64_MAX",
    )
    + _guarded(
        "FICLONE",
        "int cf_ficlone(int dst, int src)",
        "    return ioctl(dst, FICLONE, src);",
        "-1",
    )
    + _guarded(
        "FICLONERANGE",
        "int cf_ficlonerange(int dst, int src, uint64_t src_offset, uint64_t length,\n"
        "                    uint64_t dst_offset)",
        "    struct file_clone_range range;\n    memset(&range, 0, sizeof range);\n"
        "    range.src_fd = src;\n    range.src_offset = src_offset;\n"
        "    range.src_length = length;\n    range.dest_offset = dst_offset;\n"
        "    return ioctl(dst, FICLONERANGE, &range);",
        "-1",
    )
    + "".join(
        _guarded(
            request,
            f"int64_t cf_{name}(int fd)",
            f"    {ctype} value = 0;\n"
            f"    return ioctl(fd, {request}, &value) == -1 ? CF_IOCTL_FAILED : (int64_t)value;",
            "CF_IOCTL_FAILED",
        )
        for name, request, ctype in IOCTL_GETTERS
    )
    + "".join(
        _guarded(
            request,
            f"int cf_{name}(int fd, {ctype} value)",
            f"    return ioctl(fd, {request}, &value);",
            "-1",
        )
        for name, request, ctype in IOCTL_SETTERS
    )
    + "".join(
        _guarded(
            request,
            f"int cf_{name}(int fd)",
            f"    return ioctl(fd, {request}, (unsigned long)0);",
            "-1",
        )
        for name, request in IOCTL_PLAIN
    )
)

IOCTL_CDEF = (
    """\
#define CF_IOCTL_FAILED ...

struct winsize { unsigned short ws_row; unsigned short ws_col;
                 unsigned short ws_xpixel; unsigned short ws_ypixel; ...; };
struct file_clone_range { int64_t src_fd; uint64_t src_offset; uint64_t src_length;
                          uint64_t dest_offset; ...; };

int cf_ioctl_ptr(int fd, unsigned int request, void *arg);
int cf_ioctl_value(int fd, unsigned int request, unsigned long value);
int cf_ioctl_none(int fd, unsigned int request);
uint64_t cf_get_winsize(int fd);
int cf_set_winsize(int fd, unsigned short row, unsigned short col,
                   unsigned short xpixel, unsigned short ypixel);
uint64_t cf_blkgetsize64(int fd);
int cf_ficlone(int dst, int src);
int cf_ficlonerange(int dst, int src, uint64_t src_offset, uint64_t length, uint64_t dst_offset);
"""
    + "".join(f"int64_t cf_{name}(int fd);\n" for name, _, _ in IOCTL_GETTERS)
    + "".join(f"int cf_{name}(int fd, {ctype} value);\n" for name, _, ctype in IOCTL_SETTERS)
    + "".join(f"int cf_{name}(int fd);\n" for name, _ in IOCTL_PLAIN)
)


FLOOR_HELPERS = """\
/* The C floor: n calls of one syscall in a C loop, the struct built as cfcntl builds it.
   Each returns nanoseconds per call (CLOCK_MONOTONIC, cf_now), or -1 when a call failed
   or the kernel answered otherwise than `expect`: no Python binding can beat these
   numbers on the machine that measured them. */

static double cf_per_call(int64_t since, long n) { return (double)(cf_now() - since) / n; }

/* F_GETLK or F_OFD_GETLK on one range; the kernel must leave l_type == expect. */
static double cf_floor_getlk(int fd, int cmd, short type, off_t start, off_t len,
                             short expect, long n)
{
    struct flock fl;
    int64_t since = cf_now();
    for (long i = 0; i < n; i++)
        if (cf_flock(fd, cmd, &fl, type, SEEK_SET, start, len) < 0 || fl.l_type != expect)
            return -1;
    return cf_per_call(since, n);
}

/* F_SETLK or F_OFD_SETLK: lock the range with `type`, then unlock it, n times. */
static double cf_floor_setlk(int fd, int cmd, short type, off_t start, off_t len, long n)
{
    struct flock fl;
    int64_t since = cf_now();
    for (long i = 0; i < n; i++)
        if (cf_flock(fd, cmd, &fl, type, SEEK_SET, start, len) < 0
            || cf_flock(fd, cmd, &fl, F_UNLCK, SEEK_SET, start, len) < 0)
            return -1;
    return cf_per_call(since, n);
}

/* FIONREAD: the kernel must report `expect` bytes waiting. */
static double cf_floor_fionread(int fd, int expect, long n)
{
    int waiting;
    int64_t since = cf_now();
    for (long i = 0; i < n; i++)
        if (ioctl(fd, FIONREAD, &waiting) < 0 || waiting != expect)
            return -1;
    return cf_per_call(since, n);
}

/* F_GETFL: the kernel must answer `expect`. */
static double cf_floor_getfl(int fd, int expect, long n)
{
    int64_t since = cf_now();
    for (long i = 0; i < n; i++)
        if (fcntl(fd, F_GETFL) != expect)
            return -1;
    return cf_per_call(since, n);
}
"""

FLOOR_CDEF = """\
double cf_floor_getlk(int fd, int cmd, short type, off_t start, off_t len, short expect, long n);
double cf_floor_setlk(int fd, int cmd, short type, off_t start, off_t len, long n);
double cf_floor_fionread(int fd, int expect, long n);
double cf_floor_getfl(int fd, int expect, long n);
"""


def constant_names(path: Path = CONSTANTS_FILE) -> list[str]:
    """The constant names cfcntl looks for: the bare ``NAME: int`` annotations in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and node.value is None
        and isinstance(node.target, ast.Name)
        and node.target.id.isupper()
    ]


def compiler_command() -> list[str]:
    """The C compiler the extension will be built with: $CC, else Python's own, else cc."""
    return shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")


def _compiler(source: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """The build's compiler run with ``flags`` on ``source`` (a probe file of its own)."""
    with tempfile.TemporaryDirectory(prefix="cfcntl-probe-") as tmp:
        path = Path(tmp, "probe.c")
        path.write_text(source, encoding="utf-8")
        return subprocess.run(
            [*compiler_command(), *flags, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )


def _compiles(source: str) -> tuple[bool, str]:
    proc = _compiler(source, "-fsyntax-only")
    return proc.returncode == 0, proc.stderr


def _probe_source(names: Sequence[str], preamble: str) -> str:
    lines = [f"long long cf_probe_{i} = ({name});" for i, name in enumerate(names)]
    return preamble + "\n".join(lines) + "\n"


def defined_constants(names: Sequence[str], preamble: str = PREAMBLE) -> list[str]:
    """The names, in order, that the compiler takes as integer constants after ``preamble``.

    All names are tried in one compile; a failing group is split in halves, so a few
    missing names cost a few extra compiles.  A compiler that cannot compile the
    preamble alone raises RuntimeError with its message.
    """
    ok, err = _compiles(_probe_source([], preamble))
    if not ok:
        raise RuntimeError(
            f"the C compiler {compiler_command()} cannot compile the headers:\n{err}"
        )

    def search(group: Sequence[str]) -> list[str]:
        if not group or _compiles(_probe_source(group, preamble))[0]:
            return list(group)
        if len(group) == 1:
            return []
        half = len(group) // 2
        return search(group[:half]) + search(group[half:])

    return search(names)


# --------------------------------------------------------------------------- ioctl requests

#: Headers whose every object-like macro is a request number, or is classified in
#: _requests.py as not one (a flag, a base); beyond them, a request is a macro made with
#: ``_IO*`` or from another request.
REQUEST_HEADERS = (
    "asm-generic/ioctls.h",
    "asm/ioctls.h",
    "bits/ioctls.h",
    "asm-generic/sockios.h",
    "asm/sockios.h",
    "linux/sockios.h",
)
_ENCODERS = frozenset({"_IO", "_IOR", "_IOW", "_IOWR", "_IOC"})


def request_macros(preamble: str = PREAMBLE) -> list[str]:
    """Every ioctl request macro ``preamble``'s headers define that the compiler takes as an
    integer constant, sorted: found with ``cc -E -dD``, which gives each macro's header."""
    where = ""
    macros: dict[str, tuple[str, str]] = {}
    proc = _compiler(preamble, "-E", "-dD")
    proc.check_returncode()
    for line in proc.stdout.splitlines():
        marker = re.match(r'# \d+ "([^"]*)"', line)
        if marker:
            where = marker.group(1)
            continue
        define = re.match(r"#define ([A-Za-z_]\w*)(\(?)\s*(.*)", line)
        if define and not define.group(2):  # object-like macros only
            macros[define.group(1)] = (where, define.group(3))
    found = {name for name, (header, _) in macros.items() if header.endswith(REQUEST_HEADERS)}
    grown = True
    while grown:  # a macro made with _IO*, or from a request (SIOCINQ is FIONREAD)
        grown = False
        for name, (_, body) in macros.items():
            words = set(re.findall(r"[A-Za-z_]\w*", body))
            if name not in found and (words & _ENCODERS or words & found):
                found.add(name)
                grown = True
    return defined_constants(sorted(found), preamble)


def _failing(lines: Sequence[str], preamble: str, what: str) -> list[int]:
    """Which of ``lines`` (0-based) the compiler rejects after ``preamble``: one compile,
    each line numbered by ``#line`` so that its errors name it."""
    ok, err = _compiles(preamble + '#line 1 "cf-probe"\n' + "".join(f"{line}\n" for line in lines))
    failed = {int(n) - 1 for n in re.findall(r"^cf-probe:(\d+):\d+: error", err, re.M)}
    if not ok and not failed:
        raise RuntimeError(f"cannot tell {what}:\n{err}")
    return sorted(failed)


def sizeless(names: Sequence[str], preamble: str = PREAMBLE) -> list[str]:
    """The ``names`` whose value has no size bits (``_IOC_SIZE`` is 0): each makes an
    array of negative size."""
    lines = [f"char cf_sized_{i}[_IOC_SIZE({n}) ? 1 : -1];" for i, n in enumerate(names)]
    return [names[i] for i in _failing(lines, preamble, "which ioctl requests are sizeless")]


def defined_structs(names: Sequence[str], preamble: str = PREAMBLE) -> list[str]:
    """The struct types in ``names`` that the headers define (glibc 2.41 dropped
    ``struct termio``, for one): a request whose type is missing stays classified, and
    the generic calls refuse it for want of the type."""
    lines = [f"int cf_struct_{i} = sizeof({n});" for i, n in enumerate(names)]
    missing = set(_failing(lines, preamble, "which structs the headers define"))
    return [name for i, name in enumerate(names) if i not in missing]


def request_table(path: Path = REQUESTS_FILE) -> dict[str, tuple[str, str | None, str]]:
    """``SIZELESS`` from ``src/cfcntl/_requests.py``, read without importing the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "SIZELESS":
            assert node.value is not None
            table: dict[str, tuple[str, str | None, str]] = ast.literal_eval(node.value)
            return table
    raise RuntimeError(f"{path} has no SIZELESS table")


def unclassified(requests: Sequence[str], preamble: str = PREAMBLE) -> list[str]:
    """The sizeless ``requests`` that ``_requests.SIZELESS`` does not classify."""
    table = request_table()
    return [name for name in sizeless(requests, preamble) if name not in table]


def request_sources(requests: Sequence[str]) -> tuple[str, str]:
    """C and cdef for the request table (every request's name, and its value from the
    compiler: the names as one space-separated string and the values as one array, so
    that Python reads them in two calls) and for the structs the kernel reads or writes
    for sizeless requests."""
    table = request_table()
    names = " ".join(requests)
    values = "".join(f"    {name},\n" for name in requests)
    source = (
        f"#define CF_NREQUESTS {len(requests)}\n"
        f'static const char *cf_request_names(void) {{ return "{names}"; }}\n'
        f"static const unsigned long cf_request_value_table[] = {{\n{values}}};\n"
        "static const unsigned long *cf_request_values(void) { return cf_request_value_table; }\n"
    )
    declared = {"struct winsize", "struct file_clone_range"}
    structs = defined_structs(
        sorted(
            {ctype for _, ctype, _ in table.values() if ctype and ctype.startswith("struct ")}
            - declared
        )
    )
    cdef = (
        "#define CF_NREQUESTS ...\n"
        "const char *cf_request_names(void);\n"
        "const unsigned long *cf_request_values(void);\n"
        + "".join(f"{ctype} {{ ...; }};\n" for ctype in structs)
    )
    return source, cdef


def make_ffibuilder(constants: Sequence[str], requests: Sequence[str] = ()) -> FFI:
    """One FFI: the structs, the helpers, and ``#define NAME ...`` for each constant."""
    ffi = FFI()
    request_source, request_cdef = request_sources(requests)
    cdef = CDEF + LOCK_CDEF + IOCTL_CDEF + request_cdef + COMPAT_CDEF + FLOOR_CDEF
    source = (
        HELPERS + LOCK_HELPERS + IOCTL_HELPERS + request_source + COMPAT_HELPERS + FLOOR_HELPERS
    )
    ffi.cdef(cdef + "".join(f"#define {name} ...\n" for name in constants))
    ffi.set_source("cfcntl._cfcntl", PREAMBLE + source)
    return ffi


def checked_requests() -> list[str]:
    """:func:`request_macros`, after making sure ``_requests.SIZELESS`` classifies every
    sizeless one: the build stops here rather than let one through unchecked."""
    requests = request_macros()
    missing = unclassified(requests)
    if missing:
        raise RuntimeError(
            "these sizeless ioctl requests in the build's headers are not classified in "
            f"{REQUESTS_FILE.relative_to(HERE)}: {', '.join(missing)}; give each the type "
            "the kernel reads or writes (its source says), or another kind listed there"
        )
    return requests


ffibuilder = make_ffibuilder(defined_constants(constant_names()), checked_requests())
