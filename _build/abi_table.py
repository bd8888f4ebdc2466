"""Write ``src/cfcntl/tools/abi.json``: the values of the fcntl commands, lock types and
ioctl requests cfcntl knows, and the sizes and layouts of the C types they pass, on each
Linux ABI that Debian has a cross compiler for.

Run it from the checkout, with cfcntl installed (it takes the names to ask for from the
installed package: :data:`cfcntl.ioctls.REQUESTS`, :mod:`cfcntl.constants`, the registry's
kernel types)::

    python _build/abi_table.py

For each ABI it writes one C file that includes cfcntl's own headers (``src/cfcntl/_c``),
compiles it with the ABI's cross compiler (``-c`` only: nothing runs, nothing links) and
reads the answers back from the object file: one ``unsigned long long`` array in a section
of its own, found with a reader of the ELF headers here.  Nothing is stated by hand: a
name an ABI's headers lack is absent from that ABI's entry.  ``struct flock`` is asked for
twice, as Python sees it (``_FILE_OFFSET_BITS=64``, which CPython is built with) and
without it (``flock32``: what a C program built without large-file support passes).
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
C_DIR = ROOT / "src" / "cfcntl" / "_c"
OUT = ROOT / "src" / "cfcntl" / "tools" / "abi.json"

ABIS = {
    "x86-64": "x86_64-linux-gnu-gcc",
    "i386": "i686-linux-gnu-gcc",
    "armhf": "arm-linux-gnueabihf-gcc",
    "arm64": "aarch64-linux-gnu-gcc",
    "ppc64el": "powerpc64le-linux-gnu-gcc",
    "ppc": "powerpc-linux-gnu-gcc",
    "s390x": "s390x-linux-gnu-gcc",
    "mips": "mips-linux-gnu-gcc",
    "mips64el": "mips64el-linux-gnuabi64-gcc",
    "sparc64": "sparc64-linux-gnu-gcc",
    "alpha": "alpha-linux-gnu-gcc",
    "riscv64": "riscv64-linux-gnu-gcc",
}
"""Each ABI's name (Debian's architecture name) and its cross compiler."""

SCALARS = (
    "char",
    "_Bool",
    "short",
    "int",
    "long",
    "long long",
    "size_t",
    "void *",
    "float",
    "double",
    "off_t",
    "pid_t",
)
"""The C types behind the struct module's native codes, and the ones struct flock uses."""

STRUCTS = ("struct flock", "struct f_owner_ex", "struct winsize")
"""The structs whose field offsets the table holds."""

HEADERS = (
    "fcntl.h",
    "sys/file.h",
    "stdint.h",
    "asm/termios.h",
    "linux/fiemap.h",
    "linux/fs.h",
    "linux/if_tun.h",
    "linux/loop.h",
    "linux/serial.h",
    "linux/sockios.h",
    "net/if.h",
    "net/if_arp.h",
)
"""What a probe includes when cfcntl's own headers do not compile for an ABI (sparc64's
``<asm/termbits.h>`` redefines glibc's ``struct termio``, so the kernel's headers
stand in for ``<sys/ioctl.h>``); there, a name whose value does not compile (a request
whose struct only cfcntl's headers declare) is left out, as a type or a struct is."""


ENUMS = ("F_OWNER_TID", "F_OWNER_PID", "F_OWNER_PGRP", "F_OWNER_GID")
"""The names glibc makes enumerators, not macros (``enum __pid_type``): asked for without
``#ifdef``."""


def _names() -> tuple[list[str], list[str], dict[str, list[str]]]:
    """The macros to value (fcntl commands and lock types, then ioctl requests), the C
    types to size, and the fields of each struct of :data:`STRUCTS`."""
    from cfcntl import constants
    from cfcntl._cfcntl import ffi
    from cfcntl.ioctls import registry

    commands = [n for n in constants.__annotations__ if n.startswith(("F_", "LOCK_"))]
    kernel = {k.kernel_ctype for k in registry.KNOWN.values() if k.kernel_ctype}
    types = [*SCALARS, *STRUCTS, *sorted(kernel - {*SCALARS, *STRUCTS})]
    fields = {name: [member for member, _ in ffi.typeof(name).fields] for name in STRUCTS}
    return commands + sorted(registry.REQUESTS), types, fields


