"""The generic ioctl calls: a request number and a C type name, size-checked before any
syscall (``src/cfcntl/_c/ioctl.c`` passes the argument by pointer, by value or none).

:func:`read`, :func:`write`, :func:`readwrite` and :func:`none` refuse a type whose size
differs from the size the request encodes, or for a request without size bits from the
type :data:`cfcntl.ioctls.KNOWN` gives it, before any syscall; an unknown request
without size bits needs ``size=``, and its argument then carries a guard.
"""

from __future__ import annotations

from .. import ioc
from .._cfcntl import ffi as _ffi, lib as _lib
from .._syscall import FileDescriptorLike, as_int, c_range, call, fileno, misfit
from ..constants import _IOC_SIZEBITS
from .registry import Known, _by_number

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from typing import Any

LIMIT = (1 << _IOC_SIZEBITS) - 1
"""The largest argument the generic calls allocate: the most a request can encode
(2**_IOC_SIZEBITS - 1 bytes); a larger ``ctype`` or ``size`` is ValueError before any
allocation."""

GUARD = 1 << _IOC_SIZEBITS
"""Bytes of guard after an argument whose size the caller vouched for (``size=``)."""

# A pattern no kernel writes by accident: a permutation of the 256 byte values (167 is
# odd), repeated; built from 256 values, not 16384, for the import cost.
_GUARD_BYTES = bytes((i * 167 + 0x5A) & 0xFF for i in range(256)) * (GUARD // 256)


class OverrunError(RuntimeError):
    """The kernel wrote past an argument whose size the caller vouched for.

    The write landed in cfcntl's guard, inside cfcntl's own allocation, so the heap is
    sound; the vouched size was wrong.
    """

    def __init__(self, function: str, request: int, size: int, past: int) -> None:
        super().__init__(
            f"{function}(): request {request:#x} wrote at least {past} bytes past the "
            f"{size}-byte argument vouched for (size={size}): the kernel uses at least "
            f"{size + past} bytes; nothing outside cfcntl's buffer was touched"
        )
        self.request = request
        self.size = size
        self.past = past


def _plan(function: str, request: int, ctype: str, size: object) -> tuple[str, int, bool, bool]:
    """How to pass a ``ctype`` for ``request``: the cffi type of its address ("int *",
    "char(*)[16]"...), its size, whether it is an integer, and whether the caller vouched
    for the size (an unknown legacy request, whose argument gets a guard).

    Refuses, before anything is allocated, a request :data:`KNOWN` says takes no pointer
    or refuses, and a ``ctype`` the kernel would not use: a size
    other than the one the request encodes or, for a legacy request without size bits,
    the one :data:`KNOWN` gives; an unknown legacy request unless ``size`` vouches for
    the ctype's size."""
    nbytes = ioc.size_of(ctype)
    kind = _ffi.typeof(ctype).kind
    if kind not in ("primitive", "struct", "union", "array"):
        raise ValueError(f"{function}(): {ctype!r} is a {kind} type, not data to pass")
    scalar = kind == "primitive"
    if scalar and not isinstance(_ffi.new(f"{ctype} *")[0], int):
        raise ValueError(f"{function}(): {ctype!r} is not an integer type")
    if size is not None:
        size = as_int(function, "size", size)
        if not 0 < size <= LIMIT:
            raise ValueError(f"{function}(): size={size} is not between 1 and {LIMIT}")
    expected = ioc.decode(request).size
    known = _by_number().get(request)
    guarded = False
    if known is not None and known.direction in ("refused", "none", "value"):
        raise ValueError(f"{function}(): {_no_pointer(known)}")
    if expected:
        about = ""
    elif known is not None:
        assert known.kernel_ctype is not None
        try:
            expected = ioc.size_of(known.kernel_ctype)
        except ValueError:
            raise ValueError(
                f"{function}(): {known.name} takes a {known.kernel_ctype}, which the "
                "headers cfcntl was built with do not define"
            ) from None
        about = f" ({known.name}: {known.kernel_ctype}{', ' + known.note if known.note else ''})"
    elif size is None:
        raise ValueError(
            f"{function}(): request {request:#x} encodes no argument size and is not in "
            f"cfcntl.ioctls.KNOWN; pass size=N to vouch that the kernel uses N bytes "
            f"(the argument then carries a {GUARD}-byte guard, checked after the call)"
        )
    else:
        expected, guarded, about = size, True, " (vouched for with size=)"
    if size is not None and size != expected:
        raise ValueError(
            f"{function}(): size={size}, but request {request:#x} takes {expected} bytes{about}"
        )
    if expected != nbytes:
        raise ValueError(
            f"{function}(): request {request:#x} takes a {expected}-byte argument, "
            f"{ctype!r} is {nbytes} bytes{about}"
        )
    return _ffi.getctype(ctype, "*"), nbytes, scalar, guarded


_TYPED_BY_VALUE = {"FICLONE": "ficlone(dst, src)", "TIOCSCTTY": "tiocsctty(fd)"}


def _no_pointer(known: Known) -> str:
    """Why the pointer calls refuse ``known`` (a request the kernel takes no pointer for,
    or one cfcntl refuses), and which call to use instead."""
    if known.direction == "refused":
        return f"cfcntl refuses {known.name}: {known.note}"
    if known.direction == "none":
        return f"{known.name} takes no argument: use ioctls.none(fd, {known.name})"
    typed = _TYPED_BY_VALUE.get(known.name)
    return (
        f"{known.name} takes {'an' if known.kernel_ctype == 'int' else 'a'} "
        f"{known.kernel_ctype} by value, not a pointer ({known.note}): use "
        f"ioctls.by_value(fd, {known.name}, value)" + (f" or ioctls.{typed}" if typed else "")
    )


def _misfit(function: str, ctype: str, value: object, exc: Exception) -> Exception:
    """cffi's refusal of ``value`` for ``ctype`` as TypeError, OverflowError (an integer
    out of range) or ValueError (a missing field, too many items), naming the argument."""
    kind = type(exc) if isinstance(exc, (TypeError, OverflowError)) else ValueError
    return kind(f"{function}(): value={value!r} does not fit {ctype!r}: {exc}")


def _call(
    function: str, fd: FileDescriptorLike, request: int, ctype: str, value: object, size: object
) -> tuple[int, Any]:
    """Issue ``request`` with a ``ctype`` holding ``value`` (zeroed for :func:`read`, which
    passes None): ioctl's result, and what the argument holds afterwards (an int, or a
    cdata owning its memory)."""
    if value is None and function != "read":  # cffi would quietly pass a zero
        raise TypeError(f"{function}(): value must be given, not None (read() passes a zero)")
    request = as_int(function, "request", request)
    pointer, nbytes, scalar, guarded = _plan(function, request, ctype, size)
    descriptor = ("fd", "int", fileno(fd))
    array = _ffi.typeof(ctype).kind == "array"
    if guarded:
        raw = _ffi.new("char[]", nbytes + GUARD)
        _ffi.memmove(raw + nbytes, _GUARD_BYTES, GUARD)
    else:  # what the caller gets back must own its memory: for an array, the array
        raw = _ffi.new(ctype if array else pointer)
    arg = _ffi.cast(pointer, raw) if guarded or array else raw
    if value is not None:
        try:  # an integer as the stdlib takes it: cffi would truncate a Decimal (__int__)
            arg[0] = as_int(function, "value", value) if scalar else value
        except (TypeError, OverflowError, ValueError, KeyError, IndexError) as exc:
            raise _misfit(function, ctype, value, exc) from None

    def issue(fd: int, request: int) -> int:
        result: int = _lib.cf_ioctl_ptr(fd, request, raw)
        return result

    try:
        result = call(function, issue, descriptor, ("request", "unsigned int", request))
    finally:
        if guarded:
            _check_guard(function, request, nbytes, _ffi.buffer(raw, nbytes + GUARD))
    if scalar:
        return result, arg[0]
    if guarded:  # an owned copy, not a view into the guarded buffer
        owned = _ffi.new(ctype if array else pointer)
        _ffi.memmove(owned, raw, nbytes)
        return result, owned
    return result, raw


def _check_guard(function: str, request: int, size: int, buffer: Any) -> None:
    """OverrunError if the kernel changed the guard after ``size`` bytes of ``buffer``."""
    written = bytes(buffer[size:])
    if written != _GUARD_BYTES:
        past = max(i for i in range(GUARD) if written[i] != _GUARD_BYTES[i]) + 1
        raise OverrunError(function, request, size, past)


def read(fd: FileDescriptorLike, request: int, ctype: str, *, size: int | None = None) -> Any:
    """Issue ``request`` with a zeroed ``ctype`` for the kernel to fill; what it wrote.

    An int for an integer ``ctype``; for a struct, a new ``ctype *`` cdata owning the
    struct (its fields as attributes); for an array, a new ``ctype`` cdata owning the
    array (its items by index, ``ffi.buffer`` for its bytes).  Either owns its memory,
    valid for as long as it is referenced, never a view into cfcntl's buffer.  ``size``
    vouches for the argument's size of a legacy request cfcntl does not know (see
    :data:`GUARD`).  A request the kernel takes no pointer for is ValueError (see
    :func:`none`, :func:`by_value`).
    """
    return _call("read", fd, request, ctype, None, size)[1]


def write(
    fd: FileDescriptorLike, request: int, ctype: str, value: Any, *, size: int | None = None
) -> int:
    """Issue ``request`` with ``value`` as a ``ctype`` for the kernel to read; ioctl's result.

    ``value`` is an int for an integer ``ctype``; for a struct or array, whatever
    ``ffi.new`` takes (a dict of fields, a sequence, or a struct of that type); None is
    TypeError.  The kernel reads it through a pointer: a request that takes its int by
    value (:func:`by_value`) or none (:func:`none`) is ValueError.
    """
    return _call("write", fd, request, ctype, value, size)[0]


def readwrite(
    fd: FileDescriptorLike, request: int, ctype: str, value: Any, *, size: int | None = None
) -> Any:
    """As :func:`write`, then what the kernel wrote back, as :func:`read` returns it (an
    int, or a cdata owning its memory)."""
    return _call("readwrite", fd, request, ctype, value, size)[1]


def none(fd: FileDescriptorLike, request: int) -> int:
    """Issue ``request`` with no argument (a zero); ioctl's result.

    A request that encodes an argument size, or that :data:`KNOWN` says takes a
    pointer, is refused: it needs :func:`read` or :func:`write`.
    """
    request = as_int("none", "request", request)
    size = ioc.decode(request).size
    if size:
        raise ValueError(f"none(): request {request:#x} encodes a {size}-byte argument")
    known = _by_number().get(request)
    if known is not None and known.direction not in ("none", "value"):
        raise ValueError(
            f"none(): {known.name} takes a pointer ({known.kernel_ctype or known.note}): "
            "use read() or write()"
        )
    return call(
        "none", _lib.cf_ioctl_none, ("fd", "int", fileno(fd)), ("request", "unsigned int", request)
    )


_ULONG_MASK = c_range("unsigned long")[1]


def by_value(fd: FileDescriptorLike, request: int, value: int) -> int:
    """Issue ``request`` with ``value`` itself as ioctl's argument, not a pointer to it;
    ioctl's result (``TIOCGPTPEER``: a new descriptor).

    Only for the requests :data:`KNOWN` says the kernel takes a number by value
    (``TCSBRK``, ``TIOCSIG``, ``FICLONE``'s source descriptor...); ``value`` must fit
    the kernel's type there.  Any other request is ValueError: for a pointer request the
    kernel would take the number as an address and write there.
    """
    request = as_int("by_value", "request", request)
    known = _by_number().get(request)
    if known is None:
        raise ValueError(
            f"by_value(): request {request:#x} is not in cfcntl.ioctls.KNOWN, which says "
            "where the kernel takes a number by value"
        )
    if known.direction != "value":
        how = {
            "none": "takes no argument: use none()",
            "refused": f"is refused: {known.note}",
        }.get(known.direction, f"takes a pointer to {known.kernel_ctype}: use {known.direction}()")
        raise ValueError(f"by_value(): {known.name} {how}")
    assert known.kernel_ctype is not None
    number = as_int("by_value", "value", value)
    error = misfit("by_value", ("value", known.kernel_ctype, number))
    if error is not None:
        raise error
    return call(
        "by_value",
        _lib.cf_ioctl_value,
        ("fd", "int", fileno(fd)),
        ("request", "unsigned int", request),
        ("value", "unsigned long", number & _ULONG_MASK),  # the kernel's unsigned long
    )
