"""Struct layouts as the C compiler sees them: size, alignment, every field's offset and
size, and the struct-module format that matches them byte for byte.

(The formats people write by hand and the ctypes declaration, checked against these, are
the report's: :mod:`cfcntl.tools.declarations`.)
"""

from __future__ import annotations

from ._cfcntl import ffi

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from typing import Any, NamedTuple
else:
    from ._record import NamedTuple

STRUCTS = ("struct flock", "struct f_owner_ex")
"""The structs the fcntl commands pass to the kernel."""


class Field(NamedTuple):
    """One member of a C struct."""

    name: str
    ctype: str
    offset: int
    size: int


class StructLayout(NamedTuple):
    """A C struct as the compiler laid it out."""

    name: str
    size: int
    alignment: int
    fields: tuple[Field, ...]
    format: str
    """A struct-module format with the compiler's offsets and size, padding included."""


_CODES = {1: "b", 2: "h", 4: "i", 8: "q"}


def _code(ctype: Any) -> str:
    code = _CODES[ffi.sizeof(ctype)]
    return code if int(ffi.cast(ctype, -1)) < 0 else code.upper()


def exact_format(name: str) -> str:
    """The struct-module format that matches the compiler's layout of ``name`` byte for byte.

    Native byte order, standard sizes, and explicit ``x`` pad bytes wherever the
    compiler put padding, the tail included; a byte array is ``Ns``, another array its
    item's format N times, a nested struct its own exact format in place.
    """
    return "=" + _struct_format(ffi.typeof(name))


def _in_memory_order(ctype: Any) -> list[tuple[str, Any]]:
    """A struct's fields by offset: the cdef's order is the generic header's, and a CPU
    may lay them out otherwise (powerpc's struct termios puts c_cc before c_line)."""
    return sorted(ctype.fields, key=lambda item: item[1].offset)


def _struct_format(ctype: Any) -> str:
    parts, at = [], 0
    for _, field in _in_memory_order(ctype):
        if field.offset > at:
            parts.append(f"{field.offset - at}x")
        parts.append(_member_format(field.type))
        at = field.offset + ffi.sizeof(field.type)
    if ffi.sizeof(ctype) > at:
        parts.append(f"{ffi.sizeof(ctype) - at}x")
    return "".join(parts)


def _member_format(ctype: Any) -> str:
    if ctype.kind == "array":
        if ffi.sizeof(ctype.item) == 1 and ctype.item.kind == "primitive":
            return f"{ctype.length}s"
        length: int = ctype.length
        return _member_format(ctype.item) * length
    if ctype.kind == "struct":
        return _struct_format(ctype)
    return _code(ctype)


def struct_layout(name: str) -> StructLayout:
    """The layout of the C struct ``name`` (such as ``"struct flock"``)."""
    ctype = ffi.typeof(name)
    fields = tuple(
        Field(member, field.type.cname, field.offset, ffi.sizeof(field.type))
        for member, field in _in_memory_order(ctype)
    )
    return StructLayout(name, ffi.sizeof(ctype), ffi.alignof(ctype), fields, exact_format(name))


def layout() -> dict[str, StructLayout]:
    """Every struct the fcntl commands pass to the kernel, by its C name."""
    return {name: struct_layout(name) for name in STRUCTS}
