"""``python -m cfcntl report``: what the compiler made of the headers, readable at a glance.

The layout of every struct cfcntl passes to the kernel, beside the struct-module formats
people write by hand, and which constants the headers defined.
"""

from __future__ import annotations

import json
import platform
import sys
import textwrap
from typing import Any

from . import constants, ioc, ioctls
from .layout import StructLayout, layout, struct_layout

_LOCK_TYPES = frozenset({"F_RDLCK", "F_WRLCK", "F_UNLCK", "F_EXLCK", "F_SHLCK"})
_GROUPS = (
    ("F_OWNER_", "owner types"),
    ("F_SEAL_", "seals"),
    ("DN_", "notify events"),
    ("RWH_", "rw hints"),
    ("LOCK_", "flock operations"),
    ("FD_", "descriptor flags"),
    ("O_", "status flags"),
    ("FASYNC", "status flags"),
)


def group(name: str) -> str:
    """The kind of constant ``name`` is, for the report's headings."""
    if name in _LOCK_TYPES:
        return "lock types"
    for prefix, title in _GROUPS:
        if name.startswith(prefix):
            return title
    return "commands"


def data() -> dict[str, Any]:
    """Everything the report shows, as plain JSON-able data."""
    from . import __version__

    return {
        "cfcntl": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "kernel": platform.release(),
        "libc": " ".join(platform.libc_ver()),
        "structs": {
            name: {
                "size": lay.size,
                "alignment": lay.alignment,
                "format": lay.format,
                "fields": [f._asdict() for f in lay.fields],
                "hand_written": [
                    {**f._asdict(), "problems": list(f.problems)} for f in lay.hand_written
                ],
            }
            for name, lay in layout().items()
        },
        "constants": {n: constants.require(n) for n in constants.NAMES if constants.has(n)},
        "absent": [n for n in constants.NAMES if not constants.has(n)],
        "ioctl": ioctl_data(),
    }


def _struct_text(name: str, lay: StructLayout) -> list[str]:
    lines = [f"{name}: {lay.size} bytes, aligned to {lay.alignment} (from the compiler)"]
    lines.append(f"  {'field':<10} {'C type':<10} {'offset':>6} {'size':>5}")
    lines += [f"  {f.name:<10} {f.ctype:<10} {f.offset:>6} {f.size:>5}" for f in lay.fields]
    rows: list[tuple[str, int, str, tuple[str, ...]]] = [
        (lay.format, lay.size, "exact format from the compiler's layout", ())
    ]
    rows += [(f.format, f.size, f.source, f.problems) for f in lay.hand_written]
    width = max(len("struct format"), *(len(fmt) for fmt, *_ in rows))
    lines.append(f"  {'struct format':<{width}} {'size':>5}  verdict")
    for fmt, size, source, problems in rows:
        verdict = f"WRONG ({source}):" if problems else f"matches the C struct ({source})"
        lines.append(f"  {fmt:<{width}} {size:>5}  {verdict}")
        lines += [f"  {'':<{width}} {'':>5}    {problem}" for problem in problems]
    return lines


def ioctl_data() -> dict[str, Any]:
    """The ioctl structs as the compiler laid them out, and each known request decoded."""
    return {
        "structs": {
            name: {
                "size": lay.size,
                "alignment": lay.alignment,
                "fields": [f._asdict() for f in lay.fields],
            }
            for name, lay in ((name, struct_layout(name)) for name in ioctls.STRUCTS)
        },
        "requests": {
            name: {
                "request": known.request,
                **ioc.decode(known.request)._asdict(),
                **{k: v for k, v in known._asdict().items() if k not in ("name", "request")},
            }
            for name, known in ioctls.KNOWN.items()
        },
    }


_DIRECTIONS = {ioc.NONE: "-", ioc.READ: "R", ioc.WRITE: "W", ioc.READ | ioc.WRITE: "RW"}


def _ioctl_text(d: dict[str, Any]) -> list[str]:
    lines = ["", f"ioctl: {len(d['requests'])} requests known (_IOC_ fields from the compiler)"]
    lines.append(f"  {'request':<18} {'number':>10} dir type  nr size  kernel argument")
    for name, r in d["requests"].items():
        kernel = r["kernel_ctype"] or "none"
        if r["direction"] == "value":
            kernel += " (by value)"
        lines.append(
            f"  {name:<18} {r['request']:#10x} {_DIRECTIONS[r['dir']]:<3} {r['type']:#04x} "
            f"{r['nr']:>3} {r['size']:>4}  {kernel}"
        )
        if r["note"]:
            lines.append(f"  {'':<18} {'':>10}   {r['note']}")
    for name in d["structs"]:
        lines += ["", *_struct_text(name, struct_layout(name))]
    return lines


def text() -> str:
    """The report as text."""
    d = data()
    lines = [
        f"cfcntl {d['cfcntl']} on Python {d['python']}, {d['machine']}, "
        f"Linux {d['kernel']}, {d['libc']}",
        "",
    ]
    for name, lay in layout().items():
        lines += [*_struct_text(name, lay), ""]
    defined, absent = d["constants"], d["absent"]
    lines.append(
        f"constants: {len(defined)} of {len(constants.NAMES)} defined by the build's headers"
    )
    by_group: dict[str, list[str]] = {}
    for name, value in defined.items():
        by_group.setdefault(group(name), []).append(f"{name}={value}")
    for title, items in by_group.items():
        lines += textwrap.wrap(
            " ".join(items),
            width=100,
            initial_indent=f"  {title + ':':<18}",
            subsequent_indent=" " * 20,
        )
    if absent:
        lines.append(f"  {'absent:':<18}{' '.join(absent)}")
        lines.append(" " * 20 + "(the headers do not define them; cfcntl.has() is False)")
    lines += _ioctl_text(d["ioctl"])
    return "\n".join(lines)


def main(as_json: bool = False) -> int:
    """Print the report; the exit status (0: everything the report checks is consistent)."""
    if as_json:
        json.dump(data(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(text())
    return 0
