"""The build's questions to the C compiler, asked of the same headers the extension is
compiled with (``src/cfcntl/_c/*.h``): which constants they define, which ioctl
request macros, which of those have no size bits, which structs exist.

Nothing here states a size, an offset or a constant's value: a name the headers lack
leaves the build working and the name absent.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
C_DIR = ROOT / "src" / "cfcntl" / "_c"
CONSTANTS_FILE = ROOT / "src" / "cfcntl" / "constants.py"
REQUESTS_FILE = ROOT / "src" / "cfcntl" / "_requests.py"


PREAMBLE = "".join(f'#include "{path.name}"\n' for path in sorted(C_DIR.glob("*.h")))
"""What the probes compile after: every header of ``src/cfcntl/_c/``, so that they see
what the families' C sees."""

def constant_names(path: Path = CONSTANTS_FILE) -> list[str]:
    """The constant names cfcntl looks for: the bare ``NAME: int`` annotations in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and node.value is None
        and isinstance(node.target, ast.Name)
        and node.target.id.isupper()
    ]


def compiler_command() -> list[str]:
    """The C compiler the extension will be built with: $CC, else Python's own, else cc."""
    return shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")


def _compiler(source: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """The build's compiler run with ``flags`` on ``source`` (a probe file of its own),
    the family headers on its include path."""
    with tempfile.TemporaryDirectory(prefix="cfcntl-probe-") as tmp:
        path = Path(tmp, "probe.c")
        path.write_text(source, encoding="utf-8")
        return subprocess.run(
            [*compiler_command(), f"-I{C_DIR}", *flags, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )


def _compiles(source: str) -> tuple[bool, str]:
    proc = _compiler(source, "-fsyntax-only")
    return proc.returncode == 0, proc.stderr


def _probe_source(names: Sequence[str], preamble: str) -> str:
    lines = [f"long long cf_probe_{i} = ({name});" for i, name in enumerate(names)]
    return preamble + "\n".join(lines) + "\n"


def defined_constants(names: Sequence[str], preamble: str = PREAMBLE) -> list[str]:
    """The names, in order, that the compiler takes as integer constants after ``preamble``.

    All names are tried in one compile; a failing group is split in halves, so a few
    missing names cost a few extra compiles.  A compiler that cannot compile the
    preamble alone raises RuntimeError with its message.
    """
    ok, err = _compiles(_probe_source([], preamble))
    if not ok:
        raise RuntimeError(
            f"the C compiler {compiler_command()} cannot compile the headers:\n{err}"
        )

    def search(group: Sequence[str]) -> list[str]:
        if not group or _compiles(_probe_source(group, preamble))[0]:
            return list(group)
        if len(group) == 1:
            return []
        half = len(group) // 2
        return search(group[:half]) + search(group[half:])

    return search(names)


# --------------------------------------------------------------------------- ioctl requests

#: Headers whose every object-like macro is a request number, or is classified in
#: _requests.py as not one (a flag, a base); beyond them, a request is a macro made with
#: ``_IO*`` or from another request.
REQUEST_HEADERS = (
    "asm-generic/ioctls.h",
    "asm/ioctls.h",
    "bits/ioctls.h",
    "asm-generic/sockios.h",
    "asm/sockios.h",
    "linux/sockios.h",
    "linux/loop.h",  # LOOP_*: plain numbers, no _IO* (issue 14, devices-b)
)
_ENCODERS = frozenset({"_IO", "_IOR", "_IOW", "_IOWR", "_IOC"})


def request_macros(preamble: str = PREAMBLE) -> list[str]:
    """Every ioctl request macro ``preamble``'s headers define that the compiler takes as an
    integer constant, sorted: found with ``cc -E -dD``, which gives each macro's header."""
    where = ""
    macros: dict[str, tuple[str, str]] = {}
    proc = _compiler(preamble, "-E", "-dD")
    proc.check_returncode()
    for line in proc.stdout.splitlines():
        marker = re.match(r'# \d+ "([^"]*)"', line)
        if marker:
            where = marker.group(1)
            continue
        define = re.match(r"#define ([A-Za-z_]\w*)(\(?)\s*(.*)", line)
        if define and not define.group(2):  # object-like macros only
            macros[define.group(1)] = (where, define.group(3))
    found = {name for name, (header, _) in macros.items() if header.endswith(REQUEST_HEADERS)}
    grown = True
    while grown:  # a macro made with _IO*, or from a request (SIOCINQ is FIONREAD)
        grown = False
        for name, (_, body) in macros.items():
            words = set(re.findall(r"[A-Za-z_]\w*", body))
            if name not in found and (words & _ENCODERS or words & found):
                found.add(name)
                grown = True
    return defined_constants(sorted(found), preamble)


def _failing(lines: Sequence[str], preamble: str, what: str) -> list[int]:
    """Which of ``lines`` (0-based) the compiler rejects after ``preamble``: one compile,
    each line numbered by ``#line`` so that its errors name it."""
    ok, err = _compiles(preamble + '#line 1 "cf-probe"\n' + "".join(f"{line}\n" for line in lines))
    failed = {int(n) - 1 for n in re.findall(r"^cf-probe:(\d+):\d+: error", err, re.M)}
    if not ok and not failed:
        raise RuntimeError(f"cannot tell {what}:\n{err}")
    return sorted(failed)


def sizeless(names: Sequence[str], preamble: str = PREAMBLE) -> list[str]:
    """The ``names`` whose value has no size bits (``_IOC_SIZE`` is 0): each makes an
    array of negative size."""
    lines = [f"char cf_sized_{i}[_IOC_SIZE({n}) ? 1 : -1];" for i, n in enumerate(names)]
    return [names[i] for i in _failing(lines, preamble, "which ioctl requests are sizeless")]


def defined_structs(names: Sequence[str], preamble: str = PREAMBLE) -> list[str]:
    """The struct types in ``names`` that the headers define (glibc 2.41 dropped
    ``struct termio``, for one): a request whose type is missing stays classified, and
    the generic calls refuse it for want of the type."""
    lines = [f"int cf_struct_{i} = sizeof({n});" for i, n in enumerate(names)]
    missing = set(_failing(lines, preamble, "which structs the headers define"))
    return [name for i, name in enumerate(names) if i not in missing]


def request_table(path: Path = REQUESTS_FILE) -> dict[str, tuple[str, str | None, str]]:
    """``SIZELESS`` from ``src/cfcntl/_requests.py``, read without importing the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "SIZELESS":
            assert node.value is not None
            table: dict[str, tuple[str, str | None, str]] = ast.literal_eval(node.value)
            return table
    raise RuntimeError(f"{path} has no SIZELESS table")


def unclassified(requests: Sequence[str], preamble: str = PREAMBLE) -> list[str]:
    """The sizeless ``requests`` that ``_requests.SIZELESS`` does not classify."""
    table = request_table()
    return [name for name in sizeless(requests, preamble) if name not in table]


def request_sources(requests: Sequence[str], declared: set[str]) -> tuple[str, str]:
    """C and cdef for the request table (every request's name, and its value from the
    compiler: the names as one space-separated string and the values as one array, so
    that Python reads them in two calls) and for the structs the kernel reads or writes
    for sizeless requests (those the cdef has not ``declared`` already)."""
    table = request_table()
    names = " ".join(requests)
    values = "".join(f"    {name},\n" for name in requests)
    source = (
        f"#define CF_NREQUESTS {len(requests)}\n"
        f'static const char *cf_request_names(void) {{ return "{names}"; }}\n'
        f"static const unsigned long cf_request_value_table[] = {{\n{values}}};\n"
        "static const unsigned long *cf_request_values(void) { return cf_request_value_table; }\n"
    )
    structs = defined_structs(
        sorted(
            {ctype for _, ctype, _ in table.values() if ctype and ctype.startswith("struct ")}
            - declared
        )
    )
    cdef = (
        "#define CF_NREQUESTS ...\n"
        "const char *cf_request_names(void);\n"
        "const unsigned long *cf_request_values(void);\n"
        + "".join(f"{ctype} {{ ...; }};\n" for ctype in structs)
    )
    return source, cdef


def checked_requests() -> list[str]:
    """:func:`request_macros`, after making sure ``_requests.SIZELESS`` classifies every
    sizeless one: the build stops here rather than let one through unchecked."""
    requests = request_macros()
    missing = unclassified(requests)
    if missing:
        raise RuntimeError(
            "these sizeless ioctl requests in the build's headers are not classified in "
            f"{REQUESTS_FILE.relative_to(ROOT)}: {', '.join(missing)}; give each the type "
            "the kernel reads or writes (its source says), or another kind listed there"
        )
    return requests

