"""The pattern requests: one row per request, from which both the C helper and the
Python function are made.

A row is a module-level assignment in a family's module (``fio.py``, ``tty.py``...)::

    tiocoutq = int_getter(_lib.cf_tiocoutq, "TIOCOUTQ", "int", "Bytes written ...")

The build (``_build/cdefs.py``) reads the rows with ``ast``, without importing the
package: from the helper's name, the request and the C type it writes the C helper
(guarded by ``#ifdef REQUEST``, with a stand-in that fails otherwise) and its cdef, and
adds the request to the constants it asks the compiler for.  At import, the same row
makes the Python function and registers the request for :data:`cfcntl.ioctls.KNOWN`.
Adding a pattern request is one row and its test.  The patterns: :func:`int_getter`,
:func:`int_setter`, :func:`no_argument`, :func:`struct_getter`, :func:`struct_setter`.
"""

from __future__ import annotations

import sys

from .._cfcntl import ffi as _ffi
from .._syscall import (
    FAILED,
    FileDescriptorLike,
    call,
    failure,
    fileno,
    needs,
    retried,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from collections.abc import Callable, Sequence
    from typing import Literal, TypeVar

    Record = TypeVar("Record", bound=tuple[int, ...])
    Direction = Literal["read", "write", "readwrite", "none", "value", "refused"]
    Entry = tuple[str, Direction, str | None, str | None, str]
    """A registry entry: (request, direction, header's C type, kernel's C type, note)."""

INT_TRAP = "the header encodes a long; the kernel reads and writes an int"
"""The note of every request whose header says long where the kernel uses an int."""

ROWS: list[tuple[str, Direction, str | None, str | None, str]] = []
FAMILY: dict[str, str] = {}
"""Each row's request: the module of the family whose row it is (for the report)."""
"""Every row's (request, direction, header's C type, kernel's C type, note), in the
order the rows were made, for :data:`cfcntl.ioctls.KNOWN`."""


def _name(helper: Callable[..., int]) -> str:
    """The function's name: the helper's without ``cf_``."""
    name: str = helper.__name__
    return name[3:]


if TYPE_CHECKING:
    _F = TypeVar("_F", bound=Callable[..., object])


def _made(function: _F, name: str, doc: str) -> _F:
    """``function`` named ``name``, documented by ``doc``, and of the module whose row
    made it (as ``collections.namedtuple`` finds it: its caller's caller), so that the
    package exports it and its repr names its family."""
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    function.__module__ = sys._getframe(2).f_globals["__name__"]
    return function


def _row(
    helper: Callable[..., int],
    request: str,
    direction: Direction,
    ctype: str | None,
    header: str | None,
    note: str,
) -> Callable[..., int]:
    """Register the row; the helper, or :func:`needs`' stand-in without the request."""
    ROWS.append((request, direction, header or ctype, ctype, note))
    FAMILY[request] = sys._getframe(2).f_globals["__name__"]
    return needs(request, helper)


def int_getter(
    helper: Callable[[int], int],
    request: str,
    ctype: str,
    doc: str,
    *,
    header: str | None = None,
    note: str = "",
) -> Callable[[FileDescriptorLike], int]:
    """``name(fd)``: the ``ctype`` the kernel writes for ``request``.  ``header`` is the
    type the header encodes when it differs from the kernel's (``note`` says why)."""
    name = _name(helper)
    issue = _row(helper, request, "read", ctype, header, note)

    def get(fd: FileDescriptorLike) -> int:
        try:  # the hot path: fd straight to the helper, converted only if cffi refuses it
            if type(fd) is not int:  # cffi would truncate a Decimal through __int__
                raise TypeError
            value = issue(fd)
        except (TypeError, OverflowError):
            value = retried(name, issue, fd)
        if value <= FAILED:
            raise failure(fd, value)
        return value

    return _made(get, name, doc)


def int_setter(
    helper: Callable[[int, int], int],
    request: str,
    ctype: str,
    argument: str,
    doc: str,
    *,
    header: str | None = None,
    note: str = "",
) -> Callable[[FileDescriptorLike, int], None]:
    """``name(fd, argument)``: pass the value as the ``ctype`` the kernel reads."""
    name = _name(helper)
    issue = _row(helper, request, "write", ctype, header, note)

    def put(fd: FileDescriptorLike, value: int) -> None:
        call(name, issue, ("fd", "int", fileno(fd)), (argument, ctype, value))

    return _made(put, name, doc)


def no_argument(
    helper: Callable[[int], int], request: str, doc: str
) -> Callable[[FileDescriptorLike], None]:
    """``name(fd)`` for a request with no argument (the helper passes 0)."""
    name = _name(helper)
    issue = _row(helper, request, "none", None, None, "")

    def plain(fd: FileDescriptorLike) -> None:
        call(name, issue, ("fd", "int", fileno(fd)))

    return _made(plain, name, doc)


def struct_getter(
    helper: Callable[[int, object], int],
    request: str,
    ctype: str,
    record: type[Record],
    fields: tuple[str, ...],
    doc: str,
) -> Callable[[FileDescriptorLike], Record]:
    """``name(fd)``: the ``ctype`` struct the kernel writes for ``request``, as a
    ``record`` made of the struct's ``fields`` in the record's order.  The struct is the
    call's own (``ffi.new``), so no other call, in a signal handler or a thread, can
    change the answer before it is read."""
    name = _name(helper)
    issue = _row(helper, request, "read", ctype, None, "")
    pointer = f"{ctype} *"

    def get(fd: FileDescriptorLike) -> Record:
        answer = _ffi.new(pointer)
        call(name, issue, ("fd", "int", fileno(fd)), ("answer", pointer, answer))
        return record(*(getattr(answer, field) for field in fields))

    return _made(get, name, doc)


def struct_setter(
    helper: Callable[..., int],
    request: str,
    ctype: str,
    fields: tuple[tuple[str, str, str], ...],
    doc: str,
    *,
    header: str | None = None,
    note: str = "",
) -> Callable[[FileDescriptorLike, Sequence[int]], None]:
    """``name(fd, value)``: the ``ctype`` struct the kernel reads, filled from ``value``'s
    items (a record such as ``Winsize``), one per ``fields`` entry: (the item's name in
    errors, the struct's field, its C type).  The helper builds the struct on the C
    stack from scalars, so the call allocates nothing."""
    name = _name(helper)
    issue = _row(helper, request, "write", ctype, header, note)
    names = ", ".join(field for field, _, _ in fields)

    def put(fd: FileDescriptorLike, value: Sequence[int]) -> None:
        values = tuple(value)
        if len(values) != len(fields):
            raise ValueError(
                f"{name}(): {len(values)} values for the {len(fields)} fields of {ctype} ({names})"
            )
        arguments = [(field, c, v) for (field, _, c), v in zip(fields, values, strict=True)]
        call(name, issue, ("fd", "int", fileno(fd)), *arguments)

    return _made(put, name, doc)