def _source(
    preamble: str, macros: list[str], types: list[str], fields: dict[str, list[str]]
) -> str:
    """A C file whose ``.cfabi`` section holds, in order: for each macro, 1 and its value
    (or 0, 0 when the headers lack it); for each type its size and its alignment as a
    struct member; for each struct field its offset and size."""
    items = []
    for name in macros:
        if name in ENUMS:
            items.append(f"1, (unsigned long long)({name}),")
        else:
            items.append(f"#ifdef {name}\n1, (unsigned long long)({name}),\n#else\n0, 0,\n#endif")
    items += [  # the alignment inside a struct, as the struct module's native mode uses
        f"sizeof({t}), __builtin_offsetof(struct {{ char c; __typeof__({t}) x; }}, x),"
        for t in types
    ]
    for struct_name, members in fields.items():
        items += [
            f"offsetof({struct_name}, {m}), sizeof((({struct_name} *)0)->{m})," for m in members
        ]
    body = "\n".join(items)
    return (
        f"{preamble}#include <stddef.h>\n"
        '__attribute__((section(".cfabi"), used))\n'
        f"const unsigned long long cf_abi[] = {{\n{body}\n}};\n"
    )


def section(obj: bytes, name: str) -> tuple[str, bytes]:
    """The byte order ("<" or ">") of the ELF object ``obj`` and the contents of its
    section ``name``: the ELF header and section headers read by hand."""
    if obj[:4] != b"\x7fELF":
        raise ValueError("not an ELF object")
    wide, order = obj[4] == 2, "<" if obj[5] == 1 else ">"
    if wide:
        (shoff,) = struct.unpack_from(order + "Q", obj, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", obj, 0x3A)
        header = order + "IIQQQQIIQQ"
    else:
        (shoff,) = struct.unpack_from(order + "I", obj, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", obj, 0x2E)
        header = order + "IIIIIIIIII"
    sections = [struct.unpack_from(header, obj, shoff + i * shentsize) for i in range(shnum)]
    names_at = sections[shstrndx][4]
    for sh in sections:
        start = names_at + sh[0]
        if obj[start : obj.index(b"\0", start)].decode() == name:
            return order, obj[sh[4] : sh[4] + sh[5]]
    raise ValueError(f"no section {name}")


def _compile(cc: str, source: str, flags: list[str], work: Path) -> list[int] | None:
    """The ``.cfabi`` array of ``source`` compiled by ``cc``; None if it does not compile."""
    (work / "abi.c").write_text(source, encoding="utf-8")
    done = subprocess.run(
        [cc, *flags, f"-I{C_DIR}", "-c", "-o", str(work / "abi.o"), str(work / "abi.c")],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return None
    order, data = section((work / "abi.o").read_bytes(), ".cfabi")
    return list(struct.unpack(f"{order}{len(data) // 8}Q", data))


def _signed(value: int) -> int:
    """A macro's value as the C int or long it is (F_* are ints, requests are positive)."""
    return value - (1 << 64) if value >> 63 else value


def probe(cc: str, flags: list[str], work: Path) -> dict[str, object]:
    """One ABI's entry: macro values, type sizes and alignments, struct field layouts."""
    macros, types, fields = _names()
    own = "".join(f'#include "{path.name}"\n' for path in sorted(C_DIR.glob("*.h")))
    preamble = own
    if _compile(cc, _source(own, [], ["int"], {}), flags, work) is None:
        preamble = "#define _GNU_SOURCE 1\n" + "".join(f"#include <{h}>\n" for h in HEADERS)
        macros = [m for m in macros if _compile(cc, _source(preamble, [m], [], {}), flags, work)]
        types = [t for t in types if _compile(cc, _source(preamble, [], [t], {}), flags, work)]
        fields = {
            s: m
            for s, m in fields.items()
            if _compile(cc, _source(preamble, [], [s], {}), flags, work)
        }
    words = _compile(cc, _source(preamble, macros, types, fields), flags, work)
    if words is None:
        raise SystemExit(f"{cc} {' '.join(flags)}: the probe does not compile")
    it = iter(words)
    values = {}
    for name in macros:
        present, value = next(it), next(it)
        if present:
            values[name] = _signed(value)
    sizes = {t: [next(it), next(it)] for t in types}
    layouts = {s: {m: [next(it), next(it)] for m in members} for s, members in fields.items()}
    return {"values": values, "sizes": sizes, "layouts": layouts}


def main() -> int:
    """Probe every ABI whose compiler is installed and write :data:`OUT`."""
    table: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for abi, cc in ABIS.items():
            if shutil.which(cc) is None:
                print(f"{abi}: no {cc}, skipped", file=sys.stderr)
                continue
            entry = probe(cc, ["-D_FILE_OFFSET_BITS=64"], work)
            narrow = probe(cc, [], work)
            entry["flock32"] = {
                "size": narrow["sizes"]["struct flock"],  # type: ignore[index]
                "fields": narrow["layouts"]["struct flock"],  # type: ignore[index]
            }
            entry["compiler"] = cc
            table[abi] = entry
    header = {
        "generated by": "python _build/abi_table.py (Debian's cross compilers, compile-only; "
        "values read back from each object file's .cfabi section)",
        "sizes": "[sizeof, alignment in a struct] per C type; layouts: [offset, size] per field",
    }
    OUT.write_text(json.dumps({"about": header, "abis": table}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(table)} ABIs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
