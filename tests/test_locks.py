"""Record locks (getlk/setlk/setlkw) against the real kernel, on real files in tmp_path.

Other processes are real child processes (``sys.executable -c CHILD``): each opens the
file O_RDWR, runs the lock operations given on its command line, prints ``ready`` and
then answers one JSON line per operation read from stdin; closing its stdin makes it
exit, which drops its locks.  Every child also arms ``alarm(30)`` so that no child can
outlive a broken test.  The stdlib path (``fcntl.fcntl`` with a ``struct``-packed
``struct flock``) uses cfcntl's exact format, ``cfcntl.layout()["struct flock"].format``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cfcntl
from cfcntl import F_RDLCK as R, F_UNLCK as U, F_WRLCK as W, Flock

FMT = cfcntl.layout()["struct flock"].format
SET = os.SEEK_SET
TIMEOUT = 10.0

CHILD = r"""
import fcntl, json, os, signal, struct, sys
import cfcntl

signal.alarm(30)  # no child outlives a broken test
FMT = cfcntl.layout()["struct flock"].format
fd = os.open(sys.argv[1], os.O_RDWR)

def run(op):
    how, kind, type_, start, length = op.split(":")
    ofd, type_, start, length = kind == "ofd", int(type_), int(start), int(length)
    if how == "stdlib":
        cmd = cfcntl.F_OFD_SETLK if ofd else cfcntl.F_SETLK  # PyPy 7.3's fcntl lacks F_OFD_*
        fcntl.fcntl(fd, cmd, struct.pack(FMT, type_, os.SEEK_SET, start, length, 0))
    elif how == "setlk":
        cfcntl.setlk(fd, type_, start, length, ofd=ofd)
    elif how == "setlkw":
        cfcntl.setlkw(fd, type_, start, length, ofd=ofd)
    elif how == "getlk":
        return cfcntl.getlk(fd, type_, start, length, ofd=ofd)
    else:
        raise ValueError(op)

for op in sys.argv[2:]:
    run(op)
print("ready", flush=True)
for line in sys.stdin:
    try:
        print(json.dumps(["ok", run(line.strip())]), flush=True)
    except OSError as exc:
        print(json.dumps(["err", exc.errno]), flush=True)
