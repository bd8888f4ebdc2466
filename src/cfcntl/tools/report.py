"""``python -m cfcntl report``: the one-stop cross-check, readable at a glance.

The layout of every struct cfcntl passes to the kernel, beside the ctypes declaration and
the struct-module formats people write by hand; which constants the headers defined; a
live parity check (a child process holds locks, and every implementation must report the
same holder, range and type); and a speed summary from a quick benchmark.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import textwrap
from collections.abc import Callable
from functools import partial
from typing import Any

from .. import compat, constants, ioc, ioctls
from ..layout import struct_layout
from ..locks import Flock, getlk
from . import bench, ctypes_binding, struct_path
from .declarations import Compared, compare, compared
from .lockchild import LockChild

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
    if name in ioctls.KNOWN:
        return "ioctl requests"
    if name.startswith("_IOC_"):
        return "ioctl encoding"
    for prefix, title in _GROUPS:
        if name.startswith(prefix):
            return title
    return "commands"


#: The implementations the parity check runs: each a getlk with cfcntl's signature
#: (a drop-in fcntl module: ``functools.partial(struct_path.getlk, call=module.fcntl)``).
PARITY: dict[str, Callable[..., Flock | None]] = {
    "stdlib (struct.pack, exact format)": struct_path.getlk,
    "cfcntl": getlk,
    "ctypes": ctypes_binding.getlk,
    "compat (struct.pack, exact format)": partial(struct_path.getlk, call=compat.fcntl),
}

_W, _R, _SET = constants.F_WRLCK, constants.F_RDLCK, os.SEEK_SET
#: What the parity check's child holds: kind:type:start:length (see cfcntl.tools.lockchild).
HELD = (f"posix:{_W}:10:10", f"posix:{_R}:30:10", f"ofd:{_W}:50:10")


def queries(pid: int) -> list[tuple[tuple[int, int, int, bool], Flock | None]]:
    """((type, start, length, ofd), the right answer) for a child ``pid`` holding HELD."""
    return [
        ((_W, 0, 10, False), None),
        ((_W, 10, 10, False), Flock(_W, _SET, 10, 10, pid)),
        ((_W, 12, 3, False), Flock(_W, _SET, 10, 10, pid)),
        ((_R, 30, 10, False), None),
        ((_W, 25, 10, False), Flock(_R, _SET, 30, 10, pid)),
        ((_R, 50, 10, False), Flock(_W, _SET, 50, 10, -1)),
        ((_W, 10, 10, True), Flock(_W, _SET, 10, 10, pid)),
        ((_R, 55, 100, True), Flock(_W, _SET, 50, 10, -1)),
    ]


def parity() -> dict[str, Any]:
    """Ask every implementation in PARITY about a child process's locks.

    {"holder": pid, "queries": n, "results": [{"implementation", "passed", "problems"}]}.
    """
    with tempfile.TemporaryDirectory(prefix="cfcntl-parity-") as tmp:
        path = os.path.join(tmp, "locked")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            with LockChild(path, *HELD) as child:
                expected = queries(child.pid)
                results = []
                for name, implementation in PARITY.items():
                    problems = []
                    for (type, start, length, ofd), right in expected:
                        try:
                            got: object = implementation(fd, type, start, length, ofd=ofd)
                        except Exception as exc:
                            got = exc
                        if got != right:
                            problems.append(
                                f"getlk(fd, {type}, {start}, {length}, ofd={ofd}) gave "
                                f"{got!r}, expected {right!r}"
                            )
                    results.append(
                        {"implementation": name, "passed": not problems, "problems": problems}
                    )
        finally:
            os.close(fd)
    return {"holder": child.pid, "queries": len(expected), "results": results}


def speed() -> dict[str, Any]:
    """A quick benchmark (5 short rounds), as ``python -m cfcntl bench --json`` writes it;
    {"error": ...} if a contender gave a wrong answer."""
    try:
        return bench.run(rounds=5, sample=0.003).to_json()
    except bench.CheckFailed as exc:
        return {"error": str(exc)}


def _static() -> dict[str, Any]:
    """What the build fixed: versions, layouts, constants."""
    return {
        **bench.machine(),
        "structs": {
            name: {
                "size": c.layout.size,
                "alignment": c.layout.alignment,
                "format": c.layout.format,
                "fields": [f._asdict() for f in c.layout.fields],
                "hand_written": [
                    {**f._asdict(), "problems": list(f.problems)} for f in c.hand_written
                ],
                "ctypes": None
                if c.ctypes is None
                else {
                    "source": c.ctypes.source,
                    "size": c.ctypes.size,
                    "fields": [f._asdict() for f in c.ctypes.fields],
                    "problems": list(c.ctypes.problems),
                },
            }
            for name, c in compared().items()
        },
        "constants": {n: constants.require(n) for n in constants.NAMES if constants.has(n)},
        "absent": [n for n in constants.NAMES if not constants.has(n)],
        "ioctl": ioctl_data(),
    }


def data() -> dict[str, Any]:
    """Everything the report shows, as plain JSON-able data."""
    return {**_static(), "parity": parity(), "speed": speed()}


def passed(d: dict[str, Any]) -> bool:
    """Whether every check in report data ``d`` passed."""
    return all(r["passed"] for r in d["parity"]["results"]) and "error" not in d["speed"]


def _struct_text(name: str, c: Compared) -> list[str]:
    lay = c.layout
    lines = [f"{name}: {lay.size} bytes, aligned to {lay.alignment} (from the compiler)"]
    names = max([len("field"), *(len(f.name) for f in lay.fields)])
    types = max([len("C type"), *(len(f.ctype) for f in lay.fields)])
    lines.append(f"  {'field':<{names}} {'C type':<{types}} {'offset':>6} {'size':>5}")
    lines += [
        f"  {f.name:<{names}} {f.ctype:<{types}} {f.offset:>6} {f.size:>5}" for f in lay.fields
    ]
    rows: list[tuple[str, int, str, tuple[str, ...]]] = [
        (lay.format, lay.size, "exact format from the compiler's layout", ())
    ]
    if c.ctypes is not None:
        rows.append(("ctypes.Structure", c.ctypes.size, c.ctypes.source, c.ctypes.problems))
    rows += [(f.format, f.size, f.source, f.problems) for f in c.hand_written]
    width = max(len("declaration"), *(len(fmt) for fmt, *_ in rows))
    lines.append(f"  {'declaration':<{width}} {'size':>5}  verdict")
    for fmt, size, source, problems in rows:
        verdict = f"WRONG ({source}):" if problems else f"matches the C struct ({source})"
        lines.append(f"  {fmt:<{width}} {size:>5}  {verdict}")
        lines += [f"  {'':<{width}} {'':>5}    {problem}" for problem in problems]
    return lines


OTHER = "other"
"""The report's name for the known requests no family module makes a call for (the
generic calls take them)."""


def families() -> dict[str, dict[str, list[str]]]:
    """Each ioctl family (``cfcntl.ioctls.FAMILIES``, by its module's last name) with the
    known requests its module makes a call for (its pattern rows, its ``HAND_WRITTEN``
    entries) and the structs they pass, then :data:`OTHER` with the rest: read from the
    registry, so a new family appears here with no line in this file; each struct once,
    under the first family whose requests pass it."""
    from ..ioctls._pattern import FAMILY

    out: dict[str, dict[str, list[str]]] = {
        family.__name__.rsplit(".", 1)[1]: {"requests": [], "structs": []}
        for family in ioctls.FAMILIES
    }
    out[OTHER] = {"requests": [], "structs": []}
    placed: set[str] = set()
    for attributed in (True, False):  # each struct under the first family using it
        for name, known in ioctls.KNOWN.items():
            module = FAMILY.get(name)
            if (module is not None) != attributed:
                continue
            entry = out[module.rsplit(".", 1)[1] if module else OTHER]
            entry["requests"].append(name)
            ctype = known.kernel_ctype
            if ctype in ioctls.STRUCTS and ctype not in placed:
                entry["structs"].append(ctype)
                placed.add(ctype)
    out[OTHER]["structs"] += [s for s in ioctls.STRUCTS if s not in placed]
    return out


def ioctl_data() -> dict[str, Any]:
    """The ioctl structs as the compiler laid them out, each known request decoded, and
    which family each belongs to (:func:`families`)."""
    return {
        "families": families(),
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


# 0: a legacy number's direction bits, which are _IOC_NONE's except where _IOC_NONE is 1
# (powerpc, mips, sparc, alpha)
_DIRECTIONS = {0: "-", ioc.NONE: "-", ioc.READ: "R", ioc.WRITE: "W", ioc.READ | ioc.WRITE: "RW"}


def _request_text(name: str, r: dict[str, Any]) -> list[str]:
    kernel = r["kernel_ctype"] or ("refused" if r["direction"] == "refused" else "none")
    if r["direction"] == "value":
        kernel += " (by value)"
    lines = [
        f"  {name:<18} {r['request']:#10x} {_DIRECTIONS[r['dir']]:<3} {r['type']:#04x} "
        f"{r['nr']:>3} {r['size']:>4}  {kernel}"
    ]
    if r["note"]:
        lines.append(f"  {'':<18} {'':>10}   {r['note']}")
    return lines


def _ioctl_text(d: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"ioctl: {len(d['requests'])} requests known (_IOC_ fields from the compiler), by family",
    ]
    for family, entry in d["families"].items():
        title = (
            "other requests (the generic calls: ioctls.read, write...)"
            if family == OTHER
            else f"family {family} (cfcntl.ioctls.{family})"
        )
        lines += [
            "",
            f"{title}: {len(entry['requests'])} requests, {len(entry['structs'])} structs",
            f"  {'request':<18} {'number':>10} dir type  nr size  kernel argument",
        ]
        for name in entry["requests"]:
            lines += _request_text(name, d["requests"][name])
        for name in entry["structs"]:
            lines += ["", *_struct_text(name, compare(struct_layout(name)))]
    return lines


def _parity_text(p: dict[str, Any]) -> list[str]:
    held = ", ".join(
        f"{'an OFD' if kind == 'ofd' else 'a'} {'write' if int(t) == _W else 'read'} lock on "
        f"{start}+{length}"
        for kind, t, start, length in (h.split(":") for h in HELD)
    )
    lines = [
        f"parity: a child process (pid {p['holder']}) holds {held}; "
        f"{p['queries']} getlk queries through each implementation"
    ]
    for r in p["results"]:
        lines.append(f"  {'pass' if r['passed'] else 'FAIL'}  {r['implementation']}")
        lines += [f"          {problem}" for problem in r["problems"]]
    return lines


def _speed_text(speed: dict[str, Any]) -> list[str]:
    if "error" in speed:
        return [f"speed: FAIL, a wrong answer: {speed['error']}"]
    lines = [
        f"speed: ns per call, medians of a quick bench ({speed['rounds']} rounds; "
        "python -m cfcntl bench for the full table); (x) = the stdlib's time over it"
    ]
    for group in bench.GROUPS:
        cells = [
            f"{r['impl']} {r['median_ns']:.0f}"
            + ("" if r["impl"] in (bench.REFERENCE, "floor") else f" ({r['speedup']:.2f}x)")
            for r in speed["rows"]
            if r["group"] == group
        ]
        lines.append(f"  {group:<16}" + ", ".join(cells))
    lines += [f"  finding: {key}: {what}" for key, what in speed.get("findings", {}).items()]
    return lines


def text(d: dict[str, Any] | None = None) -> str:
    """The report as text (from ``d``, the report's :func:`data`)."""
    d = data() if d is None else d
    lines = [
        f"cfcntl {d['cfcntl']} on Python {d['python']}, {d['machine']}, "
        f"Linux {d['kernel']}, {d['libc']}",
        "",
    ]
    for name, c in compared().items():
        lines += [*_struct_text(name, c), ""]
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
    lines += ["", *_parity_text(d["parity"]), "", *_speed_text(d["speed"])]
    return "\n".join(lines)


def main(as_json: bool = False) -> int:
    """Print the report; the exit status (0: every check passed, 1: one failed)."""
    d = data()
    if as_json:
        json.dump(d, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(text(d))
    return 0 if passed(d) else 1
