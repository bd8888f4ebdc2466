"""The build: which constants the compiler is asked for and finds (_build/probes.py),
the cdef read from the C headers and the C made from the pattern rows (_build/cdefs.py),
the C compiled warning-free, and a wheel built from the sdist."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

import cfcntl
from cfcntl._cfcntl import lib

ROOT = Path(__file__).resolve().parents[1]
BUILD_FFI = ROOT / "build_ffi.py"
C_DIR = ROOT / "src" / "cfcntl" / "_c"
WARNINGS = ("-Wall", "-Wextra", "-Werror", "-Wmissing-prototypes")
"""-Wmissing-prototypes: every extern function of a .c is declared first, in its .h."""


@pytest.fixture(scope="module")
def build_ffi() -> ModuleType:
    """build_ffi.py from the checkout, loaded as a module (it probes the compiler once)."""
    spec = importlib.util.spec_from_file_location("build_ffi", BUILD_FFI)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_constant_names_are_the_packages(build_ffi: ModuleType) -> None:
    """The build reads its list of names from the package's constants.py annotations."""
    assert build_ffi.probes.constant_names() == list(cfcntl.NAMES)
    assert "F_GETLK" in cfcntl.NAMES and "NAMES" not in cfcntl.NAMES


def test_probe_keeps_defined_names_and_drops_the_rest(build_ffi: ModuleType) -> None:
    """Undefined names are dropped, defined ones kept in order, whatever their position."""
    names = ["CF_NOT_A_CONSTANT_A", "F_GETFL", "F_SETFL", "CF_NOT_A_CONSTANT_B", "O_NONBLOCK"]
    assert build_ffi.probes.defined_constants(names) == ["F_GETFL", "F_SETFL", "O_NONBLOCK"]
    assert build_ffi.probes.defined_constants([]) == []


def test_probe_reads_the_preamble(build_ffi: ModuleType) -> None:
    """A name is found exactly when the preamble's headers define it."""
    preamble = (
        build_ffi.probes.PREAMBLE + "#define CF_TEST_ONLY (1 << 3)\nenum { CF_TEST_ENUM = 7 };\n"
    )
    names = ["CF_TEST_ONLY", "CF_TEST_ENUM", "CF_TEST_MISSING"]
    assert build_ffi.probes.defined_constants(names, preamble) == ["CF_TEST_ONLY", "CF_TEST_ENUM"]


def test_installed_module_has_exactly_what_the_headers_define(build_ffi: ModuleType) -> None:
    """The compiled module holds the names the probe finds here and none of the others,
    and the package exports exactly those."""
    found = set(build_ffi.probes.defined_constants(cfcntl.NAMES))
    for name in cfcntl.NAMES:
        assert hasattr(lib, name) == (name in found) == cfcntl.has(name) == hasattr(cfcntl, name)


