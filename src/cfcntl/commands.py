"""The fcntl commands other than record locks, one function each, named after the command.

Each passes scalars to a fixed-signature C helper and returns what the kernel returned,
as a Python value; a -1 from the kernel becomes the OSError for its errno.  Commands a
build's headers lacked raise NotImplementedError (see :func:`cfcntl.has`).
"""

from __future__ import annotations

from typing import NamedTuple

from ._cfcntl import lib as _lib
from ._syscall import FileDescriptorLike, checked, fileno
from .constants import F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, require


def _int_command(fd: FileDescriptorLike, cmd: int, arg: int = 0) -> int:
    return checked(_lib.cf_fcntl(fileno(fd), cmd, arg))


def dupfd(fd: FileDescriptorLike, minfd: int = 0) -> int:
    """Duplicate ``fd`` onto the lowest free descriptor >= ``minfd`` (F_DUPFD)."""
    return _int_command(fd, F_DUPFD, minfd)


def dupfd_cloexec(fd: FileDescriptorLike, minfd: int = 0) -> int:
    """As :func:`dupfd`, with close-on-exec set on the new descriptor (F_DUPFD_CLOEXEC)."""
    return _int_command(fd, F_DUPFD_CLOEXEC, minfd)


def getfd(fd: FileDescriptorLike) -> int:
    """The descriptor flags (F_GETFD): FD_CLOEXEC or 0."""
    return _int_command(fd, F_GETFD)


def setfd(fd: FileDescriptorLike, flags: int) -> None:
    """Set the descriptor flags (F_SETFD)."""
    _int_command(fd, F_SETFD, flags)


def getfl(fd: FileDescriptorLike) -> int:
    """The access mode and status flags of the open file description (F_GETFL)."""
    # The hot path: one Python call fewer than _int_command.
    return checked(_lib.cf_fcntl(fileno(fd), F_GETFL, 0))


def setfl(fd: FileDescriptorLike, flags: int) -> None:
    """Set the status flags (F_SETFL); the kernel changes only O_APPEND, O_ASYNC,
    O_DIRECT, O_NOATIME and O_NONBLOCK and ignores the rest."""
    _int_command(fd, F_SETFL, flags)


def getown(fd: FileDescriptorLike) -> int:
    """Who gets SIGIO/SIGURG for ``fd`` (F_GETOWN): a pid, or a negated process group."""
    return _int_command(fd, require("F_GETOWN"))


def setown(fd: FileDescriptorLike, pid: int) -> None:
    """Send SIGIO/SIGURG for ``fd`` to ``pid``, or to process group ``-pid`` (F_SETOWN)."""
    _int_command(fd, require("F_SETOWN"), pid)


class OwnerEx(NamedTuple):
    """A ``struct f_owner_ex``: who receives the I/O signals for a descriptor."""

    type: int
    """F_OWNER_TID, F_OWNER_PID or F_OWNER_PGRP."""
    pid: int
    """The thread, process or process-group id; 0 when no owner is set."""


def getown_ex(fd: FileDescriptorLike) -> OwnerEx:
    """The I/O signal owner with its kind (F_GETOWN_EX)."""
    checked(_lib.cf_get_owner(fileno(fd), require("F_GETOWN_EX")))
    owner = _lib.cf_result().owner
    return OwnerEx(owner.type, owner.pid)


def setown_ex(fd: FileDescriptorLike, type: int, pid: int) -> None:
    """Direct the I/O signals to a thread, process or process group (F_SETOWN_EX)."""
    checked(_lib.cf_set_owner(fileno(fd), require("F_SETOWN_EX"), type, pid))


def getsig(fd: FileDescriptorLike) -> int:
    """The signal sent when I/O is possible (F_GETSIG); 0 means SIGIO."""
    return _int_command(fd, require("F_GETSIG"))


