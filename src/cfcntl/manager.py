"""``Lock``: a record lock on a file, as a context manager, with timeouts.

The kernel's record locks (fcntl F_SETLK/F_SETLKW) have no timeout; this module adds one
without polling: the waiting thread sleeps in F_SETLKW, queued by the kernel with the
other waiters, and a POSIX timer aimed at that thread (SIGEV_THREAD_ID) interrupts it at
the deadline with a real-time signal whose handler does nothing
(``src/cfcntl/_c/lockwait.c``, ``cf_lock_until``).
"""

from __future__ import annotations

import errno
import math
import os
import time

from . import holders as _holders
from ._cfcntl import lib as _lib
from ._syscall import FAILED, FileDescriptorLike, as_int, c_range, fileno, oserror
from .constants import F_RDLCK, F_SETLK, F_SETLKW, F_UNLCK, F_WRLCK, require
from .locks import setlk, setlkw

_cf_lock_until = _lib.cf_lock_until


class _Default:
    """The type of acquire()'s "timeout not given"."""


_DEFAULT = _Default()

File = str | os.PathLike[str] | FileDescriptorLike


def _checked_timeout(timeout: object) -> float | None:
    """``timeout`` as given (an int of any size, or a finite float), or the error now."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be None or a number, not {type(timeout).__name__}")
    if isinstance(timeout, float) and not (timeout >= 0 and math.isfinite(timeout)):
        raise ValueError(f"timeout must be None or a finite number >= 0, not {timeout}")
    if timeout < 0:
        raise ValueError(f"timeout must be None or a finite number >= 0, not {timeout}")
    return timeout


_FOREVER = c_range("int64_t")[1]
"""The latest deadline the C wait takes (CLOCK_MONOTONIC ns, int64_t): 292 years of uptime."""


def _deadline(timeout: float) -> int:
    """CLOCK_MONOTONIC in ns ``timeout`` seconds from now; any later one (1e10 s, 10**400
    s) is :data:`_FOREVER`, a wait that does not end before the lock is placed."""
    now = time.monotonic_ns()
    wait = timeout * 1_000_000_000 if isinstance(timeout, int) else timeout * 1e9
    return _FOREVER if wait >= _FOREVER - now else now + math.ceil(wait)


class Lock:
    """A record lock on bytes ``start``..``start+length`` (0: to the end) of ``file``.

    ``file`` is a path (opened, and created if need be, by each acquire and closed by
    release), or an fd or file object (left open).  ``shared=True`` takes a read lock,
    else a write lock.  ``ofd=True`` (the default) places open file description locks:
    two Lock objects exclude each other even in one process, in any threads, and closing
    some other descriptor of the file drops nothing.  ``ofd=False`` places classic POSIX
    locks, owned by the process: its threads share them, and closing any of its
    descriptors of the file drops them all.  ``timeout`` is acquire's default.

    One Lock is one holder and is not reentrant; give each thread its own.  A forked
    child inherits the object but not the right to release: see :meth:`release`.
    """

    def __init__(
        self,
        file: File,
        *,
        shared: bool = False,
        start: int = 0,
        length: int = 0,
        ofd: bool = True,
        timeout: float | None = None,
    ) -> None:
        if isinstance(file, (str, os.PathLike)):
            self._path: str | os.PathLike[str] | None = file
        else:
            fileno(file)  # TypeError/ValueError now rather than at acquire
            self._path = None
        self.file = file
        self.shared = bool(shared)
        self.start = as_int("Lock", "start", start)
        self.length = as_int("Lock", "length", length)
        self.ofd = bool(ofd)
        self.timeout = _checked_timeout(timeout)
        self._fd = -1
        self._owner = 0

    def __repr__(self) -> str:
        state = "locked" if self.locked else "unlocked"
        mode = "shared" if self.shared else "exclusive"
        kind = "OFD" if self.ofd else "POSIX"
        return f"<cfcntl.Lock {self.file!r} {self.start}+{self.length} {mode} {kind} {state}>"

    @property
    def locked(self) -> bool:
        """Whether this Lock holds its lock in this process (False in a forked child)."""
        return self._fd >= 0 and self._owner == os.getpid()

    def acquire(
        self, timeout: float | _Default | None = _DEFAULT, *, shared: bool | None = None
    ) -> None:
        """Take the lock, waiting at most ``timeout`` seconds (default: the Lock's).

        None waits as long as it takes, 0 tries once; TimeoutError if the lock was not
        taken in time.  A held lock is converted in place to ``shared`` (upgrade or
        downgrade); while an upgrade waits, and if it times out, the read lock stays
        held.  A wait the kernel finds would deadlock with POSIX locks raises
        OSError(EDEADLK); OFD locks have no deadlock detection, so use a timeout.  A
        signal handler that raises ends the wait with its exception.
        """
        wait = self.timeout if isinstance(timeout, _Default) else _checked_timeout(timeout)
        mode = self.shared if shared is None else bool(shared)
        held = self.locked
        if held and mode == self.shared:
            raise RuntimeError(f"{self!r} is already held (a Lock is not reentrant)")
        if not held and self._fd >= 0:
            self.release()  # a forked child's copy of its parent's lock: forget it
        fd = self._fd if held else self._open()
        try:
            self._place(fd, F_RDLCK if mode else F_WRLCK, wait)
        except BaseException:
            if not held and self._path is not None:
                os.close(fd)
            raise
        self._fd, self._owner, self.shared = fd, os.getpid(), mode

    def release(self) -> None:
        """Unlock, and close the file if this Lock opened it.

        In a forked child that inherited a held Lock, release only forgets it (and closes
        the child's copy of the descriptor, if the Lock opened it): it never unlocks, so
        the parent keeps its lock.
        """
        if self._fd < 0:
            raise RuntimeError(f"{self!r} is not held")
        fd, self._fd = self._fd, -1
        try:
            if self._owner == os.getpid():
                setlk(fd, F_UNLCK, self.start, self.length, ofd=self.ofd)
        finally:
            self._owner = 0
            if self._path is not None:
                os.close(fd)

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def holders(self) -> list[_holders.Holder]:
        """The locks of others that conflict with this Lock's range and mode, and who holds
        them (:func:`cfcntl.file_locks`); this Lock's own lock is never among them."""
        start, length = self.start, self.length
        if length < 0:
            start, length = start + length, -length
        end = _holders.OFFSET_MAX if length == 0 else start + length - 1
        type = F_RDLCK if self.shared else F_WRLCK
        me = os.getpid()
        return [
            h
            for h in _holders.file_locks(self.file)
            if _holders.conflicts(h, type, start, end)
            and not (h.pid == me and ((h.kind == "POSIX" and not self.ofd) or h.fd == self._fd))
        ]

    def _open(self) -> int:
        if self._path is None:
            return fileno(self.file)  # type: ignore[arg-type]
        return os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)

    def _place(self, fd: int, type: int, timeout: float | None) -> None:
        if timeout is None:
            setlkw(fd, type, self.start, self.length, ofd=self.ofd)
            return
        try:
            setlk(fd, type, self.start, self.length, ofd=self.ofd)
            return
        except BlockingIOError as exc:
            if timeout == 0:
                raise TimeoutError(f"{self!r}: held elsewhere") from exc
        deadline = _deadline(timeout)
        try_cmd = require("F_OFD_SETLK") if self.ofd else F_SETLK
        wait_cmd = require("F_OFD_SETLKW") if self.ofd else F_SETLKW
        while (
            result := _cf_lock_until(
                fd, try_cmd, wait_cmd, type, self.start, self.length, os.SEEK_SET, deadline
            )
        ) <= FAILED:
            error = oserror(FAILED - result)
            if error.errno == errno.ETIMEDOUT:
                raise TimeoutError(f"{self!r}: not acquired within {timeout} s")
            if not isinstance(error, InterruptedError):
                raise error
            # EINTR: a Python signal handler runs on the way round; if it raises, that ends it.
