"""``Lock``: a record lock on a file, as a context manager, with timeouts.

The kernel's record locks (fcntl F_SETLK/F_SETLKW) have no timeout; this module adds one
without polling: the waiting thread sleeps in F_SETLKW, queued by the kernel with the
other waiters, and a POSIX timer aimed at that thread (SIGEV_THREAD_ID) interrupts it at
the deadline with a real-time signal whose handler does nothing
(``src/cfcntl/_c/lockwait.c``, ``cf_lock_until``).

The uncontended acquire and release are one C call each, of one argument
(``cf_lock_hold`` and ``cf_lock_drop`` on the Lock's ``struct cf_lockspec``): the open,
the lock, the close and the fork-ownership check (a generation a ``pthread_atfork``
handler counts, carried in the holder's token, where two ``getpid`` calls used to be)
happen in C.  Anything else (a wait with a deadline, a conversion, a reentrant Lock, a
range C cannot hold, a failure to report) takes the general path.
"""

from __future__ import annotations

import errno
import math
import os
import time
from _thread import (
    TIMEOUT_MAX as _thread_timeout_max,
    allocate_lock as _allocate_lock,
    get_ident as _get_ident,
)

from . import holders as _holders
from ._cfcntl import ffi as _ffi, lib as _lib
from ._syscall import FAILED, FileDescriptorLike, as_int, c_range, fileno, oserror
from .constants import F_RDLCK, F_SETLK, F_SETLKW, F_WRLCK, require
from .locks import setlk, setlkw

_cf_lock_until = _lib.cf_lock_until
_hold = _lib.cf_lock_hold
_drop = _lib.cf_lock_drop
_generation = _lib.cf_lock_generation
_OFF_T = c_range("off_t")


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


def commands(ofd: bool) -> tuple[int, int]:
    """(try, wait): F_OFD_SETLK and F_OFD_SETLKW, or F_SETLK and F_SETLKW."""
    if ofd:
        return require("F_OFD_SETLK"), require("F_OFD_SETLKW")
    return F_SETLK, F_SETLKW


def wait_until(
    what: object,
    fd: int,
    cmds: tuple[int, int],
    type: int,
    start: int,
    length: int,
    timeout: float,
) -> None:
    """Place the lock on ``fd`` before ``timeout`` seconds pass, sleeping in the wait
    command with a timer aimed at this thread; TimeoutError naming ``what`` at the
    deadline.  EINTR runs the Python handler on the way round (if it raises, that ends
    the wait)."""
    deadline = _deadline(timeout)
    while (
        result := _cf_lock_until(fd, *cmds, type, start, length, os.SEEK_SET, deadline)
    ) <= FAILED:
        error = oserror(FAILED - result)
        if error.errno == errno.ETIMEDOUT:
            raise TimeoutError(f"{what!r}: not acquired within {timeout} s")
        if not isinstance(error, InterruptedError):
            raise error