def setsig(fd: FileDescriptorLike, sig: int) -> None:
    """Send ``sig`` instead of SIGIO when I/O is possible (F_SETSIG); 0 restores SIGIO."""
    _int_command(fd, require("F_SETSIG"), sig)


def getlease(fd: FileDescriptorLike) -> int:
    """The lease held on the file (F_GETLEASE): F_RDLCK, F_WRLCK or F_UNLCK."""
    return _int_command(fd, require("F_GETLEASE"))


def setlease(fd: FileDescriptorLike, type: int) -> None:
    """Take (F_RDLCK, F_WRLCK) or give up (F_UNLCK) a lease on the file (F_SETLEASE)."""
    _int_command(fd, require("F_SETLEASE"), type)


def notify(fd: FileDescriptorLike, events: int) -> None:
    """Signal on changes in the directory ``fd`` (F_NOTIFY); ``events`` is DN_* flags.

    The kernel reads the mask as an unsigned int (DN_MULTISHOT is bit 31): a negative
    or wider mask is OverflowError.
    """
    checked(_lib.cf_fcntl_unsigned(fileno(fd), require("F_NOTIFY"), events))


def getpipe_sz(fd: FileDescriptorLike) -> int:
    """The capacity of the pipe in bytes (F_GETPIPE_SZ)."""
    return _int_command(fd, require("F_GETPIPE_SZ"))


def setpipe_sz(fd: FileDescriptorLike, size: int) -> int:
    """Set the pipe's capacity to at least ``size`` bytes (F_SETPIPE_SZ).

    Returns the capacity the kernel chose, which may be larger (a page multiple).
    """
    return _int_command(fd, require("F_SETPIPE_SZ"), size)


def add_seals(fd: FileDescriptorLike, seals: int) -> None:
    """Add F_SEAL_* seals to a sealable file such as a memfd (F_ADD_SEALS)."""
    _int_command(fd, require("F_ADD_SEALS"), seals)


def get_seals(fd: FileDescriptorLike) -> int:
    """The seals on the file (F_GET_SEALS)."""
    return _int_command(fd, require("F_GET_SEALS"))


def _get_u64(fd: FileDescriptorLike, cmd: int) -> int:
    checked(_lib.cf_get_u64(fileno(fd), cmd))
    value: int = _lib.cf_result().u64
    return value


def get_rw_hint(fd: FileDescriptorLike) -> int:
    """The write life-time hint of the file's inode, RWH_WRITE_LIFE_* (F_GET_RW_HINT)."""
    return _get_u64(fd, require("F_GET_RW_HINT"))


def set_rw_hint(fd: FileDescriptorLike, hint: int) -> None:
    """Set the inode's write life-time hint (F_SET_RW_HINT)."""
    checked(_lib.cf_set_u64(fileno(fd), require("F_SET_RW_HINT"), hint))


def get_file_rw_hint(fd: FileDescriptorLike) -> int:
    """The open file's write life-time hint (F_GET_FILE_RW_HINT).

    Linux 5.18 dropped per-file hints; newer kernels answer EINVAL.
    """
    return _get_u64(fd, require("F_GET_FILE_RW_HINT"))


def set_file_rw_hint(fd: FileDescriptorLike, hint: int) -> None:
    """Set the open file's write life-time hint (F_SET_FILE_RW_HINT); EINVAL since 5.18."""
    checked(_lib.cf_set_u64(fileno(fd), require("F_SET_FILE_RW_HINT"), hint))


def dupfd_query(fd: FileDescriptorLike, other: FileDescriptorLike) -> bool:
    """Whether ``fd`` and ``other`` refer to the same open file description
    (F_DUPFD_QUERY, Linux 6.10)."""
    return _int_command(fd, require("F_DUPFD_QUERY"), fileno(other)) == 1


def created_query(fd: FileDescriptorLike) -> bool:
    """Whether the open that returned ``fd`` created the file (F_CREATED_QUERY, Linux 6.12)."""
    return _int_command(fd, require("F_CREATED_QUERY")) == 1
