"""ioctl request numbers: the ``_IO``/``_IOR``/``_IOW``/``_IOWR`` encoders and their inverse.

A request packs a direction, a type (the driver's letter), a number and the size of the
argument into one unsigned int.  The field widths and shifts are the build's own, from
``<asm/ioctl.h>``, and the size is the compiler's ``sizeof`` of the C type named.  A field
too wide for its bits is ValueError, never masked.
"""

from __future__ import annotations

import operator

from ._cfcntl import ffi
from .constants import (
    _IOC_DIRBITS,
    _IOC_DIRSHIFT,
    _IOC_NONE,
    _IOC_NRBITS,
    _IOC_NRSHIFT,
    _IOC_READ,
    _IOC_SIZEBITS,
    _IOC_SIZESHIFT,
    _IOC_TYPEBITS,
    _IOC_TYPESHIFT,
    _IOC_WRITE,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from typing import NamedTuple
else:
    from ._record import NamedTuple

NONE = _IOC_NONE
"""Direction: no argument, or one the kernel takes by value."""
WRITE = _IOC_WRITE
"""Direction bit: the kernel reads the argument (user space writes it)."""
READ = _IOC_READ
"""Direction bit: the kernel writes the argument (user space reads it)."""


class Request(NamedTuple):
    """The fields of an ioctl request number."""

    dir: int
    """NONE, or READ and/or WRITE."""
    type: int
    """The driver's type, usually a letter's code ('T' for terminals)."""
    nr: int
    """The request's number within its type."""
    size: int
    """The argument's size in bytes; 0 for legacy requests that do not encode it."""


def _field(what: str, value: int, bits: int) -> int:
    try:
        value = operator.index(value)  # an int, or an object with __index__, as the stdlib
    except TypeError:
        raise TypeError(f"ioctl {what} must be an int, not {type(value).__name__}") from None
    if not 0 <= value < 1 << bits:
        raise ValueError(f"ioctl {what} {value} does not fit in {bits} bits")
    return value


def size_of(ctype: str) -> int:
    """``sizeof(ctype)`` as the compiled module knows it; ValueError for a type it does not."""
    if not isinstance(ctype, str):
        raise TypeError(f"ctype must be a C type name (str), not {type(ctype).__name__}")
    try:
        return int(ffi.sizeof(ctype))
    except ffi.error as exc:
        raise ValueError(f"unknown C type {ctype!r}: {exc}") from None


def IOC(dir: int, type: int | str, nr: int, size: int) -> int:
    """The request number with these fields (the kernel's ``_IOC``)."""
    if isinstance(type, str):
        if len(type) != 1:
            raise ValueError(f"ioctl type must be one character, not {type!r}")
        type = ord(type)
    return (
        _field("direction", dir, _IOC_DIRBITS) << _IOC_DIRSHIFT
        | _field("type", type, _IOC_TYPEBITS) << _IOC_TYPESHIFT
        | _field("number", nr, _IOC_NRBITS) << _IOC_NRSHIFT
        | _field("size", size, _IOC_SIZEBITS) << _IOC_SIZESHIFT
    )


def IO(type: int | str, nr: int) -> int:
    """A request with no argument (``_IO``)."""
    return IOC(NONE, type, nr, 0)


def IOR(type: int | str, nr: int, ctype: str) -> int:
    """A request whose ``ctype`` argument the kernel writes (``_IOR``)."""
    return IOC(READ, type, nr, size_of(ctype))


def IOW(type: int | str, nr: int, ctype: str) -> int:
    """A request whose ``ctype`` argument the kernel reads (``_IOW``)."""
    return IOC(WRITE, type, nr, size_of(ctype))


def IOWR(type: int | str, nr: int, ctype: str) -> int:
    """A request whose ``ctype`` argument the kernel reads and writes back (``_IOWR``)."""
    return IOC(READ | WRITE, type, nr, size_of(ctype))


def decode(request: int) -> Request:
    """The fields of ``request`` (``_IOC_DIR``, ``_IOC_TYPE``, ``_IOC_NR``, ``_IOC_SIZE``)."""
    _field("request", request, _IOC_DIRSHIFT + _IOC_DIRBITS)
    return Request(
        request >> _IOC_DIRSHIFT & (1 << _IOC_DIRBITS) - 1,
        request >> _IOC_TYPESHIFT & (1 << _IOC_TYPEBITS) - 1,
        request >> _IOC_NRSHIFT & (1 << _IOC_NRBITS) - 1,
        request >> _IOC_SIZESHIFT & (1 << _IOC_SIZEBITS) - 1,
    )
