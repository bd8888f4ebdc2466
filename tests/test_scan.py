"""python -m cfcntl scan: every kind of finding at its line in the fixtures
(tests/fixtures/scan), nothing in the correct programs, and the per-ABI table it reads
checked against this build's compiler."""

from __future__ import annotations

import array
import importlib.util
import json
import os
import re
import shlex
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import cfcntl
from cfcntl._cfcntl import ffi
from cfcntl.ioctls import registry
from cfcntl.tools import abi, scan

FIXTURES = Path(__file__).parent / "fixtures" / "scan"
ROOT = Path(__file__).resolve().parents[1]
EXPECT = re.compile(r"#\s*expect:((?:\s*CFC\d{3})+)")
HERE = abi.running()
needs_table = pytest.mark.skipif(HERE is None, reason="this ABI is not in the shipped table")


def expected(path: Path) -> set[tuple[int, str]]:
    """The (line, code) pairs a fixture's ``# expect: CODE...`` comments ask for."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {
        (n, code)
        for n, text in enumerate(lines, 1)
        if (m := EXPECT.search(text))
        for code in m[1].split()
    }


@pytest.mark.parametrize("name", ["bad_buffers.py", "bad_numbers.py", "good.py"])
def test_each_fixture_gives_exactly_its_expected_findings(name: str) -> None:
    path = FIXTURES / name
    found = scan.scan([str(path)])
    assert {(f.line, f.code) for f in found} == expected(path), "\n".join(map(str, found))
    assert all(f.code in scan.CODES for f in found)


def test_the_correct_program_has_no_finding_and_the_fixtures_cover_every_code() -> None:
    assert not expected(FIXTURES / "good.py")
    assert scan.scan([str(FIXTURES / "good.py")]) == []
    codes = {code for p in FIXTURES.glob("bad_*.py") for _, code in expected(p)}
    assert codes | {"CFC004"} == set(scan.CODES)  # CFC004 depends on the ABI: below


def _scan_text(tmp_path: Path, text: str) -> list[scan.Finding]:
    path = tmp_path / "probe.py"
    path.write_text(text, encoding="utf-8")
    return scan.scan([str(path)])


@needs_table
def test_a_flock_format_right_here_with_native_alignment_breaks_elsewhere(tmp_path: Path) -> None:
    native = "@" + cfcntl.layout()["struct flock"].format[1:]  # this ABI's offsets, native
    assert struct.calcsize(native) == ffi.sizeof("struct flock")
    call = f"fcntl.fcntl(0, fcntl.F_SETLK, struct.pack({native!r}, 1, 0, 0, 0, 0))"
    found = _scan_text(tmp_path, f"import fcntl, struct\n{call}\n")
    assert [(f.line, f.code) for f in found] == [(2, "CFC004")]
    broken = [
        name
        for name in abi.table()
        if abi.calcsize(native, name) != abi.kernel_size("struct flock", name)
    ]
    assert broken and all(name in found[0].message for name in broken)


@needs_table
def test_an_array_of_longs_for_fionread_is_wrong_here_or_elsewhere(tmp_path: Path) -> None:
    found = _scan_text(
        tmp_path,
        "import array, fcntl, termios\nfcntl.ioctl(0, termios.FIONREAD, array.array('l', [0]))\n",
    )
    here_wrong = array.array("l").itemsize != ffi.sizeof("int")
    assert [f.code for f in found] == ["CFC001" if here_wrong else "CFC004"]


def test_a_hard_coded_number_names_every_abi_where_it_is_wrong(tmp_path: Path) -> None:
    value = registry.REQUESTS["FIONREAD"]
    found = _scan_text(tmp_path, f"import fcntl\nfcntl.ioctl(0, {value:#x}, b'1234')\n")
    assert [f.code for f in found] == ["CFC003"]
    assert "FIONREAD" in found[0].message
    for name in abi.wrong_on("FIONREAD", value):
        assert name in found[0].message


def test_names_are_resolved_as_the_code_binds_them(tmp_path: Path) -> None:
    found = _scan_text(
        tmp_path,
        "import fcntl as f\nimport termios as t\nimport struct as s\n"
        "def g(fd):\n"
        "    fmt = 'H'\n"
        "    return f.ioctl(fd, t.TIOCGWINSZ, s.pack(fmt, 0))\n"
        "def h(fd, fmt):\n"
        "    return f.ioctl(fd, t.TIOCGWINSZ, s.pack(fmt, 0))\n",
    )
    assert [(f.line, f.code) for f in found] == [(6, "CFC001")]


def test_the_command_line_exit_status_and_json(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cfcntl", "scan", *args]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    bad = run("--json", str(FIXTURES / "bad_buffers.py"))
    assert bad.returncode == 1
    records = json.loads(bad.stdout)
    assert {(r["line"], r["code"]) for r in records} == expected(FIXTURES / "bad_buffers.py")
    good = run(str(FIXTURES / "good.py"))
    assert (good.returncode, good.stdout) == (0, "")
    flake8 = run(str(FIXTURES / "bad_numbers.py"))
    assert re.match(r".*bad_numbers\.py:\d+:\d+: CFC003 ", flake8.stdout)


def test_the_pre_commit_hook_runs_the_scan() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "id: cfcntl-scan" in text and "entry: python -m cfcntl scan" in text


# The table ----------------------------------------------------------------------------


@needs_table
def test_the_shipped_table_entry_for_this_abi_is_what_the_compiler_says_here() -> None:
    """A stale table fails here: every value, size and layout against this build.  Headers
    newer than the cross compilers' (a sid root) may define names the table lacks, and
    lack types it has (glibc 2.42 dropped struct termio): the names and types both know
    must agree, and most of this build's must be in the table."""
    assert HERE is not None
    entry = abi.table()[HERE]
    shared = [n for n in registry.REQUESTS if n in entry["values"]]
    assert len(shared) > 0.9 * len(registry.REQUESTS)
    for name in shared:
        assert entry["values"][name] == registry.REQUESTS[name], name
    for name in cfcntl.constants.__annotations__:
        if name in entry["values"] and hasattr(cfcntl.constants, name):
            assert entry["values"][name] == getattr(cfcntl.constants, name), name
    assert all(n in entry["values"] for n in ("F_GETLK", "F_SETLKW", "F_OFD_SETLK", "F_RDLCK"))
    for ctype, (size, _) in entry["sizes"].items():
        if ctype not in ("_Bool", "void *") and _declared(ctype):
            assert size == ffi.sizeof(ctype), ctype
    assert entry["sizes"]["void *"][0] == struct.calcsize("P")
    for name in ("struct flock", "struct f_owner_ex"):
        fields = {f.name: [f.offset, f.size] for f in cfcntl.layout()[name].fields}
        assert entry["layouts"][name] == fields


