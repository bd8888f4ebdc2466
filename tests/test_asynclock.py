"""cfcntl.AsyncLock: the loop runs on while it waits, timeouts, cancellation, a dying
holder, 1,000 waiters on one thread, no lost update, and ``import cfcntl`` without
asyncio."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import cfcntl
from cfcntl import F_WRLCK as W
from cfcntl.tools.lockchild import TIMEOUT, Hold, WaitForWaiter


@pytest.mark.usefixtures("timed_waits")
def test_timeout_keeps_the_loop_running_and_costs_no_cpu(path: Path, hold: Hold) -> None:
    """A 0.3 s wait for a lock held by another process ends in TimeoutError at 0.3 s;
    meanwhile a ticker task ran (the loop was never blocked) and the process used a few
    ms of CPU (nothing polled)."""
    hold(f"cfcntl.setlk(fd, {W}, 0, 0)")

    async def main() -> tuple[float, float, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        lock = cfcntl.AsyncLock(path)
        t0, cpu0 = time.monotonic(), time.process_time()
        with pytest.raises(TimeoutError):
            await lock.acquire(0.3)
        elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
        task.cancel()
        assert not lock.locked
        return elapsed, cpu, ticks

    elapsed, cpu, ticks = asyncio.run(main())
    assert 0.3 <= elapsed < 0.45
    assert ticks >= 10
    assert cpu < 0.05


@pytest.mark.usefixtures("timed_waits")
def test_cancelled_waiter_holds_nothing_and_leaves_no_thread(
    path: Path, hold: Hold, wait_for_waiter: WaitForWaiter
) -> None:
    """A task cancelled while its wait sleeps in F_OFD_SETLKW: once the cancellation is
    through, no thread waits and the process holds and waits for nothing on the file."""
    child = hold(f"cfcntl.setlk(fd, {W}, 0, 0, ofd=True)")
    before = threading.active_count()

    async def main() -> None:
        lock = cfcntl.AsyncLock(path)
        task = asyncio.create_task(lock.acquire())
        await asyncio.to_thread(wait_for_waiter)  # an OFD waiter shows no pid
        assert threading.active_count() == before + 2  # the waiter, to_thread's worker
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not lock.locked

    asyncio.run(main())
    for thread in threading.enumerate():  # the waiting thread returns, bounded in time
        if thread.name == "cfcntl.AsyncLock wait":
            thread.join(TIMEOUT)
    assert threading.active_count() == before
    assert [h.pid for h in cfcntl.file_locks(path)] == [child.pid]
    child.let_go()
    assert cfcntl.file_locks(path) == []


@pytest.mark.usefixtures("timed_waits")
def test_a_dying_holder_lets_the_waiter_in(
    path: Path, hold: Hold, wait_for_waiter: WaitForWaiter
) -> None:
    child = hold(f"cfcntl.setlk(fd, {W}, 0, 0, ofd=True)")

    async def main() -> None:
        lock = cfcntl.AsyncLock(path, timeout=TIMEOUT)
        task = asyncio.create_task(lock.acquire())
        await asyncio.to_thread(wait_for_waiter)
        child.proc.kill()
        await asyncio.wait_for(task, TIMEOUT)
        assert lock.locked
        lock.release()

    asyncio.run(main())


@pytest.mark.usefixtures("timed_waits")
def test_a_thousand_waiters_one_thread_no_lost_update(path: Path) -> None:
    """1,000 tasks, each with its own AsyncLock, increment a counter in the file with a
    yield to the loop inside: exactly 1,000, and while they queued at most one thread
    waited.  Without the lock the same tasks lose updates (the control)."""
    counter = os.open(path, os.O_RDWR)

    async def bump(lock: cfcntl.AsyncLock | None) -> None:
        if lock is not None:
            await lock.acquire()
        n = int.from_bytes(os.pread(counter, 8, 0), "little")
        await asyncio.sleep(0)
        os.pwrite(counter, (n + 1).to_bytes(8, "little"), 0)
        if lock is not None:
            lock.release()

    async def main(locked: bool) -> int:
        os.pwrite(counter, bytes(8), 0)
        before = threading.active_count()
        first = cfcntl.AsyncLock(path)
        await first.acquire()
        tasks = [
            asyncio.create_task(bump(cfcntl.AsyncLock(path) if locked else None))
            for _ in range(1000)
        ]
        for _ in range(20):
            await asyncio.sleep(0.005)
        most = threading.active_count() - before
        first.release()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        return most

    try:
        assert asyncio.run(main(True)) <= 1
        assert int.from_bytes(os.pread(counter, 8, 0), "little") == 1000
        asyncio.run(main(False))
        assert int.from_bytes(os.pread(counter, 8, 0), "little") < 1000
    finally:
        os.close(counter)


def test_async_with_and_errors(path: Path) -> None:
    async def main() -> None:
        lock = cfcntl.AsyncLock(path, timeout=0)
        async with lock:
            assert lock.locked
            with pytest.raises(RuntimeError, match="not reentrant"):
                await lock.acquire()
            with pytest.raises(TimeoutError):
                await cfcntl.AsyncLock(path).acquire(0)
        assert not lock.locked

    asyncio.run(main())
    with pytest.raises(TypeError, match="path"):
        cfcntl.AsyncLock(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        cfcntl.AsyncLock(path, timeout=-1)


def test_import_cfcntl_loads_no_asyncio() -> None:
    probe = "import sys, cfcntl; print('asyncio' in sys.modules, 'threading' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr
    probe = "import sys, cfcntl; cfcntl.AsyncLock; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True"], out.stderr
