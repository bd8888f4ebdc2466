"""``AsyncLock``: :class:`cfcntl.Lock` for asyncio, waiting without blocking the loop and
without polling.

An acquire first tries the lock on the loop (one F_OFD_SETLK: microseconds).  If it is
held elsewhere, the wait happens in F_OFD_SETLKW on a thread of its own
(``cf_lock_until_cancellable``, the deadline's timer aimed at that thread), whose result
comes back to the loop through ``call_soon_threadsafe``.  Cancelling the task fires the
thread's timer at once (``cf_wait_cancel``): the acquire waits the millisecond or so
until the thread has returned, closes the descriptor (dropping a lock the thread may
have placed just before), and lets the cancellation through, so a cancelled task holds
nothing and leaves no thread behind.

Threads: waiters in one process for the same range of the same file (device, inode,
start, length) queue in asyncio behind one another, and only the first waits on a
thread; so a process has at most one waiting thread per distinct (file, range) being
waited for, however many tasks wait (1,000 tasks on one lock: one thread).
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading

from ._cfcntl import ffi as _ffi, lib as _lib
from ._syscall import FAILED, oserror
from .constants import F_RDLCK, F_WRLCK
from .manager import _DEFAULT, _FOREVER, Lock, _checked_timeout, _deadline, _Default, commands

_Key = tuple[asyncio.AbstractEventLoop, int, int, int, int]
_queues: dict[_Key, tuple[asyncio.Lock, list[int]]] = {}
"""Per loop and (device, inode, start, length): the queue the waiters pass one at a time,
and how many are in it (the entry goes with the last)."""


class AsyncLock:
    """An OFD write (or, ``shared=True``, read) lock on bytes ``start``..``start+length``
    (0: to the end) of the file at ``path``, for asyncio: ``async with`` or ``await
    acquire(timeout=...)``, then ``release()``.

    Each acquire opens ``path`` (created if need be), so an AsyncLock is its own holder,
    excluding every other (in this process too, in any task or thread); it is not
    reentrant.  ``timeout`` is acquire's default, as for :class:`cfcntl.Lock`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        shared: bool = False,
        start: int = 0,
        length: int = 0,
        timeout: float | None = None,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"AsyncLock needs a path (each acquire opens its own), not {type(path).__name__}"
            )
        self._lock = Lock(path, shared=shared, start=start, length=length, timeout=0)
        self.timeout = _checked_timeout(timeout)

    @property
    def path(self) -> str | os.PathLike[str]:
        """The file locked."""
        return self._lock.file  # type: ignore[return-value]

    @property
    def locked(self) -> bool:
        """Whether this AsyncLock holds its lock (False in a forked child)."""
        return self._lock.locked

    def __repr__(self) -> str:
        return "<cfcntl.AsyncLock" + repr(self._lock).removeprefix("<cfcntl.Lock")

    async def acquire(self, timeout: float | _Default | None = _DEFAULT) -> None:
        """Take the lock, waiting at most ``timeout`` seconds (default: the AsyncLock's):
        None waits as long as it takes, 0 tries once; TimeoutError if it was not taken
        in time.  The event loop runs on meanwhile."""
        wait = self.timeout if isinstance(timeout, _Default) else _checked_timeout(timeout)
        lock = self._lock
        if lock.locked:
            raise RuntimeError(f"{self!r} is already held (an AsyncLock is not reentrant)")
        try:
            lock.acquire(0)
            return
        except TimeoutError:
            if wait == 0:
                raise
        deadline = _FOREVER if wait is None else _deadline(wait)
        loop = asyncio.get_running_loop()
        stat = os.stat(self.path)
        key = (loop, stat.st_dev, stat.st_ino, lock.start, lock.length)
        queue, count = _queues.setdefault(key, (asyncio.Lock(), [0]))
        count[0] += 1
        try:
            if wait is None:
                await queue.acquire()
            else:
                await asyncio.wait_for(queue.acquire(), wait)
            try:
                try:
                    lock.acquire(0)  # the one ahead may have let go already
                except TimeoutError:
                    await self._wait(loop, deadline, wait)
            finally:
                queue.release()
        except TimeoutError:
            raise TimeoutError(f"{self!r}: not acquired within {wait} s") from None
        finally:
            count[0] -= 1
            if not count[0]:
                del _queues[key]

    async def _wait(
        self, loop: asyncio.AbstractEventLoop, deadline: int, wait: float | None
    ) -> None:
        """The wait on a thread, in a descriptor of its own; on success the Lock holds it."""
        lock = self._lock
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        cancel = _ffi.new("struct cf_wait *")
        _lib.cf_wait_init(cancel)
        done: asyncio.Future[int] = loop.create_future()
        type = F_RDLCK if lock.shared else F_WRLCK
        cmds = commands(True)

        def finish(result: int) -> None:
            if not done.done():
                done.set_result(result)

        def run() -> None:
            while True:
                result = _lib.cf_lock_until_cancellable(
                    fd, *cmds, type, lock.start, lock.length, os.SEEK_SET, deadline, cancel
                )
                if result != FAILED - errno.EINTR:  # a signal for a Python handler
                    break
            try:
                loop.call_soon_threadsafe(finish, result)
            except RuntimeError:  # the loop is closed: nobody will take the lock
                os.close(fd)

        threading.Thread(target=run, name="cfcntl.AsyncLock wait", daemon=True).start()
        try:
            result = await asyncio.shield(done)
        except asyncio.CancelledError:
            _lib.cf_wait_cancel(cancel)
            while not done.done():  # the thread returns within a millisecond or so
                try:
                    await asyncio.shield(done)
                except asyncio.CancelledError:
                    continue
            os.close(fd)  # a lock placed just before the cancel goes with the descriptor
            raise
        if result != 0:
            os.close(fd)
            if result == FAILED - errno.ETIMEDOUT:
                raise TimeoutError(f"{self!r}: not acquired within {wait} s")
            raise oserror(FAILED - result)
        lock._adopt(fd)

    def release(self) -> None:
        """Unlock and close the file (RuntimeError if not held)."""
        self._lock.release()

    async def __aenter__(self) -> AsyncLock:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()
