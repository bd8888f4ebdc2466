"""The fcntl commands other than record locks, one function each, named after the command.

Each passes scalars to a fixed-signature C helper (``src/cfcntl/_c/commands.c``) and
returns what the kernel returned, as a Python value; a failure becomes the OSError for
its errno.  Commands a build's headers lacked raise NotImplementedError (see
:func:`cfcntl.has`).
"""

from __future__ import annotations

from ._cfcntl import ffi as _ffi, lib as _lib
from ._syscall import Argument, FileDescriptorLike, call, failure, fileno, retried
from .constants import require

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from collections.abc import Callable
    from typing import NamedTuple
else:
    from ._record import NamedTuple

_cf_fcntl = _lib.cf_fcntl
_cf_getfl = _lib.cf_getfl

_NO_ARGUMENT: Argument = ("arg", "int", 0)


def _command(
    name: str, helper: Callable[..., int], fd: FileDescriptorLike, *arguments: Argument
) -> int:
    """Run command ``name`` through ``helper``; cffi's refusals name the bad argument."""
    number = fileno(fd)
    cmd: Argument = ("cmd", "int", require(name))  # a header's value: always fits
    return call(name[2:].lower(), helper, ("fd", "int", number), cmd, *arguments)


def dupfd(fd: FileDescriptorLike, minfd: int = 0) -> int:
    """Duplicate ``fd`` onto the lowest free descriptor >= ``minfd`` (F_DUPFD)."""
    return _command("F_DUPFD", _cf_fcntl, fd, ("minfd", "int", minfd))


def dupfd_cloexec(fd: FileDescriptorLike, minfd: int = 0) -> int:
    """As :func:`dupfd`, with close-on-exec set on the new descriptor (F_DUPFD_CLOEXEC)."""
    return _command("F_DUPFD_CLOEXEC", _cf_fcntl, fd, ("minfd", "int", minfd))


def getfd(fd: FileDescriptorLike) -> int:
    """The descriptor flags (F_GETFD): FD_CLOEXEC or 0."""
    return _command("F_GETFD", _cf_fcntl, fd, _NO_ARGUMENT)


def setfd(fd: FileDescriptorLike, flags: int) -> None:
    """Set the descriptor flags (F_SETFD)."""
    _command("F_SETFD", _cf_fcntl, fd, ("flags", "int", flags))


def getfl(fd: FileDescriptorLike) -> int:
    """The access mode and status flags of the open file description (F_GETFL)."""
    # The hot path: fd straight to a one-argument helper (no argument tuple to build:
    # 58 ns less than cf_fcntl(fd, F_GETFL, 0), see src/cfcntl/_c/commands.c).
    try:
        if type(fd) is not int:  # cffi would truncate a Decimal through __int__
            raise TypeError
        flags: int = _cf_getfl(fd)
    except (TypeError, OverflowError):
        flags = retried("getfl", _cf_getfl, fd)
    if flags < 0:  # flags are never negative: a failure
        raise failure(fd, flags)
    return flags


def setfl(fd: FileDescriptorLike, flags: int) -> None:
    """Set the status flags (F_SETFL); the kernel changes only O_APPEND, O_ASYNC,
    O_DIRECT, O_NOATIME and O_NONBLOCK and ignores the rest."""
    _command("F_SETFL", _cf_fcntl, fd, ("flags", "int", flags))


def getown(fd: FileDescriptorLike) -> int:
    """Who gets SIGIO/SIGURG for ``fd`` (F_GETOWN): a pid, or a negated process group."""
    return _command("F_GETOWN", _cf_fcntl, fd, _NO_ARGUMENT)


def setown(fd: FileDescriptorLike, pid: int) -> None:
    """Send SIGIO/SIGURG for ``fd`` to ``pid``, or to process group ``-pid`` (F_SETOWN)."""
    _command("F_SETOWN", _cf_fcntl, fd, ("pid", "pid_t", pid))


class OwnerEx(NamedTuple):
    """A ``struct f_owner_ex``: who receives the I/O signals for a descriptor."""

    type: int
    """F_OWNER_TID, F_OWNER_PID or F_OWNER_PGRP."""
    pid: int
    """The thread, process or process-group id; 0 when no owner is set."""


def getown_ex(fd: FileDescriptorLike) -> OwnerEx:
    """The I/O signal owner with its kind (F_GETOWN_EX)."""
    owner = _ffi.new("struct f_owner_ex *")  # this call's own, which no handler's call can change
    _command("F_GETOWN_EX", _lib.cf_get_owner, fd, ("owner", "struct f_owner_ex *", owner))
    return OwnerEx(owner.type, owner.pid)


def setown_ex(fd: FileDescriptorLike, type: int, pid: int) -> None:
    """Direct the I/O signals to a thread, process or process group (F_SETOWN_EX)."""
    _command(
        "F_SETOWN_EX",
        _lib.cf_set_owner,
        fd,
        ("type", "cf_owner_type", type),
        ("pid", "pid_t", pid),
    )


