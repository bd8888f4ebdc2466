"""What the kernel reads or writes for each fcntl command and ioctl request cfcntl knows,
on this build (from the compiler, through :mod:`cfcntl.ioctls.registry` and the cffi
module) and on the other Linux ABIs (from ``abi.json``, which ``_build/abi_table.py``
makes with Debian's cross compilers).  The run-time checker and the static scan both
read it."""

from __future__ import annotations

import json
import platform
import re
import struct
import sysconfig
from functools import cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

from .. import constants
from .._cfcntl import ffi
from ..ioc import decode
from ..ioctls import registry
from ..layout import exact_format

Direction = Literal["read", "write", "readwrite", "none", "value", "refused"]

FCNTL_ARGS: dict[str, tuple[Direction, str]] = {
    **dict.fromkeys(("F_GETLK", "F_GETLK64", "F_OFD_GETLK"), ("readwrite", "struct flock")),
    **dict.fromkeys(
        ("F_SETLK", "F_SETLKW", "F_SETLK64", "F_SETLKW64", "F_OFD_SETLK", "F_OFD_SETLKW"),
        ("write", "struct flock"),
    ),
    "F_GETOWN_EX": ("read", "struct f_owner_ex"),
    "F_SETOWN_EX": ("write", "struct f_owner_ex"),
    "F_GET_RW_HINT": ("read", "uint64_t"),
    "F_GET_FILE_RW_HINT": ("read", "uint64_t"),
    "F_SET_RW_HINT": ("write", "uint64_t"),
    "F_SET_FILE_RW_HINT": ("write", "uint64_t"),
}
"""The fcntl commands that pass a pointer: the direction (as the ioctl registry's kinds:
"read", the kernel writes it) and the C type the kernel reads or writes.  Every other
``F_*`` command takes an int by value."""

FCNTL_GETTERS = (
    "F_GETFD",
    "F_GETFL",
    "F_GETOWN",
    "F_GETSIG",
    "F_GETLEASE",
    "F_GETPIPE_SZ",
    "F_GET_SEALS",
    "F_CREATED_QUERY",
)
"""The commands whose argument the kernel ignores; every other one takes an int by
value."""


class Need(NamedTuple):
    """What the kernel does with a call's third argument."""

    name: str
    """The command's or request's name, or ``_IOC(...)`` for a sized request cfcntl does
    not know by name."""
    direction: Direction
    ctype: str | None
    """The C type the kernel reads or writes; None when only the size bits say."""
    size: int
    """Its size in bytes; 0 when there is no pointer argument."""


def _sizeof(ctype: str) -> int:
    return int(ffi.sizeof(ctype))


@cache
def fcntl_needs() -> dict[int, Need]:
    """Every ``F_*`` command of this build, by value: what the kernel does with its argument."""
    needs: dict[int, Need] = {}
    for name in constants.__annotations__:
        value = getattr(constants, name, None)
        if not name.startswith("F_") or value is None or value in needs:
            continue
        default: tuple[Direction, str | None] = (
            ("none", None) if name in FCNTL_GETTERS else ("value", "int")
        )
        direction, ctype = FCNTL_ARGS.get(name, default)
        size = _sizeof(ctype) if name in FCNTL_ARGS and ctype else 0
        needs[value] = Need(name, direction, ctype, size)
    return needs


@cache
def _known() -> dict[int, Need]:
    """:data:`registry.KNOWN` as needs, by number.  A request whose kernel type this
    build's cffi module lacks (glibc 2.42 dropped ``struct termio``) is left out: the
    checker and the scan then know it no better than the size bits say."""
    needs = {}
    for k in reversed(registry.KNOWN.values()):
        size = 0
        if k.kernel_ctype and k.direction in ("read", "write", "readwrite"):
            try:
                size = _sizeof(k.kernel_ctype)
            except ffi.error:
                continue
        needs[k.request] = Need(k.name, k.direction, k.kernel_ctype, size)
    return needs


_DIRECTIONS: dict[int, Direction] = {1: "write", 2: "read", 3: "readwrite"}


def ioctl_need(request: int) -> Need | None:
    """What the kernel does with ``request``'s argument on this build: the registry's
    kernel type for a request cfcntl knows, the size bits for another sized one; None
    when nothing says (a legacy number cfcntl does not know)."""
    known = _known().get(request)
    if known is not None:
        return known
    try:
        fields = decode(request)
    except (ValueError, TypeError):
        return None
    if not fields.size or fields.dir not in _DIRECTIONS:
        return None
    name = f"_IOC({fields.dir}, {fields.type:#x}, {fields.nr}, {fields.size})"
    return Need(name, _DIRECTIONS[fields.dir], None, fields.size)


def recipe(need: Need) -> str:
    """The right argument for ``need`` on this build: a struct's exact format from the
    compiler's layout (``bytes(N)`` for one cfcntl declares without its fields), an
    ``array`` of the kernel's integer, or ``bytes(N)``."""
    ctype = need.ctype
    if ctype and ctype.startswith("struct "):
        fmt = exact_format(ctype)
        if fmt.rstrip("0123456789x") == "=":
            return f"bytes({need.size}) ({ctype})"
        return f"struct.pack({fmt!r}, ...) ({need.size} bytes, from the compiler)"
    if ctype and "[" not in ctype:
        code = {1: "b", 2: "h", 4: "i", 8: "q"}.get(need.size)
        unsigned = ctype.startswith(("unsigned", "uint", "size_t"))
        if code:
            code = code.upper() if unsigned else code
            return f"array.array({code!r}, [0]) ({ctype}) or bytes({need.size})"
    return f"bytes({need.size})"


