"""Build cfcntl's two cffi API-mode modules from the C of ``src/cfcntl/_c/`` and the
system headers: ``cfcntl._cfcntl`` (the library) and ``cfcntl.tools._floor`` (the C
floor's timing loops, for the bench).

The C lives in real files, one ``.h``/``.c`` pair per family, all including
``cfcntl.h`` (the shared includes, inline helpers and THE PROTOCOL every helper follows).
The cdef is read from each family's header (``_build/cdefs.py``); a family's pattern
requests are rows of its Python module in ``src/cfcntl/ioctls/``, from which the C
helper is made.  Nothing here states a size, an offset or a constant's value: the cdef
declares structs with ``...;`` and constants with ``#define NAME ...``, and which
constants to declare is asked of the compiler (``_build/probes.py``).

Adding an ioctl family: its header (and ``.c`` if it has hand-written helpers) in
``src/cfcntl/_c/``, its module in ``src/cfcntl/ioctls/``, its name in ``FAMILIES``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from cffi import FFI  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # _build/ beside this file, in a clean clone as in the sdist

from _build import cdefs, probes  # noqa: E402

C_DIR = probes.C_DIR
IOCTLS_DIR = HERE / "src" / "cfcntl" / "ioctls"
ROWS_DIR = HERE / "build" / "cfcntl-rows"
"""Where the C made from the pattern rows is written, for the module to include."""

#: The families of the library module, in the order their cdefs are read: each is
#: ``src/cfcntl/_c/NAME.h``, with ``NAME.c`` if it has hand-written C and
#: ``src/cfcntl/ioctls/NAME.py`` if it has pattern rows.
FAMILIES = (
    "commands",
    "locks",
    "lockwait",
    "compat",
    "ioctl",
    "fio",
    "tty",
    "fs",
    "block",
    "loop",
    "net",
    "tun",
)


def _shown(path: Path) -> str:
    """``path`` relative to the checkout, as setuptools wants sources and messages show."""
    return os.path.relpath(path, HERE)


def family_rows(families: Sequence[str] = FAMILIES) -> list[cdefs.Row]:
    """The pattern rows of the families' Python modules."""
    modules = [IOCTLS_DIR / f"{name}.py" for name in families]
    return [row for path in modules if path.exists() for row in cdefs.rows(path, _shown(path))]


def constants(rows: Sequence[cdefs.Row]) -> list[str]:
    """The constants the build asks the compiler for: constants.py's names, then each
    row's request (so a new row needs no line in constants.py)."""
    names = probes.constant_names()
    return names + [row.request for row in rows if row.request not in names]


def _sources(families: Sequence[str]) -> list[str]:
    return [_shown(C_DIR / f"{name}.c") for name in families if (C_DIR / f"{name}.c").exists()]


def _cdef(families: Sequence[str]) -> str:
    return "".join(cdefs.header_cdef(C_DIR / f"{name}.h") for name in ("cfcntl", *families))


def make_ffibuilder(
    constant_list: Sequence[str],
    requests: Sequence[str] = (),
    rows: Sequence[cdefs.Row] | None = None,
) -> FFI:
    """The library's FFI: the families' cdefs and C, the rows' helpers, the request table
    and ``#define NAME ...`` for each constant."""
    rows = family_rows() if rows is None else rows
    cdef = _cdef(FAMILIES) + "".join(row.cdef() for row in rows)
    declared = {f"struct {name}" for name in re.findall(r"struct (\w+) \{", cdef)}
    request_source, request_cdef = probes.request_sources(requests, declared)
    ROWS_DIR.mkdir(parents=True, exist_ok=True)
    generated = ROWS_DIR / "cf_rows.h"
    text = "/* Made by build_ffi.py from the pattern rows of src/cfcntl/ioctls/. */\n"
    text += "".join(row.source() for row in rows)
    if not generated.exists() or generated.read_text(encoding="utf-8") != text:
        generated.write_text(text, encoding="utf-8")
    ffi = FFI()
    ffi.cdef(cdef + request_cdef + "".join(f"#define {name} ...\n" for name in constant_list))
    ffi.set_source(
        "cfcntl._cfcntl",
        "".join(f'#include "{name}.h"\n' for name in FAMILIES)
        + '#include "cf_rows.h"\n'
        + request_source,
        sources=_sources(FAMILIES),
        include_dirs=[_shown(C_DIR), _shown(ROWS_DIR)],
    )
    return ffi


def make_floor_ffibuilder() -> FFI:
    """``cfcntl.tools._floor``: the C floor's loops (``floor.c``), nothing of the library."""
    ffi = FFI()
    ffi.cdef(_cdef(("floor",)))
    ffi.set_source(
        "cfcntl.tools._floor",
        '#include "floor.h"\n',
        sources=_sources(("floor",)),
        include_dirs=[_shown(C_DIR)],
    )
    return ffi


def ffibuilder() -> FFI:
    """``cfcntl._cfcntl`` for setup.py's ``cffi_modules``, after the probes (called by cffi
    only for this module, so the floor's build asks the compiler nothing)."""
    rows = family_rows()
    return make_ffibuilder(
        probes.defined_constants(constants(rows)), probes.checked_requests(), rows
    )


floor_ffibuilder = make_floor_ffibuilder
