"""Fixtures shared by the suite: an independent C compiler run, a pseudo-terminal, files,
the lock-holding child (cfcntl.tools.lockchild), and a check that no test leaves a signal
blocked."""

from __future__ import annotations

import contextlib
import errno
import functools
import importlib.util
import os
import shlex
import signal
import struct
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import cfcntl
from cfcntl.tools.lockchild import TIMEOUT, Child, Hold, WaitForWaiter

RunC = Callable[[str], str]


@pytest.fixture(scope="session")
def run_c(tmp_path_factory: pytest.TempPathFactory) -> RunC:
    """Compile a C program with the system compiler, run it, return its stdout.

    The program sees the headers exactly as a C user would: nothing of cfcntl's build
    is shared with it; it is compiled with the large-file (and time) macros of the
    interpreter's pyconfig.h, as every extension module is (on a 32-bit ABI they make
    off_t and struct flock 64-bit).
    """
    cc = shlex.split(os.environ.get("CC", "cc"))
    cc += python_macros(cc)
    workdir = tmp_path_factory.mktemp("c")
    count = 0

    def run(source: str) -> str:
        nonlocal count
        count += 1
        src = Path(workdir, f"prog{count}.c")
        exe = Path(workdir, f"prog{count}")
        src.write_text(source, encoding="utf-8")
        subprocess.run([*cc, "-Wall", "-o", str(exe), str(src)], check=True)
        return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout

    return run


def python_macros(cc: list[str]) -> list[str]:
    """-D options for the macros of the interpreter's pyconfig.h that change what the C
    library's headers declare (_FILE_OFFSET_BITS, _LARGEFILE_SOURCE, _TIME_BITS), as the
    compiler reads that header (Debian's includes the architecture's own)."""
    include = sysconfig.get_paths()["include"]
    proc = subprocess.run(
        [*cc, "-dM", "-E", f"-I{include}", "-x", "c", "-"],
        input="#include <pyconfig.h>\n",
        capture_output=True,
        text=True,
        check=True,
    )
    names = ("_FILE_OFFSET_BITS", "_LARGEFILE_SOURCE", "_TIME_BITS")
    found = [line.split() for line in proc.stdout.splitlines()]
    return [f"-D{w[1]}={w[2]}" for w in found if len(w) == 3 and w[1] in names]


@pytest.fixture(autouse=True)
def signal_mask_restored() -> Iterator[None]:
    """Fail the test that leaves the main thread's signal mask changed, and put the mask
    back (a signal left blocked would break every signal test after it)."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    yield
    after = signal.pthread_sigmask(signal.SIG_SETMASK, before)
    assert after == before, f"the test left the signal mask {after}, not {before}"


@pytest.fixture
def pty() -> Iterator[tuple[int, int]]:
    """A pseudo-terminal's (master, slave) from os.openpty, closed afterwards."""
    master, slave = os.openpty()
    yield master, slave
    os.close(slave)
    os.close(master)