# The ABIs ----------------------------------------------------------------------------

_MULTIARCH = {
    "x86_64-linux-gnu": "x86-64",
    "i386-linux-gnu": "i386",
    "arm-linux-gnueabihf": "armhf",
    "aarch64-linux-gnu": "arm64",
    "powerpc64le-linux-gnu": "ppc64el",
    "powerpc-linux-gnu": "ppc",
    "s390x-linux-gnu": "s390x",
    "mips-linux-gnu": "mips",
    "mips64el-linux-gnuabi64": "mips64el",
    "sparc64-linux-gnu": "sparc64",
    "alpha-linux-gnu": "alpha",
    "riscv64-linux-gnu": "riscv64",
}
_MACHINE = {  # (machine, pointer size) when the interpreter names no multiarch (PyPy)
    ("x86_64", 8): "x86-64",
    ("x86_64", 4): "i386",
    ("i686", 4): "i386",
    ("armv7l", 4): "armhf",
    ("armv8l", 4): "armhf",
    ("aarch64", 8): "arm64",
    ("aarch64", 4): "armhf",
    ("ppc64le", 8): "ppc64el",
    ("ppc", 4): "ppc",
    ("s390x", 8): "s390x",
    ("mips", 4): "mips",
    ("mips64", 8): "mips64el",
    ("sparc64", 8): "sparc64",
    ("alpha", 8): "alpha",
    ("riscv64", 8): "riscv64",
}


@cache
def table() -> dict[str, dict[str, Any]]:
    """The shipped table: each ABI's macro values, type sizes and struct layouts."""
    text = (Path(__file__).parent / "abi.json").read_text(encoding="utf-8")
    abis: dict[str, dict[str, Any]] = json.loads(text)["abis"]
    return abis


def running() -> str | None:
    """The ABI this interpreter runs on, by the table's names; None for one it lacks."""
    multiarch = sysconfig.get_config_var("MULTIARCH")
    if multiarch in _MULTIARCH:
        return _MULTIARCH[multiarch]
    return _MACHINE.get((platform.machine(), struct.calcsize("P")))


_LOCK_TYPES = ("F_RDLCK", "F_WRLCK", "F_UNLCK", "F_EXLCK", "F_SHLCK")


@cache
def _not_requests() -> frozenset[str]:
    """The flags the request headers define beside the requests (``TIOCPKT_*``...)."""
    from .._requests import SIZELESS

    return frozenset(n for n, (kind, _, _) in SIZELESS.items() if kind == "not a request")


def value_names(value: int, commands: bool) -> dict[str, list[str]]:
    """The names that ``value`` is on each ABI: ``F_*`` commands when ``commands``, else
    ioctl requests (``{abi: [name, ...]}``, the ABIs where it is some name)."""
    found: dict[str, list[str]] = {}
    for abi, entry in table().items():
        names = [
            n
            for n, v in entry["values"].items()
            if v == value
            and n.startswith("F_") == commands
            and not n.startswith(("LOCK_", "F_OWNER_"))
            and n not in _LOCK_TYPES
            and n not in _not_requests()
        ]
        if names:
            found[abi] = names
    return found


def absent_on(name: str) -> list[str]:
    """The ABIs whose headers do not define ``name``."""
    return [abi for abi, entry in table().items() if name not in entry["values"]]


def wrong_on(name: str, value: int) -> list[str]:
    """The ABIs whose ``name`` is not ``value`` (where the headers define it)."""
    return [
        abi
        for abi, entry in table().items()
        if name in entry["values"] and entry["values"][name] != value
    ]


_NATIVE = {
    "c": "char",
    "b": "char",
    "B": "char",
    "?": "_Bool",
    "h": "short",
    "H": "short",
    "i": "int",
    "I": "int",
    "l": "long",
    "L": "long",
    "q": "long long",
    "Q": "long long",
    "n": "size_t",
    "N": "size_t",
    "P": "void *",
    "f": "float",
    "d": "double",
}
_ITEM = re.compile(r"\s*(\d*)\s*([xcbB?hHiIlLqQnNefdspP])")


def calcsize(fmt: str, abi: str) -> int | None:
    """``struct.calcsize(fmt)`` as an interpreter on ``abi`` computes it (native sizes and
    alignment from the table for ``@`` or no prefix); None for a format it cannot read."""
    native = not fmt or fmt[0] not in "=<>!"
    body = fmt[1:] if fmt[:1] in "@=<>!" else fmt
    sizes = table()[abi]["sizes"]
    at, pos = 0, 0
    for match in _ITEM.finditer(body):
        if match.start() != pos:
            return None
        pos = match.end()
        count, code = int(match.group(1) or 1), match.group(2)
        if code in "xsp":
            at += count
            continue
        if native and code in _NATIVE:
            size, align = sizes[_NATIVE[code]]
        elif native and code == "e":
            size, align = 2, 2
        else:
            size, align = struct.calcsize("=" + code), 1
        at = -(-at // align) * align + size * count
    if body[pos:].strip():
        return None
    return at


def kernel_size(ctype: str, abi: str) -> int | None:
    """``sizeof(ctype)`` on ``abi`` (``struct flock`` as Python sees it: with 64-bit
    offsets); None if the table lacks it."""
    entry = table()[abi]["sizes"].get(ctype)
    return None if entry is None else int(entry[0])
