"""cfcntl.Lock: paths and descriptors, modes, ranges, conversion, timeouts, errors, holders.

Other processes are real children, the ``hold`` fixture's (cfcntl.tools.lockchild: each
runs the Python statements it is given with ``fd`` open on the file, then each line it is
sent, and holds whatever it locked until its stdin closes).
"""

from __future__ import annotations

import errno
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import cfcntl
from cfcntl import F_RDLCK as R, F_WRLCK as W, Flock, Lock
from cfcntl.tools.lockchild import TIMEOUT, Hold, WaitForWaiter


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_path_lock_is_opened_created_and_closed(tmp_path: Path) -> None:
    """A path is created if missing, opened by acquire and closed by release; while it is
    held a second Lock on the path (another open file description, same process) is
    refused; ``locked`` and the context manager follow."""
    target = tmp_path / "new.lock"
    before = open_fds()
    first, second = Lock(target), Lock(target, timeout=0)
    assert not first.locked and open_fds() == before and not target.exists()
    with first as entered:
        assert entered is first and first.locked and target.exists()
        assert open_fds() == before + 1
        with pytest.raises(TimeoutError):
            second.acquire()
        assert not second.locked and open_fds() == before + 1
    assert not first.locked and open_fds() == before
    with second:
        assert second.locked


def test_descriptor_and_file_object_are_left_open(path: Path) -> None:
    """An fd or file object is used as given and left open after release."""
    with open(path, "r+b") as f:
        fd = os.open(path, os.O_RDWR)
        try:
            for target in (fd, f):
                lock = Lock(target)
                lock.acquire()
                assert Lock(path).holders()[0].pid == os.getpid()
                lock.release()
                assert Lock(path).holders() == []
            os.fstat(fd)
            assert not f.closed
        finally:
            os.close(fd)


def test_shared_exclusive_and_byte_ranges(path: Path) -> None:
    """Readers share, a writer excludes them; locks on disjoint ranges coexist, and a
    negative length covers the bytes before start, as fcntl defines."""
    r1, r2 = Lock(path, shared=True, timeout=0), Lock(path, shared=True, timeout=0)
    w = Lock(path, timeout=0)
    with r1, r2, pytest.raises(TimeoutError):
        w.acquire()
    with w, pytest.raises(TimeoutError):
        r1.acquire()
    low, high = Lock(path, start=0, length=10, timeout=0), Lock(path, start=10, timeout=0)
    back = Lock(path, start=10, length=-5, timeout=0)  # bytes 5..9
    with low, high, pytest.raises(TimeoutError):
        back.acquire()
    with high, back, pytest.raises(TimeoutError):
        low.acquire()


@pytest.mark.usefixtures("timed_waits")
def test_upgrade_and_downgrade_in_place(path: Path) -> None:
    """acquire(shared=...) on a held Lock converts it.  An upgrade blocked by another
    reader times out and keeps the read lock; once the reader goes it succeeds, and a
    downgrade lets readers back in."""
    mine, other = Lock(path, shared=True), Lock(path, shared=True, timeout=0)
    probe = Lock(path, timeout=0)
    mine.acquire()
    other.acquire()
    with pytest.raises(TimeoutError):
        mine.acquire(0.05, shared=False)
    assert mine.locked and mine.shared
    other.release()
    with pytest.raises(TimeoutError):
        probe.acquire()  # mine's read lock survived the failed upgrade
    mine.acquire(0, shared=False)
    assert not mine.shared
    with pytest.raises(TimeoutError):
        other.acquire()
    mine.acquire(shared=True)
    other.acquire()
    assert [h.type for h in probe.holders()] == [R, R]
    mine.release()
    other.release()


def test_not_reentrant_and_release_needs_a_hold(path: Path) -> None:
    lock = Lock(path)
    with pytest.raises(RuntimeError, match="not held"):
        lock.release()
    with lock, pytest.raises(RuntimeError, match="not reentrant"):
        lock.acquire()
    assert not lock.locked


