"""Fixtures shared by the suite: an independent C compiler run, a pseudo-terminal, a file,
and a check that no test leaves a signal blocked."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

RunC = Callable[[str], str]


@pytest.fixture(scope="session")
def run_c(tmp_path_factory: pytest.TempPathFactory) -> RunC:
    """Compile a C program with the system compiler, run it, return its stdout.

    The program sees the headers exactly as a C user would: nothing of cfcntl's build
    is shared with it.
    """
    cc = shlex.split(os.environ.get("CC", "cc"))
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