def getsig(fd: FileDescriptorLike) -> int:
    """The signal sent when I/O is possible (F_GETSIG); 0 means SIGIO."""
    return _command("F_GETSIG", _cf_fcntl, fd, _NO_ARGUMENT)


def setsig(fd: FileDescriptorLike, sig: int) -> None:
    """Send ``sig`` instead of SIGIO when I/O is possible (F_SETSIG); 0 restores SIGIO."""
    _command("F_SETSIG", _cf_fcntl, fd, ("sig", "int", sig))


def getlease(fd: FileDescriptorLike) -> int:
    """The lease held on the file (F_GETLEASE): F_RDLCK, F_WRLCK or F_UNLCK."""
    return _command("F_GETLEASE", _cf_fcntl, fd, _NO_ARGUMENT)


def setlease(fd: FileDescriptorLike, type: int) -> None:
    """Take (F_RDLCK, F_WRLCK) or give up (F_UNLCK) a lease on the file (F_SETLEASE)."""
    _command("F_SETLEASE", _cf_fcntl, fd, ("type", "int", type))


def notify(fd: FileDescriptorLike, events: int) -> None:
    """Signal on changes in the directory ``fd`` (F_NOTIFY); ``events`` is DN_* flags.

    The kernel reads the mask as an unsigned int (DN_MULTISHOT is bit 31): a negative
    or wider mask is OverflowError.
    """
    _command("F_NOTIFY", _lib.cf_fcntl_unsigned, fd, ("events", "unsigned int", events))


def getpipe_sz(fd: FileDescriptorLike) -> int:
    """The capacity of the pipe in bytes (F_GETPIPE_SZ)."""
    return _command("F_GETPIPE_SZ", _cf_fcntl, fd, _NO_ARGUMENT)


def setpipe_sz(fd: FileDescriptorLike, size: int) -> int:
    """Set the pipe's capacity to at least ``size`` bytes (F_SETPIPE_SZ).

    Returns the capacity the kernel chose, which may be larger (a page multiple).
    """
    return _command("F_SETPIPE_SZ", _cf_fcntl, fd, ("size", "int", size))


def add_seals(fd: FileDescriptorLike, seals: int) -> None:
    """Add F_SEAL_* seals to a sealable file such as a memfd (F_ADD_SEALS)."""
    _command("F_ADD_SEALS", _cf_fcntl, fd, ("seals", "int", seals))


def get_seals(fd: FileDescriptorLike) -> int:
    """The seals on the file (F_GET_SEALS)."""
    return _command("F_GET_SEALS", _cf_fcntl, fd, _NO_ARGUMENT)


def _get_u64(name: str, fd: FileDescriptorLike) -> int:
    answer = _ffi.new("uint64_t *")  # this call's own, which no handler's call can change
    _command(name, _lib.cf_get_u64, fd, ("value", "uint64_t *", answer))
    value: int = answer[0]
    return value


def get_rw_hint(fd: FileDescriptorLike) -> int:
    """The write life-time hint of the file's inode, RWH_WRITE_LIFE_* (F_GET_RW_HINT)."""
    return _get_u64("F_GET_RW_HINT", fd)


def set_rw_hint(fd: FileDescriptorLike, hint: int) -> None:
    """Set the inode's write life-time hint (F_SET_RW_HINT)."""
    _command("F_SET_RW_HINT", _lib.cf_set_u64, fd, ("hint", "uint64_t", hint))


def get_file_rw_hint(fd: FileDescriptorLike) -> int:
    """The open file's write life-time hint (F_GET_FILE_RW_HINT).

    Linux 5.18 dropped per-file hints; newer kernels answer EINVAL.
    """
    return _get_u64("F_GET_FILE_RW_HINT", fd)


def set_file_rw_hint(fd: FileDescriptorLike, hint: int) -> None:
    """Set the open file's write life-time hint (F_SET_FILE_RW_HINT); EINVAL since 5.18."""
    _command("F_SET_FILE_RW_HINT", _lib.cf_set_u64, fd, ("hint", "uint64_t", hint))


def dupfd_query(fd: FileDescriptorLike, other: FileDescriptorLike) -> bool:
    """Whether ``fd`` and ``other`` refer to the same open file description
    (F_DUPFD_QUERY, Linux 6.10)."""
    return _command("F_DUPFD_QUERY", _cf_fcntl, fd, ("other", "int", fileno(other))) == 1


def created_query(fd: FileDescriptorLike) -> bool:
    """Whether the open that returned ``fd`` created the file (F_CREATED_QUERY, Linux 6.12)."""
    return _command("F_CREATED_QUERY", _cf_fcntl, fd, _NO_ARGUMENT) == 1
