"""What every wrapper shares: a file descriptor in, an OSError out.

This is the one place an errno becomes an exception.
"""

from __future__ import annotations

import os
from typing import Protocol

from ._cfcntl import ffi


class HasFileno(Protocol):
    def fileno(self) -> int: ...


FileDescriptorLike = int | HasFileno


def fileno(fd: FileDescriptorLike) -> int:
    """``fd`` as the kernel's descriptor number: an int as it is, else ``fd.fileno()``.

    As in the stdlib, a negative number is ValueError and an object that is neither
    an int nor has ``fileno()`` is TypeError; a number too large for a C int is
    OverflowError when it reaches the binding.
    """
    if isinstance(fd, int):
        number = fd
    else:
        try:
            method = fd.fileno
        except AttributeError:
            raise TypeError(
                f"expected a file descriptor (an int or an object with fileno()), "
                f"got {type(fd).__name__}"
            ) from None
        number = method()
        if not isinstance(number, int):
            raise TypeError(f"fileno() returned {type(number).__name__}, not int")
    if number < 0:
        raise ValueError(f"file descriptor cannot be a negative integer ({number})")
    return number


def oserror() -> OSError:
    """The OSError for the errno the last binding call left, as its errno subclass."""
    err: int = ffi.errno
    return OSError(err, os.strerror(err))


def _c_range(ctype: str) -> tuple[int, int]:
    bits = 8 * ffi.sizeof(ctype)
    if int(ffi.cast(ctype, -1)) < 0:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def refused(exc: Exception, function: str, *arguments: tuple[str, str, object]) -> Exception:
    """Turn cffi's terse TypeError/OverflowError into one naming the argument at fault.

    ``arguments`` are (name, C type, value given).  Called only after cffi has refused
    a call, so the hot path pays nothing for it.
    """
    for name, ctype, value in arguments:
        if not isinstance(value, int):
            return TypeError(f"{function}(): {name} must be an int, not {type(value).__name__}")
        low, high = _c_range(ctype)
        if not low <= value <= high:
            cname = ffi.typeof(ctype).cname
            shown = ctype if cname == ctype else f"{ctype} ({cname})"
            return OverflowError(
                f"{function}(): {name}={value} does not fit the C type {shown}, {low} to {high}"
            )
    return exc


def checked(result: int) -> int:
    """``result`` of a binding call, or the OSError its errno names when it is -1."""
    if result == -1:
        raise oserror()
    return result