def test_missing_compiler_is_a_clear_error(
    build_ffi: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compiler that cannot compile the headers stops the build with its own message."""
    monkeypatch.setenv("CC", "cc -DCF_BREAK_THE_BUILD -include /nonexistent/header.h")
    with pytest.raises(RuntimeError, match="cannot compile the headers"):
        build_ffi.probes.defined_constants(["F_GETFL"])


def test_cdef_declares_each_found_constant_for_the_compiler(build_ffi: ModuleType) -> None:
    """Values are left to the compiler: every constant is declared as '#define NAME ...';
    the module includes every family's header and compiles every family's .c."""
    ffi = build_ffi.make_ffibuilder(["F_GETFL", "F_SETFL"])
    module_name, source, _, kwds = ffi._assigned_source
    assert module_name == "cfcntl._cfcntl"
    for family in build_ffi.FAMILIES:
        assert f'#include "{family}.h"' in source
    assert '#include "floor.h"' not in source
    assert {Path(path).name for path in kwds["sources"]} == {
        f"{name}.c" for name in build_ffi.FAMILIES if (C_DIR / f"{name}.c").exists()
    }
    cdef = "".join(ffi._cdefsources)
    assert "#define F_GETFL ...\n" in cdef and "#define F_SETFL ...\n" in cdef
    assert "struct flock {" in cdef and "...; };" in cdef
    floor = build_ffi.make_floor_ffibuilder()
    assert floor._assigned_source[0] == "cfcntl.tools._floor"
    assert [Path(path).name for path in floor._assigned_source[3]["sources"]] == ["floor.c"]


def test_the_cdef_is_read_from_the_headers(build_ffi: ModuleType) -> None:
    """Each header's cdef is its cdef-only comment and its marked declarations, comments
    dropped; every helper the compiled module has is declared in a header or is a row's (the
    request table is the probes')."""
    cdef = build_ffi.cdefs.header_cdef(C_DIR / "locks.h")
    assert cdef.startswith("#define CF_SLOTS ...\nextern int64_t cf_answers[...][5];\n")
    assert (
        "int64_t cf_posix_getlk_slot(int fd, short type, off_t start, off_t len, short whence);"
        in cdef
    )
    assert "/*" not in cdef and "#ifdef" not in cdef
    headers = "".join(build_ffi.cdefs.header_cdef(path) for path in C_DIR.glob("*.h"))
    rows = {row.helper for row in build_ffi.family_rows()}
    table = ("cf_answers", "cf_request_names", "cf_request_values")
    for name in dir(lib):
        if name.startswith("cf_") and name not in table:
            assert f" {name}(" in headers or name in rows, name


@pytest.mark.parametrize("source", sorted(C_DIR.glob("*.c")), ids=lambda path: path.name)
def test_every_c_file_compiles_without_a_warning(build_ffi: ModuleType, source: Path) -> None:
    """-Wall -Wextra clean, and each extern function declared in the file's own header."""
    python = sysconfig.get_paths()["include"]
    proc = subprocess.run(
        [
            *build_ffi.probes.compiler_command(),
            *WARNINGS,
            "-fsyntax-only",
            f"-I{C_DIR}",
            f"-isystem{python}",  # Python.h (compat.c): its own warnings are not ours
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr


def _compile_rows(build_ffi: ModuleType, rows: list[object], tmp_path: Path) -> str:
    """The compiler's messages on the rows' C after cfcntl.h and the tty family."""
    source = tmp_path / "rows.c"
    source.write_text(
        '#include "tty.h"\n' + "".join(row.source() for row in rows),  # type: ignore[attr-defined]
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            *build_ffi.probes.compiler_command(),
            *WARNINGS,
            "-Wno-unused-function",
            "-fsyntax-only",
            f"-I{C_DIR}",
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stderr


def test_a_row_makes_its_helper_and_cdef(build_ffi: ModuleType, tmp_path: Path) -> None:
    """Each pattern's row becomes a C helper guarded by #ifdef (a failing stand-in
    without the request) and one cdef line, and compiles warning-free either way."""
    module = tmp_path / "family.py"
    module.write_text(
        "from .._cfcntl import lib as _lib\n"
        "from ._pattern import int_getter, int_setter, no_argument\n\n"
        'a = int_getter(_lib.cf_a, "FIONREAD", "int", "doc")\n'
        'b = int_setter(_lib.cf_b, "CF_ABSENT", "pid_t", "pgrp", "doc", note="n")\n'
        'c = no_argument(_lib.cf_c, "FIOCLEX", "doc")\n'
        "d = len('not a row')\n"
        'e = struct_setter(_lib.cf_e, "TIOCSWINSZ", "struct winsize", '
        '(("rows", "ws_row", "unsigned short"), ("cols", "ws_col", "unsigned short")), "doc")\n'
        'f = struct_getter(_lib.cf_f, "TIOCGWINSZ", "struct winsize", Winsize, ("ws_row",), "d")\n',
        encoding="utf-8",
    )
    rows = build_ffi.cdefs.rows(module)
    assert [(r.pattern, r.helper, r.request, r.ctype, r.line) for r in rows] == [
        ("int_getter", "cf_a", "FIONREAD", "int", 4),
        ("int_setter", "cf_b", "CF_ABSENT", "pid_t", 5),
        ("no_argument", "cf_c", "FIOCLEX", None, 6),
        ("struct_setter", "cf_e", "TIOCSWINSZ", "struct winsize", 8),
        ("struct_getter", "cf_f", "TIOCGWINSZ", "struct winsize", 9),
    ]
    assert [row.cdef() for row in rows] == [
        "int64_t cf_a(int fd);\n",
        "int64_t cf_b(int fd, pid_t value);\n",
        "int64_t cf_c(int fd);\n",
        "int64_t cf_e(int fd, unsigned short rows, unsigned short cols);\n",
        "int64_t cf_f(int fd, struct winsize *answer);\n",
    ]
    assert "arg.ws_col = cols;" in rows[3].source()
    assert "ioctl(fd, TIOCGWINSZ, answer)" in rows[4].source()
    assert "#ifdef CF_ABSENT" in rows[1].source() and "cf_fail(ENOTTY)" in rows[1].source()
    assert _compile_rows(build_ffi, rows, tmp_path) == ""
    assert {"FIONREAD", "CF_ABSENT", "FIOCLEX"} <= set(build_ffi.constants(rows))


def test_an_error_in_a_rows_c_names_the_row(build_ffi: ModuleType, tmp_path: Path) -> None:
    """A C type the compiler does not know: its error points at the row's file and line."""
    module = tmp_path / "broken.py"
    module.write_text(
        '\n\nx = int_getter(_lib.cf_x, "FIONREAD", "struct cf_nowhere", "doc")\n',
        encoding="utf-8",
    )
    errors = _compile_rows(build_ffi, build_ffi.cdefs.rows(module), tmp_path)
    assert f"{module}:3:" in errors and "error" in errors, errors


def test_a_row_must_name_its_helper_and_request(build_ffi: ModuleType, tmp_path: Path) -> None:
    """A row the build cannot read stops it, naming the line."""
    module = tmp_path / "odd.py"
    module.write_text('x = int_getter(helper, "FIONREAD", "int", "doc")\n', encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"odd\.py:1: .*_lib\.cf_NAME"):
        build_ffi.cdefs.rows(module)


def test_the_sdist_ships_the_c_and_builds_a_wheel_with_both_modules(
    tmp_path: Path, slowdown: float
) -> None:
    """python -m build (no network: this environment's setuptools and cffi) makes an sdist
    holding the C and the build's modules, and from it a wheel with both extensions.  The
    build's 10-minute limit is ``slowdown`` times longer under an emulator, where gcc
    itself is emulated."""
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600 * slowdown,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (sdist,) = tmp_path.glob("cfcntl-*.tar.gz")
    (wheel,) = tmp_path.glob("cfcntl-*.whl")
    with tarfile.open(sdist) as archive:
        shipped = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    sources = {f"src/cfcntl/_c/{path.name}" for path in C_DIR.iterdir()}
    assert sources and sources <= shipped
    assert {"build_ffi.py", "setup.py", "_build/probes.py", "_build/cdefs.py"} <= shipped
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    for module in ("cfcntl/_cfcntl.", "cfcntl/tools/_floor."):
        assert any(name.startswith(module) and name.endswith(".so") for name in names), names
    assert "cfcntl/ioctls/tty.py" in names and not any("/_c/" in name for name in names)


def test_every_sizeless_request_of_the_headers_is_classified(build_ffi: ModuleType) -> None:
    """The headers' sizeless requests (TCGETS, FIGETBSZ, SIOCGPGRP...) each have a row in
    _requests.py, and the installed module holds every request the build found."""
    requests = build_ffi.probes.request_macros()
    assert {"TCGETS", "FIGETBSZ", "SIOCGIFCONF", "FS_IOC_GETFLAGS"} <= set(requests)
    assert build_ffi.probes.unclassified(requests) == []
    assert sorted(cfcntl.ioctls.REQUESTS) == requests


def test_an_unclassified_sizeless_request_is_found(build_ffi: ModuleType) -> None:
    """A sizeless request the table lacks is reported, whether it is a legacy number in
    the ioctls.h family or made with _IO anywhere; a sized one is not.  The legacy one
    is made from TIOCEXCL, a plain number on every CPU (powerpc's TCGETS is _IOR)."""
    preamble = (
        build_ffi.probes.PREAMBLE
        + "#define CF_TEST_LEGACY (TIOCEXCL + 0x99)\n#define CF_TEST_IO _IO('T', 0x99)\n"
        + "#define CF_TEST_SIZED _IOR('T', 0x99, int)\n#define CF_TEST_FLAG 4\n"
    )
    requests = build_ffi.probes.request_macros(preamble)
    assert {"CF_TEST_LEGACY", "CF_TEST_IO", "CF_TEST_SIZED"} <= set(requests)
    assert "CF_TEST_FLAG" not in requests
    assert build_ffi.probes.unclassified(requests, preamble) == ["CF_TEST_IO", "CF_TEST_LEGACY"]
