"""The pure parts of .ci/matrix.py (the interpreter matrix) and of .ci/chroots.py, which it
shares with .ci/cpus.py: no root, no chroot, no network."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def matrix(ci_script: Callable[[str], ModuleType]) -> ModuleType:
    """.ci/matrix.py, imported by path (it is not part of the package)."""
    return ci_script("matrix")


@pytest.fixture(scope="module")
def chroots(ci_script: Callable[[str], ModuleType]) -> ModuleType:
    """.ci/chroots.py, what the matrix and the CPU script share."""
    return ci_script("chroots")


DEB822 = """\
Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main
"""


def test_deb822_sources(chroots: ModuleType) -> None:
    entries = chroots.parse_sources(DEB822, deb822=True)
    assert entries == [
        ("http://mirror.example/debian", ["bookworm", "bookworm-updates"]),
        ("http://mirror.example/debian-security", ["bookworm-security"]),
    ]
    assert chroots.choose_mirror(entries, "bookworm") == "http://mirror.example/debian"


def test_deb822_disabled_stanza_is_skipped(chroots: ModuleType) -> None:
    text = "Types: deb\nURIs: http://off.example/debian\nSuites: trixie\nEnabled: no\n"
    assert chroots.parse_sources(text, deb822=True) == []


def test_one_line_sources(chroots: ModuleType) -> None:
    text = (
        "# deb http://commented.example/debian bookworm main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb http://security.example/debian-security bookworm-security main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian/ bookworm main\n"
    )
    entries = chroots.parse_sources(text, deb822=False)
    assert entries == [
        ("http://security.example/debian-security", ["bookworm-security"]),
        ("http://one.example/debian/", ["bookworm"]),
    ]
    assert chroots.choose_mirror(entries, "bookworm") == "http://one.example/debian"


def test_no_source_for_the_release_is_an_error(matrix: ModuleType, chroots: ModuleType) -> None:
    entries = [("http://security.example/debian-security", ["bookworm-security"])]
    with pytest.raises(chroots.SetupError, match="bookworm"):
        chroots.choose_mirror(entries, "bookworm")


def test_cache_key_follows_suite_arch_and_packages(matrix: ModuleType) -> None:
    root = matrix.Root("sid", "amd64", ("gcc", "pypy3"))
    assert root.key.startswith("sid-amd64-")
    assert root.key == matrix.Root("sid", "amd64", ("pypy3", "gcc", "gcc")).key
    others = {
        matrix.Root("trixie", "amd64", ("gcc", "pypy3")).key,
        matrix.Root("sid", "i386", ("gcc", "pypy3")).key,
        matrix.Root("sid", "amd64", ("gcc", "pypy3", "python3.15")).key,
    }
    assert root.key not in others and len(others) == 3


def test_roots_hold_the_whole_matrix_of_their_suite(matrix: ModuleType) -> None:
    only_314 = [i for i in matrix.INTERPRETERS if i.name == "3.14"]
    roots = matrix.roots_for(only_314, "amd64")
    assert list(roots) == ["sid"]  # a subset run builds only the roots it needs...
    packages = roots["sid"].packages
    # ...but with the full run's package list, so both share one cached root.
    assert {"gcc", "libc6-dev", "ca-certificates", "pypy3-lib-testsuite"} <= set(packages)
    assert {"python3.15-venv", "libpython3.14-testsuite"} <= set(packages)
    assert not any("3.13" in p for p in packages)
    assert roots["sid"] == matrix.roots_for(matrix.INTERPRETERS, "amd64")["sid"]
    assert matrix.roots_for([matrix.INTERPRETERS[0]], "amd64") == {}  # the host's 3.12


def test_apt_policy(chroots: ModuleType) -> None:
    text = """\
python3.15:
  Installed: (none)
  Candidate: 3.15.2-1
  Version table:
     3.15.2-1 500
        500 http://mirror.example/debian sid/main amd64 Packages
python3.16:
  Installed: (none)
  Candidate: (none)
  Version table:
"""
    assert chroots.parse_apt_policy(text) == {"python3.15": "3.15.2-1", "python3.16": None}


JUNIT = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5">
<testcase classname="tests.test_compat" name="test_ok"/>
<testcase classname="tests.test_compat.TestX" name="test_bad[a-1]">
<failure message="assert 1 == 2">AssertionError</failure></testcase>
<testcase classname="tests.test_locks" name="test_setup">
<error message="fixture failed">boom</error></testcase>
<testcase classname="tests.test_locks" name="test_skip">
<skipped type="pytest.skip" message="no OFD locks">skip</skipped></testcase>
<testcase classname="tests.test_locks" name="test_fine"/>
<testcase classname="tests.test_ctypes_binding" name="test_reused[ofd]">
<failure message="x">a test_locks test, collected again from test_ctypes_binding</failure>
</testcase>
<testcase classname="" name="tests.test_report">
<error message="collection failure">ImportError</error></testcase>
</testsuite></testsuites>
"""


