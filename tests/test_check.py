"""python -m cfcntl check and the pytest plugin: real calls on pipes and pseudo-terminals,
in child processes (the hook changes the stdlib module of the process it runs in)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import termios
import textwrap
from pathlib import Path

import pytest

import cfcntl
from cfcntl._cfcntl import ffi
from cfcntl.tools import checker
from cfcntl.tools.abi import fcntl_needs, ioctl_need

WINSIZE = ffi.sizeof("struct winsize")
INT = ffi.sizeof("int")

CORRECT = f"""
import array, fcntl, os, struct, sys, termios
master, slave = os.openpty()
r, w = os.pipe()
os.write(w, b"x" * 300)
buf = array.array("i", [0])
print(fcntl.ioctl(r, termios.FIONREAD, buf), buf[0])
print(fcntl.ioctl(slave, termios.TIOCGWINSZ, bytes({WINSIZE})))
print(fcntl.fcntl(r, fcntl.F_GETFL) & (os.O_WRONLY | os.O_RDWR))
flock = struct.pack({cfcntl.layout()["struct flock"].format!r}, fcntl.F_WRLCK, 0, 0, 0, 0)
try:
    fcntl.fcntl(r, fcntl.F_SETLK, flock)  # a pipe: the stdlib's own OSError
except OSError as exc:
    print("OSError", exc.errno)
try:
    fcntl.ioctl(r, termios.FIONREAD, buf, True, 1)
except TypeError as exc:
    print("TypeError", exc)
print("stderr line", file=sys.stderr)
sys.exit(3)
"""

WRONG = """
import fcntl, os, subprocess, sys, termios
r, w = os.pipe()
os.write(w, b"x" * 300)
try:
    print(fcntl.ioctl(r, termios.FIONREAD, b"\\0\\0"))
except SystemError:  # CPython 3.14+: the kernel wrote past the 2 bytes
    print("SystemError")
master, slave = os.openpty()
for _ in range(3):
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\\0")  # the kernel reads: no SystemError
if os.fork() == 0:
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\\0\\0\\0")
    os._exit(0)
