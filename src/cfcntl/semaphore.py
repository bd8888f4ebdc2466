"""``Semaphore``: up to n holders of a file, across processes and threads, in OFD locks.

The file's bytes 0..n-1 are the n slots, each held by a write lock on its one byte; byte
n is the gate.  An acquire opens the file (its own open file description, so two
acquires exclude each other in any threads) and tries each slot once with F_OFD_SETLK,
from a slot that turns round from one acquire to the next.  When all n are taken it
waits, in two stages, sleeping in F_OFD_SETLKW throughout (no polling, no spinning):

1. at the gate, a write lock on byte n: the kernel queues every waiter there, so that
   at most one of them (system-wide) waits for a slot;
2. past the gate, the waiter tries the slots once more, then waits for all n at once:
   one thread per slot, each in F_OFD_SETLKW on its byte (``cf_lock_until_cancellable``,
   with the acquire's deadline).  The first to place its lock wins; the others are
   cancelled (their timer fires at them) and any that won too lets its byte go.  So the
   waiter wakes when any slot frees, a holder's death included, and at most n threads
   wait at any time, in the one process past the gate.

Fairness: none promised.  The kernel wakes every waiter at the gate when it frees and
they race for it, and an acquire that finds a slot free on its first pass takes it
ahead of the waiter past the gate.
"""

from __future__ import annotations

import errno
import os
from _thread import get_ident as _get_ident

from ._cfcntl import ffi as _ffi, lib as _lib
from ._syscall import FAILED, as_int, c_range, oserror
from .constants import F_UNLCK, F_WRLCK
from .locks import setlk, setlkw
from .manager import _DEFAULT, _FOREVER, _checked_timeout, _deadline, _Default, commands, wait_until

_cf_lock_until_cancellable = _lib.cf_lock_until_cancellable


class Semaphore:
    """At most ``n`` holders at a time of ``path`` (created if need be), across processes
    and threads: the file's bytes 0..n-1 are n one-byte OFD locks.

    ``acquire()`` returns the slot it took (0..n-1); ``release()`` lets go of the last
    slot the calling thread took.  ``timeout`` is acquire's default, as for
    :class:`cfcntl.Lock`: None waits as long as it takes, 0 tries once, a positive number
    raises TimeoutError at the deadline.  ``with sem:`` holds one slot for the block.
    Every holder of a file must use the same ``n``.
    """

    def __init__(self, path: str | os.PathLike[str], n: int, *, timeout: float | None = None):
        n = as_int("Semaphore", "n", n)
        if not 1 <= n <= c_range("off_t")[1] - 1:
            raise ValueError(f"Semaphore(): n must be at least 1, not {n}")
        self.path = path
        self.n = n
        self.timeout = _checked_timeout(timeout)
        self._cmds = commands(True)
        self._next = 0
        self._held: dict[int, list[tuple[int, int, int]]] = {}

    def __repr__(self) -> str:
        return f"<cfcntl.Semaphore {self.path!r} n={self.n} held here: {self.held}>"

    @property
    def held(self) -> int:
        """How many slots this object holds, in this process, over all threads."""
        generation = _lib.cf_lock_generation()
        return sum(1 for stack in self._held.values() for _, _, g in stack if g == generation)

    def acquire(self, timeout: float | _Default | None = _DEFAULT) -> int:
        """Take a free slot, waiting at most ``timeout`` seconds (default: the
        Semaphore's) for one; the slot's number.  TimeoutError if none came free in
        time; a signal handler that raises ends the wait with its exception."""
        wait = self.timeout if isinstance(timeout, _Default) else _checked_timeout(timeout)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            slot = self._try(fd)
            if slot < 0:
                if wait == 0:
                    raise TimeoutError(f"{self!r}: all {self.n} slots are taken")
                slot = self._wait(fd, wait)
        except BaseException:
            os.close(fd)
            raise
        self._held.setdefault(_get_ident(), []).append((fd, slot, _lib.cf_lock_generation()))
        return slot

    def release(self) -> None:
        """Let go of the last slot this thread took (RuntimeError if it holds none).  In
        a forked child that inherited it, only forget it: the parent keeps its slot."""
        stack = self._held.get(_get_ident())
        if not stack:
            raise RuntimeError(f"{self!r}: this thread holds no slot")
        fd, slot, generation = stack.pop()
        if not stack:
            del self._held[_get_ident()]
        try:
            if generation == _lib.cf_lock_generation():
                setlk(fd, F_UNLCK, slot, 1, ofd=True)
        finally:
            os.close(fd)

    def __enter__(self) -> Semaphore:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _try(self, fd: int) -> int:
        """One F_OFD_SETLK per slot from the turning start: the slot taken, or -1."""
        n, first = self.n, self._next
        self._next = (first + 1) % n
        for k in range(n):
            slot = (first + k) % n
            try:
                setlk(fd, F_WRLCK, slot, 1, ofd=True)
            except BlockingIOError:
                continue
            return slot
        return -1

    def _wait(self, fd: int, timeout: float | None) -> int:
        """The gate, then all slots at once (the module's docstring)."""
        deadline = _FOREVER if timeout is None else _deadline(timeout)
        if timeout is None:
            setlkw(fd, F_WRLCK, self.n, 1, ofd=True)
        else:
            wait_until(self, fd, self._cmds, F_WRLCK, self.n, 1, timeout)
        try:
            slot = self._try(fd)
            return slot if slot >= 0 else self._wait_any(fd, deadline)
        finally:
            setlk(fd, F_UNLCK, self.n, 1, ofd=True)

    def _wait_any(self, fd: int, deadline: int) -> int:
        """One thread per slot in F_OFD_SETLKW until the first places its lock."""
        from queue import SimpleQueue
        from threading import Thread

        results: SimpleQueue[tuple[int, int]] = SimpleQueue()
        waits = [_ffi.new("struct cf_wait *") for _ in range(self.n)]
        try_cmd, wait_cmd = self._cmds

        def wait_for(slot: int) -> None:
            while True:
                result = _cf_lock_until_cancellable(
                    fd, try_cmd, wait_cmd, F_WRLCK, slot, 1, os.SEEK_SET, deadline, waits[slot]
                )
                if result != FAILED - errno.EINTR:  # a signal for the Python handler
                    break
            results.put((slot, result))

        threads = [
            Thread(target=wait_for, args=(k,), name="cfcntl.Semaphore wait") for k in range(self.n)
        ]
        for wait, thread in zip(waits, threads, strict=True):
            _lib.cf_wait_init(wait)
            thread.start()
        won, error, pending = -1, None, self.n
        try:
            while won < 0 and error is None and pending:
                slot, result = results.get()
                pending -= 1
                if result == 0:
                    won = slot
                elif result != FAILED - errno.ETIMEDOUT:
                    error = oserror(FAILED - result)
        finally:
            for wait in waits:
                _lib.cf_wait_cancel(wait)
            while pending:  # every thread ends within a millisecond or so of its cancel
                slot, result = results.get()
                pending -= 1
                if result == 0:  # it won too, or instead of a failed or interrupted wait
                    if won < 0 and error is None:
                        won = slot
                    else:
                        setlk(fd, F_UNLCK, slot, 1, ofd=True)
            for thread in threads:  # each has said its result: it is returning
                thread.join()
        if won >= 0:
            return won
        if error is not None:
            raise error
        raise TimeoutError(f"{self!r}: no slot of {self.n} came free in time")