def test_bad_arguments(path: Path) -> None:
    """Bad timeouts and files are refused before anything is opened; a range the C types
    cannot hold is refused at acquire, which then holds nothing and leaks no descriptor."""
    for bad in (-1, math.nan, math.inf):
        with pytest.raises(ValueError, match="timeout"):
            Lock(path, timeout=bad)
    with pytest.raises(TypeError, match="timeout"):
        Lock(path).acquire("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Lock(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Lock(-1)
    before = open_fds()
    for timeout in (None, 0, 1):
        lock = Lock(path, start=2**63, timeout=timeout)
        with pytest.raises(OverflowError, match="start=9223372036854775808"):
            lock.acquire()
        assert not lock.locked
    assert open_fds() == before
    assert Lock(path).holders() == []


@pytest.mark.parametrize("timeout", [None, 5.0])
def test_edeadlk_is_raised_not_hung(
    wait_for_waiter: WaitForWaiter,
    path: Path,
    hold: Hold,
    timeout: float | None,
    request: pytest.FixtureRequest,
) -> None:
    """POSIX Locks: we hold byte 0, a child holds byte 1 and waits for byte 0; our wait
    for byte 1 would close the cycle and the kernel answers EDEADLK, with or without a
    timeout.  Our byte 0 stays held until released, which ends the child's wait.  A
    watchdog kills the child should the kernel not detect the cycle."""
    if timeout is not None:
        request.getfixturevalue("timed_waits")
    fd = os.open(path, os.O_RDWR)
    mine = Lock(fd, start=0, length=1, ofd=False)
    mine.acquire()
    child = hold(f"cfcntl.setlk(fd, {W}, 1, 1)")
    child.send(f"cfcntl.setlkw(fd, {W}, 0, 1)")
    wait_for_waiter()
    watchdog = threading.Timer(TIMEOUT, child.proc.kill)
    watchdog.start()
    try:
        with pytest.raises(OSError) as info:
            Lock(fd, start=1, length=1, ofd=False).acquire(timeout)
    finally:
        watchdog.cancel()
    assert info.value.errno == errno.EDEADLK
    assert child.proc.poll() is None and mine.locked
    mine.release()
    assert child.answer() is None  # the child's wait for byte 0 ended
    os.close(fd)


def test_holders_name_the_process(path: Path, hold: Hold) -> None:
    """Lock.holders() names the child holding a conflicting POSIX or OFD lock by pid and
    command; a non-conflicting lock (another range, or a reader for a reader) is left out."""
    child = hold(f"cfcntl.setlk(fd, {W}, 0, 10)", f"cfcntl.setlk(fd, {R}, 20, 10, ofd=True)")
    name = cfcntl.holders.command(child.pid)
    assert name and name.startswith("python")
    everything = Lock(path).holders()
    assert {(h.pid, h.command, h.kind, h.type, h.start, h.length) for h in everything} == {
        (child.pid, name, "POSIX", W, 0, 10),
        (child.pid, name, "OFD", R, 20, 10),
    }
    assert [h.kind for h in Lock(path, shared=True).holders()] == ["POSIX"]
    assert Lock(path, start=10, length=10).holders() == []
    assert cfcntl.getlk(os.open(path, os.O_RDONLY), W, 20, 1, ofd=True) == Flock(
        R, os.SEEK_SET, 20, 10, -1
    )


@pytest.mark.usefixtures("timed_waits")
def test_timed_wait_leaves_no_timer_and_no_handler_change(path: Path) -> None:
    """The timed wait deletes its timer (/proc/self/timers is empty after) and changes no
    Python-visible signal handler."""
    handlers = {s: signal.getsignal(s) for s in signal.valid_signals() if s != signal.SIGKILL}
    with Lock(path):
        for _ in range(20):
            with pytest.raises(TimeoutError):
                Lock(path).acquire(0.001)
    assert Path("/proc/self/timers").read_text() == ""
    assert {s: signal.getsignal(s) for s in handlers} == handlers


TAKEN = r"""
import os, signal, sys, time
import cfcntl
calls = []
for s in range(signal.SIGRTMIN, signal.SIGRTMAX + 1):
    signal.signal(s, lambda n, f: calls.append(n))
holder = cfcntl.Lock(sys.argv[1])
holder.acquire()
t0, cpu0 = time.monotonic(), time.process_time()
try:
    cfcntl.Lock(sys.argv[1]).acquire(0.3)
except TimeoutError:
    pass
print(time.monotonic() - t0, time.process_time() - cpu0, calls)
"""


def test_every_realtime_signal_taken_falls_back_to_polling(path: Path) -> None:
    """With a Python handler on every real-time signal there is none to borrow: the timed
    wait polls instead, still ends at its deadline, and no user handler is ever called."""
    out = subprocess.run(
        [sys.executable, "-c", TAKEN, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split(maxsplit=2)
    elapsed, cpu, calls = float(out[0]), float(out[1]), out[2].strip()
    assert 0.3 <= elapsed < 0.5
    assert cpu < 0.1
    assert calls == "[]"


def test_a_timed_wait_ends_at_its_deadline_and_takes_a_freed_lock(
    path: Path, slowdown: float
) -> None:
    """No timed_waits fixture: this runs under qemu-user too, whose timer_create refuses
    the borrowed SIGRTMAX (EINVAL), and where the timed wait therefore polls F_SETLK.
    Either way it times out no earlier than its deadline, then takes the lock once the
    holder lets go."""
    held, done = threading.Event(), threading.Event()

    def holder() -> None:
        with Lock(path):
            held.set()
            done.wait(60)

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    assert held.wait(60)
    waiter = Lock(path)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        waiter.acquire(0.2)
    assert 0.2 <= time.monotonic() - started < 0.2 + 0.5 * slowdown
    threading.Timer(0.1, done.set).start()
    waiter.acquire(10 * slowdown)
    try:
        assert waiter.locked
    finally:
        waiter.release()
        thread.join(60)


def test_fork_child_releases_nothing(path: Path) -> None:
    """A held Lock inherited by a forked child is not ``locked`` there, and its release()
    (or a with-block exit) does not unlock: the parent still holds the lock after the
    child is gone."""
    lock = Lock(path)
    lock.acquire()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            report = f"{lock.locked}"
            lock.release()
            report += f" {lock.locked}"
            os.write(w, report.encode())
        finally:
            os._exit(0)
    os.close(w)
    try:
        assert os.read(r, 100) == b"False False"
        assert os.waitpid(pid, 0)[1] == 0
    finally:
        os.close(r)
    assert lock.locked
    with pytest.raises(TimeoutError):
        Lock(path).acquire(0)
    lock.release()
    Lock(path).acquire(0)


def test_repr(path: Path) -> None:
    lock = Lock(path, shared=True, start=5, length=10, ofd=False)
    assert repr(lock) == f"<cfcntl.Lock {path!r} 5+10 shared POSIX unlocked>"
    with lock:
        assert repr(lock).endswith(" locked>")


def test_reentrant_counts_nested_acquires(path: Path) -> None:
    """reentrant=True: the holding thread acquires again and again, and the lock goes
    with the last release; meanwhile another Lock (another holder) is refused."""
    lock, other = Lock(path, reentrant=True), Lock(path, timeout=0)
    with lock:
        with lock:
            lock.acquire()
            lock.release()
        assert lock.locked
        with pytest.raises(TimeoutError):
            other.acquire()
        with pytest.raises(RuntimeError, match="does not convert"):
            lock.acquire(shared=True)
    assert not lock.locked
    with other:
        pass
    with pytest.raises(RuntimeError, match="not held"):
        lock.release()


def test_reentrant_excludes_other_threads(path: Path) -> None:
    """Another thread's acquire of the same reentrant Lock waits (with its timeout) until
    the holding thread's last release, then takes it; its release works only there."""
    lock = Lock(path, reentrant=True)
    lock.acquire()
    lock.acquire()
    outcome: list[str] = []
    released = threading.Event()

    def other() -> None:
        try:
            lock.release()
        except RuntimeError:
            outcome.append("release refused")
        try:
            lock.acquire(0.05)
        except TimeoutError:
            outcome.append("timed out")
        lock.acquire(TIMEOUT)
        outcome.append(f"acquired after release: {released.is_set()}")
        lock.release()

    thread = threading.Thread(target=other)
    thread.start()
    while len(outcome) < 2 and thread.is_alive():
        thread.join(0.01)
    lock.release()
    assert lock.locked  # one release of two
    released.set()
    lock.release()
    thread.join(TIMEOUT)
    assert outcome == ["release refused", "timed out", "acquired after release: True"]
    assert not lock.locked
