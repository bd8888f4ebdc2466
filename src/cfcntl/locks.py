"""Record locks: F_GETLK, F_SETLK, F_SETLKW and their open-file-description twins.

The kernel takes a ``struct flock``; these functions take its fields as arguments, and
the C helper (``src/cfcntl/_c/locks.c``, the arguments in the same order) builds the
struct on its own stack, so a query or a lock change allocates nothing.  A query reads
the struct back only when the kernel reports a conflicting lock.
"""

from __future__ import annotations

import os

from ._cfcntl import ffi as _ffi, lib as _lib
from ._syscall import Argument, FileDescriptorLike, failure, needs, retried
from .constants import F_WRLCK

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from collections.abc import Callable
    from typing import NamedTuple
else:
    from ._record import NamedTuple

# One C helper per command, bound once: the hot path passes (fd, type, start, length,
# whence) straight to it and looks nothing else up.
if TYPE_CHECKING:
    _Helper = Callable[..., int]

_cf_getlk: _Helper = _lib.cf_posix_getlk
_cf_setlk: _Helper = _lib.cf_posix_setlk
_cf_setlkw: _Helper = _lib.cf_posix_setlkw
_unpack: Callable[[object, int], list[int]] = _ffi.unpack
# Flock's own __new__ is a Python function (_record): Flock(*values) costs about 410 ns,
# tuple.__new__(Flock, values) 120 (measured A/B, interleaved medians): 290 ns of a
# 660 ns getlk-conflict, whose target the stdlib path already beats.
_new = tuple.__new__
_cf_ofd_getlk: _Helper = needs("F_OFD_GETLK", _lib.cf_ofd_getlk)
_cf_ofd_setlk: _Helper = needs("F_OFD_SETLK", _lib.cf_ofd_setlk)
_cf_ofd_setlkw: _Helper = needs("F_OFD_SETLKW", _lib.cf_ofd_setlkw)


def lock_arguments(type: int, start: int, length: int, whence: int) -> tuple[Argument, ...]:
    """A lock call's arguments in the helpers' order (the functions' own), with the C
    types errors name."""
    return (
        ("type", "short", type),
        ("start", "off_t", start),
        ("length", "off_t", length),
        ("whence", "short", whence),
    )


def _retry(
    function: str,
    helper: _Helper,
    fd: FileDescriptorLike,
    type: int,
    start: int,
    length: int,
    whence: int,
    *tail: object,
) -> int:
    """A lock call whose arguments were not all ints: see :func:`cfcntl._syscall.retried`."""
    arguments = lock_arguments(type, start, length, whence)
    return retried(function, helper, fd, *arguments, tail=tail)


# The conflicting lock a query finds goes into an answer slot the C helper claims for this
# call (atomically: a signal handler or another thread that queries meanwhile claims
# another), read here and then freed, so nothing but this call writes this call's answer
# and a free range passes no buffer at all.  If every slot is claimed (answers unread in
# that many handlers and threads, or lost to an exception between the call and the
# read), the query is asked again into a buffer of the call's own.
_cf_getlk_slot: _Helper = _lib.cf_posix_getlk_slot
_cf_ofd_getlk_slot: _Helper = needs("F_OFD_GETLK", _lib.cf_ofd_getlk_slot)
_SLOTS: int = _lib.CF_SLOTS
_ANSWERS = [None, *(_lib.cf_answers[k] for k in range(_SLOTS))]
"""Each slot's five int64_t (type, whence, start, length, pid), by the helper's answer
(slot k is answer k + 1).  The slots save getlk-conflict a buffer per call: about 60 ns
of 660 (``ffi.new`` of the answer, measured A/B, interleaved medians); a free range
passes none either way.  Five int64_t, one ``ffi.unpack``: with ``struct flock`` slots
and its five fields read, getlk-conflict took 800 ns against 760 (``python -m cfcntl
bench``, five runs of each build, interleaved; 0.51x the stdlib's speed against 0.53x)."""
_free: Callable[[int], None] = _lib.cf_answer_free


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
    helper = _cf_ofd_getlk_slot if ofd else _cf_getlk_slot
    try:
        # ``|`` raises TypeError unless all five are ints (or int-like with __index__,
        # which _retry converts): cffi alone would truncate a Decimal or a Fraction
        # through __int__.  It costs 34 ns, five type() checks 51 (measured A/B,
        # interleaved medians): getlk-free and setlk miss their targets by more.
        fd | type | start | length | whence  # type: ignore[operator]
        found = helper(fd, type, start, length, whence)
    except (TypeError, OverflowError):
        found = _retry("getlk", helper, fd, type, start, length, whence)
    if not found:
        return None
    if found < 0:
        raise failure(fd, found)
    if found > _SLOTS:
        return _getlk_into_own(fd, type, start, length, whence, ofd)
    conflict = _new(Flock, _unpack(_ANSWERS[found], 5))
    _free(found)
    return conflict


def _getlk_into_own(
    fd: FileDescriptorLike, type: int, start: int, length: int, whence: int, ofd: bool
) -> Flock | None:
    """:func:`getlk` asked again with a buffer of the call's own, for when every answer
    slot was claimed."""
    helper = _cf_ofd_getlk if ofd else _cf_getlk
    answer = _ffi.new("int64_t[5]")
    found = _retry("getlk", helper, fd, type, start, length, whence, answer)
    if found < 0:
        raise failure(fd, found)
    return _new(Flock, _unpack(answer, 5)) if found else None


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
    helper = _cf_ofd_setlk if ofd else _cf_setlk
    try:
        fd | type | start | length | whence  # type: ignore[operator]  # see getlk
        result = helper(fd, type, start, length, whence)
    except (TypeError, OverflowError):
        result = _retry("setlk", helper, fd, type, start, length, whence)
    if result:
        raise failure(fd, result)


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
    helper = _cf_ofd_setlkw if ofd else _cf_setlkw
    while True:
        try:
            fd | type | start | length | whence  # type: ignore[operator]  # see getlk
            result = helper(fd, type, start, length, whence)
        except (TypeError, OverflowError):
            result = _retry("setlkw", helper, fd, type, start, length, whence)
        if not result:
            return
        error = failure(fd, result)
        if not isinstance(error, InterruptedError):
            raise error
        # EINTR: the handler runs on the way round; if it raises, that ends the wait.
