"""Struct layouts as the C compiler sees them, beside what ctypes and the struct module
make of the declarations people write by hand."""

from __future__ import annotations

import struct

from ._cfcntl import ffi

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    import ctypes  # imported only when a layout is asked for
    from typing import Any, NamedTuple
else:
    from ._record import NamedTuple

#: Hand-written ``struct`` formats found in the wild, per C struct, with where they come from.
HAND_WRITTEN: dict[str, tuple[tuple[str, str], ...]] = {
    "struct flock": (
        ("hhllhh", "the fcntl module docs' F_SETLKW example"),
        ("hhqqi", "field by field: short, short, off_t, off_t, pid_t"),
    ),
    "struct f_owner_ex": (("ii", "field by field: int, pid_t"),),
}


def ctypes_declarations() -> dict[str, type[ctypes.Structure]]:
    """ctypes declarations of the structs, per C struct: the ctypes binding's.

    Imported on demand, so that ``import cfcntl`` does not load ctypes.
    """
    from . import ctypes_binding

    return {"struct flock": ctypes_binding.flock}


class Field(NamedTuple):
    """One member of a C struct."""

    name: str
    ctype: str
    offset: int
    size: int


class Format(NamedTuple):
    """A ``struct`` module format, what ``struct.calcsize`` gives for it, and where it
    disagrees with the compiler."""

    format: str
    size: int
    source: str
    problems: tuple[str, ...]
    """Each place the format differs from the C struct; empty when it matches."""


class Mirror(NamedTuple):
    """A ctypes.Structure declaring the struct, and where it disagrees with the compiler."""

    source: str
    """Where the declaration lives."""
    size: int
    fields: tuple[Field, ...]
    problems: tuple[str, ...]


class StructLayout(NamedTuple):
    """A C struct as the compiler laid it out, and the struct-module formats beside it."""

    name: str
    size: int
    alignment: int
    fields: tuple[Field, ...]
    format: str
    """A struct-module format with the compiler's offsets and size, padding included."""
    hand_written: tuple[Format, ...]
    ctypes: Mirror | None = None
    """The ctypes declaration of the struct, where there is one."""


_CODES = {1: "b", 2: "h", 4: "i", 8: "q"}


def _code(ctype: Any) -> str:
    code = _CODES[ffi.sizeof(ctype)]
    return code if int(ffi.cast(ctype, -1)) < 0 else code.upper()


def exact_format(name: str) -> str:
    """The struct-module format that matches the compiler's layout of ``name`` byte for byte.

    Native byte order, standard sizes, and explicit ``x`` pad bytes wherever the
    compiler put padding, the tail included.
    """
    ctype = ffi.typeof(name)
    parts, at = ["="], 0
    for _, field in ctype.fields:
        if field.offset > at:
            parts.append(f"{field.offset - at}x")
        parts.append(_code(field.type))
        at = field.offset + ffi.sizeof(field.type)
    if ffi.sizeof(ctype) > at:
        parts.append(f"{ffi.sizeof(ctype) - at}x")
    return "".join(parts)


_ITEM = r"(\d*)([xcbB?hHiIlLqQnNefdspP])"


def _items(fmt: str) -> list[tuple[int, int]]:
    """(offset, size) of each value ``fmt`` packs, pad bytes skipped."""
    import re  # on demand: it costs more than the rest of ``import cfcntl``

    prefix = fmt[0] if fmt[:1] in "@=<>!" else ""
    items, seen = [], prefix
    for count, code in re.findall(_ITEM, fmt[len(prefix) :]):
        seen += count + code
        if code != "x":
            size = struct.calcsize(prefix + code)
            items.append((struct.calcsize(seen) - size, size))
    return items


def _problems(fmt: str, size: int, fields: tuple[Field, ...]) -> tuple[str, ...]:
    return _differences(_items(fmt), struct.calcsize(fmt), size, fields)


def _differences(
    items: list[tuple[int, int]], total: int, size: int, fields: tuple[Field, ...]
) -> tuple[str, ...]:
    """Each way ``items`` ((offset, size) per field) and ``total`` differ from the C struct."""
    found = []
    for field, (offset, width) in zip(fields, items, strict=False):
        if (offset, width) != (field.offset, field.size):
            found.append(
                f"{field.name}: {width} bytes at {offset}, the C field is "
                f"{field.size} bytes at {field.offset}"
            )
    if total != size:
        found.append(f"{total} bytes, the C struct is {size}")
    return tuple(found)


def ctypes_mirror(declared: type[ctypes.Structure], size: int, fields: tuple[Field, ...]) -> Mirror:
    """What the ctypes declaration ``declared`` lays out, checked against the C struct."""
    import ctypes

    mine = tuple(
        Field(name, ctype.__name__, getattr(declared, name).offset, ctypes.sizeof(ctype))
        for name, ctype, *_ in declared._fields_
    )
    total = ctypes.sizeof(declared)
    problems = _differences([(f.offset, f.size) for f in mine], total, size, fields)
    source = f"{declared.__module__}.{declared.__qualname__}"
    return Mirror(source, total, mine, problems)


def struct_layout(name: str) -> StructLayout:
    """The layout of the C struct ``name`` (such as ``"struct flock"``)."""
    ctype = ffi.typeof(name)
    fields = tuple(
        Field(member, field.type.cname, field.offset, ffi.sizeof(field.type))
        for member, field in ctype.fields
    )
    size = ffi.sizeof(ctype)
    hand = tuple(
        Format(fmt, struct.calcsize(fmt), source, _problems(fmt, size, fields))
        for fmt, source in HAND_WRITTEN.get(name, ())
    )
    declared = ctypes_declarations().get(name)
    mirror = None if declared is None else ctypes_mirror(declared, size, fields)
    return StructLayout(name, size, ffi.alignof(ctype), fields, exact_format(name), hand, mirror)


def layout() -> dict[str, StructLayout]:
    """Every struct the module passes to the kernel, by its C name."""
    return {name: struct_layout(name) for name in HAND_WRITTEN}
