"""cfcntl.layout() against an independent C program, and the struct-module formats and the
ctypes declaration checked against it (cfcntl.tools.declarations)."""

from __future__ import annotations

import struct
from collections.abc import Callable

import cfcntl
from cfcntl.layout import Field, StructLayout
from cfcntl.tools.declarations import compared

RunC = Callable[[str], str]

MEMBERS = {
    "struct flock": ("l_type", "l_whence", "l_start", "l_len", "l_pid"),
    "struct f_owner_ex": ("type", "pid"),
}


def c_layout(run_c: RunC) -> dict[str, dict[str, tuple[int, int]]]:
    """{struct: {member or "sizeof": (offset, size)}} as printed by a C program."""
    lines = []
    for name, members in MEMBERS.items():
        lines.append(f'printf("{name}|sizeof|0|%zu\\n", sizeof({name}));')
        for m in members:
            lines.append(
                f'printf("{name}|{m}|%zu|%zu\\n", offsetof({name}, {m}), '
                f"sizeof((({name} *)0)->{m}));"
            )
    source = (
        "#define _GNU_SOURCE\n#include <fcntl.h>\n#include <stddef.h>\n#include <stdio.h>\n"
        "int main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n"
    )
    table: dict[str, dict[str, tuple[int, int]]] = {}
    for row in run_c(source).splitlines():
        name, member, offset, size = row.split("|")
        table.setdefault(name, {})[member] = (int(offset), int(size))
    return table


def mismatches(
    c: dict[str, dict[str, tuple[int, int]]], ours: dict[str, StructLayout]
) -> list[str]:
    """Every way ``ours`` differs from the C program's answer."""
    found = []
    for name, members in c.items():
        lay = ours[name]
        if lay.size != members["sizeof"][1]:
            found.append(f"{name}: size {lay.size} != {members['sizeof'][1]}")
        fields = {f.name: (f.offset, f.size) for f in lay.fields}
        for member, where in members.items():
            if member != "sizeof" and fields.get(member) != where:
                found.append(f"{name}.{member}: {fields.get(member)} != {where}")
    return found


def test_layout_matches_an_independent_c_program(run_c: RunC) -> None:
    """Size, offset and size of every field as the compiler sees them in a C program."""
    c = c_layout(run_c)
    ours = cfcntl.layout()
    assert set(ours) == set(MEMBERS)
    assert mismatches(c, ours) == []


def test_the_comparison_catches_a_wrong_layout(run_c: RunC) -> None:
    """The check above can fail: a layout read off the docs' struct format (28 bytes on
    LP64, 16 on a 32-bit ABI) is caught."""
    c = c_layout(run_c)
    real = cfcntl.layout()["struct flock"]
    # What 'hhllhh' implies: l_pid a 2-byte field, the whole struct 28 bytes.
    fields = tuple(
        Field(f.name, f.ctype, f.offset, 2 if f.name == "l_pid" else f.size) for f in real.fields
    )
    doctored = {
        **cfcntl.layout(),
        "struct flock": real._replace(size=struct.calcsize("hhllhh"), fields=fields),
    }
    found = mismatches(c, doctored)
    assert any(f"size {struct.calcsize('hhllhh')} != " in m for m in found)  # 28, or 16
    assert any("l_pid" in m for m in found)


def test_exact_format_packs_to_the_compilers_size() -> None:
    """The struct-module format cfcntl derives reproduces every offset and the tail padding."""
    for lay in cfcntl.layout().values():
        assert struct.calcsize(lay.format) == lay.size
        values = list(range(1, len(lay.fields) + 1))
        packed = struct.pack(lay.format, *values)
        for field, value in zip(lay.fields, values, strict=True):
            chunk = packed[field.offset : field.offset + field.size]
            assert int.from_bytes(chunk, "little" if struct.pack("=h", 1)[0] else "big") == value


def test_flock_hand_written_formats_are_short() -> None:
    """The fcntl docs' 'hhllhh' and the field-by-field 'hhqqi' pack to 28 bytes; the
    kernel's struct flock is 32 on x86-64, and cfcntl says so."""
    lay = cfcntl.layout()["struct flock"]
    by_format = {f.format: f for f in compared()["struct flock"].hand_written}
    for fmt in ("hhllhh", "hhqqi"):
        entry = by_format[fmt]
        assert entry.size == struct.calcsize(fmt)
        if entry.size != lay.size:
            assert f"{entry.size} bytes, the C struct is {lay.size}" in entry.problems
        else:
            assert all("the C struct is" not in p for p in entry.problems)
    if struct.calcsize("l") == 8 and lay.size == 32:  # x86-64 and the other LP64 ABIs
        assert by_format["hhllhh"].size == 28
        assert any(p.startswith("l_pid: 2 bytes") for p in by_format["hhllhh"].problems)


def test_ctypes_layout_matches_an_independent_c_program(run_c: RunC) -> None:
    """The ctypes binding's struct flock against the C program: every field, the size."""
    c = c_layout(run_c)["struct flock"]
    mirror = compared()["struct flock"].ctypes
    assert mirror is not None and mirror.problems == ()
    assert mirror.size == c["sizeof"][1]
    assert {f.name: (f.offset, f.size) for f in mirror.fields} == {
        m: where for m, where in c.items() if m != "sizeof"
    }
    assert compared()["struct f_owner_ex"].ctypes is None