@pytest.fixture
def regular(tmp_path: Path) -> Iterator[int]:
    """A descriptor of a 12-byte regular file, open for reading and writing."""
    fd = os.open(tmp_path / "data", os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, b"hello world\n")
    yield fd
    os.close(fd)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A 64-byte file of zeros in tmp_path, to lock."""
    p = tmp_path / "locked"
    p.write_bytes(b"\0" * 64)
    return p


@pytest.fixture
def fd(path: Path) -> Iterator[int]:
    """A descriptor of ``path``, open for reading and writing (closed afterwards unless the
    test closed it)."""
    number = os.open(path, os.O_RDWR)
    yield number
    with contextlib.suppress(OSError):
        os.close(number)


@pytest.fixture
def hold(path: Path) -> Iterator[Hold]:
    """``hold(*statements)``: a child process (cfcntl.tools.lockchild.Child) with ``fd``
    open on ``path`` that ran ``statements`` and said ready; all are stopped at teardown."""
    children: list[Child] = []

    def start(*setup: str) -> Child:
        child = Child(path, *setup, lifetime=60)  # no child outlives a broken test long
        children.append(child)
        return child

    yield start
    for child in children:
        child.stop()


@pytest.fixture
def wait_for_waiter(path: Path) -> WaitForWaiter:
    """``wait_for_waiter(pid=None)``: return once /proc/locks shows a process (``pid``, if
    given) blocked waiting for a lock on ``path``.

    No event says "a thread is now asleep in F_SETLKW", so this polls, with a deadline.
    """

    def wait(pid: int | None = None, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not any(h.waiting and pid in (None, h.pid) for h in cfcntl.file_locks(path)):
            assert time.monotonic() < deadline, f"nobody ({pid}) blocked on {path} in {timeout} s"
            time.sleep(0.002)

    return wait


# ---------------------------------------------------------------- the CI scripts


@pytest.fixture(scope="session")
def ci_script() -> Callable[[str], ModuleType]:
    """``ci_script(name)``: .ci/<name>.py imported by path (the scripts are not part of the
    package), for tests of their pure functions."""
    ci = Path(__file__).resolve().parent.parent / ".ci"

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"cfcntl_ci_{name}", ci / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        try:
            spec.loader.exec_module(module)
        finally:
            del sys.modules[spec.name]
        return module

    return load


# ---------------------------------------------------------------- user-mode emulation
# (issue 16: the suite under qemu-user, .ci/cpus.py; see README, "Other CPUs")

Unemulated = Callable[..., None]


@functools.cache
def emulator() -> str | None:
    """The name of the user-mode emulator (qemu-user through binfmt_misc) this interpreter
    runs under, None when it runs natively.

    qemu-user answers a process's questions about itself (/proc/self/exe) as the guest
    would, but passes questions about another process to the kernel: a child's
    /proc/PID/exe names the emulator, not the interpreter."""
    child = subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)
    try:
        exe = os.readlink(f"/proc/{child.pid}/exe")
    finally:
        child.communicate(b"\n")
    ours = os.path.realpath(sys.executable)
    return None if os.path.basename(exe) == os.path.basename(ours) else os.path.basename(exe)


EMULATION_FACTOR = 25
"""How much longer than natively a timing bound may be under emulation (qemu-user runs
the suite some 10 times slower than the host on this machine, with peaks above that)."""


@pytest.fixture(scope="session")
def slowdown() -> float:
    """What a test multiplies its timing bounds by: 1 natively (never a looser bound
    there), EMULATION_FACTOR under an emulator."""
    return EMULATION_FACTOR if emulator() else 1


@pytest.fixture
def unemulated(run_c: RunC) -> Unemulated:
    """``unemulated(what, program, *codes)``: skip the test when it runs under a user-mode
    emulator that does not emulate ``what`` (an ioctl, a syscall, an fcntl command).

    ``program`` is a C program making the same call: it exits with 0 when the call
    works, and otherwise prints the call's errno as a number on its last line and exits
    with 1. It is compiled and run under the same emulator (run_c); the test skips only
    if the call fails there with one of ``codes`` (errno names; by default ENOSYS and
    ENOTTY, what qemu-user answers for a syscall or an ioctl it does not know; EINVAL for
    an fcntl command it does not translate), and the skip says so. Natively nothing is
    run and nothing skipped: the test must pass."""

    def check(what: str, program: str, *codes: str) -> None:
        name = emulator()
        if name is None:
            return
        allowed = {getattr(errno, code) for code in codes or ("ENOSYS", "ENOTTY")}
        try:
            run_c(program)
        except subprocess.CalledProcessError as failed:
            last = (failed.stdout or "").strip().splitlines()[-1:] or ["?"]
            if last[0].isdigit() and int(last[0]) in allowed:
                code = errno.errorcode[int(last[0])]
                pytest.skip(f"{name} does not emulate {what}: a C program under it gets {code}")
            raise

    return check


# ---------------------------------------------------------------- the docs' 28-byte recipe


@pytest.fixture(scope="session")
def recipe_28_right() -> bool:
    """Whether the docs' ``hhllhh`` struct format puts l_start and l_len where the
    compiler's struct flock has them (x86-64 and the other LP64 ABIs: the 28 bytes are
    right but for l_pid); where it does not (every 32-bit ABI), the bench and the report
    show its answers as a finding."""
    fields = {f.name: f for f in cfcntl.layout()["struct flock"].fields}
    long_size = struct.calcsize("l")
    ours = {"l_start": (struct.calcsize("hh0l"), long_size)}
    ours["l_len"] = (ours["l_start"][0] + long_size, long_size)
    return all((fields[n].offset, fields[n].size) == where for n, where in ours.items())
