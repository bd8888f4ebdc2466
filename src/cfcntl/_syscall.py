"""What every wrapper shares: a file descriptor in, an OSError out.

The one place a descriptor is converted (:func:`fileno`), a C integer type's range is
computed (:func:`c_range`), a helper's failed result becomes an exception
(:func:`failure`; every helper returns its syscall's result, or ``FAILED - errno``:
``src/cfcntl/_c/cfcntl.h``, "THE PROTOCOL"), and a command or request the build's
headers lacked is reported (:func:`needs`, :func:`missing`).
"""

from __future__ import annotations

import operator
import os
import sys

from ._cfcntl import ffi, lib

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from collections.abc import Callable
    from typing import Any, NoReturn, Protocol, TypeVar

    _H = TypeVar("_H", bound=Callable[..., object])
else:
    Protocol = object


class HasFileno(Protocol):
    def fileno(self) -> int: ...


FileDescriptorLike = int | HasFileno

FAILED: int = lib.CF_FAILED
"""A helper's result at or below this is a failure: ``FAILED - errno``."""
U64_FAILED: int = lib.CF_U64_FAILED
"""What a helper returning a full 64-bit answer returns on failure (errno set), or when
that is the answer (errno 0)."""


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
        raise _negative(number)
    return number


def as_int(function: str, name: str, value: Any) -> int:
    """``value`` as the stdlib takes an integer argument: an int, or an object with
    ``__index__``; anything else (a float, a Decimal, a Fraction) is TypeError naming the
    argument.  cffi would take those through ``__int__`` and drop the fraction."""
    if type(value) is int:
        return value
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{function}(): {name} must be an int, not {type(value).__name__}"
        ) from None


Argument = tuple[str, str, object]
"""(name, C type, value given) of a helper's argument, for errors that name it."""


def _negative(number: int) -> ValueError:
    return ValueError(f"file descriptor cannot be a negative integer ({number})")


def oserror(err: int) -> OSError:
    """The OSError for the errno ``err``, as its errno subclass."""
    return OSError(err, os.strerror(err))


def failure(fd: FileDescriptorLike, result: int) -> Exception:
    """What a helper's failed ``result`` (``FAILED - errno``) means: ValueError for a
    negative descriptor (which the kernel answers with EBADF), else the OSError of the
    errno it carries."""
    if isinstance(fd, int) and fd < 0:
        return _negative(fd)
    return oserror(FAILED - result)


def u64_failure(fd: FileDescriptorLike) -> Exception | None:
    """After a full 64-bit helper returned :data:`U64_FAILED`: as :func:`failure`, with
    the errno cffi saved, or None when the value was the real answer (errno 0)."""
    err = ffi.errno
    return failure(fd, FAILED - err) if err else None


_RANGES: dict[str, tuple[int, int]] = {}


def c_range(ctype: str) -> tuple[int, int]:
    """The lowest and highest value of the C integer type ``ctype``, from the compiler's
    size and signedness."""
    known = _RANGES.get(ctype)
    if known is None:
        bits = 8 * ffi.sizeof(ctype)
        if int(ffi.cast(ctype, -1)) < 0:
            known = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        else:
            known = 0, (1 << bits) - 1
        _RANGES[ctype] = known
    return known


def misfit(function: str, *arguments: Argument) -> Exception | None:
    """The TypeError/OverflowError naming the first argument its C type cannot hold, or
    None when they all fit.  ``arguments`` are (name, C type, value given)."""
    for name, ctype, value in arguments:
        if ctype[-1:] == "*":  # an answer's buffer, never the caller's
            continue
        if not isinstance(value, int):
            return TypeError(f"{function}(): {name} must be an int, not {type(value).__name__}")
        low, high = c_range(ctype)
        if not low <= value <= high:
            cname = ffi.typeof(ctype).cname
            shown = ctype if cname == ctype else f"{ctype} ({cname})"
            return OverflowError(
                f"{function}(): {name}={value} does not fit the C type {shown}, {low} to {high}"
            )
    return None


def refused(exc: Exception, function: str, *arguments: Argument) -> Exception:
    """Turn cffi's terse TypeError/OverflowError into one naming the argument at fault.

    Called only after cffi has refused a call, so the hot path pays nothing for it.
    """
    return misfit(function, *arguments) or exc


def retried(
    function: str,
    helper: Callable[..., int],
    fd: FileDescriptorLike,
    *arguments: Argument,
    tail: tuple[object, ...] = (),
) -> int:
    """``helper(fd, *values, *tail)`` for a hot path that found an argument that is not an
    int, or that cffi refused: the descriptor number of an object with ``fileno()``, the
    values as :func:`as_int` takes them; an argument its C type cannot hold raises the
    error naming it (ValueError/TypeError for the descriptor, as :func:`fileno`).

    The hot paths pass their arguments straight to the helper and come here only then.
    """
    number = fileno(fd)
    converted = [(name, ctype, as_int(function, name, v)) for name, ctype, v in arguments]
    try:
        result: int = helper(number, *(value for _, _, value in converted), *tail)
    except (TypeError, OverflowError) as exc:
        raise refused(exc, function, ("fd", "int", number), *converted) from None
    return result


def call(function: str, helper: Callable[..., int], *arguments: Argument) -> int:
    """``helper`` called with the arguments' values (descriptors already converted): its
    result, or the OSError of the errno a failed result carries; cffi's refusals become
    :func:`refused`'s, naming the argument."""
    converted = [
        (n, c, v if type(v) is int or c[-1:] == "*" else as_int(function, n, v))
        for n, c, v in arguments
    ]
    try:
        result = helper(*(value for _, _, value in converted))
    except (TypeError, OverflowError) as exc:
        raise refused(exc, function, *converted) from None
    if result <= FAILED:
        raise oserror(FAILED - result)
    return result


def missing(name: str, looked_for: bool = False) -> NotImplementedError:
    """The one error for a command or request the build's headers lacked, naming the
    header constant (``looked_for``: one of ``cfcntl.NAMES``, which ``cfcntl.has`` knows)."""
    hint = f" (cfcntl.has({name!r}) is False)" if looked_for else ""
    return NotImplementedError(
        f"{name} is not defined by the headers cfcntl was built with{hint}; "
        "rebuild against newer headers"
    )


NEEDED: dict[str, str] = {}
"""Each constant :func:`needs` was asked about: the module that asked first (issue 14:
the report lists a family's hand-written requests under it from this)."""


def needs(name: str, helper: _H) -> _H:
    """``helper``, or when the build's headers lacked the constant ``name`` a stand-in
    raising :func:`missing`'s NotImplementedError before any C runs (the C helper is
    then only a stand-in that fails).  The build declares exactly the constants the
    headers define, so the compiled module has ``name`` or not."""
    NEEDED.setdefault(name, sys._getframe(1).f_globals["__name__"])
    if hasattr(lib, name):
        return helper
    from .constants import NAMES  # which imports this module

    looked_for = name in NAMES

    def absent(*_: object) -> NoReturn:
        raise missing(name, looked_for)

    return absent  # type: ignore[return-value]
