"""Build ``cfcntl._cfcntl``: a cffi out-of-line (API mode) module compiled from the system headers.

Nothing here states a size, an offset or a constant's value.  The cdef declares the
structs with ``...;`` and the constants with ``#define NAME ...``, and the C compiler
fills them in from ``<fcntl.h>``.  Which constants to declare is decided by asking the
same compiler which of the names listed in ``src/cfcntl/constants.py`` the headers
define, so a name the headers lack leaves the build working and the name absent.

Python never calls the variadic ``fcntl()``: the small fixed-signature helpers in
``HELPERS`` take scalars, build the struct on the C stack and return a status.  Getters
leave their struct in a per-thread slot that Python reads only when there is something
to report, so the hot path allocates nothing.
"""

from __future__ import annotations

import ast
import os
import shlex
import subprocess
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cffi import FFI  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
CONSTANTS_FILE = HERE / "src" / "cfcntl" / "constants.py"

PREAMBLE = """\
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/types.h>
"""

HELPERS = """\
/* glibc declares f_owner_ex.type as an enum, musl and the kernel as int: let the
   compiler say which integer type it is. */
typedef __typeof__(((struct f_owner_ex *)0)->type) cf_owner_type;

/* What a getter leaves for Python to read, one slot per thread. */
struct cf_result {
    struct flock lock;
    struct f_owner_ex owner;
    uint64_t u64;
};
static _Thread_local struct cf_result cf_slot;

static struct cf_result *cf_result(void) { return &cf_slot; }

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

/* The queries: 0 when nothing conflicts, 1 when the conflicting lock is in
   cf_slot.lock, -1 on error. */
static int cf_query(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
    if (cf_flock(fd, cmd, &cf_slot.lock, type, whence, start, len) < 0)
        return -1;
    return cf_slot.lock.l_type != F_UNLCK;
}

/* The conflicting lock the last query on this thread found, as five int64_t (type,
   whence, start, len, pid): Python reads them with one ffi.unpack instead of five
   attribute reads. */
static _Thread_local int64_t cf_conflict_fields[5];

static int64_t *cf_conflict(void)
{
    const struct flock *fl = &cf_slot.lock;
    cf_conflict_fields[0] = fl->l_type;
    cf_conflict_fields[1] = fl->l_whence;
    cf_conflict_fields[2] = fl->l_start;
    cf_conflict_fields[3] = fl->l_len;
    cf_conflict_fields[4] = fl->l_pid;
    return cf_conflict_fields;
}

static int cf_posix_getlk(int fd, short type, short whence, off_t start, off_t len)
{ return cf_query(fd, F_GETLK, type, whence, start, len); }

static int cf_ofd_getlk(int fd, short type, short whence, off_t start, off_t len)
{ return cf_query(fd, CF_OFD_GETLK, type, whence, start, len); }

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

/* F_GETOWN_EX into cf_slot.owner; F_SETOWN_EX from scalars. */
static int cf_get_owner(int fd, int cmd) { return fcntl(fd, cmd, &cf_slot.owner); }

static int cf_set_owner(int fd, int cmd, cf_owner_type type, pid_t pid)
{
    struct f_owner_ex owner;
    memset(&owner, 0, sizeof owner);
    owner.type = type;
    owner.pid = pid;
    return fcntl(fd, cmd, &owner);
}

/* Commands that read or write a uint64_t through the pointer (the rw hints). */
static int cf_get_u64(int fd, int cmd) { return fcntl(fd, cmd, &cf_slot.u64); }

static int cf_set_u64(int fd, int cmd, uint64_t value) { return fcntl(fd, cmd, &value); }
"""

CDEF = """\
typedef int... off_t;
typedef int... pid_t;
typedef int... cf_owner_type;

struct flock { short l_type; short l_whence; off_t l_start; off_t l_len; pid_t l_pid; ...; };
struct f_owner_ex { cf_owner_type type; pid_t pid; ...; };
struct cf_result { struct flock lock; struct f_owner_ex owner; uint64_t u64; ...; };

struct cf_result *cf_result(void);
int cf_fcntl(int fd, int cmd, int arg);
int cf_fcntl_unsigned(int fd, int cmd, unsigned int arg);
/* The record-lock setter with the command as an argument, for callers that choose it
   (cfcntl.compat's lockf); cfcntl.locks calls the per-command helpers. */
int cf_setlk(int fd, int cmd, short type, short whence, off_t start, off_t len);
int cf_posix_setlk(int fd, short type, short whence, off_t start, off_t len);
int cf_posix_setlkw(int fd, short type, short whence, off_t start, off_t len);
int cf_ofd_setlk(int fd, short type, short whence, off_t start, off_t len);
int cf_ofd_setlkw(int fd, short type, short whence, off_t start, off_t len);
int cf_posix_getlk(int fd, short type, short whence, off_t start, off_t len);
int64_t *cf_conflict(void);
int cf_ofd_getlk(int fd, short type, short whence, off_t start, off_t len);
int cf_getfl(int fd);
int cf_get_owner(int fd, int cmd);
int cf_set_owner(int fd, int cmd, cf_owner_type type, pid_t pid);
int cf_get_u64(int fd, int cmd);
int cf_set_u64(int fd, int cmd, uint64_t value);
"""


FLOOR_HELPERS = """\
#include <time.h>

/* The C floor: n calls of one syscall in a C loop, the struct built as cfcntl builds it.
   Each returns nanoseconds per call (CLOCK_MONOTONIC), or -1 when a call failed or the
   kernel answered otherwise than `expect`: no Python binding can beat these numbers on
   the machine that measured them. */
static int64_t cf_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

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


def _compiles(source: str) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="cfcntl-probe-") as tmp:
        path = Path(tmp, "probe.c")
        path.write_text(source, encoding="utf-8")
        proc = subprocess.run(
            [*compiler_command(), "-fsyntax-only", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
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


def make_ffibuilder(constants: Sequence[str]) -> FFI:
    """One FFI: the structs, the helpers, and ``#define NAME ...`` for each constant."""
    ffi = FFI()
    ffi.cdef(CDEF + FLOOR_CDEF + "".join(f"#define {name} ...\n" for name in constants))
    ffi.set_source("cfcntl._cfcntl", PREAMBLE + HELPERS + FLOOR_HELPERS)
    return ffi


ffibuilder = make_ffibuilder(defined_constants(constant_names()))