class Lock:
    """A record lock on bytes ``start``..``start+length`` (0: to the end) of ``file``.

    ``file`` is a path (opened, and created if need be, by each acquire and closed by
    release), or an fd or file object (left open).  ``shared=True`` takes a read lock,
    else a write lock.  ``ofd=True`` (the default) places open file description locks:
    two Lock objects exclude each other even in one process, in any threads, and closing
    some other descriptor of the file drops nothing.  ``ofd=False`` places classic POSIX
    locks, owned by the process: its threads share them, and closing any of its
    descriptors of the file drops them all.  ``timeout`` is acquire's default.

    A Lock is one holder.  It is not reentrant unless ``reentrant=True``: then the thread
    holding it may acquire it again (each acquire needs its release; the lock goes with
    the last), and another thread's acquire waits, with its timeout, until the holder
    thread lets go, as for ``threading.RLock``.  A forked child inherits the object but
    not the right to release: see :meth:`release`.
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
        reentrant: bool = False,
    ) -> None:
        spec = self._spec = _ffi.new("struct cf_lockspec *")
        spec.fd = -1
        if isinstance(file, (str, os.PathLike)):
            self._path: str | os.PathLike[str] | None = file
            self._cpath = _ffi.new("char[]", os.fsencode(file))  # kept alive here
            spec.path = self._cpath
        else:
            number = fileno(file)  # TypeError/ValueError now rather than at acquire
            if type(file) is int:
                spec.fd = number
            self._path = None
        self.file = file
        self.ofd = bool(ofd)
        self._cmds = commands(self.ofd)
        spec.unlock_cmd = self._cmds[0]
        self._gate = _allocate_lock() if reentrant else None
        self._start, self._length = 0, 0
        self.shared = shared
        self.start = start
        self.length = length
        self.timeout = timeout
        self._fd = -1
        self._depth = 0  # nested acquires beyond the first (reentrant only)
        self._thread = 0  # the holding thread (reentrant only)

    def _usable(self) -> None:
        """Whether the one-call path can take this Lock: an int fd or a path, a range
        that fits off_t, not reentrant."""
        spec = self._spec
        low, high = _OFF_T
        spec.usable = (
            (spec.fd >= 0 or spec.path != _ffi.NULL)
            and low <= self._start <= high
            and low <= self._length <= high
            and self._gate is None
        )
        if spec.usable:
            spec.start, spec.len = self._start, self._length

    @property
    def start(self) -> int:
        """The first byte of the range."""
        return self._start

    @start.setter
    def start(self, value: int) -> None:
        self._start = as_int("Lock", "start", value)
        self._usable()

    @property
    def length(self) -> int:
        """The bytes in the range (0: to the end of the file; negative: before start)."""
        return self._length

    @length.setter
    def length(self, value: int) -> None:
        self._length = as_int("Lock", "length", value)
        self._usable()

    @property
    def shared(self) -> bool:
        """Whether the lock taken (or held) is a read lock."""
        return bool(self._spec.type == F_RDLCK)

    @shared.setter
    def shared(self, value: bool) -> None:
        self._spec.type = F_RDLCK if value else F_WRLCK

    @property
    def timeout(self) -> float | None:
        """acquire()'s default timeout (None: wait as long as it takes)."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = _checked_timeout(value)
        # The one-call acquire's command: the wait when it has no deadline, else a try.
        self._spec.cmd = self._cmds[1] if self._timeout is None else self._cmds[0]

    @property
    def reentrant(self) -> bool:
        """Whether the holding thread may acquire again (``reentrant=True``)."""
        return self._gate is not None

    def __repr__(self) -> str:
        state = "locked" if self.locked else "unlocked"
        mode = "shared" if self.shared else "exclusive"
        kind = "OFD" if self.ofd else "POSIX"
        return f"<cfcntl.Lock {self.file!r} {self.start}+{self.length} {mode} {kind} {state}>"

    @property
    def locked(self) -> bool:
        """Whether this Lock holds its lock in this process (False in a forked child)."""
        return self._fd >= 0 and self._spec.token >> 32 == _generation()

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
        if timeout is _DEFAULT and shared is None and self._fd < 0:
            # The one-call path (Lock's default timeout and mode): on any failure the
            # general path below does it again, and reports what it finds.
            fd = _hold(self._spec)
            if fd >= 0:
                self._fd = fd
                return
        self._acquire(timeout, shared)

    def _acquire(self, timeout: float | _Default | None, shared: bool | None) -> None:
        wait = self.timeout if isinstance(timeout, _Default) else _checked_timeout(timeout)
        mode = self.shared if shared is None else bool(shared)
        held = self.locked
        gate = self._gate
        if held and gate is not None and self._thread == _get_ident():
            if mode != self.shared:
                raise RuntimeError(f"{self!r} is held: a reentrant Lock does not convert")
            self._depth += 1
            return
        if held and mode == self.shared and gate is None:
            raise RuntimeError(f"{self!r} is already held (a Lock is not reentrant)")
        if not held and self._fd >= 0:
            self.release()  # a forked child's copy of its parent's lock: forget it
            if gate is not None:
                gate = self._gate = _allocate_lock()  # the parent's thread held it
        if gate is not None:
            if wait is None or wait >= _thread_timeout_max:
                gate.acquire()
            else:
                began = time.monotonic()
                if not gate.acquire(True, wait):
                    raise TimeoutError(f"{self!r}: held by another thread")
                wait = max(0.0, wait - (time.monotonic() - began))
            held = False
        try:
            fd = self._fd if held else self._open()
            try:
                self._place(fd, F_RDLCK if mode else F_WRLCK, wait)
            except BaseException:
                if not held and self._path is not None:
                    os.close(fd)
                raise
        except BaseException:
            if gate is not None:
                gate.release()
            raise
        self.shared = mode
        self._adopt(fd)

    def release(self) -> None:
        """Unlock, and close the file if this Lock opened it.

        A reentrant Lock unlocks at the release that matches its first acquire, and only
        in the thread that holds it (RuntimeError elsewhere).  In a forked child that
        inherited a held Lock, release only forgets it (and closes the child's copy of
        the descriptor, if the Lock opened it): it never unlocks, so the parent keeps
        its lock.
        """
        if self._fd < 0:
            raise RuntimeError(f"{self!r} is not held")
        gate = self._gate
        if gate is None:
            self._fd = -1
            if (result := _drop(self._spec)) < 0:
                raise oserror(FAILED - result)
            return
        if self.locked:
            if self._thread != _get_ident():
                raise RuntimeError(f"{self!r} is held by another thread")
            if self._depth:
                self._depth -= 1
                return
        self._fd = -1
        result = _drop(self._spec)
        if result != 1:
            gate.release()
        if result < 0:
            raise oserror(FAILED - result)

    def _adopt(self, fd: int) -> None:
        """Hold the lock placed on ``fd`` elsewhere (AsyncLock's waiting thread)."""
        self._fd, self._thread = fd, _get_ident()
        self._spec.token = (_generation() << 32) + fd

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
        wait_until(self, fd, self._cmds, type, self.start, self.length, timeout)
