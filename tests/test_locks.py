"""Record locks (getlk/setlk/setlkw) against the real kernel, on real files in tmp_path,
through each binding: cfcntl's functions and the ctypes binding's (the ``binding``
fixture), which must give the same answers and raise the same errors.

Other processes are real child processes, the ``hold`` fixture's (cfcntl.tools.lockchild:
each runs the Python statements it is given with ``fd`` open on the file, holds its locks
until its stdin closes, and answers each line it is sent).  The stdlib path
(cfcntl.tools.struct_path: ``fcntl.fcntl`` with a ``struct``-packed ``struct flock``) uses
cfcntl's exact format, ``cfcntl.layout()["struct flock"].format``.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import struct
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import cfcntl
from cfcntl import F_RDLCK as R, F_UNLCK as U, F_WRLCK as W, Flock
from cfcntl.tools import ctypes_binding, struct_path
from cfcntl.tools.lockchild import TIMEOUT, Hold, WaitForWaiter

FMT = cfcntl.layout()["struct flock"].format
SET = os.SEEK_SET


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


@pytest.fixture(params=[cfcntl, ctypes_binding], ids=["cfcntl", "ctypes"])
def binding(request: pytest.FixtureRequest) -> ModuleType:
    """The record-lock functions under test: cfcntl's, or the ctypes binding's (the same
    signatures, results and exceptions)."""
    module: ModuleType = request.param
    return module


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
    binding: ModuleType,
    fd: int,
    hold: Hold,
    kind: str,
    held: int,
    start: int,
    length: int,
    holder: str,
) -> None:
    """A child's lock (placed via the stdlib struct path or via cfcntl.setlk) is reported
    identically by the binding's getlk and by the stdlib F_GETLK/F_OFD_GETLK struct path,
    whichever of the two query commands is used: type, SEEK_SET, start, length, and pid
    (the child's for a POSIX lock, -1 for an OFD lock).  A read query against a read lock,
    and queries on the bytes outside the range, find nothing (None / l_type F_UNLCK)."""
    how = {"stdlib": "struct_path.setlk", "setlk": "cfcntl.setlk"}[holder]
    child = hold(f"{how}(fd, {held}, {start}, {length}, ofd={kind == 'ofd'})")
    pid = child.pid if kind == "posix" else -1
    expected = Flock(held, SET, start, length, pid)
    queries = [(0, 0), (start, length)]
    outside = [(0, start), (start + length, 0)] if length else []
    for ofd in (False, True):
        for qtype in (R, W):
            conflicts = held == W or qtype == W
            for qstart, qlength in queries:
                ours = binding.getlk(fd, qtype, qstart, qlength, ofd=ofd)
                theirs = struct_path.getlk(fd, qtype, qstart, qlength, ofd=ofd)
                if conflicts:
                    assert ours == expected
                    assert theirs == expected
                else:
                    assert ours is None
                    assert theirs is None
            for qstart, qlength in outside:
                assert binding.getlk(fd, qtype, qstart, qlength, ofd=ofd) is None
                assert struct_path.getlk(fd, qtype, qstart, qlength, ofd=ofd) is None


@pytest.mark.parametrize("ofd", [False, True], ids=["posix", "ofd"])
def test_no_lock_no_conflict(binding: ModuleType, fd: int, ofd: bool) -> None:
    """With no lock on the file the kernel answers l_type F_UNLCK; getlk says None."""
    for qtype in (R, W):
        assert binding.getlk(fd, qtype, ofd=ofd) is None
        assert struct_path.getlk(fd, qtype, 0, 0, ofd=ofd) is None


# -- 3. the hand-written 28-byte format ----------------------------------------------------


def test_hand_written_format_is_short_and_truncates_pid(fd: int, hold: Hold) -> None:
    """'hhllhh' (the fcntl docs' example) is 28 bytes where the kernel's struct is 32, and
    reads l_pid as a 2-byte short: a pid >= 32768 comes out wrong."""
    if struct.calcsize("l") != 8 or struct.calcsize(FMT) != 32:
        pytest.skip("the 28-vs-32 byte mismatch is an LP64 (x86-64, arm64) matter")
    assert struct.calcsize("hhllhh") == 28
    child = hold(f"cfcntl.setlk(fd, {W}, 0, 0)")
    answer = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack(FMT, W, SET, 0, 0, 0))
    real = struct.unpack(FMT, answer)
    assert real == (W, SET, 0, 0, child.pid)
    hand_pid = struct.unpack("hhllhh", answer[:28])[4]
    # The short is l_pid's first two bytes: its low half on a little-endian CPU (right
    # below 32768), its high half on a big-endian one (s390x: 0 for any pid below 65536).
    assert hand_pid == struct.unpack("h", struct.pack("i", child.pid)[:2])[0]
    if child.pid >= 32768 or sys.byteorder == "big":
        assert hand_pid != child.pid
    else:  # pid_max is small here: show it with a synthetic pid instead
        assert hand_pid == child.pid
        synthetic = struct.pack(FMT, W, SET, 0, 0, 70000)
        assert struct.unpack(FMT, synthetic)[4] == 70000
        assert struct.unpack("hhllhh", synthetic[:28])[4] != 70000


# -- 4. same-process semantics -------------------------------------------------------------


def test_posix_locks_of_one_process_never_conflict(
    binding: ModuleType, path: Path, hold: Hold
) -> None:
    """POSIX locks belong to the process: two fds of one file lock the same bytes without
    conflict and getlk from the process sees nothing, while another process sees the lock
    (and F_OFD_GETLK from the same process sees it too).  Closing ANY fd of the file drops
    the process's POSIX locks on it."""
    fd1, fd2 = os.open(path, os.O_RDWR), os.open(path, os.O_RDWR)
    try:
        binding.setlk(fd1, W)
        binding.setlk(fd2, W)
        assert binding.getlk(fd1) is None
        assert binding.getlk(fd2) is None
        mine = Flock(W, SET, 0, 0, os.getpid())
        assert binding.getlk(fd1, ofd=True) == mine
        prober = hold()
        assert prober.getlk() == mine
        os.close(fd2)
        fd2 = -1
        assert prober.getlk() is None
    finally:
        os.close(fd1)
        if fd2 >= 0:
            os.close(fd2)


def test_ofd_locks_conflict_within_one_process(binding: ModuleType, path: Path) -> None:
    """OFD locks belong to the open file description: two open() of one file conflict even
    in one process (EAGAIN), both F_OFD_GETLK and F_GETLK report the holder as pid -1, and
    a dup() of the holder's fd shares its description and does not conflict."""
    fd1, fd2 = os.open(path, os.O_RDWR), os.open(path, os.O_RDWR)
    fd3 = os.dup(fd1)
    try:
        binding.setlk(fd1, W, ofd=True)
        with pytest.raises(BlockingIOError) as info:
            binding.setlk(fd2, W, ofd=True)
        assert info.value.errno == errno.EAGAIN
        held = Flock(W, SET, 0, 0, -1)
        assert binding.getlk(fd2, ofd=True) == held
        assert binding.getlk(fd2) == held
        assert binding.getlk(fd1, ofd=True) is None
        binding.setlk(fd3, R, ofd=True)  # same description: a downgrade, not a conflict
        assert binding.getlk(fd2, W, ofd=True) == Flock(R, SET, 0, 0, -1)
        assert binding.getlk(fd2, R, ofd=True) is None
    finally:
        for n in (fd1, fd2, fd3):
            os.close(n)


@pytest.mark.parametrize("ofd", [False, True], ids=["posix", "ofd"])
def test_upgrade_downgrade_unlock(binding: ModuleType, fd: int, hold: Hold, ofd: bool) -> None:
    """On one fd a read lock upgrades to a write lock and back (the kernel replaces the
    lock in place), as another process sees; F_UNLCK removes it and the other process can
    then lock, after which the parent is the one refused."""
    prober = hold()
    pid = -1 if ofd else os.getpid()
    binding.setlk(fd, R, ofd=ofd)
    assert prober.getlk(W) == Flock(R, SET, 0, 0, pid)
    assert prober.getlk(R) is None
    binding.setlk(fd, W, ofd=ofd)
    assert prober.getlk(R) == Flock(W, SET, 0, 0, pid)
    binding.setlk(fd, R, ofd=ofd)
    assert prober.getlk(W) == Flock(R, SET, 0, 0, pid)
    assert prober.getlk(R) is None
    binding.setlk(fd, U, ofd=ofd)
    assert prober.getlk(W) is None
    assert prober.ask(f"cfcntl.setlk(fd, {W}, 0, 0)") is None
    with pytest.raises(BlockingIOError):
        binding.setlk(fd, R, ofd=ofd)


# -- 5, 6. setlkw waits, without the GIL ---------------------------------------------------


@pytest.mark.parametrize("ofd", [False, True], ids=["posix", "ofd"])
def test_setlkw_waits_for_the_holder(
    binding: ModuleType, wait_for_waiter: WaitForWaiter, fd: int, hold: Hold, ofd: bool
) -> None:
    """F_SETLKW sleeps while a conflicting lock exists and takes the lock once it goes:
    the thread is seen blocked in /proc/locks and has not returned; after the holder exits
    it returns and another process sees the parent's lock."""
    holder = hold(f"cfcntl.setlk(fd, {W}, 0, 0)")
    call = Call(binding.setlkw, fd, W, ofd=ofd)
    call.start()
    try:
        wait_for_waiter(None if ofd else os.getpid())
        assert call.is_alive() and not call.returned
        holder.let_go()
        call.join(TIMEOUT)
        assert not call.is_alive()
        assert call.error is None and call.returned
    finally:
        holder.stop()
        call.join(TIMEOUT)
    assert hold().getlk(R) == Flock(W, SET, 0, 0, -1 if ofd else os.getpid())


def test_setlkw_releases_the_gil(
    binding: ModuleType, wait_for_waiter: WaitForWaiter, fd: int, hold: Hold
) -> None:
    """While one thread sleeps in F_SETLKW another Python thread runs: its counter advances
    by 100000 while the waiter is confirmed still blocked."""
    holder = hold(f"cfcntl.setlk(fd, {W}, 0, 0)")
    call = Call(binding.setlkw, fd, W)
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
        wait_for_waiter(os.getpid())
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
    binding: ModuleType, wait_for_waiter: WaitForWaiter, fd: int, hold: Hold
) -> None:
    """A signal interrupts F_SETLKW (EINTR); the handler runs, and its exception ends the
    wait.  The parent then holds no lock: the holder still has it, and once it exits
    another process finds the file free."""
    holder = hold(f"cfcntl.setlk(fd, {W}, 0, 0)")
    calls: list[int] = []

    def handler(signum: int, frame: object) -> None:
        calls.append(signum)
        raise Interrupted

    def fire() -> None:
        wait_for_waiter(os.getpid())
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

    old = signal.signal(signal.SIGUSR1, handler)
    watchdog = threading.Timer(TIMEOUT, holder.proc.kill)  # bounds the wait if no signal comes
    helper = threading.Thread(target=fire, daemon=True)
    try:
        watchdog.start()
        helper.start()
        with pytest.raises(Interrupted):
            binding.setlkw(fd, W)
    finally:
        watchdog.cancel()
        helper.join(TIMEOUT)  # its signal, if any, is sent before the handler goes
        signal.signal(signal.SIGUSR1, old)
    assert calls == [signal.SIGUSR1]
    assert holder.proc.poll() is None  # the signal ended the wait, not the watchdog
    assert binding.getlk(fd, ofd=True) == Flock(W, SET, 0, 0, holder.pid)
    holder.let_go()
    assert hold().getlk(R) is None


def test_setlkw_resumes_when_the_signal_handler_returns(
    binding: ModuleType, wait_for_waiter: WaitForWaiter, fd: int, hold: Hold
) -> None:
    """A handler that returns lets the wait resume (PEP 475): the parent goes back to
    sleep in F_SETLKW (seen again in /proc/locks after the handler ran) and takes the
    lock when the holder exits."""
    holder = hold(f"cfcntl.setlk(fd, {W}, 0, 0)")
    calls: list[int] = []
    handled = threading.Event()
    steps: list[str] = []

    def handler(signum: int, frame: object) -> None:
        calls.append(signum)
        handled.set()

    def fire() -> None:
        wait_for_waiter(os.getpid())
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)
        steps.append("fired")
        if handled.wait(TIMEOUT):
            steps.append("handled")
            wait_for_waiter(os.getpid())  # asleep again after the handler returned
            steps.append("waiting again")
        holder.let_go()
        steps.append("released")

    old = signal.signal(signal.SIGUSR1, handler)
    watchdog = threading.Timer(2 * TIMEOUT, holder.proc.kill)
    helper = threading.Thread(target=fire, daemon=True)
    try:
        watchdog.start()
        helper.start()
        binding.setlkw(fd, W)
    finally:
        watchdog.cancel()
        helper.join(TIMEOUT)  # its signal, if any, is sent before the handler goes
        signal.signal(signal.SIGUSR1, old)
    assert calls == [signal.SIGUSR1]
    assert steps == ["fired", "handled", "waiting again", "released"]
    assert hold().getlk(R) == Flock(W, SET, 0, 0, os.getpid())


