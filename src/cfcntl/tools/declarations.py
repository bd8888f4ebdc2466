"""The declarations people write of the kernel's structs, checked against the compiler's
layout (:func:`cfcntl.layout`): ``struct``-module formats found in the wild, and the ctypes
binding's ``ctypes.Structure``.  What the report's layout table shows."""

from __future__ import annotations

import ctypes
import re
import struct
from typing import NamedTuple

from ..layout import Field, StructLayout, layout
from . import ctypes_binding

#: Hand-written ``struct`` formats found in the wild, per C struct, with where they come from.
HAND_WRITTEN: dict[str, tuple[tuple[str, str], ...]] = {
    "struct flock": (
        ("hhllhh", "the fcntl module docs' F_SETLKW example"),
        ("hhqqi", "field by field: short, short, off_t, off_t, pid_t"),
    ),
    "struct f_owner_ex": (("ii", "field by field: int, pid_t"),),
}

#: ctypes declarations of the structs, per C struct: the ctypes binding's.
CTYPES: dict[str, type[ctypes.Structure]] = {"struct flock": ctypes_binding.flock}


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


class Compared(NamedTuple):
    """A C struct as the compiler laid it out, and the declarations beside it."""

    layout: StructLayout
    hand_written: tuple[Format, ...]
    ctypes: Mirror | None
    """The ctypes declaration of the struct, where there is one."""


_ITEM = re.compile(r"(\d*)([xcbB?hHiIlLqQnNefdspP])")


def _items(fmt: str) -> list[tuple[int, int]]:
    """(offset, size) of each value ``fmt`` packs, pad bytes skipped."""
    prefix = fmt[0] if fmt[:1] in "@=<>!" else ""
    items, seen = [], prefix
    for count, code in _ITEM.findall(fmt[len(prefix) :]):
        seen += count + code
        if code != "x":
            size = struct.calcsize(prefix + code)
            items.append((struct.calcsize(seen) - size, size))
    return items


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


def hand_written(fmt: str, source: str, lay: StructLayout) -> Format:
    """What the ``struct`` format ``fmt`` (from ``source``) lays out, checked against ``lay``."""
    total = struct.calcsize(fmt)
    return Format(fmt, total, source, _differences(_items(fmt), total, lay.size, lay.fields))


def ctypes_mirror(declared: type[ctypes.Structure], size: int, fields: tuple[Field, ...]) -> Mirror:
    """What the ctypes declaration ``declared`` lays out, checked against the C struct."""
    mine = tuple(
        Field(name, ctype.__name__, getattr(declared, name).offset, ctypes.sizeof(ctype))
        for name, ctype, *_ in declared._fields_
    )
    total = ctypes.sizeof(declared)
    problems = _differences([(f.offset, f.size) for f in mine], total, size, fields)
    source = f"{declared.__module__}.{declared.__qualname__}"
    return Mirror(source, total, mine, problems)


def compare(lay: StructLayout) -> Compared:
    """``lay`` beside the hand-written formats and the ctypes declaration of its struct."""
    declared = CTYPES.get(lay.name)
    return Compared(
        lay,
        tuple(hand_written(fmt, source, lay) for fmt, source in HAND_WRITTEN.get(lay.name, ())),
        None if declared is None else ctypes_mirror(declared, lay.size, lay.fields),
    )


def compared() -> dict[str, Compared]:
    """:func:`compare` for every struct of :func:`cfcntl.layout`, by its C name."""
    return {name: compare(lay) for name, lay in layout().items()}
