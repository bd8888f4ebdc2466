"""Reliability of cfcntl.Lock: no lost update, timeouts, dead holders, signals, the GIL,
close and fork semantics, a model of the kernel's range arithmetic, and no leaks.

Bounded in time: every wait has a deadline; events, not sleeps, say when to go on (the
one poll, for "a thread is asleep in F_SETLKW", is conftest's wait_for_waiter).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import cfcntl
from cfcntl import F_RDLCK as R, F_UNLCK as U, F_WRLCK as W, Flock, Lock
from cfcntl.tools import struct_path
from cfcntl.tools.lockchild import TIMEOUT, Hold, WaitForWaiter

# -- no lost update ------------------------------------------------------------------------

WORKER = r"""
import os, sys
import cfcntl
path, count, locked = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "lock"
fd = os.open(path, os.O_RDWR)
lock = cfcntl.Lock(fd)  # its own open file description: OFD locks exclude the others
sys.stdin.readline()  # the start signal, so that all workers run at once
for _ in range(count):
    if locked:
        lock.acquire()
    n = int.from_bytes(os.pread(fd, 8, 0), "little")
    os.sched_yield()  # widen the read-modify-write window
    os.pwrite(fd, (n + 1).to_bytes(8, "little"), 0)
    if locked:
        lock.release()
"""


def bump(fd: int) -> None:
    """Read-modify-write the counter, with a window in which another thread can run."""
    n = int.from_bytes(os.pread(fd, 8, 0), "little")
    time.sleep(0)
    os.pwrite(fd, (n + 1).to_bytes(8, "little"), 0)


def count_in(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[:8], "little")


def run_processes(path: Path, workers: int, count: int, locked: bool) -> int:
    path.write_bytes(bytes(8))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), str(count), "lock" if locked else "none"],
            stdin=subprocess.PIPE,
        )
        for _ in range(workers)
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.close()
    for proc in procs:
        assert proc.wait(60) == 0
    return count_in(path)


def run_threads(path: Path, workers: int, count: int, locked: bool) -> int:
    path.write_bytes(bytes(8))
    start = threading.Barrier(workers)

    def work() -> None:
        fd = os.open(path, os.O_RDWR)
        lock = Lock(path)  # opened by each acquire: a description of its own
        start.wait(TIMEOUT)
        for _ in range(count):
            if locked:
                with lock:
                    bump(fd)
            else:
                bump(fd)
        os.close(fd)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return count_in(path)


@pytest.mark.parametrize("run", [run_processes, run_threads], ids=["processes", "threads"])
def test_no_lost_update(path: Path, run: object) -> None:
    """4 workers x 500 increments under Lock give exactly 2000.  The same workers without
    the lock lose updates (the control shows the test can see a loss; up to 10 tries,
    stopping at the first loss: under load, 3 tries once all lost nothing)."""
    assert callable(run)
    assert run(path, 4, 500, True) == 2000
    assert any(run(path, 4, 500, False) < 2000 for _ in range(10))


# -- timeouts, dead holders ----------------------------------------------------------------


def thread_cpu() -> float:
    """This thread's CPU seconds (CLOCK_THREAD_CPUTIME_ID: PyPy has no RUSAGE_THREAD)."""
    return time.thread_time()


@pytest.mark.usefixtures("timed_waits")
def test_timeout_precision_and_cpu(path: Path, hold: Hold) -> None:
    """A 1 s wait for a lock held elsewhere raises TimeoutError after 1 s (not before, and
    within the ~50 ms promised plus scheduling noise) using a few ms of CPU; timeout=0
    tries once and fails at once."""
    hold(f"cfcntl.setlk(fd, {W}, 0, 0)")
    lock = Lock(path)
    t0, cpu0 = time.monotonic(), thread_cpu()
    with pytest.raises(TimeoutError):
        lock.acquire(1.0)
    elapsed, cpu = time.monotonic() - t0, thread_cpu() - cpu0
    assert 1.0 <= elapsed < 1.15
    assert cpu < 0.02
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        lock.acquire(0)
    assert time.monotonic() - t0 < 0.1
    assert isinstance(info.value.__cause__, BlockingIOError)
    assert not lock.locked


@pytest.mark.parametrize("timeout", [None, TIMEOUT])
def test_a_dying_holder_lets_the_waiter_in(
    wait_for_waiter: WaitForWaiter,
    path: Path,
    hold: Hold,
    timeout: float | None,
    request: pytest.FixtureRequest,
) -> None:
    if timeout is not None:
        request.getfixturevalue("timed_waits")
    child = hold(f"cfcntl.setlk(fd, {W}, 0, 0, ofd=True)")
    lock = Lock(path, timeout=timeout)
    got = threading.Event()
    waiter = threading.Thread(target=lambda: (lock.acquire(), got.set()), daemon=True)
    waiter.start()
    wait_for_waiter()
    assert not got.is_set()
    child.proc.kill()
    assert got.wait(TIMEOUT) and lock.locked
    lock.release()


