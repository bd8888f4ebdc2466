"""Record locks: F_GETLK, F_SETLK, F_SETLKW and their open-file-description twins.

The kernel takes a ``struct flock``; these functions take its fields as arguments, and
the C helper builds the struct on its own stack, so a query or a lock change allocates
nothing.  A query reads the struct back only when the kernel reports a conflicting lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple

from ._cfcntl import lib as _lib
from ._syscall import FileDescriptorLike, fileno, oserror, refused
from .constants import F_GETLK, F_SETLK, F_SETLKW, F_UNLCK, F_WRLCK, require

# Bound once: the hot path skips the attribute lookups.
_cf_getlk = _lib.cf_getlk
_cf_setlk = _lib.cf_setlk


def _call(
    function: str,
    helper: Callable[..., int],
    cmd: int,
    fd: FileDescriptorLike,
    type: int,
    start: int,
    length: int,
    whence: int,
) -> int:
    """Run a lock helper; cffi's refusals name the argument at fault."""
    number = fd if isinstance(fd, int) and fd >= 0 else fileno(fd)
    try:
        result: int = helper(number, cmd, type, whence, start, length)
    except (TypeError, OverflowError) as exc:
        raise refused(
            exc,
            function,
            ("fd", "int", number),
            ("type", "short", type),
            ("whence", "short", whence),
            ("start", "off_t", start),
            ("length", "off_t", length),
        ) from None
    return result


class Flock(NamedTuple):
    """A lock as the kernel reports it: the ``struct flock`` fields, by their meaning."""

    type: int
    """F_RDLCK or F_WRLCK."""
    whence: int
    """How ``start`` is measured; the kernel reports SEEK_SET."""
    start: int
    """First byte of the range."""
    length: int
    """Bytes in the range; 0 means "to the end of the file, however long it grows"."""
    pid: int
    """The holder's process id; -1 for an open-file-description (OFD) lock."""


def getlk(
    fd: FileDescriptorLike,
    type: int = F_WRLCK,
    start: int = 0,
    length: int = 0,
    whence: int = os.SEEK_SET,
    *,
    ofd: bool = False,
) -> Flock | None:
    """Ask the kernel whether a lock of ``type`` on the range could be placed (F_GETLK).

    Returns None when nothing conflicts, else one conflicting lock.  ``ofd=True`` asks
    with F_OFD_GETLK, which also sees conflicts with this process's own POSIX locks.
    """
    found = _call(
        "getlk",
        _cf_getlk,
        require("F_OFD_GETLK") if ofd else F_GETLK,
        fd,
        type,
        start,
        length,
        whence,
    )
    if found == F_UNLCK:
        return None
    if found == -1:
        raise oserror()
    lock = _lib.cf_result().lock
    return Flock(lock.l_type, lock.l_whence, lock.l_start, lock.l_len, lock.l_pid)


def setlk(
    fd: FileDescriptorLike,
    type: int,
    start: int = 0,
    length: int = 0,
    whence: int = os.SEEK_SET,
    *,
    ofd: bool = False,
) -> None:
    """Place, change or remove (F_UNLCK) a lock without waiting (F_SETLK).

    A conflicting lock raises BlockingIOError: Linux answers EAGAIN (POSIX also allows
    EACCES, which would be PermissionError).  ``ofd=True`` uses F_OFD_SETLK: the lock
    belongs to the open file description, not the process.
    """
    cmd = require("F_OFD_SETLK") if ofd else F_SETLK
    if _call("setlk", _cf_setlk, cmd, fd, type, start, length, whence) == -1:
        raise oserror()


def setlkw(
    fd: FileDescriptorLike,
    type: int,
    start: int = 0,
    length: int = 0,
    whence: int = os.SEEK_SET,
    *,
    ofd: bool = False,
) -> None:
    """Like :func:`setlk`, but wait for a conflicting lock to go (F_SETLKW).

    The wait releases the GIL.  A signal interrupts it (EINTR); as for the stdlib
    (PEP 475) the Python handler runs and the wait resumes, unless the handler raises,
    in which case its exception propagates and no lock is taken.  A wait that would
    deadlock with another process's POSIX lock raises OSError(EDEADLK).
    """
    cmd = require("F_OFD_SETLKW") if ofd else F_SETLKW
    while _call("setlkw", _cf_setlk, cmd, fd, type, start, length, whence) == -1:
        error = oserror()
        if not isinstance(error, InterruptedError):
            raise error
        # EINTR: the handler runs on the way round; if it raises, that ends the wait.
