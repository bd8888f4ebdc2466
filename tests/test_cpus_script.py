"""The pure parts of .ci/cpus.py (the suite on other CPUs): no root, no chroot, no
binfmt_misc, no network."""

from __future__ import annotations

import struct
from collections.abc import Callable
from types import ModuleType

import pytest

import cfcntl
from cfcntl.tools import report

ARM_CONF = (
    "# a comment\n"
    ":qemu-arm:M::\\x7f\\x45\\x4c\\x46\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
    "\\x00\\x02\\x00\\x28\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff"
    "\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/libexec/qemu-binfmt/arm-binfmt-P:OP\n"
)
# /proc/sys/fs/binfmt_misc/qemu-arm once that line is registered.
ARM_ENTRY = """\
enabled
interpreter /usr/libexec/qemu-binfmt/arm-binfmt-P
flags: POCF
offset 0
magic 7f454c4601010100000000000000000002002800
mask ffffffffffffff00fffffffffffffffffeffffff
"""


@pytest.fixture(scope="module")
def cpus(ci_script: Callable[[str], ModuleType]) -> ModuleType:
    """.ci/cpus.py, imported by path."""
    return ci_script("cpus")


def test_registration_is_renamed_and_fixes_the_emulator(cpus: ModuleType) -> None:
    line = cpus.registration(ARM_CONF, "cfcntl-qemu-arm")
    name, fields = cpus.parse_binfmt_line(line)
    assert name == "cfcntl-qemu-arm"
    assert fields[4] == "/usr/libexec/qemu-binfmt/arm-binfmt-P"
    assert set(fields[5]) == {"O", "P", "F"}  # F: opened now, usable inside a chroot
    assert fields[:4] == cpus.parse_binfmt_line(ARM_CONF.splitlines()[1])[1][:4]


def test_a_bad_registration_line_is_refused(cpus: ModuleType) -> None:
    with pytest.raises(ValueError, match="7 fields"):
        cpus.parse_binfmt_line(":qemu-arm:M::magic")
    with pytest.raises(ValueError, match="not a binfmt_misc"):
        cpus.parse_binfmt_line("qemu-arm")


def test_a_registered_handler_is_recognised_by_its_magic(cpus: ModuleType) -> None:
    assert cpus.handler_magic(ARM_ENTRY) == cpus.conf_magic(ARM_CONF)
    assert cpus.handler_magic(ARM_ENTRY.replace("enabled", "disabled", 1)) == ""
    s390x = ARM_CONF.replace("\\x01\\x01\\x01", "\\x02\\x02\\x01", 1)
    assert cpus.conf_magic(s390x) != cpus.handler_magic(ARM_ENTRY)


def test_only_selects_in_order_and_refuses_unknown_abis(cpus: ModuleType) -> None:
    assert [a.arch for a in cpus.select("armhf,i386")] == ["i386", "armhf"]
    assert len(cpus.select(None)) == 6
    with pytest.raises(SystemExit, match="sparc"):
        cpus.select("sparc")


def test_roots_have_what_building_cffi_needs_where_it_has_no_wheel(cpus: ModuleType) -> None:
    by_arch = {a.arch: a for a in cpus.ABIS}
    assert {"libffi-dev", "pkg-config"} <= set(by_arch["armhf"].packages)
    assert "libffi-dev" not in by_arch["s390x"].packages
    assert {"python3-dev", "python3-venv", "gcc", "libc6-dev"} <= set(by_arch["i386"].packages)
    keys = {a.root().key for a in cpus.ABIS}
    assert len(keys) == 6 and all(k.startswith("bookworm-") for k in keys)
    assert by_arch["i386"].qemu is None and by_arch["s390x"].qemu == "s390x"


def test_one_line_per_abi(cpus: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    s390x, armhf = cpus.select("armhf,s390x")  # in the script's order
    ok = cpus.Result("s390x", "passed", passed=600, skipped=12, test_seconds=301.4)
    bad = cpus.Result("armhf", "failed", passed=5, failed=1, errors=1, failing=["t.py::x"])
    line = cpus.summary_line(cpus.Row(s390x, ok, 95.2))
    assert line.split()[:6] == ["s390x", "qemu-s390x", "600", "0", "12", "95"]
    assert "cached" in cpus.summary_line(cpus.Row(s390x, ok))
    assert cpus.report([cpus.Row(s390x, ok)], "logs") is True
    assert cpus.report([cpus.Row(s390x, ok), cpus.Row(armhf, bad)], "logs") is False
    out = capsys.readouterr().out
    assert "armhf: 1 failing\n  t.py::x" in out
    assert "| ABI |" not in out  # no report ran: no table


def test_the_readme_table_is_what_the_report_says(cpus: ModuleType) -> None:
    """facts() reads cfcntl's report (here this machine's) into the README's cells."""
    data = report._static()
    cells = cpus.facts(data)
    lay = cfcntl.layout()["struct flock"]
    assert cells["struct flock"] == f"{lay.size} bytes"
    assert cells["l_pid at"] == str(next(f.offset for f in lay.fields if f.name == "l_pid"))
    assert int(cells["F_GETLK"], 0) == cfcntl.F_GETLK
    assert int(cells["TIOCGWINSZ"], 0) == cfcntl.TIOCGWINSZ
    assert cells["F_GETLK"] == str(cfcntl.F_GETLK)  # commands in decimal
    data["constants"]["O_NONBLOCK"] = 0x80  # mips's: a flag in hex, however small
    assert cpus.facts(data)["O_NONBLOCK"] == "0x80"
    assert cells["_IOC_SIZEBITS"] == str(cfcntl._IOC_SIZEBITS)
    assert cells["'hhllhh'"] == f"{struct.calcsize('hhllhh')} bytes, WRONG"  # l_pid's 2 bytes
    del data["constants"]["F_OFD_GETLK"]
    assert cpus.facts(data)["F_OFD_GETLK"] == "absent"
    row = cpus.Row(cpus.select("i386")[0], cpus.Result("i386", "passed", passed=7), None, cells)
    header, rule, line = cpus.facts_table([row]).splitlines()
    assert header.count("|") == rule.count("|") == line.count("|")
    assert line.startswith(f"| i386 | {lay.size} bytes | ") and line.endswith(" | 7, 0, 0 |")
