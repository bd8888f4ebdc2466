"""cfcntl.tools.lockchild, the one lock-holding child of the tests, the report and the bench:
its answers, its errors, and the locks it holds and drops."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import cfcntl
from cfcntl import F_RDLCK as R, F_WRLCK as W, Flock
from cfcntl.tools.lockchild import Child, Hold, LockChild


def test_answers_values_and_errors(fd: int, hold: Hold) -> None:
    """An expression's value comes back (a Flock as a list), a statement's as None, and the
    child's OSError as an OSError with its errno."""
    child = hold(f"cfcntl.setlk(fd, {R}, 0, 10)")
    assert child.ask("os.getpid()") == child.pid
    assert child.ask("x = 1") is None
    cfcntl.setlk(fd, W, 20, 5, ofd=True)
    assert child.ask(f"cfcntl.getlk(fd, {W}, 0, 0)") == [W, os.SEEK_SET, 20, 5, -1]
    assert child.getlk(W, 20, 5) == Flock(W, os.SEEK_SET, 20, 5, -1)
    with pytest.raises(OSError) as info:
        child.ask(f"cfcntl.setlk(fd, {W}, 20, 5)")
    assert info.value.errno in (errno.EAGAIN, errno.EACCES)
    assert cfcntl.getlk(fd, W, 0, 10, ofd=True) == Flock(R, os.SEEK_SET, 0, 10, child.pid)
    child.let_go()
    assert cfcntl.getlk(fd, W, 0, 10, ofd=True) is None


def test_a_failed_setup_says_why(path: Path) -> None:
    """A setup statement that raises: the child is gone, and the error has its traceback."""
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        Child(path, "1 / 0")


def test_lock_child_holds_its_locks_until_the_block_ends(fd: int, path: Path) -> None:
    """LockChild's kind:type:start:length specs, taken the stdlib way: POSIX locks with the
    child's pid, OFD ones with -1; gone once the block ends."""
    with LockChild(path, f"posix:{W}:10:10", f"ofd:{R}:50:10") as child:
        assert cfcntl.getlk(fd, W, 0, 20, ofd=True) == Flock(W, os.SEEK_SET, 10, 10, child.pid)
        assert cfcntl.getlk(fd, W, 40, 100, ofd=True) == Flock(R, os.SEEK_SET, 50, 10, -1)
    assert child.proc.poll() is not None
    assert cfcntl.getlk(fd, W, ofd=True) is None
