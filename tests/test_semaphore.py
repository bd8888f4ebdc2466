"""cfcntl.Semaphore: at most n holders across processes and threads, a waiter woken by
whichever slot frees (a holder's death too), timeouts without CPU, fork, bad input."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import cfcntl
from cfcntl import Semaphore
from cfcntl.tools.lockchild import TIMEOUT, Child, WaitForWaiter

WORKER = r"""
import os, sys
import cfcntl
sem_path, count_path, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sem, guard = cfcntl.Semaphore(sem_path, n), cfcntl.Lock(count_path, length=8)
fd = os.open(count_path, os.O_RDWR)
def add(k):  # the inside count at bytes 0..7 and its maximum at 8..15, under the guard
    with guard:
        inside = int.from_bytes(os.pread(fd, 8, 0), "little") + k
        most = max(inside, int.from_bytes(os.pread(fd, 8, 8), "little"))
        os.pwrite(fd, inside.to_bytes(8, "little") + most.to_bytes(8, "little"), 0)
sys.stdin.readline()
for _ in range(rounds):
    with sem:
        add(1)
        os.sched_yield()
        add(-1)
"""


@pytest.mark.usefixtures("timed_waits")
def test_at_most_n_holders_across_processes(tmp_path: Path, together: Callable[..., None]) -> None:
    """6 processes x 40 rounds through a Semaphore of 2: the most ever inside at once,
    counted under a Lock, is 2 (and reaches 2: the count can see concurrency)."""
    count = tmp_path / "count"
    count.write_bytes(bytes(16))
    together([[sys.executable, "-c", WORKER, str(tmp_path / "sem"), str(count), "2", "40"]] * 6)
    data = count.read_bytes()
    assert int.from_bytes(data[:8], "little") == 0
    assert int.from_bytes(data[8:16], "little") == 2


def test_threads_share_one_semaphore(path: Path) -> None:
    """Threads sharing one object: each release lets go of its own thread's slot."""
    sem = Semaphore(path, 3, timeout=0)
    slots: list[int] = []
    barrier = threading.Barrier(3)

    def take() -> None:
        slots.append(sem.acquire())
        barrier.wait(TIMEOUT)
        sem.release()

    threads = [threading.Thread(target=take) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert sorted(slots) == [0, 1, 2] and sem.held == 0
    with pytest.raises(RuntimeError, match="holds no slot"):
        sem.release()


@pytest.mark.usefixtures("timed_waits")
@pytest.mark.parametrize("freed", [0, 1])
def test_the_waiter_wakes_when_any_slot_frees(
    path: Path, wait_for_waiter: WaitForWaiter, freed: int
) -> None:
    """Two children hold the two slots; a waiter sleeps (past the gate, on both slots);
    killing either holder lets it in, with that holder's slot, in bounded time; the
    waiting threads are gone after."""
    holders = [Child(path, "s = cfcntl.Semaphore(path, 2)") for _ in range(2)]
    try:
        assert [child.ask("s.acquire(0)") for child in holders] == [0, 1]
        before = threading.active_count()
        got: list[int] = []
        sem = Semaphore(path, 2)
        waiter = threading.Thread(target=lambda: got.append(sem.acquire(TIMEOUT)))
        waiter.start()
        wait_for_waiter()
        holders[freed].proc.kill()
        waiter.join(TIMEOUT)
        assert got == [freed]
        assert threading.active_count() == before
        assert sem.held == 1
    finally:
        for child in holders:
            child.stop()


@pytest.mark.usefixtures("timed_waits")
def test_timeout_precision_and_cpu(path: Path) -> None:
    """All slots taken: a 0.3 s acquire raises TimeoutError after 0.3 s using a few ms of
    CPU; timeout=0 fails at once; nothing is left held or waiting."""
    with Child(path, "s = cfcntl.Semaphore(path, 2); s.acquire(0); s.acquire(0)") as child:
        sem = Semaphore(path, 2)
        t0, cpu0 = time.monotonic(), time.process_time()
        with pytest.raises(TimeoutError):
            sem.acquire(0.3)
        elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
        assert 0.3 <= elapsed < 0.45
        assert cpu < 0.05
        with pytest.raises(TimeoutError):
            sem.acquire(0)
        assert {h.pid for h in cfcntl.file_locks(path)} == {child.pid}
        assert sem.held == 0


def test_fork_child_releases_nothing(path: Path) -> None:
    sem = Semaphore(path, 1, timeout=0)
    sem.acquire()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            sem.release()
        finally:
            os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0
    with pytest.raises(TimeoutError):
        Semaphore(path, 1).acquire(0)
    sem.release()
    with Semaphore(path, 1, timeout=0):
        pass


def test_bad_arguments(path: Path) -> None:
    for bad in (0, -1):
        with pytest.raises(ValueError, match="n must"):
            Semaphore(path, bad)
    with pytest.raises(TypeError):
        Semaphore(path, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        Semaphore(path, 2, timeout=-1)