# -- 8. deadlock detection -----------------------------------------------------------------


def test_setlkw_reports_edeadlk(
    binding: ModuleType, wait_for_waiter: WaitForWaiter, fd: int, hold: Hold
) -> None:
    """Parent holds byte 0, the child holds byte 1 and sleeps waiting for byte 0; the
    parent's wait for byte 1 would close the cycle, so the kernel refuses it (EDEADLK)
    instead of sleeping.  Byte 1 stays the child's; unlocking byte 0 lets the child in."""
    binding.setlk(fd, W, 0, 1)
    child = hold(f"cfcntl.setlk(fd, {W}, 1, 1)")
    child.send(f"cfcntl.setlkw(fd, {W}, 0, 1)")
    wait_for_waiter(child.pid)
    watchdog = threading.Timer(TIMEOUT, child.proc.kill)  # ends a real deadlock if undetected
    watchdog.start()
    try:
        with pytest.raises(OSError) as info:
            binding.setlkw(fd, W, 1, 1)
    finally:
        watchdog.cancel()
    assert info.value.errno == errno.EDEADLK
    assert child.proc.poll() is None
    assert binding.getlk(fd, W, 1, 1, ofd=True) == Flock(W, SET, 1, 1, child.pid)
    binding.setlk(fd, U, 0, 1)
    assert child.answer() is None  # the child's wait for byte 0 ended
    assert binding.getlk(fd, W, 0, 2, ofd=True) == Flock(W, SET, 0, 2, child.pid)