# -- signals and the GIL -------------------------------------------------------------------


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("timeout", [None, TIMEOUT])
def test_a_raising_handler_ends_the_wait(
    wait_for_waiter: WaitForWaiter,
    path: Path,
    hold: Hold,
    timeout: float | None,
    request: pytest.FixtureRequest,
) -> None:
    """SIGUSR1 during the wait: the handler's exception ends it, and nothing is held (once
    the holder goes, the file is free)."""
    if timeout is not None:
        request.getfixturevalue("timed_waits")
    child = hold(f"cfcntl.setlk(fd, {W}, 0, 0)")

    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    def fire() -> None:
        wait_for_waiter()
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

    old = signal.signal(signal.SIGUSR1, handler)
    lock = Lock(path, timeout=timeout)
    sender = threading.Thread(target=fire, daemon=True)
    try:
        sender.start()
        t0 = time.monotonic()
        with pytest.raises(Interrupted):
            lock.acquire()
        assert time.monotonic() - t0 < TIMEOUT
    finally:
        sender.join(TIMEOUT)  # its signal, if any, is sent before the handler goes
        signal.signal(signal.SIGUSR1, old)
    assert not lock.locked
    child.let_go()
    assert cfcntl.file_locks(path) == []


@pytest.mark.parametrize("timeout", [None, TIMEOUT])
def test_a_returning_handler_lets_the_wait_go_on(
    wait_for_waiter: WaitForWaiter,
    path: Path,
    hold: Hold,
    timeout: float | None,
    request: pytest.FixtureRequest,
) -> None:
    """A handler that returns: the wait resumes (seen asleep again) and takes the lock
    when the holder goes."""
    if timeout is not None:
        request.getfixturevalue("timed_waits")
    child = hold(f"cfcntl.setlk(fd, {W}, 0, 0)")
    handled = threading.Event()

    def fire() -> None:
        wait_for_waiter()
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)
        assert handled.wait(TIMEOUT)
        wait_for_waiter()
        child.let_go()

    old = signal.signal(signal.SIGUSR1, lambda n, f: handled.set())
    lock = Lock(path, timeout=timeout)
    sender = threading.Thread(target=fire, daemon=True)
    try:
        sender.start()
        lock.acquire()
    finally:
        sender.join(TIMEOUT)  # its signal, if any, is sent before the handler goes
        signal.signal(signal.SIGUSR1, old)
    assert handled.is_set() and lock.locked
    lock.release()


@pytest.mark.parametrize("timeout", [None, TIMEOUT])
def test_acquire_releases_the_gil(
    wait_for_waiter: WaitForWaiter,
    path: Path,
    hold: Hold,
    timeout: float | None,
    request: pytest.FixtureRequest,
) -> None:
    """Another Python thread counts to 100000 while acquire is confirmed still waiting."""
    if timeout is not None:
        request.getfixturevalue("timed_waits")
    child = hold(f"cfcntl.setlk(fd, {W}, 0, 0)")
    lock = Lock(path, timeout=timeout)
    waiter = threading.Thread(target=lock.acquire, daemon=True)
    waiter.start()
    wait_for_waiter()
    n = 0
    while n < 100_000:
        n += 1
    assert waiter.is_alive() and not lock.locked
    child.let_go()
    waiter.join(TIMEOUT)
    assert lock.locked
    lock.release()


# -- close, threads, fork: OFD against POSIX -----------------------------------------------


@pytest.mark.parametrize("ofd", [True, False], ids=["ofd", "posix"])
def test_close_and_thread_semantics(path: Path, ofd: bool) -> None:
    """OFD: a second Lock in another thread is refused, and closing an unrelated descriptor
    of the file drops nothing.  POSIX: the other thread's Lock succeeds (the process owns
    the lock, threads share it), and closing any descriptor of the file drops it."""
    mine = Lock(path, ofd=ofd)
    mine.acquire()
    outcome: list[str] = []

    def other() -> None:
        theirs = Lock(path, ofd=ofd, timeout=0)
        try:
            theirs.acquire()
            outcome.append("acquired")
            fd = os.open(path, os.O_RDONLY)
            cfcntl.setfd(fd, 0)  # any descriptor use; then close it
            os.close(fd)
        except TimeoutError:
            outcome.append("refused")

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(TIMEOUT)
    assert outcome == (["refused"] if ofd else ["acquired"])
    os.close(os.open(path, os.O_RDONLY))  # an unrelated descriptor, closed
    still = [h for h in cfcntl.file_locks(path) if h.pid == os.getpid()]
    assert len(still) == (1 if ofd else 0)
    mine.release()