"""


class Child:
    """A child process holding (or asking about) locks on one file."""

    def __init__(self, path: Path, *ops: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), *ops],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            cwd=path.parent,
        )
        self.pid = self.proc.pid
        self._buf = b""

    def readline(self, timeout: float = TIMEOUT) -> str:
        """The child's next stdout line; AssertionError after ``timeout`` or at EOF."""
        out = self.proc.stdout
        assert out is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"child {self.pid}: no line within {timeout} s")
            if select.select([out], [], [], left)[0]:
                chunk = os.read(out.fileno(), 4096)
                if not chunk:
                    self.proc.wait(TIMEOUT)
                    err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    raise AssertionError(f"child {self.pid} exited:\n{err}")
                self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode()

    def send(self, op: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(op.encode() + b"\n")

    def ask(self, op: str) -> list[Any]:
        self.send(op)
        return json.loads(self.readline())

    def getlk(
        self, type: int = W, start: int = 0, length: int = 0, *, ofd: bool = False
    ) -> Flock | None:
        status, value = self.ask(f"getlk:{'ofd' if ofd else 'posix'}:{type}:{start}:{length}")
        assert status == "ok", value
        return None if value is None else Flock(*value)

    def release(self) -> None:
        """Close stdin: the child exits and the kernel drops its locks."""
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        assert self.proc.wait(TIMEOUT) == 0

    def kill(self) -> None:
        self.proc.kill()

    def stop(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


class Call(threading.Thread):
    """``fn(*args, **kwargs)`` in a daemon thread, remembering whether it returned."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(daemon=True)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.returned = False
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.fn(*self.args, **self.kwargs)
            self.returned = True
        except BaseException as exc:
            self.error = exc


def waiting(path: Path, pid: int | None = None, timeout: float = TIMEOUT) -> None:
    """Return once /proc/locks shows a blocked waiter ("->") on ``path`` (from ``pid``).

    No event says "a process is now asleep in F_SETLKW", so this polls, with a deadline.
    """
    st = os.stat(path)
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/locks") as f:
            for line in f:
                words = line.split()
                if (
                    len(words) > 6
                    and words[1] == "->"
                    and words[6] == where
                    and (pid is None or words[5] == str(pid))
                ):
                    return
        time.sleep(0.005)
    raise AssertionError(f"no process blocked on {path} (pid {pid}) within {timeout} s")


def stdlib_getlk(
    fd: int, type: int, start: int, length: int, *, ofd: bool = False
) -> tuple[int, ...]:
    """F_GETLK / F_OFD_GETLK through the stdlib with the exact struct format (and cfcntl's
    numbers: PyPy 7.3's fcntl lacks F_OFD_*)."""
    cmd = cfcntl.F_OFD_GETLK if ofd else cfcntl.F_GETLK
    return struct.unpack(FMT, fcntl.fcntl(fd, cmd, struct.pack(FMT, type, SET, start, length, 0)))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "locked"
    p.write_bytes(b"\0" * 64)
    return p


@pytest.fixture
def fd(path: Path) -> Iterator[int]:
    number = os.open(path, os.O_RDWR)
    yield number
    with contextlib.suppress(OSError):
        os.close(number)


@pytest.fixture
def spawn(path: Path) -> Iterator[Callable[..., Child]]:
    """Start a child on ``path`` that ran ``ops`` and said ready; all are stopped at teardown."""
    children: list[Child] = []

    def start(*ops: str) -> Child:
        child = Child(path, *ops)
        children.append(child)
        assert child.readline() == "ready"
        return child

    yield start
    for child in children:
        child.stop()


def test_stdlib_and_cfcntl_agree_on_the_command_numbers() -> None:
    """The numbers the stdlib path below is given are cfcntl's: they are fcntl's own,
    where fcntl has them (PyPy 7.3's has no F_OFD_*)."""
    for name in (
        "F_GETLK",
        "F_SETLK",
        "F_SETLKW",
        "F_OFD_GETLK",
        "F_OFD_SETLK",
        "F_RDLCK",
        "F_WRLCK",
        "F_UNLCK",
    ):
        assert getattr(cfcntl, name) == getattr(fcntl, name, getattr(cfcntl, name)), name
    assert struct.calcsize(FMT) == cfcntl.layout()["struct flock"].size


# -- 2. parity with the stdlib struct path -------------------------------------------------


@pytest.mark.parametrize("holder", ["stdlib", "setlk"])
@pytest.mark.parametrize("start, length", [(0, 0), (100, 50), (2**40, 10)])
@pytest.mark.parametrize("held", [R, W], ids=["read", "write"])
@pytest.mark.parametrize("kind", ["posix", "ofd"])
def test_getlk_parity_with_stdlib(
    fd: int, spawn: Callable[..., Child], kind: str, held: int, start: int, length: int, holder: str
) -> None:
    """A child's lock (placed via the stdlib struct path or via cfcntl.setlk) is reported
    identically by cfcntl.getlk and by the stdlib F_GETLK/F_OFD_GETLK struct path, whichever
    of the two query commands is used: type, SEEK_SET, start, length, and pid (the child's for
    a POSIX lock, -1 for an OFD lock).  A read query against a read lock, and queries on the
    bytes outside the range, find nothing (None / l_type F_UNLCK)."""
    child = spawn(f"{holder}:{kind}:{held}:{start}:{length}")
    pid = child.pid if kind == "posix" else -1
    expected = Flock(held, SET, start, length, pid)
    queries = [(0, 0), (start, length)]
    outside = [(0, start), (start + length, 0)] if length else []
    for ofd in (False, True):
        for qtype in (R, W):
            conflicts = held == W or qtype == W
            for qstart, qlength in queries:
                ours = cfcntl.getlk(fd, qtype, qstart, qlength, ofd=ofd)
                theirs = stdlib_getlk(fd, qtype, qstart, qlength, ofd=ofd)
                if conflicts:
                    assert ours == expected
                    assert Flock(*theirs) == expected
                else:
                    assert ours is None
                    assert theirs[0] == U
            for qstart, qlength in outside:
                assert cfcntl.getlk(fd, qtype, qstart, qlength, ofd=ofd) is None
                assert stdlib_getlk(fd, qtype, qstart, qlength, ofd=ofd)[0] == U


@pytest.mark.parametrize("ofd", [False, True], ids=["posix", "ofd"])
def test_no_lock_no_conflict(fd: int, ofd: bool) -> None:
    """With no lock on the file the kernel answers l_type F_UNLCK; getlk says None."""
    for qtype in (R, W):
        assert cfcntl.getlk(fd, qtype, ofd=ofd) is None
        assert stdlib_getlk(fd, qtype, 0, 0, ofd=ofd)[0] == U


# -- 3. the hand-written 28-byte format ----------------------------------------------------


def test_hand_written_format_is_short_and_truncates_pid(
    fd: int, spawn: Callable[..., Child]
) -> None:
    """'hhllhh' (the fcntl docs' example) is 28 bytes where the kernel's struct is 32, and
    reads l_pid as a 2-byte short: a pid >= 32768 comes out wrong."""
    if struct.calcsize("l") != 8 or struct.calcsize(FMT) != 32:
        pytest.skip("the 28-vs-32 byte mismatch is an LP64 (x86-64, arm64) matter")
    assert struct.calcsize("hhllhh") == 28
    child = spawn(f"setlk:posix:{W}:0:0")
    answer = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack(FMT, W, SET, 0, 0, 0))
    real = struct.unpack(FMT, answer)
    assert real == (W, SET, 0, 0, child.pid)
    hand_pid = struct.unpack("hhllhh", answer[:28])[4]
    if child.pid >= 32768:
        assert hand_pid != child.pid
    else:  # pid_max is small here: show it with a synthetic pid instead
        assert hand_pid == child.pid
        synthetic = struct.pack(FMT, W, SET, 0, 0, 70000)
        assert struct.unpack(FMT, synthetic)[4] == 70000
        assert struct.unpack("hhllhh", synthetic[:28])[4] != 70000


# -- 4. same-process semantics -------------------------------------------------------------


def test_posix_locks_of_one_process_never_conflict(path: Path, spawn: Callable[..., Child]) -> None:
    """POSIX locks belong to the process: two fds of one file lock the same bytes without
    conflict and getlk from the process sees nothing, while another process sees the lock
    (and F_OFD_GETLK from the same process sees it too).  Closing ANY fd of the file drops
    the process's POSIX locks on it."""
    fd1, fd2 = os.open(path, os.O_RDWR), os.open(path, os.O_RDWR)
    try:
        cfcntl.setlk(fd1, W)
        cfcntl.setlk(fd2, W)
        assert cfcntl.getlk(fd1) is None
        assert cfcntl.getlk(fd2) is None
        mine = Flock(W, SET, 0, 0, os.getpid())
        assert cfcntl.getlk(fd1, ofd=True) == mine
        prober = spawn()
        assert prober.getlk() == mine
        os.close(fd2)
        fd2 = -1
        assert prober.getlk() is None
    finally:
        os.close(fd1)
        if fd2 >= 0:
            os.close(fd2)


def test_ofd_locks_conflict_within_one_process(path: Path) -> None:
    """OFD locks belong to the open file description: two open() of one file conflict even
    in one process (EAGAIN), both F_OFD_GETLK and F_GETLK report the holder as pid -1, and
    a dup() of the holder's fd shares its description and does not conflict."""
    fd1, fd2 = os.open(path, os.O_RDWR), os.open(path, os.O_RDWR)
    fd3 = os.dup(fd1)
    try:
        cfcntl.setlk(fd1, W, ofd=True)
        with pytest.raises(BlockingIOError) as info:
            cfcntl.setlk(fd2, W, ofd=True)
        assert info.value.errno == errno.EAGAIN
        held = Flock(W, SET, 0, 0, -1)
        assert cfcntl.getlk(fd2, ofd=True) == held
        assert cfcntl.getlk(fd2) == held
        assert cfcntl.getlk(fd1, ofd=True) is None
        cfcntl.setlk(fd3, R, ofd=True)  # same description: a downgrade, not a conflict
        assert cfcntl.getlk(fd2, W, ofd=True) == Flock(R, SET, 0, 0, -1)
        assert cfcntl.getlk(fd2, R, ofd=True) is None
    finally:
        for n in (fd1, fd2, fd3):
            os.close(n)


@pytest.mark.parametrize("ofd", [False, True], ids=["posix", "ofd"])
def test_upgrade_downgrade_unlock(fd: int, spawn: Callable[..., Child], ofd: bool) -> None:
    """On one fd a read lock upgrades to a write lock and back (the kernel replaces the
    lock in place), as another process sees; F_UNLCK removes it and the other process can
    then lock, after which the parent is the one refused."""
    prober = spawn()
    pid = -1 if ofd else os.getpid()
    cfcntl.setlk(fd, R, ofd=ofd)
    assert prober.getlk(W) == Flock(R, SET, 0, 0, pid)
    assert prober.getlk(R) is None
    cfcntl.setlk(fd, W, ofd=ofd)
    assert prober.getlk(R) == Flock(W, SET, 0, 0, pid)
    cfcntl.setlk(fd, R, ofd=ofd)
    assert prober.getlk(W) == Flock(R, SET, 0, 0, pid)
    assert prober.getlk(R) is None
    cfcntl.setlk(fd, U, ofd=ofd)
    assert prober.getlk(W) is None
    assert prober.ask(f"setlk:posix:{W}:0:0") == ["ok", None]
    with pytest.raises(BlockingIOError):
        cfcntl.setlk(fd, R, ofd=ofd)


# -- 5, 6. setlkw waits, without the GIL ---------------------------------------------------


@pytest.mark.parametrize("ofd", [False, True], ids=["posix", "ofd"])
def test_setlkw_waits_for_the_holder(
    path: Path, fd: int, spawn: Callable[..., Child], ofd: bool
) -> None:
    """F_SETLKW sleeps while a conflicting lock exists and takes the lock once it goes:
    the thread is seen blocked in /proc/locks and has not returned; after the holder exits
    it returns and another process sees the parent's lock."""
    holder = spawn(f"setlk:posix:{W}:0:0")
    call = Call(cfcntl.setlkw, fd, W, ofd=ofd)
    call.start()
    try:
        waiting(path, None if ofd else os.getpid())
        assert call.is_alive() and not call.returned
        holder.release()
        call.join(TIMEOUT)
        assert not call.is_alive()
        assert call.error is None and call.returned
    finally:
        holder.stop()
        call.join(TIMEOUT)
    assert spawn().getlk(R) == Flock(W, SET, 0, 0, -1 if ofd else os.getpid())


def test_setlkw_releases_the_gil(path: Path, fd: int, spawn: Callable[..., Child]) -> None:
    """While one thread sleeps in F_SETLKW another Python thread runs: its counter advances
    by 100000 while the waiter is confirmed still blocked."""
    holder = spawn(f"setlk:posix:{W}:0:0")
    call = Call(cfcntl.setlkw, fd, W)
    stop, reached = threading.Event(), threading.Event()
    state: dict[str, Any] = {"n": 0, "base": None}

    def count() -> None:
        while not stop.is_set():
            state["n"] += 1
            if state["base"] is not None and state["n"] - state["base"] >= 100_000:
                reached.set()

    counter = threading.Thread(target=count, daemon=True)
    call.start()
    try:
        waiting(path, os.getpid())
        counter.start()
        state["base"] = state["n"]
        assert reached.wait(TIMEOUT)
        assert call.is_alive() and not call.returned  # all that counting happened during the wait
    finally:
        stop.set()
        counter.join(TIMEOUT)
        holder.stop()
        call.join(TIMEOUT)
    assert call.returned and call.error is None


# -- 7. signals during setlkw --------------------------------------------------------------


class Interrupted(Exception):
    pass


def test_setlkw_ends_when_the_signal_handler_raises(
    path: Path, fd: int, spawn: Callable[..., Child]
) -> None:
    """A signal interrupts F_SETLKW (EINTR); the handler runs, and its exception ends the
    wait.  The parent then holds no lock: the holder still has it, and once it exits
    another process finds the file free."""
    holder = spawn(f"setlk:posix:{W}:0:0")
    calls: list[int] = []

    def handler(signum: int, frame: object) -> None:
        calls.append(signum)
        raise Interrupted

    def fire() -> None:
        waiting(path, os.getpid())
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

    old = signal.signal(signal.SIGUSR1, handler)
    watchdog = threading.Timer(TIMEOUT, holder.kill)  # bounds the wait if no signal comes
    helper = threading.Thread(target=fire, daemon=True)
    try:
        watchdog.start()
        helper.start()
        with pytest.raises(Interrupted):
            cfcntl.setlkw(fd, W)
    finally:
        watchdog.cancel()
        helper.join(TIMEOUT)  # its signal, if any, is sent before the handler goes
        signal.signal(signal.SIGUSR1, old)
    assert calls == [signal.SIGUSR1]
    assert holder.proc.poll() is None  # the signal ended the wait, not the watchdog
    assert cfcntl.getlk(fd, ofd=True) == Flock(W, SET, 0, 0, holder.pid)
    holder.release()
    assert spawn().getlk(R) is None


def test_setlkw_resumes_when_the_signal_handler_returns(
    path: Path, fd: int, spawn: Callable[..., Child]
) -> None:
    """A handler that returns lets the wait resume (PEP 475): the parent goes back to
    sleep in F_SETLKW (seen again in /proc/locks after the handler ran) and takes the
    lock when the holder exits."""
    holder = spawn(f"setlk:posix:{W}:0:0")
    calls: list[int] = []
    handled = threading.Event()
    steps: list[str] = []

    def handler(signum: int, frame: object) -> None:
        calls.append(signum)
        handled.set()

    def fire() -> None:
        waiting(path, os.getpid())
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)
        steps.append("fired")
        if handled.wait(TIMEOUT):
            steps.append("handled")
            waiting(path, os.getpid())  # asleep again after the handler returned
            steps.append("waiting again")
        holder.release()
        steps.append("released")

    old = signal.signal(signal.SIGUSR1, handler)
    watchdog = threading.Timer(2 * TIMEOUT, holder.kill)
    helper = threading.Thread(target=fire, daemon=True)
    try:
        watchdog.start()
        helper.start()
        cfcntl.setlkw(fd, W)
    finally:
        watchdog.cancel()
        helper.join(TIMEOUT)  # its signal, if any, is sent before the handler goes
        signal.signal(signal.SIGUSR1, old)
    assert calls == [signal.SIGUSR1]
    assert steps == ["fired", "handled", "waiting again", "released"]
    assert spawn().getlk(R) == Flock(W, SET, 0, 0, os.getpid())


# -- 8. deadlock detection -----------------------------------------------------------------


def test_setlkw_reports_edeadlk(path: Path, fd: int, spawn: Callable[..., Child]) -> None:
    """Parent holds byte 0, the child holds byte 1 and sleeps waiting for byte 0; the
    parent's wait for byte 1 would close the cycle, so the kernel refuses it (EDEADLK)
    instead of sleeping.  Byte 1 stays the child's; unlocking byte 0 lets the child in."""
    cfcntl.setlk(fd, W, 0, 1)
    child = spawn(f"setlk:posix:{W}:1:1")
    child.send(f"setlkw:posix:{W}:0:1")
    waiting(path, child.pid)
    watchdog = threading.Timer(TIMEOUT, child.kill)  # ends a real deadlock if undetected
    watchdog.start()
    try:
        with pytest.raises(OSError) as info:
            cfcntl.setlkw(fd, W, 1, 1)
    finally:
        watchdog.cancel()
    assert info.value.errno == errno.EDEADLK
    assert child.proc.poll() is None
    assert cfcntl.getlk(fd, W, 1, 1, ofd=True) == Flock(W, SET, 1, 1, child.pid)
    cfcntl.setlk(fd, U, 0, 1)
    assert json.loads(child.readline()) == ["ok", None]  # the child's wait for byte 0 ended
    assert cfcntl.getlk(fd, W, 0, 2, ofd=True) == Flock(W, SET, 0, 2, child.pid)


# -- 9. arguments --------------------------------------------------------------------------

FUNCTIONS = [cfcntl.getlk, cfcntl.setlk, cfcntl.setlkw]


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_fd_argument(path: Path, fd: int, func: Callable[..., Any]) -> None:
    """fd: negative is ValueError, a non-int without fileno() TypeError, too big for a C int
    OverflowError naming fd, a closed descriptor EBADF from the kernel; an object with
    fileno() (a Python file object) works."""
    with pytest.raises(ValueError):
        func(-1, W)
    with pytest.raises(TypeError):
        func("abc", W)
    with pytest.raises(OverflowError, match=rf"^{func.__name__}\(\): fd=2147483648 "):
        func(2**31, W)
    closed = os.dup(fd)
    os.close(closed)
    with pytest.raises(OSError) as info:
        func(closed, W)
    assert info.value.errno == errno.EBADF
    with open(path, "r+b") as f:
        assert func(f, W) is None
        expected = None if func is cfcntl.getlk else Flock(W, SET, 0, 0, os.getpid())
        assert cfcntl.getlk(fd, ofd=True) == expected


BAD = [
    pytest.param((99,), {}, errno.EINVAL, id="type=99"),
    pytest.param((W,), {"whence": 99}, errno.EINVAL, id="whence=99"),
    pytest.param((W,), {"start": -1}, errno.EINVAL, id="start=-1"),
    pytest.param((W,), {"start": 3, "length": -4}, errno.EINVAL, id="start+length<0"),
]


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("args, kwargs, err", BAD)
def test_kernel_refusals(
    fd: int, func: Callable[..., Any], args: tuple[int], kwargs: dict[str, int], err: int
) -> None:
    """Values that fit the C types but the kernel rejects come back as OSError(errno)."""
    with pytest.raises(OSError) as info:
        func(fd, *args, **kwargs)
    assert info.value.errno == err


OUT_OF_RANGE = [
    pytest.param(
        (W,),
        {"start": 2**63},
        OverflowError,
        r"start=9223372036854775808 does not fit the C type off_t",
        id="start=2**63",
    ),
    pytest.param(
        (W,),
        {"length": -(2**63) - 1},
        OverflowError,
        r"length=-9223372036854775809 does not fit the C type off_t",
        id="length=-2**63-1",
    ),
    pytest.param(
        (70000,), {}, OverflowError, r"type=70000 does not fit the C type short", id="type=70000"
    ),
    pytest.param(
        (W,),
        {"whence": 2**15},
        OverflowError,
        r"whence=32768 does not fit the C type short",
        id="whence=2**15",
    ),
    pytest.param(
        (W,), {"start": 1.5}, TypeError, r"start must be an int, not float", id="start=1.5"
    ),
    pytest.param(
        (W,), {"length": "5"}, TypeError, r"length must be an int, not str", id="length='5'"
    ),
]


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("args, kwargs, exc, message", OUT_OF_RANGE)
def test_argument_refusals_name_the_argument(
    fd: int,
    func: Callable[..., Any],
    args: tuple[int],
    kwargs: dict[str, Any],
    exc: type[Exception],
    message: str,
) -> None:
    """Values the C types cannot hold never reach the kernel: the error names the
    function and the argument, and nothing gets locked."""
    with pytest.raises(exc, match=rf"^{func.__name__}\(\): {message}"):
        func(fd, *args, **kwargs)
    assert cfcntl.getlk(fd, ofd=True) is None


def test_lock_needs_the_matching_access_mode(path: Path) -> None:
    """F_SETLK needs the fd open for writing to place a write lock and for reading to place
    a read lock (EBADF otherwise); F_GETLK queries need neither."""
    ro, wo = os.open(path, os.O_RDONLY), os.open(path, os.O_WRONLY)
    try:
        for func in (cfcntl.setlk, cfcntl.setlkw):
            with pytest.raises(OSError) as info:
                func(ro, W)
            assert info.value.errno == errno.EBADF
            with pytest.raises(OSError) as info:
                func(wo, R)
            assert info.value.errno == errno.EBADF
        assert cfcntl.getlk(ro, W) is None
        assert cfcntl.getlk(wo, R) is None
        cfcntl.setlk(ro, R)
        cfcntl.setlk(wo, W, 10, 1)
    finally:
        os.close(ro)
        os.close(wo)


def test_negative_length_locks_the_bytes_before_start(fd: int, spawn: Callable[..., Child]) -> None:
    """POSIX allows a negative l_len: start=10, length=-5 locks bytes 5..9, which another
    process sees as start=5 length=5; bytes 0..4 and 10.. stay free."""
    cfcntl.setlk(fd, W, start=10, length=-5)
    prober = spawn()
    assert prober.getlk(W, 0, 0) == Flock(W, SET, 5, 5, os.getpid())
    assert prober.getlk(W, 5, 5) == Flock(W, SET, 5, 5, os.getpid())
    assert prober.getlk(W, 0, 5) is None
    assert prober.getlk(W, 10, 0) is None


@pytest.mark.parametrize("whence, start, at", [(os.SEEK_CUR, -10, 90), (os.SEEK_END, 6, 70)])
def test_whence_is_resolved_by_the_kernel(
    fd: int, spawn: Callable[..., Child], whence: int, start: int, at: int
) -> None:
    """start is measured from the file offset (SEEK_CUR) or the end (SEEK_END, the file is
    64 bytes); the kernel reports the lock back in SEEK_SET terms."""
    os.lseek(fd, 100, os.SEEK_SET)
    cfcntl.setlk(fd, W, start, 4, whence)
    assert spawn().getlk(W) == Flock(W, SET, at, 4, os.getpid())