# -- 9. arguments --------------------------------------------------------------------------

FUNCTIONS = ["getlk", "setlk", "setlkw"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_fd_argument(binding: ModuleType, path: Path, fd: int, name: str) -> None:
    """fd: negative is ValueError, a non-int without fileno() TypeError, too big for a C int
    OverflowError naming fd, a closed descriptor EBADF from the kernel; an object with
    fileno() (a Python file object) works."""
    func = getattr(binding, name)
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
        expected = None if name == "getlk" else Flock(W, SET, 0, 0, os.getpid())
        assert binding.getlk(fd, ofd=True) == expected


BAD = [
    pytest.param((99,), {}, errno.EINVAL, id="type=99"),
    pytest.param((W,), {"whence": 99}, errno.EINVAL, id="whence=99"),
    pytest.param((W,), {"start": -1}, errno.EINVAL, id="start=-1"),
    pytest.param((W,), {"start": 3, "length": -4}, errno.EINVAL, id="start+length<0"),
]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("args, kwargs, err", BAD)
def test_kernel_refusals(
    binding: ModuleType, fd: int, name: str, args: tuple[int], kwargs: dict[str, int], err: int
) -> None:
    """Values that fit the C types but the kernel rejects come back as OSError(errno)."""
    with pytest.raises(OSError) as info:
        getattr(binding, name)(fd, *args, **kwargs)
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


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("args, kwargs, exc, message", OUT_OF_RANGE)
def test_argument_refusals_name_the_argument(
    binding: ModuleType,
    fd: int,
    name: str,
    args: tuple[int],
    kwargs: dict[str, Any],
    exc: type[Exception],
    message: str,
) -> None:
    """Values the C types cannot hold never reach the kernel: the error names the
    function and the argument, and nothing gets locked."""
    with pytest.raises(exc, match=rf"^{name}\(\): {message}"):
        getattr(binding, name)(fd, *args, **kwargs)
    assert binding.getlk(fd, ofd=True) is None


def test_lock_needs_the_matching_access_mode(binding: ModuleType, path: Path) -> None:
    """F_SETLK needs the fd open for writing to place a write lock and for reading to place
    a read lock (EBADF otherwise); F_GETLK queries need neither."""
    ro, wo = os.open(path, os.O_RDONLY), os.open(path, os.O_WRONLY)
    try:
        for func in (binding.setlk, binding.setlkw):
            with pytest.raises(OSError) as info:
                func(ro, W)
            assert info.value.errno == errno.EBADF
            with pytest.raises(OSError) as info:
                func(wo, R)
            assert info.value.errno == errno.EBADF
        assert binding.getlk(ro, W) is None
        assert binding.getlk(wo, R) is None
        binding.setlk(ro, R)
        binding.setlk(wo, W, 10, 1)
    finally:
        os.close(ro)
        os.close(wo)


def test_negative_length_locks_the_bytes_before_start(
    binding: ModuleType, fd: int, hold: Hold
) -> None:
    """POSIX allows a negative l_len: start=10, length=-5 locks bytes 5..9, which another
    process sees as start=5 length=5; bytes 0..4 and 10.. stay free."""
    binding.setlk(fd, W, start=10, length=-5)
    prober = hold()
    assert prober.getlk(W, 0, 0) == Flock(W, SET, 5, 5, os.getpid())
    assert prober.getlk(W, 5, 5) == Flock(W, SET, 5, 5, os.getpid())
    assert prober.getlk(W, 0, 5) is None
    assert prober.getlk(W, 10, 0) is None


@pytest.mark.parametrize("whence, start, at", [(os.SEEK_CUR, -10, 90), (os.SEEK_END, 6, 70)])
def test_whence_is_resolved_by_the_kernel(
    binding: ModuleType, fd: int, hold: Hold, whence: int, start: int, at: int
) -> None:
    """start is measured from the file offset (SEEK_CUR) or the end (SEEK_END, the file is
    64 bytes); the kernel reports the lock back in SEEK_SET terms."""
    os.lseek(fd, 100, os.SEEK_SET)
    binding.setlk(fd, W, start, 4, whence)
    assert hold().getlk(W) == Flock(W, SET, at, 4, os.getpid())