@pytest.mark.parametrize("ofd", [True, False], ids=["ofd", "posix"])
def test_fork_semantics(path: Path, ofd: bool) -> None:
    """A forked child shares an OFD lock (its descriptor is the same open file description,
    so F_OFD_GETLK through it sees no conflict) but does not inherit a POSIX one (the
    parent's lock conflicts with the child, naming the parent).  Either way the child's
    release() and exit leave the parent's lock in place."""
    fd = os.open(path, os.O_RDWR)
    lock = Lock(fd, ofd=ofd)
    lock.acquire()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(w, repr(cfcntl.getlk(fd, W, ofd=True)).encode())
            lock.release()
        finally:
            os._exit(0)
    os.close(w)
    try:
        seen = os.read(r, 200).decode()
        assert os.waitpid(pid, 0)[1] == 0
    finally:
        os.close(r)
    assert seen == ("None" if ofd else repr(Flock(W, os.SEEK_SET, 0, 0, os.getpid())))
    assert lock.locked
    assert [h.pid for h in cfcntl.file_locks(path)] == [os.getpid()]
    lock.release()
    assert cfcntl.file_locks(path) == []
    os.close(fd)


# -- the kernel's range arithmetic, against a model and the stdlib struct path -------------

OFFSET_MAX = 2**63 - 1
OFFSETS = st.one_of(
    st.integers(-300, 300),
    st.integers(-(2**63), OFFSET_MAX),
    st.sampled_from([OFFSET_MAX, OFFSET_MAX - 1, -OFFSET_MAX - 1, 2**62, -(2**62)]),
)
WHENCES = st.sampled_from([os.SEEK_SET, os.SEEK_CUR, os.SEEK_END])
TYPES = st.sampled_from([R, W])


def model(whence: int, start: int, length: int, pos: int, size: int) -> tuple[int, int] | int:
    """The range (first, last byte) the kernel makes of a struct flock, or its errno
    (fs/locks.c, flock64_to_posix_lock)."""
    base = {os.SEEK_SET: 0, os.SEEK_CUR: pos, os.SEEK_END: size}[whence]
    if start > OFFSET_MAX - base:
        return errno.EOVERFLOW
    first = base + start
    if first < 0:
        return errno.EINVAL
    if length > 0:
        if length - 1 > OFFSET_MAX - first:
            return errno.EOVERFLOW
        return first, first + length - 1
    if length < 0:
        if first + length < 0:
            return errno.EINVAL
        return first + length, first - 1
    return first, OFFSET_MAX


def as_flock(type: int, first: int, last: int, pid: int) -> Flock:
    return Flock(type, os.SEEK_SET, first, 0 if last == OFFSET_MAX else last - first + 1, pid)


@settings(max_examples=300, deadline=None)
@given(
    held=st.tuples(TYPES, WHENCES, OFFSETS, OFFSETS),
    query=st.tuples(TYPES, WHENCES, OFFSETS, OFFSETS),
    pos=st.integers(0, 300),
    size=st.integers(0, 200),
)
def test_ranges_against_the_model_and_the_stdlib(
    tmp_path_factory: pytest.TempPathFactory,
    held: tuple[int, int, int, int],
    query: tuple[int, int, int, int],
    pos: int,
    size: int,
) -> None:
    """setlk resolves type/whence/start/length as the model says (or fails with its
    errno); getlk of a random query then finds the held lock exactly when the ranges
    overlap and one of the two is a write, and the stdlib struct path agrees."""
    path = tmp_path_factory.getbasetemp() / "model"
    holder, prober = os.open(path, os.O_RDWR | os.O_CREAT), os.open(path, os.O_RDWR)
    try:
        os.ftruncate(holder, size)
        for fd in (holder, prober):
            os.lseek(fd, pos, os.SEEK_SET)
        type, whence, start, length = held
        expected = model(whence, start, length, pos, size)
        placed: tuple[int, int] | None = None
        try:
            cfcntl.setlk(holder, type, start, length, whence, ofd=True)
        except OSError as exc:
            assert exc.errno == expected
        else:
            assert isinstance(expected, tuple)
            placed = expected
        qtype, qwhence, qstart, qlength = query
        asked = model(qwhence, qstart, qlength, pos, size)
        if isinstance(asked, int):
            with pytest.raises(OSError) as info:
                cfcntl.getlk(prober, qtype, qstart, qlength, qwhence, ofd=True)
            assert info.value.errno == asked
            with pytest.raises(OSError) as info:
                struct_path.getlk(prober, qtype, qstart, qlength, qwhence, ofd=True)
            assert info.value.errno == asked
            return
        found = cfcntl.getlk(prober, qtype, qstart, qlength, qwhence, ofd=True)
        conflict = (
            placed is not None
            and placed[0] <= asked[1]
            and asked[0] <= placed[1]
            and W in (type, qtype)
        )
        want = as_flock(type, *placed, -1) if placed is not None and conflict else None
        assert found == want
        assert struct_path.getlk(prober, qtype, qstart, qlength, qwhence, ofd=True) == want
    finally:
        os.close(holder)
        os.close(prober)


