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

static int cf_flock(int fd, int cmd, struct flock *fl, short type, short whence,
                    off_t start, off_t len)
{
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

/* F_GETLK and F_OFD_GETLK: -1, or the l_type the kernel left (F_UNLCK when nothing
   conflicts); the whole answer stays in cf_slot.lock. */
static int cf_getlk(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
    if (cf_flock(fd, cmd, &cf_slot.lock, type, whence, start, len) < 0)
        return -1;
    return cf_slot.lock.l_type;
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
int cf_setlk(int fd, int cmd, short type, short whence, off_t start, off_t len);
int cf_getlk(int fd, int cmd, short type, short whence, off_t start, off_t len);
int cf_get_owner(int fd, int cmd);
int cf_set_owner(int fd, int cmd, cf_owner_type type, pid_t pid);
int cf_get_u64(int fd, int cmd);
int cf_set_u64(int fd, int cmd, uint64_t value);
"""

COMPAT_HELPERS = """\
/* cfcntl.compat: the calls CPython's fcntl module makes, one fixed signature each. */
#include <sys/ioctl.h>

#define CF_COMPAT_BUFSZ 1024
/* NUL then random bytes after the copied argument, as CPython 3.14 puts them. */
static const char cf_compat_guard[8] = {0x00, (char)0xfa, 0x69, (char)0xc4,
                                        0x67, (char)0xa3, 0x6c, 0x58};
static _Thread_local int cf_compat_overran_flag;

/* Whether the kernel wrote past the argument in this thread's last *_copy call. */
static int cf_compat_overran(void) { return cf_compat_overran_flag; }

static int cf_compat_flock(int fd, int operation) { return flock(fd, operation); }

/* fcntl() with the argument left out: the stdlib passes an int 0. */
static int cf_compat_fcntl0(int fd, int cmd) { return fcntl(fd, cmd, 0); }

static int cf_compat_fcntl_ptr(int fd, int cmd, char *arg) { return fcntl(fd, cmd, arg); }

static int cf_compat_ioctl_int(int fd, unsigned long request, int arg)
{
    return ioctl(fd, request, arg);
}

static int cf_compat_ioctl_ptr(int fd, unsigned long request, char *arg)
{
    return ioctl(fd, request, arg);
}

/* The stdlib's copy: len (<= CF_COMPAT_BUFSZ) bytes of data onto the stack, then the
   guard; the call gets the copy, which goes back into data whatever the result. */
static int cf_compat_copy(int fd, int use_ioctl, int cmd, unsigned long request,
                          char *data, size_t len)
{
    char buf[CF_COMPAT_BUFSZ + sizeof cf_compat_guard];
    int ret;
    memcpy(buf, data, len);
    memcpy(buf + len, cf_compat_guard, sizeof cf_compat_guard);
    ret = use_ioctl ? ioctl(fd, request, buf) : fcntl(fd, cmd, buf);
    memcpy(data, buf, len);
    cf_compat_overran_flag = memcmp(buf + len, cf_compat_guard, sizeof cf_compat_guard) != 0;
    return ret;
}

static int cf_compat_fcntl_copy(int fd, int cmd, char *data, size_t len)
{
    return cf_compat_copy(fd, 0, cmd, 0, data, len);
}

static int cf_compat_ioctl_copy(int fd, unsigned long request, char *data, size_t len)
{
    return cf_compat_copy(fd, 1, 0, request, data, len);
}
"""

COMPAT_CDEF = """\
#define CF_COMPAT_BUFSZ ...
int cf_compat_overran(void);
int cf_compat_flock(int fd, int operation);
int cf_compat_fcntl0(int fd, int cmd);
int cf_compat_fcntl_ptr(int fd, int cmd, char *arg);
int cf_compat_fcntl_copy(int fd, int cmd, char *data, size_t len);
int cf_compat_ioctl_int(int fd, unsigned long request, int arg);
int cf_compat_ioctl_ptr(int fd, unsigned long request, char *arg);
int cf_compat_ioctl_copy(int fd, unsigned long request, char *data, size_t len);
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
    ffi.cdef(CDEF + COMPAT_CDEF + "".join(f"#define {name} ...\n" for name in constants))
    ffi.set_source("cfcntl._cfcntl", PREAMBLE + HELPERS + COMPAT_HELPERS)
    return ffi


ffibuilder = make_ffibuilder(defined_constants(constant_names()))
