"""The pure parts of .ci/cpus.py (the suite on other CPUs): no root, no chroot, no
binfmt_misc, no network."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

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
    abi = cpus.select("s390x")[0]
    ok = cpus.Result("s390x", "passed", passed=600, skipped=12, test_seconds=301.4)
    bad = cpus.Result("armhf", "failed", passed=5, failed=1, errors=1, failing=["t.py::x"])
    line = cpus.summary_line(abi, ok, 95.2)
    assert line.split()[:6] == ["s390x", "qemu-s390x", "600", "0", "12", "95"]
    assert "cached" in cpus.summary_line(abi, ok, None)
    assert cpus.report([(abi, ok, None)], "logs") is True
    armhf = cpus.select("armhf")[0]
    assert cpus.report([(abi, ok, None), (armhf, bad, None)], "logs") is False
    out = capsys.readouterr().out
    assert "armhf: 2 failing" not in out and "armhf: 1 failing" in out
    assert "  t.py::x" in out
