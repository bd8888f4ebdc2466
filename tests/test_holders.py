"""The lock inspector: cfcntl.file_locks and ``python -m cfcntl locks PATH``, on real locks
held by real child processes (the ``hold`` fixture's: cfcntl.tools.lockchild)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import cfcntl
from cfcntl import F_RDLCK as R, F_WRLCK as W, Holder, Lock
from cfcntl.tools.lockchild import Hold, WaitForWaiter

KINDS = (
    f"cfcntl.setlk(fd, {W}, 10, 5, ofd=True)",
    f"cfcntl.setlk(fd, {R}, 100, 0)",
    "fcntl.flock(os.open(path, os.O_RDONLY), fcntl.LOCK_SH)",
)


def test_every_kind_with_its_holder(path: Path, hold: Hold) -> None:
    """An OFD write lock on 10..14, a POSIX read lock from 100 to EOF and a flock lock,
    all held by one child: each is listed with the child's pid and command, the OFD one
    (pid -1 in /proc/locks) resolved through the child's fdinfo to its descriptor."""
    child = hold(*KINDS)
    name = cfcntl.holders.command(child.pid)
    found = cfcntl.file_locks(path)
    ofd_fd = next(h.fd for h in found if h.kind == "OFD")
    assert ofd_fd is not None
    assert sorted(found) == sorted(
        [
            Holder(child.pid, name, "OFD", W, 10, 5, ofd_fd, False),
            Holder(child.pid, name, "POSIX", R, 100, 0, None, False),
            Holder(child.pid, name, "FLOCK", R, 0, 0, None, False),
        ]
    )
    assert os.readlink(f"/proc/{child.pid}/fd/{ofd_fd}") == str(path)
    with open(path) as f:  # by descriptor or file object as well as by path
        assert (
            sorted(cfcntl.file_locks(f)) == sorted(cfcntl.file_locks(f.fileno())) == sorted(found)
        )
    child.let_go()
    assert cfcntl.file_locks(path) == []


@pytest.mark.usefixtures("timed_waits")
def test_a_waiter_is_listed_as_waiting(
    wait_for_waiter: WaitForWaiter, path: Path, hold: Hold
) -> None:
    hold(f"cfcntl.setlk(fd, {W}, 0, 0)")
    thread = threading.Thread(target=lambda: Lock(path, ofd=False).acquire(5), daemon=True)
    thread.start()
    wait_for_waiter()
    waiting = [h for h in cfcntl.file_locks(path) if h.waiting]
    assert [(h.pid, h.kind, h.type) for h in waiting] == [(os.getpid(), "POSIX", W)]


def test_an_ofd_lock_shared_by_fork_names_both_processes(path: Path) -> None:
    """After fork both processes hold the open file description, so both are its holders."""
    lock = Lock(path)
    lock.acquire()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.read(r, 1)
        os._exit(0)
    try:
        found = cfcntl.file_locks(path)
        assert {h.pid for h in found} == {os.getpid(), pid}
        assert {(h.kind, h.type, h.start, h.length) for h in found} == {("OFD", W, 0, 0)}
    finally:
        os.write(w, b"x")
        os.waitpid(pid, 0)
        os.close(r)
        os.close(w)
        lock.release()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cfcntl", "locks", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_cli_table_and_json(path: Path, hold: Hold) -> None:
    """The table has a header and one aligned row per lock; --json has the same locks."""
    empty = cli(str(path))
    assert (empty.returncode, empty.stdout) == (0, f"no locks on {path}\n")
    child = hold(*KINDS)
    table = cli(str(path))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["PID", "COMMAND", "KIND", "TYPE", "START", "END", "FD", "STATE"]
    rows = sorted(line.split() for line in lines[1:])
    name = cfcntl.holders.command(child.pid)
    pid = str(child.pid)
    assert [row[:6] for row in rows] == [
        [pid, name, "FLOCK", "READ", "0", "EOF"],
        [pid, name, "OFD", "WRITE", "10", "14"],
        [pid, name, "POSIX", "READ", "100", "EOF"],
    ]
    column = lines[0].index("KIND")  # aligned: every row's kind starts under KIND
    assert sorted(line[column:].split()[0] for line in lines[1:]) == ["FLOCK", "OFD", "POSIX"]
    data = json.loads(cli(str(path), "--json").stdout)
    assert sorted((d["kind"], d["type"], d["start"], d["end"], d["pid"]) for d in data) == [
        ("FLOCK", "READ", 0, None, child.pid),
        ("OFD", "WRITE", 10, 14, child.pid),
        ("POSIX", "READ", 100, None, child.pid),
    ]
    missing = cli(str(path) + ".missing")
    assert missing.returncode == 1 and "No such file" in missing.stderr