def test_junit_counts_and_failing_ids(chroots: ModuleType) -> None:
    counts, failing = chroots.parse_junit(JUNIT)
    assert counts == {"passed": 2, "failed": 2, "errors": 2, "skipped": 1}
    assert failing == [
        "tests/test_compat.py::TestX::test_bad[a-1]",
        "tests/test_locks.py::test_setup",
        "tests/test_ctypes_binding.py::test_reused[ofd]",
        "tests/test_report.py",  # a module that did not import
    ]


PIP_CONFIG = """\
:env:.cert='/etc/ssl/certs/ca-certificates.crt'
:env:.default-timeout='180'
:env:.find-links='/opt/wheels'
global.cert='/etc/ssl/certs/other.crt'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/gone/simple https://idx.example/s'
global.find-links='/opt/elsewhere'
freeze.timeout='10'
"""


def test_pip_config_environment_wins(chroots: ModuleType) -> None:
    config = chroots.parse_pip_config(PIP_CONFIG)
    assert config == {
        "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
        "PIP_DEFAULT_TIMEOUT": "180",
        "PIP_FIND_LINKS": "/opt/wheels",
        "PIP_CONSTRAINT": "/etc/xdg/pip/constraints.txt",
        "PIP_EXTRA_INDEX_URL": "file:///opt/pypi/simple file:///opt/gone/simple"
        " https://idx.example/s",
    }


def test_pip_host_paths_are_bound_or_dropped(chroots: ModuleType) -> None:
    config = chroots.parse_pip_config(PIP_CONFIG)
    present = {"/etc/ssl/certs/ca-certificates.crt", "/opt/pypi/simple", "/opt/pypi/files"}
    env, binds, dropped = chroots.plan_pip_env(config, present.__contains__, "/h")
    assert env == {
        "PIP_CERT": "/h/etc/ssl/certs/ca-certificates.crt",
        "PIP_DEFAULT_TIMEOUT": "180",
        "PIP_EXTRA_INDEX_URL": "file:///h/opt/pypi/simple https://idx.example/s",
    }
    # The index goes with its parent, which holds the files its pages link to.
    assert binds == ["/etc/ssl/certs/ca-certificates.crt", "/opt/pypi"]
    assert sorted(dropped) == ["/etc/xdg/pip/constraints.txt", "/opt/gone/simple", "/opt/wheels"]


def test_only_selects_in_matrix_order(matrix: ModuleType) -> None:
    names = [i.name for i in matrix.select("pypy-8.0, 3.14")]
    assert names == ["3.14", "pypy-8.0"]
    with pytest.raises(SystemExit, match=r"unknown interpreter 3\.9"):
        matrix.select("3.9,3.14")


def test_no_pyenv_312_is_reported_not_failed(
    matrix: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(matrix, "PYENV_VERSIONS", tmp_path)  # no 3.12.* in it
    host_312 = matrix.select("3.12")[0]
    result = matrix.matrix_entry(host_312, None, None, ({}, []), tmp_path)
    assert (result.status, result.passed) == ("not available", 0)
    assert matrix.report([result], tmp_path) is True
    assert "not available" in capsys.readouterr().out


def test_report_fails_on_any_failure_and_lists_the_ids(
    matrix: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    passed = matrix.Result("3.13", "passed", "CPython 3.13.5", passed=561, skipped=5)
    failed = matrix.Result("3.14", "failed", "CPython 3.14.10", passed=9, failed=1)
    failed.failing = ["tests/test_compat.py::test_ioctl_parity"]
    assert matrix.report([passed], Path("/logs")) is True
    capsys.readouterr()
    assert matrix.report([passed, failed], Path("/logs")) is False
    out = capsys.readouterr().out
    assert "CPython 3.14.10: 1 failing\n  tests/test_compat.py::test_ioctl_parity" in out
    assert "logs: /logs" in out
    unset = matrix.Result("3.15", "setup failed", note="sid lacks python3.15")
    assert matrix.report([passed, unset], Path("/logs")) is False


def _ends(pid: int, within: float) -> bool:
    """Whether process pid is gone or a zombie within so many seconds: a SIGKILL takes
    effect when the process next runs, which on a loaded machine is not at once."""
    deadline = time.monotonic() + within
    while True:
        try:  # /proc/PID/stat: "pid (comm) state ..."
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X") or time.monotonic() > deadline:
            return state in ("Z", "X")
        time.sleep(0.01)


def test_a_command_that_times_out_is_a_setup_error_and_is_killed(
    chroots: ModuleType, tmp_path: Path
) -> None:
    """A timeout kills the command's process group and becomes one SetupError line (an
    ABI's row says it), not a traceback that ends the run."""
    log = tmp_path / "log"
    marker = tmp_path / "still-running"
    script = f"sleep 60 & echo $! > {marker}; wait"
    # 3 s: time for sh to start its child and write the marker on a loaded machine
    with pytest.raises(chroots.SetupError, match=r"sh -c .* timed out after 3 s"):
        chroots.run(["sh", "-c", script], log, timeout=3)
    assert "[killed: timed out after 3 s]" in log.read_text()
    assert _ends(int(marker.read_text()), within=10)
