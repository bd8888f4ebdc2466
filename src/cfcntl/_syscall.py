"""What every wrapper shares: a file descriptor in, an OSError out.

This is the one place an errno becomes an exception.
"""

from __future__ import annotations

import operator
import os

from ._cfcntl import ffi

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from collections.abc import Callable
    from typing import Any, Protocol
else:
    Protocol = object


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


def oserror(err: int | None = None) -> OSError:
    """The OSError for ``err``, by default the errno the last cffi call left, as its
    errno subclass."""
    if err is None:
        err = ffi.errno
    return OSError(err, os.strerror(err))


def failure(fd: FileDescriptorLike, err: int | None = None) -> Exception:
    """What a helper's -1 means: ValueError for a negative descriptor (which the helpers
    keep from the kernel), else :func:`oserror`."""
    if isinstance(fd, int) and fd < 0:
        return _negative(fd)
    return oserror(err)


def _c_range(ctype: str) -> tuple[int, int]:
    bits = 8 * ffi.sizeof(ctype)
    if int(ffi.cast(ctype, -1)) < 0:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def misfit(function: str, *arguments: Argument) -> Exception | None:
    """The TypeError/OverflowError naming the first argument its C type cannot hold, or
    None when they all fit.  ``arguments`` are (name, C type, value given)."""
    for name, ctype, value in arguments:
        if ctype[-1:] == "*":  # an answer's buffer, never the caller's
            continue
        if not isinstance(value, int):
            return TypeError(f"{function}(): {name} must be an int, not {type(value).__name__}")
        low, high = _c_range(ctype)
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
    """``helper`` called with the arguments' values: its result, or the OSError its errno
    names when it is -1; cffi's refusals become :func:`refused`'s, naming the argument."""
    converted = [
        (n, c, v if type(v) is int or c[-1:] == "*" else as_int(function, n, v))
        for n, c, v in arguments
    ]
    try:
        result = helper(*(value for _, _, value in converted))
    except (TypeError, OverflowError) as exc:
        raise refused(exc, function, *converted) from None
    if result == -1:
        raise oserror()
    return result
