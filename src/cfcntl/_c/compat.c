/* Python.h first, as it asks; cfcntl.h's _GNU_SOURCE is pyconfig.h's own spelling. */
#include <Python.h>

#include "compat.h"

#if defined(__powerpc__) && defined(__GLIBC__)
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>
#endif

/* NUL then random bytes after the copied argument, as CPython 3.14 puts them. */
static const char cf_compat_guard[CF_COMPAT_GUARDSZ] = {0x00, (char)0xfa, 0x69, (char)0xc4,
                                                        0x67, (char)0xa3, 0x6c, 0x58};

int64_t cf_compat_flock(int fd, int operation) { return cf_result(flock(fd, operation)); }

int64_t cf_compat_fcntl0(int fd, int cmd) { return cf_result(fcntl(fd, cmd, 0)); }

int64_t cf_compat_fcntl_int(int fd, int cmd, int arg) { return cf_result(fcntl(fd, cmd, arg)); }

/* powerpc's glibc answers its own TCGETS and TCSETS* (<termios.h>'s numbers, for its
   60-byte struct termios) in ioctl() itself, through tcgetattr() and tcsetattr(), which
   follow the argument in user space: where the kernel answers EFAULT, they fault, and
   the stdlib's fcntl.ioctl(tty, termios.TCGETS) dies.  Whether the number passed as the
   argument there is an address whose struct is not all mapped (mincore's ENOMEM). */
static int cf_compat_faults_in_libc(unsigned long request, int arg)
{
#if defined(__powerpc__) && defined(__GLIBC__)
    if (request != TCGETS && request != TCSETS && request != TCSETSW && request != TCSETSF)
        return 0;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), start = (uintptr_t)(intptr_t)arg;
    uintptr_t first = start & ~(page - 1);
    unsigned char pages[2]; /* a struct termios spans at most two */
    return mincore((void *)first, start + sizeof(struct termios) - first, pages) == -1
           && errno == ENOMEM;
#else
    (void)request;
    (void)arg;
    return 0;
#endif
}

int64_t cf_compat_ioctl_int(int fd, unsigned long request, int arg)
{
    if (cf_compat_faults_in_libc(request, arg))
        return cf_fail(EFAULT); /* what the kernel answers elsewhere */
    return cf_result(ioctl(fd, request, arg));
}

int64_t cf_compat_ioctl_ptr(int fd, unsigned long request, char *arg)
{
    return cf_result(ioctl(fd, request, arg));
}

int64_t cf_compat_setlk(int fd, int cmd, short type, off_t start, off_t len, short whence)
{
    struct flock fl;
    return cf_result(cf_flock_cmd(fd, cmd, &fl, type, start, len, whence));
}

/* The stdlib's copy: len bytes of data into buf (the caller's, len + CF_COMPAT_GUARDSZ
   bytes: nothing here is shared between calls, so a signal handler that calls compat
   meanwhile uses another buf), then the guard; fcntl (or ioctl when use_ioctl) gets
   buf.  With CF_COMPAT_COPY_BACK the answer goes back into data whatever the result;
   with CF_COMPAT_CHECK a success is CF_COMPAT_OVERRUN if the kernel wrote past the
   argument. */
static int64_t cf_compat_call(int fd, int use_ioctl, int cmd, unsigned long request,
                              char *data, size_t len, char *buf, int flags)
{
    int ret;
    memcpy(buf, data, len);
    memcpy(buf + len, cf_compat_guard, sizeof cf_compat_guard);
    ret = use_ioctl ? ioctl(fd, request, buf) : fcntl(fd, cmd, buf);
    int64_t result = cf_result(ret);
    if (flags & CF_COMPAT_COPY_BACK)
        memcpy(data, buf, len);
    if (result <= CF_FAILED)
        return result;
    if ((flags & CF_COMPAT_CHECK)
        && memcmp(buf + len, cf_compat_guard, sizeof cf_compat_guard) != 0)
        return CF_COMPAT_OVERRUN;
    return result;
}

int64_t cf_compat_fcntl_in(int fd, int cmd, char *data, size_t len, char *buf, int flags)
{
    return cf_compat_call(fd, 0, cmd, 0, data, len, buf, flags);
}

int64_t cf_compat_ioctl_in(int fd, unsigned long request, char *data, size_t len, char *buf,
                           int flags)
{
    return cf_compat_call(fd, 1, 0, request, data, len, buf, flags);
}

int64_t cf_compat_ioctl_mutate(int fd, unsigned long request, char *data, size_t len,
                               int flags)
{
    char buf[CF_COMPAT_BUFSZ + CF_COMPAT_GUARDSZ];
    return cf_compat_call(fd, 1, 0, request, data, len, buf, flags | CF_COMPAT_COPY_BACK);
}

/* PyType_GetSlot is in the stable ABI (static types too since 3.10); the module cffi
   compiles under a bare Py_LIMITED_API hides it, this file does not.
   It only reads the
   type, so it needs no GIL. */
int cf_compat_releases(uintptr_t type)
{
#ifndef PYPY_VERSION
    return PyType_GetSlot((PyTypeObject *)type, Py_bf_releasebuffer) != NULL;
#else
    (void)type;
    return -1;
#endif
}