# -- no leak -------------------------------------------------------------------------------


def rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.usefixtures("timed_waits")
def test_a_million_typed_calls_leak_nothing(path: Path) -> None:
    """A million getlk/setlk calls (half of the getlk ones finding a conflict, so building a
    Flock) plus Lock acquire/release and failed timed waits: RSS and the number of open
    descriptors end where they were after a warm-up, and no POSIX timer is left behind."""
    holder, prober = os.open(path, os.O_RDWR), os.open(path, os.O_RDWR)
    setlk, getlk = cfcntl.setlk, cfcntl.getlk
    lock = Lock(prober, start=10, length=1, timeout=0)

    def calls(n: int) -> None:
        for _ in range(n):
            setlk(holder, W, 0, 1, ofd=True)
            getlk(prober, W, 0, 1, ofd=True)
            setlk(holder, U, 0, 1, ofd=True)
            getlk(prober, W, 0, 1, ofd=True)
            lock.acquire()
            lock.release()

    def timed(n: int) -> None:
        setlk(holder, W, 10, 1, ofd=True)
        for _ in range(n):
            with pytest.raises(TimeoutError):
                lock.acquire(0.0001)
        setlk(holder, U, 10, 1, ofd=True)

    try:
        calls(20_000)
        timed(50)
        fds, memory = len(os.listdir("/proc/self/fd")), rss()
        calls(1_000_000 // 6)
        timed(500)
        assert len(os.listdir("/proc/self/fd")) == fds
        assert rss() - memory < 2 << 20
        assert Path("/proc/self/timers").read_text() == ""
    finally:
        os.close(holder)
        os.close(prober)


# -- issue 15: AsyncLock and Semaphore across processes, a Semaphore wait interrupted ------

ASYNC_WORKER = r"""
import asyncio, os, sys
import cfcntl
path, count, locked = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fd = os.open(path, os.O_RDWR)
sys.stdin.readline()

async def bump():
    n = int.from_bytes(os.pread(fd, 8, 0), "little")
    await asyncio.sleep(0)
    os.sched_yield()
    os.pwrite(fd, (n + 1).to_bytes(8, "little"), 0)

async def main():
    lock = cfcntl.AsyncLock(path, length=8)
    sem = cfcntl.Semaphore(path + ".sem", 1)
    for _ in range(count):
        if locked == "async":
            async with lock:
                await bump()
        elif locked == "semaphore":
            with sem:
                await bump()
        else:
            await bump()

asyncio.run(main())
"""


@pytest.mark.usefixtures("timed_waits")
@pytest.mark.parametrize("locked", ["async", "semaphore"])
def test_no_lost_update_async_and_semaphore(
    path: Path, locked: str, together: Callable[..., None]
) -> None:
    """4 processes x 300 increments under AsyncLock, or a Semaphore of 1, give exactly
    1200; without a lock the same processes lose updates (up to 10 tries)."""

    def run(mode: str) -> int:
        path.write_bytes(bytes(8))
        together([[sys.executable, "-c", ASYNC_WORKER, str(path), "300", mode]] * 4)
        return count_in(path)

    assert run(locked) == 1200
    assert any(run("none") < 1200 for _ in range(10))


@pytest.mark.usefixtures("timed_waits")
def test_a_raising_handler_ends_a_semaphore_wait(
    wait_for_waiter: WaitForWaiter, path: Path
) -> None:
    """SIGUSR1 while a Semaphore waits past its gate: the handler's exception ends the
    wait, its slot threads are gone, and it holds nothing (the file shows only the
    child's slot)."""
    from cfcntl.tools.lockchild import Child

    with Child(path, "s = cfcntl.Semaphore(path, 1); s.acquire(0)") as child:

        def handler(signum: int, frame: object) -> None:
            raise Interrupted

        def fire() -> None:
            wait_for_waiter()
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

        old = signal.signal(signal.SIGUSR1, handler)
        before = threading.active_count()
        sender = threading.Thread(target=fire, daemon=True)
        sem = cfcntl.Semaphore(path, 1)
        try:
            sender.start()
            with pytest.raises(Interrupted):
                sem.acquire(TIMEOUT)
        finally:
            sender.join(TIMEOUT)
            signal.signal(signal.SIGUSR1, old)
        assert threading.active_count() == before
        assert sem.held == 0
        assert [(h.pid, h.start, h.waiting) for h in cfcntl.file_locks(path)] == [
            (child.pid, 0, False)
        ]