os.wait()
subprocess.run([sys.executable, "-c", "import fcntl; fcntl.fcntl(0, fcntl.F_GETLK, 0)"])
"""
SYSTEM_ERROR = sys.implementation.name == "cpython" and sys.version_info >= (3, 14)
"""Whether the stdlib raises SystemError when the kernel writes past a short buffer."""


def check(tmp_path: Path, script: str, *options: str) -> subprocess.CompletedProcess[str]:
    """``python -m cfcntl check [options] -- python script`` in ``tmp_path``."""
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(script), encoding="utf-8")
    command = [sys.executable, "-m", "cfcntl", "check", *options, "--", sys.executable, str(path)]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)


def test_a_correct_program_behaves_identically_under_check(tmp_path: Path) -> None:
    path = tmp_path / "prog.py"
    path.write_text(CORRECT, encoding="utf-8")
    plain = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    checked = check(tmp_path, CORRECT, "--fail-on-findings")
    assert checked.stdout == plain.stdout and "OSError" in plain.stdout
    assert checked.returncode == plain.returncode == 3
    assert checked.stderr == plain.stderr + checker.table([])


def test_findings_of_every_process_are_listed_once_per_site_with_counts(tmp_path: Path) -> None:
    out = tmp_path / "found.json"
    done = check(tmp_path, WRONG, "--json", str(out))
    assert done.returncode == 0
    cut = repr((300).to_bytes(INT, sys.byteorder)[:2])
    assert done.stdout.splitlines()[0] == ("SystemError" if SYSTEM_ERROR else cut)
    found = {(Path(r["site"]).name, r["given"], r["count"]) for r in json.loads(out.read_text())}
    assert found == {
        ("prog.py:6", 2, 1),
        ("prog.py:11", 1, 3),
        ("prog.py:13", 3, 1),  # the forked child
        ("<string>:1", None, 1),  # the subprocess: an int for F_GETLK's struct flock
    }
    assert "4 call site(s)" in done.stderr and "SystemError" in done.stderr
    assert "fix: array.array('i', [0])" in done.stderr and "TIOCSWINSZ" in done.stderr
    failing = check(tmp_path, WRONG, "--fail-on-findings")
    assert failing.returncode == 1


def test_strict_raises_before_the_syscall(tmp_path: Path) -> None:
    script = """
    import fcntl, os, termios
    from cfcntl import ioctls
    master, slave = os.openpty()
    ioctls.set_winsize(slave, ioctls.Winsize(24, 80, 0, 0))
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\\x07\\x00")
    except Exception as exc:
        print(type(exc).__name__)
    print(tuple(ioctls.get_winsize(slave)))
    """
    done = check(tmp_path, script, "--strict")
    assert done.stdout.split("\n")[:2] == ["CheckError", "(24, 80, 0, 0)"]
    assert "TIOCSWINSZ" in done.stderr


def test_the_shadowed_sitecustomize_still_runs(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "sitecustomize.py").write_text("import os\nos.environ['OWN_SITE'] = 'ran'\n")
    path = tmp_path / "prog.py"
    path.write_text("import os, sys\nprint(os.environ.get('OWN_SITE'), len(sys.path))\n")
    env = {**os.environ, "PYTHONPATH": str(own)}
    plain = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env)
    checked = subprocess.run(
        [sys.executable, "-m", "cfcntl", "check", "--", sys.executable, str(path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert checked.stdout == plain.stdout
    assert plain.stdout.startswith("ran ")


def test_examine_against_the_compiler(pty: tuple[int, int]) -> None:
    flock = fcntl_needs()[fcntl.F_SETLK]
    right = bytes(ffi.sizeof("struct flock"))
    assert checker.examine(flock, "fcntl", right) is None
    short = checker.examine(flock, "fcntl", right[:-4])
    assert short is not None and short[1:3] == (len(right) - 4, len(right))
    assert cfcntl.layout()["struct flock"].format in short[4]
    winsize = ioctl_need(termios.TIOCGWINSZ)
    assert winsize is not None and winsize.size == WINSIZE
    assert checker.examine(winsize, "ioctl", bytearray(WINSIZE)) is None
    in_place = checker.examine(winsize, "ioctl", bytearray(WINSIZE - 1))
    assert in_place is not None and "SystemError" in in_place[3]
    fionread = ioctl_need(termios.FIONREAD)
    assert fionread is not None and fionread.size == INT
    assert checker.examine(fionread, "ioctl", 0) is not None  # an int for a pointer
    setfl = fcntl_needs()[fcntl.F_SETFL]
    assert checker.examine(setfl, "fcntl", os.O_NONBLOCK) is None
    assert checker.examine(setfl, "fcntl", bytes(4)) is not None  # its address as the flags
    assert fcntl_needs()[fcntl.F_GETFL].direction == "none"
    value = ioctl_need(termios.TIOCSCTTY)
    assert value is not None and checker.examine(value, "ioctl", 0) is None
    assert checker.examine(value, "ioctl", b"\0\0\0\0") is not None


def test_the_plugin_is_inert_unless_asked() -> None:
    assert type(fcntl.ioctl) is type(os.open)  # the builtin, though the entry point loaded


@pytest.mark.parametrize("mode, status", [("report", 0), ("strict", 1)])
def test_the_pytest_plugin(tmp_path: Path, mode: str, status: int) -> None:
    (tmp_path / "test_probe.py").write_text(
        "import fcntl, os, termios\n"
        "def test_short():\n"
        "    master, slave = os.openpty()\n"
        "    fcntl.ioctl(slave, termios.TIOCSWINSZ, b'\\0')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "cfcntl.check", f"--cfcntl-check={mode}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == status, done.stdout
    assert "cfcntl check" in done.stdout and "test_probe.py:4" in done.stdout
