"""The record-lock functions and FIONREAD through ctypes: the binding that needs no compiler.

The same signatures, results and exceptions as :func:`cfcntl.getlk`, :func:`cfcntl.setlk`,
:func:`cfcntl.setlkw` and ``cfcntl.ioctls.fionread``, for comparison (the report's parity
check, the benchmarks).  libc's ``fcntl()`` and ``ioctl()`` are called through ctypes with
fixed argument types, ``struct flock`` is a :class:`ctypes.Structure` (whose padding rules
give the C layout, 32 bytes on x86-64: see ``cfcntl.tools.declarations``), errno comes back through
``use_errno=True``, and the numbers are cfcntl's, from its compiled module (the stdlib
``fcntl`` may lack some: PyPy 7.3's has no F_OFD_*).
ctypes silently truncates an int too wide for its C type, so every argument is checked
first; the errors are cfcntl's, word for word.
"""

from __future__ import annotations

import ctypes
import os

from .. import constants as _c
from .._syscall import FileDescriptorLike, c_range, fileno, oserror, refused
from ..locks import Flock, lock_arguments


class flock(ctypes.Structure):
    """``struct flock`` as ctypes lays it out (off_t is 64 bits wherever Python runs with
    large-file support, which CPython on Linux always does; pid_t is int)."""

    _fields_ = (
        ("l_type", ctypes.c_short),
        ("l_whence", ctypes.c_short),
        ("l_start", ctypes.c_int64),
        ("l_len", ctypes.c_int64),
        ("l_pid", ctypes.c_int),
    )


_libc = ctypes.CDLL(None, use_errno=True)
# fcntl64 takes the 64-bit struct flock on 32-bit glibc; elsewhere it is fcntl itself.
_fcntl_flock = getattr(_libc, "fcntl64", None) or _libc.fcntl
_fcntl_flock.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.POINTER(flock))
_fcntl_flock.restype = ctypes.c_int
_ioctl_int = _libc.ioctl
_ioctl_int.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(ctypes.c_int))
_ioctl_int.restype = ctypes.c_int


# The ranges of the fields' and arguments' C types (ctypes would truncate past them).
_INT_MAX = c_range("int")[1]
_SHORT_MIN, _SHORT_MAX = c_range("short")
_OFF_MIN, _OFF_MAX = c_range("int64_t")  # flock's l_start and l_len, as declared above

_F_GETLK, _F_SETLK, _F_SETLKW = _c.F_GETLK, _c.F_SETLK, _c.F_SETLKW
_F_UNLCK = _c.F_UNLCK


def _number(function: str, fd: FileDescriptorLike) -> int:
    """The descriptor number, checked as cfcntl checks it."""
    number = fileno(fd)
    if number > _INT_MAX:
        raise refused(OverflowError(), function, ("fd", "int", number))
    return number


def _request(
    function: str, fd: FileDescriptorLike, type: int, start: int, length: int, whence: int
) -> tuple[int, flock]:
    """(descriptor, struct flock) for a lock call, every argument checked first."""
    number = _number(function, fd)
    try:
        if not (
            _SHORT_MIN <= type <= _SHORT_MAX
            and _SHORT_MIN <= whence <= _SHORT_MAX
            and _OFF_MIN <= start <= _OFF_MAX
            and _OFF_MIN <= length <= _OFF_MAX
        ):
            raise OverflowError(f"{function}(): an argument does not fit its C type")
        return number, flock(type, whence, start, length, 0)
    except (TypeError, OverflowError) as exc:
        raise refused(exc, function, *lock_arguments(type, start, length, whence)) from None


def getlk(
    fd: FileDescriptorLike,
    type: int = _c.F_WRLCK,
    start: int = 0,
    length: int = 0,
    whence: int = os.SEEK_SET,
    *,
    ofd: bool = False,
) -> Flock | None:
    """As :func:`cfcntl.getlk`: None when nothing conflicts, else one conflicting lock."""
    cmd = _c.require("F_OFD_GETLK") if ofd else _F_GETLK
    number, request = _request("getlk", fd, type, start, length, whence)
    if _fcntl_flock(number, cmd, request) == -1:
        raise oserror(ctypes.get_errno())
    if request.l_type == _F_UNLCK:
        return None
    return Flock(request.l_type, request.l_whence, request.l_start, request.l_len, request.l_pid)


def setlk(
    fd: FileDescriptorLike,
    type: int,
    start: int = 0,
    length: int = 0,
    whence: int = os.SEEK_SET,
    *,
    ofd: bool = False,
) -> None:
    """As :func:`cfcntl.setlk`: BlockingIOError when another lock conflicts."""
    cmd = _c.require("F_OFD_SETLK") if ofd else _F_SETLK
    number, request = _request("setlk", fd, type, start, length, whence)
    if _fcntl_flock(number, cmd, request) == -1:
        raise oserror(ctypes.get_errno())


def setlkw(
    fd: FileDescriptorLike,
    type: int,
    start: int = 0,
    length: int = 0,
    whence: int = os.SEEK_SET,
    *,
    ofd: bool = False,
) -> None:
    """As :func:`cfcntl.setlkw`: waits with the GIL released (ctypes releases it), retries
    EINTR after the signal handler has run, unless the handler raises."""
    cmd = _c.require("F_OFD_SETLKW") if ofd else _F_SETLKW
    number, request = _request("setlkw", fd, type, start, length, whence)
    while _fcntl_flock(number, cmd, request) == -1:
        error = oserror(ctypes.get_errno())
        if not isinstance(error, InterruptedError):
            raise error


def fionread(fd: FileDescriptorLike) -> int:
    """The bytes waiting to be read (ioctl FIONREAD), as ``cfcntl.ioctls.fionread``."""
    number = _number("fionread", fd)
    waiting = ctypes.c_int()
    if _ioctl_int(number, _c.FIONREAD, waiting) == -1:
        raise oserror(ctypes.get_errno())
    return waiting.value