def _declared(ctype: str) -> bool:
    try:
        ffi.sizeof(ctype)
    except ffi.error:
        return False
    return True


@needs_table
@pytest.mark.parametrize("fmt", ["hhllhh", "hhqqi", "@iqhd", "=hhqqi", "<lL", "3sxq", "?ePn"])
def test_the_table_computes_struct_sizes_as_this_interpreter(fmt: str) -> None:
    assert HERE is not None
    assert abi.calcsize(fmt, HERE) == struct.calcsize(fmt)


def test_the_table_script_reads_values_back_from_an_object_file(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("abi_table", ROOT / "_build" / "abi_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = tmp_path / "v.c"
    source.write_text(
        '__attribute__((section(".cfabi"), used))\n'
        "const unsigned long long v[] = {sizeof(long), 0x0102030405060708ULL, 42};\n",
        encoding="utf-8",
    )
    cc = shlex.split(os.environ.get("CC", "cc"))
    subprocess.run([*cc, "-c", "-o", str(tmp_path / "v.o"), str(source)], check=True)
    order, data = module.section((tmp_path / "v.o").read_bytes(), ".cfabi")
    assert order == ("<" if sys.byteorder == "little" else ">")
    assert struct.unpack(order + "3Q", data) == (ffi.sizeof("long"), 0x0102030405060708, 42)
