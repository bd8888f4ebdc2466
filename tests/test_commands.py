"""The fcntl commands other than record locks, against real kernel objects.

Every test issues real fcntl(2) calls on real descriptors (tmp_path files, pipes,
socketpairs, memfds, directories) and checks the effect the kernel documents; where
the stdlib ``fcntl.fcntl`` can issue the same command, cfcntl's answer is compared
with the stdlib's on the same descriptor.  Constants given to the stdlib come from
cfcntl (older Pythons lack some names); the names themselves are compared in
``test_constants_agree_with_stdlib``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import cfcntl

PAGE = os.sysconf("SC_PAGESIZE")
INT_MAX = 2**31 - 1


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def fds() -> Iterator[Callable[[int], int]]:
    """``track(fd) -> fd``: every tracked descriptor is closed after the test."""
    opened: list[int] = []

    def track(fd: int) -> int:
        opened.append(fd)
        return fd

    yield track
    for fd in reversed(opened):
        os.close(fd)


@pytest.fixture
def regular_file(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.write_bytes(b"hello world\n")
    return path


@pytest.fixture
def pipe(fds: Callable[[int], int]) -> tuple[int, int]:
    r, w = os.pipe()
    return fds(r), fds(w)


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    with a, b:
        yield a, b


@pytest.fixture
def sealable(fds: Callable[[int], int]) -> int:
    return fds(os.memfd_create("cfcntl-test", os.MFD_ALLOW_SEALING))


@functools.cache
def tasks_of_one_thread() -> int:
    """How many tasks /proc/self/task lists in a single-threaded interpreter: 1 natively;
    under qemu-user also the emulator's own thread (its RCU thread, which blocks every
    signal), counted in a child of the same interpreter."""
    code = "import os; print(len(os.listdir('/proc/self/task')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout)


@contextlib.contextmanager
def blocked(*signals: int) -> Iterator[None]:
    """Block ``signals`` in this thread; drain what is pending before unblocking.

    The signals tested here are process-directed and default to terminating the
    process, so another thread that does not block them could be killed by them.
    """
    if threading.active_count() != 1:
        pytest.skip("signal tests need a single-threaded process")
    # A joined Python thread's OS thread may still be exiting, with these signals
    # unblocked: a process-directed signal could pick it and kill the process.
    deadline = time.monotonic() + 10
    while len(os.listdir("/proc/self/task")) > tasks_of_one_thread():
        assert time.monotonic() < deadline, "a finished thread never exited"
        time.sleep(0.001)
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        try:
            for sig in signals:
                while pending(sig):
                    pass
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


# sigpending and sigwait, which every interpreter has (PyPy has no sigtimedwait).
def pending(sig: int) -> bool:
    """Take ``sig`` (blocked) if it is pending, without waiting; whether it was."""
    if sig not in signal.sigpending():
        return False
    signal.sigwait([sig])  # pending and blocked: returns at once
    return True


def arrives(sig: int, timeout: float = 5.0) -> bool:
    """Wait up to ``timeout`` seconds for ``sig`` (blocked) to be pending and take it;
    whether it came."""
    deadline = time.monotonic() + timeout
    while not pending(sig):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def touch(path: Path) -> None:
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def errno_of(call: Callable[[], object]) -> int:
    with pytest.raises(OSError) as info:
        call()
    return info.value.errno


def stdlib_u64(fd: int, cmd: int) -> int:
    """A rw-hint getter through the stdlib: the kernel writes a u64 into the buffer."""
    (value,) = struct.unpack("Q", fcntl.fcntl(fd, cmd, bytes(8)))
    return value


# --------------------------------------------------------------------------- 1. dupfd


def test_dupfd_is_a_real_duplicate_without_cloexec(regular_file, fds):
    """F_DUPFD: a new descriptor >= minfd on the same open file description
    (same inode, shared offset, data written through one readable through the
    other); the new descriptor never carries FD_CLOEXEC, even when the original does."""
    fd = fds(os.open(regular_file, os.O_RDWR))  # Python sets O_CLOEXEC
    assert cfcntl.getfd(fd) == cfcntl.FD_CLOEXEC
    minfd = fd + 50
    dup = fds(cfcntl.dupfd(fd, minfd))
    assert dup >= minfd
    assert (os.fstat(dup).st_dev, os.fstat(dup).st_ino) == (
        os.fstat(fd).st_dev,
        os.fstat(fd).st_ino,
    )
    os.lseek(fd, 6, os.SEEK_SET)
    assert os.lseek(dup, 0, os.SEEK_CUR) == 6  # one offset, shared
    os.write(dup, b"WORLD")
    assert os.pread(fd, 12, 0) == b"hello WORLD\n"
    assert cfcntl.getfd(dup) == 0
    assert os.get_inheritable(dup)


def test_dupfd_skips_occupied_numbers(regular_file, fds):
    """minfd names the lowest acceptable number; an occupied one is skipped."""
    fd = fds(os.open(regular_file, os.O_RDONLY))
    dup = fds(cfcntl.dupfd(fd, fd))
    assert dup > fd
    default = fds(cfcntl.dupfd(fd))  # minfd defaults to 0: the lowest free number
    assert default >= 0


def test_dupfd_cloexec_sets_fd_cloexec(regular_file, fds):
    """F_DUPFD_CLOEXEC: as F_DUPFD with FD_CLOEXEC on the new descriptor."""
    fd = fds(os.open(regular_file, os.O_RDONLY))
    os.set_inheritable(fd, True)
    dup = fds(cfcntl.dupfd_cloexec(fd, fd + 10))
    assert dup >= fd + 10
    assert cfcntl.getfd(dup) == cfcntl.FD_CLOEXEC
    assert not os.get_inheritable(dup)
    assert os.fstat(dup).st_ino == os.fstat(fd).st_ino


@pytest.mark.parametrize("function", [cfcntl.dupfd, cfcntl.dupfd_cloexec])
def test_dupfd_minfd_out_of_range_is_einval(regular_file, fds, function):
    """The kernel refuses minfd >= RLIMIT_NOFILE (and a negative minfd, which it
    reads as unsigned) with EINVAL."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    fd = fds(os.open(regular_file, os.O_RDONLY))
    if soft != resource.RLIM_INFINITY and soft <= INT_MAX:
        assert errno_of(lambda: function(fd, soft)) == errno.EINVAL
    assert errno_of(lambda: function(fd, INT_MAX)) == errno.EINVAL
    assert errno_of(lambda: function(fd, -1)) == errno.EINVAL


# --------------------------------------------------------------------------- 2. getfd/setfd


def test_getfd_setfd_round_trip(regular_file, fds):
    """F_SETFD sets and clears FD_CLOEXEC; F_GETFD, os.get_inheritable and the
    stdlib see the same thing, in both directions."""
    fd = fds(os.open(regular_file, os.O_RDONLY))
    cfcntl.setfd(fd, 0)
    assert cfcntl.getfd(fd) == 0 == fcntl.fcntl(fd, fcntl.F_GETFD)
    assert os.get_inheritable(fd)
    cfcntl.setfd(fd, cfcntl.FD_CLOEXEC)
    assert cfcntl.getfd(fd) == cfcntl.FD_CLOEXEC == fcntl.fcntl(fd, fcntl.F_GETFD)
    assert not os.get_inheritable(fd)
    os.set_inheritable(fd, True)  # and the other way: the stdlib changes, cfcntl reads
    assert cfcntl.getfd(fd) == 0


# --------------------------------------------------------------------------- 3. getfl/setfl


@pytest.mark.parametrize("mode", ["O_RDONLY", "O_WRONLY", "O_RDWR"])
def test_getfl_access_mode(regular_file, fds, mode):
    """F_GETFL reports the access mode the file was opened with; parity with stdlib."""
    fd = fds(os.open(regular_file, getattr(os, mode)))
    flags = cfcntl.getfl(fd)
    assert flags == fcntl.fcntl(fd, fcntl.F_GETFL)
    assert flags & cfcntl.O_ACCMODE == getattr(cfcntl, mode)


def test_setfl_does_not_change_access_mode(regular_file, fds):
    """F_SETFL ignores the access mode bits: an O_RDONLY file stays read-only."""
    fd = fds(os.open(regular_file, os.O_RDONLY))
    cfcntl.setfl(fd, cfcntl.O_RDWR)
    assert cfcntl.getfl(fd) & cfcntl.O_ACCMODE == cfcntl.O_RDONLY
    assert errno_of(lambda: os.write(fd, b"x")) == errno.EBADF


def test_setfl_nonblock_on_pipe(pipe):
    """O_NONBLOCK set by F_SETFL makes a read of an empty pipe fail with EAGAIN at
    once; os.get_blocking agrees both ways; cleared again it is gone."""
    r, w = pipe
    assert not cfcntl.getfl(r) & cfcntl.O_NONBLOCK
    assert os.get_blocking(r)
    cfcntl.setfl(r, cfcntl.getfl(r) | cfcntl.O_NONBLOCK)
    assert cfcntl.getfl(r) & cfcntl.O_NONBLOCK
    assert cfcntl.getfl(r) == fcntl.fcntl(r, fcntl.F_GETFL)
    assert not os.get_blocking(r)
    with pytest.raises(BlockingIOError):
        os.read(r, 1)
    cfcntl.setfl(r, cfcntl.getfl(r) & ~cfcntl.O_NONBLOCK)
    assert not cfcntl.getfl(r) & cfcntl.O_NONBLOCK
    assert os.get_blocking(r)
    os.set_blocking(w, False)  # the stdlib sets the flag, cfcntl reads it
    assert cfcntl.getfl(w) & cfcntl.O_NONBLOCK


def test_setfl_append_on_file(regular_file, fds):
    """With O_APPEND every write goes to the end whatever the offset; without it a
    write at offset 0 overwrites."""
    fd = fds(os.open(regular_file, os.O_WRONLY))
    cfcntl.setfl(fd, cfcntl.getfl(fd) | cfcntl.O_APPEND)
    assert cfcntl.getfl(fd) & cfcntl.O_APPEND
    assert fcntl.fcntl(fd, fcntl.F_GETFL) == cfcntl.getfl(fd)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, b"!")
    assert regular_file.read_bytes() == b"hello world\n!"
    cfcntl.setfl(fd, cfcntl.getfl(fd) & ~cfcntl.O_APPEND)
    assert not cfcntl.getfl(fd) & cfcntl.O_APPEND
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, b"J")
    assert regular_file.read_bytes() == b"Jello world\n!"


# --------------------------------------------------------------------------- 4. owner


def test_getown_setown(sockets):
    """F_SETOWN takes a pid, or a process group negated; F_GETOWN returns it the same
    way (parity with the stdlib for a pid); 0 clears it."""
    a, _ = sockets
    assert cfcntl.getown(a) == 0 == fcntl.fcntl(a, fcntl.F_GETOWN)
    cfcntl.setown(a, os.getpid())
    assert cfcntl.getown(a) == os.getpid() == fcntl.fcntl(a, fcntl.F_GETOWN)
    assert cfcntl.getown_ex(a) == (cfcntl.F_OWNER_PID, os.getpid())
    cfcntl.setown(a, -os.getpgrp())
    # No stdlib parity here: fcntl.fcntl treats every negative return as an error and
    # raises OSError with a stale errno for a process-group owner.
    assert cfcntl.getown(a) == -os.getpgrp()
    assert cfcntl.getown_ex(a) == (cfcntl.F_OWNER_PGRP, os.getpgrp())
    cfcntl.setown(a, 0)
    assert cfcntl.getown(a) == 0


def test_setown_errors(sockets):
    """No process with the id (pid_max is never allocated): ESRCH; INT_MIN, which
    cannot be negated into a group id: EINVAL."""
    a, _ = sockets
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    assert errno_of(lambda: cfcntl.setown(a, pid_max)) == errno.ESRCH
    assert errno_of(lambda: cfcntl.setown(a, -pid_max)) == errno.ESRCH
    assert errno_of(lambda: cfcntl.setown(a, -(2**31))) == errno.EINVAL
    assert errno_of(lambda: cfcntl.setown_ex(a, cfcntl.F_OWNER_PID, pid_max)) == errno.ESRCH


def test_getown_ex_fields(sockets):
    """F_GETOWN_EX fills a struct f_owner_ex, returned as OwnerEx(type, pid)."""
    a, _ = sockets
    owner = cfcntl.getown_ex(a)
    assert isinstance(owner, cfcntl.OwnerEx)
    assert owner._fields == ("type", "pid")
    assert owner.pid == 0  # no owner yet
    cfcntl.setown_ex(a, cfcntl.F_OWNER_PID, os.getpid())
    owner = cfcntl.getown_ex(a)
    assert (owner.type, owner.pid) == (cfcntl.F_OWNER_PID, os.getpid())
    assert owner == cfcntl.OwnerEx(cfcntl.F_OWNER_PID, os.getpid())


def test_setown_ex_pid_pgrp_and_tid(sockets):
    """F_SETOWN_EX round trips for a process, a process group, the calling thread,
    and another live thread (a thread id the kernel knows but no process has)."""
    a, _ = sockets
    cfcntl.setown_ex(a, cfcntl.F_OWNER_PID, os.getpid())
    assert cfcntl.getown_ex(a) == (cfcntl.F_OWNER_PID, os.getpid())
    cfcntl.setown_ex(a, cfcntl.F_OWNER_PGRP, os.getpgrp())
    assert cfcntl.getown_ex(a) == (cfcntl.F_OWNER_PGRP, os.getpgrp())
    assert cfcntl.getown(a) == -os.getpgrp()  # F_GETOWN negates a group
    cfcntl.setown_ex(a, cfcntl.F_OWNER_TID, threading.get_native_id())
    assert cfcntl.getown_ex(a) == (cfcntl.F_OWNER_TID, threading.get_native_id())

    started, release = threading.Event(), threading.Event()
    tids: list[int] = []

    def worker() -> None:
        tids.append(threading.get_native_id())
        started.set()
        release.wait(10)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert started.wait(10)
        assert tids[0] != os.getpid()
        cfcntl.setown_ex(a, cfcntl.F_OWNER_TID, tids[0])
        assert cfcntl.getown_ex(a) == (cfcntl.F_OWNER_TID, tids[0])
    finally:
        release.set()
        thread.join(10)


def test_setown_ex_invalid_type_is_einval(sockets):
    """An owner type other than F_OWNER_TID/PID/PGRP: the kernel says EINVAL."""
    a, _ = sockets
    assert errno_of(lambda: cfcntl.setown_ex(a, 99, os.getpid())) == errno.EINVAL
    assert cfcntl.getown_ex(a).pid == 0  # nothing was set


# --------------------------------------------------------------------------- 5. getsig/setsig


def test_getsig_setsig(sockets):
    """F_GETSIG is 0 (plain SIGIO) until F_SETSIG; setsig(0) restores it; parity
    with stdlib."""
    a, _ = sockets
    assert cfcntl.getsig(a) == 0 == fcntl.fcntl(a, fcntl.F_GETSIG)
    cfcntl.setsig(a, signal.SIGUSR1)
    assert cfcntl.getsig(a) == signal.SIGUSR1 == fcntl.fcntl(a, fcntl.F_GETSIG)
    cfcntl.setsig(a, signal.SIGRTMIN)
    assert cfcntl.getsig(a) == signal.SIGRTMIN
    cfcntl.setsig(a, 0)
    assert cfcntl.getsig(a) == 0


@pytest.mark.parametrize("sig", [1000, -1, signal.NSIG])
def test_setsig_invalid_signal_is_einval(sockets, sig):
    """A number that is not a signal: EINVAL, and the setting is unchanged."""
    a, _ = sockets
    assert errno_of(lambda: cfcntl.setsig(a, sig)) == errno.EINVAL
    assert cfcntl.getsig(a) == 0


def test_setsig_changes_the_signal_sent(tmp_path, fds):
    """The effect of F_SETSIG: a directory notification arrives as SIGUSR1, not SIGIO."""
    dirfd = fds(os.open(tmp_path, os.O_RDONLY))
    with blocked(signal.SIGIO, signal.SIGUSR1):
        cfcntl.setsig(dirfd, signal.SIGUSR1)
        cfcntl.notify(dirfd, cfcntl.DN_CREATE)
        touch(tmp_path / "new")
        assert arrives(signal.SIGUSR1)
        assert not pending(signal.SIGIO)


# --------------------------------------------------------------------------- 6. leases


def test_read_lease_round_trip(regular_file, fds):
    """A read lease on a file nobody has open for writing; F_UNLCK gives it up;
    F_GETLEASE (cfcntl and stdlib) reports each state."""
    fd = fds(os.open(regular_file, os.O_RDONLY))
    assert cfcntl.getlease(fd) == cfcntl.F_UNLCK == fcntl.fcntl(fd, fcntl.F_GETLEASE)
    cfcntl.setlease(fd, cfcntl.F_RDLCK)
    assert cfcntl.getlease(fd) == cfcntl.F_RDLCK == fcntl.fcntl(fd, fcntl.F_GETLEASE)
    cfcntl.setlease(fd, cfcntl.F_UNLCK)
    assert cfcntl.getlease(fd) == cfcntl.F_UNLCK == fcntl.fcntl(fd, fcntl.F_GETLEASE)


def test_write_lease_on_read_only_fd(regular_file, fds):
    """The kernel grants a write lease through an O_RDONLY descriptor when that is
    the only open of the file (it counts only the requester's own open); any other
    open, even read-only, makes it EAGAIN (BlockingIOError)."""
    fd = fds(os.open(regular_file, os.O_RDONLY))
    cfcntl.setlease(fd, cfcntl.F_WRLCK)
    assert cfcntl.getlease(fd) == cfcntl.F_WRLCK == fcntl.fcntl(fd, fcntl.F_GETLEASE)
    cfcntl.setlease(fd, cfcntl.F_UNLCK)
    fds(os.open(regular_file, os.O_RDONLY))
    with pytest.raises(BlockingIOError):
        cfcntl.setlease(fd, cfcntl.F_WRLCK)
    assert cfcntl.getlease(fd) == cfcntl.F_UNLCK


def test_read_lease_refused_while_open_for_writing(regular_file, fds):
    fd = fds(os.open(regular_file, os.O_RDONLY))
    fds(os.open(regular_file, os.O_WRONLY))
    assert errno_of(lambda: cfcntl.setlease(fd, cfcntl.F_RDLCK)) == errno.EAGAIN


def test_lease_break_signals_the_holder(regular_file, fds):
    """The effect of a lease: a non-blocking open for writing fails with EAGAIN,
    SIGIO is sent to the holder, and F_GETLEASE reports the type the lease is being
    broken to (F_UNLCK); once given up, the open succeeds."""
    fd = fds(os.open(regular_file, os.O_RDONLY))
    with blocked(signal.SIGIO):
        cfcntl.setlease(fd, cfcntl.F_RDLCK)
        with pytest.raises(BlockingIOError):
            os.open(regular_file, os.O_WRONLY | os.O_NONBLOCK)
        assert arrives(signal.SIGIO)
        assert cfcntl.getlease(fd) == cfcntl.F_UNLCK == fcntl.fcntl(fd, fcntl.F_GETLEASE)
        cfcntl.setlease(fd, cfcntl.F_UNLCK)
        fds(os.open(regular_file, os.O_WRONLY | os.O_NONBLOCK))


def test_lease_errors(regular_file, pipe, fds):
    """Leases exist only on regular files: EINVAL on a pipe; an unknown type: EINVAL."""
    r, _ = pipe
    assert errno_of(lambda: cfcntl.setlease(r, cfcntl.F_RDLCK)) == errno.EINVAL
    assert cfcntl.getlease(r) == fcntl.fcntl(r, fcntl.F_GETLEASE) == cfcntl.F_UNLCK
    fd = fds(os.open(regular_file, os.O_RDONLY))
    assert errno_of(lambda: cfcntl.setlease(fd, 99)) == errno.EINVAL


# --------------------------------------------------------------------------- 7. notify


def test_notify_one_shot(tmp_path, fds):
    """DN_CREATE without DN_MULTISHOT: the first creation sends SIGIO, then the
    watch is gone.  dnotify queues the signal inside the creating syscall, so
    "not pending right after the create" is a deterministic check."""
    dirfd = fds(os.open(tmp_path, os.O_RDONLY))
    with blocked(signal.SIGIO):
        cfcntl.notify(dirfd, cfcntl.DN_CREATE)
        assert not pending(signal.SIGIO)
        touch(tmp_path / "first")
        assert arrives(signal.SIGIO)
        assert cfcntl.getown(dirfd) == os.getpid()  # F_NOTIFY made us the owner
        touch(tmp_path / "second")
        assert not pending(signal.SIGIO)


def test_notify_multishot(tmp_path, fds):
    """DN_MULTISHOT (bit 31, only representable as unsigned) keeps the watch: each
    creation signals; events outside the mask (a deletion) do not; F_NOTIFY 0
    removes the watch."""
    assert cfcntl.DN_MULTISHOT == 0x80000000
    dirfd = fds(os.open(tmp_path, os.O_RDONLY))
    with blocked(signal.SIGIO):
        cfcntl.notify(dirfd, cfcntl.DN_MULTISHOT | cfcntl.DN_CREATE)
        for name in ("one", "two", "three"):
            touch(tmp_path / name)
            assert arrives(signal.SIGIO)
        (tmp_path / "one").unlink()
        assert not pending(signal.SIGIO)
        cfcntl.notify(dirfd, 0)
        touch(tmp_path / "four")
        assert not pending(signal.SIGIO)


def test_notify_errors(regular_file, fds):
    """F_NOTIFY needs a directory: ENOTDIR on a file; a mask outside unsigned int
    never reaches the kernel: OverflowError naming "events"."""
    fd = fds(os.open(regular_file, os.O_RDONLY))
    with pytest.raises(NotADirectoryError):
        cfcntl.notify(fd, cfcntl.DN_CREATE)
    dirfd = fds(os.open(regular_file.parent, os.O_RDONLY))
    for events in (-1, 2**32):
        with pytest.raises(OverflowError, match=r"notify\(\): events="):
            cfcntl.notify(dirfd, events)


# --------------------------------------------------------------------------- 8. pipe size


def test_getpipe_sz_default(pipe):
    """A new pipe's capacity: a whole number of pages, the same through the stdlib."""
    r, w = pipe
    size = cfcntl.getpipe_sz(r)
    assert size == fcntl.fcntl(r, cfcntl.F_GETPIPE_SZ) == cfcntl.getpipe_sz(w)
    assert size > 0 and size % PAGE == 0


def test_setpipe_sz_capacity_is_real(pipe):
    """F_SETPIPE_SZ returns the capacity chosen (>= asked); F_GETPIPE_SZ agrees; a
    non-blocking writer fits exactly that many bytes, and not one more."""
    r, w = pipe
    size = cfcntl.setpipe_sz(w, 1 << 17)
    assert size >= 1 << 17
    assert cfcntl.getpipe_sz(r) == size == fcntl.fcntl(r, cfcntl.F_GETPIPE_SZ)
    os.set_blocking(w, False)
    assert os.write(w, bytes(size)) == size
    with pytest.raises(BlockingIOError):
        os.write(w, b"x")


def test_setpipe_sz_rounding_and_errors(pipe, regular_file, fds):
    """Size 0 rounds up to one page; a negative size (huge as the kernel's unsigned)
    is EINVAL; shrinking below the data held is EBUSY; a non-pipe is EBADF."""
    r, w = pipe
    assert cfcntl.setpipe_sz(r, 0) == PAGE == cfcntl.getpipe_sz(r)
    assert cfcntl.setpipe_sz(r, PAGE + 1) == 2 * PAGE  # rounded to a power of 2 pages
    assert errno_of(lambda: cfcntl.setpipe_sz(r, -1)) == errno.EINVAL
    assert os.write(w, bytes(2 * PAGE)) == 2 * PAGE
    assert errno_of(lambda: cfcntl.setpipe_sz(r, PAGE)) == errno.EBUSY
    assert cfcntl.getpipe_sz(r) == 2 * PAGE
    fd = fds(os.open(regular_file, os.O_RDONLY))
    assert errno_of(lambda: cfcntl.setpipe_sz(fd, PAGE)) == errno.EBADF
    assert errno_of(lambda: cfcntl.getpipe_sz(fd)) == errno.EBADF


def _has_cap_sys_resource() -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> 24 & 1)  # CAP_SYS_RESOURCE = 24
    return False


def _in_initial_user_namespace() -> bool:
    # capable() asks the initial user namespace; CapEff is relative to our own.
    return Path("/proc/self/uid_map").read_text().split() == ["0", "0", "4294967295"]


def test_setpipe_sz_above_max(pipe):
    """Above /proc/sys/fs/pipe-max-size: EPERM without CAP_SYS_RESOURCE (which root
    may or may not hold); with it, granted.  The capability is read, not assumed."""
    r, _ = pipe
    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    if limit >= 2**30:
        pytest.skip("pipe-max-size too large to exceed here")
    if not _has_cap_sys_resource():
        with pytest.raises(PermissionError):
            cfcntl.setpipe_sz(r, limit + 1)
        assert cfcntl.setpipe_sz(r, limit) >= limit  # the limit itself is allowed
    elif _in_initial_user_namespace():
        assert cfcntl.setpipe_sz(r, limit + 1) > limit
    else:
        pytest.skip("CAP_SYS_RESOURCE inside a user namespace: the kernel may refuse")


# --------------------------------------------------------------------------- 9. seals


def test_seals_on_memfd(sealable):
    """A sealable memfd starts unsealed; F_SEAL_WRITE|F_SEAL_SHRINK then forbid
    writes and shrinking (EPERM) but not growing; after F_SEAL_SEAL no seal can be
    added (EPERM).  Parity with the stdlib's F_GET_SEALS at each step."""
    fd = sealable
    os.write(fd, b"0123456789")
    assert cfcntl.get_seals(fd) == 0 == fcntl.fcntl(fd, cfcntl.F_GET_SEALS)
    cfcntl.add_seals(fd, cfcntl.F_SEAL_WRITE | cfcntl.F_SEAL_SHRINK)
    seals = cfcntl.get_seals(fd)
    assert seals == cfcntl.F_SEAL_WRITE | cfcntl.F_SEAL_SHRINK
    assert seals == fcntl.fcntl(fd, cfcntl.F_GET_SEALS)
    with pytest.raises(PermissionError):
        os.write(fd, b"x")
    with pytest.raises(PermissionError):
        os.ftruncate(fd, 5)
    os.ftruncate(fd, 20)  # growing is not sealed
    assert os.fstat(fd).st_size == 20
    cfcntl.add_seals(fd, cfcntl.F_SEAL_SEAL)
    assert cfcntl.get_seals(fd) == seals | cfcntl.F_SEAL_SEAL
    with pytest.raises(PermissionError):
        cfcntl.add_seals(fd, cfcntl.F_SEAL_GROW)
    assert cfcntl.get_seals(fd) == seals | cfcntl.F_SEAL_SEAL == fcntl.fcntl(fd, cfcntl.F_GET_SEALS)


def test_memfd_without_allow_sealing(fds):
    """Without MFD_ALLOW_SEALING a memfd is born with F_SEAL_SEAL: nothing can be added."""
    fd = fds(os.memfd_create("cfcntl-unsealable"))
    assert cfcntl.get_seals(fd) == cfcntl.F_SEAL_SEAL == fcntl.fcntl(fd, cfcntl.F_GET_SEALS)
    with pytest.raises(PermissionError):
        cfcntl.add_seals(fd, cfcntl.F_SEAL_WRITE)


def test_seal_errors(sealable, pipe):
    """An unknown seal bit is EINVAL; a pipe has no seals (EINVAL)."""
    assert errno_of(lambda: cfcntl.add_seals(sealable, 0x1000)) == errno.EINVAL
    assert cfcntl.get_seals(sealable) == 0
    r, _ = pipe
    assert errno_of(lambda: cfcntl.get_seals(r)) == errno.EINVAL


# --------------------------------------------------------------------------- 10. rw hints

RW_HINTS = [
    "RWH_WRITE_LIFE_NOT_SET",
    "RWH_WRITE_LIFE_NONE",
    "RWH_WRITE_LIFE_SHORT",
    "RWH_WRITE_LIFE_MEDIUM",
    "RWH_WRITE_LIFE_LONG",
    "RWH_WRITE_LIFE_EXTREME",
]


@pytest.mark.parametrize("name", RW_HINTS)
def test_rw_hint_round_trip(regular_file, fds, name, rw_hints):
    """F_SET_RW_HINT stores a hint on the inode: F_GET_RW_HINT returns it, through any
    descriptor of the file, and the stdlib (8-byte buffer) reads the same."""
    hint = getattr(cfcntl, name)
    fd = fds(os.open(regular_file, os.O_WRONLY))
    other = fds(os.open(regular_file, os.O_RDONLY))
    cfcntl.set_rw_hint(fd, hint)
    assert cfcntl.get_rw_hint(fd) == hint == stdlib_u64(fd, cfcntl.F_GET_RW_HINT)
    assert cfcntl.get_rw_hint(other) == hint


def test_rw_hint_set_through_stdlib(regular_file, fds, rw_hints):
    fd = fds(os.open(regular_file, os.O_RDWR))
    fcntl.fcntl(fd, cfcntl.F_SET_RW_HINT, struct.pack("Q", cfcntl.RWH_WRITE_LIFE_LONG))
    assert cfcntl.get_rw_hint(fd) == cfcntl.RWH_WRITE_LIFE_LONG


def test_rw_hint_invalid_is_einval(regular_file, fds, rw_hints):
    fd = fds(os.open(regular_file, os.O_RDWR))
    cfcntl.set_rw_hint(fd, cfcntl.RWH_WRITE_LIFE_SHORT)
    assert errno_of(lambda: cfcntl.set_rw_hint(fd, 99)) == errno.EINVAL
    assert cfcntl.get_rw_hint(fd) == cfcntl.RWH_WRITE_LIFE_SHORT


def _outcome(call: Callable[[], object]) -> tuple[str, object]:
    try:
        return ("ok", call())
    except OSError as exc:
        return ("errno", exc.errno)


def test_file_rw_hint_matches_stdlib(regular_file, fds):
    """Per-file hints were removed in Linux 5.18 (EINVAL since): whatever this kernel
    does, cfcntl gives exactly what the stdlib gives on the same descriptor."""
    fd = fds(os.open(regular_file, os.O_RDWR))
    hint = cfcntl.RWH_WRITE_LIFE_MEDIUM

    got = _outcome(lambda: cfcntl.get_file_rw_hint(fd))
    assert got == _outcome(lambda: stdlib_u64(fd, cfcntl.F_GET_FILE_RW_HINT))
    assert got == ("errno", errno.EINVAL) or got[1] in range(6)

    set_c = _outcome(lambda: cfcntl.set_file_rw_hint(fd, hint))
    set_std = _outcome(lambda: fcntl.fcntl(fd, cfcntl.F_SET_FILE_RW_HINT, struct.pack("Q", hint)))
    assert set_c[0] == set_std[0]
    if set_c[0] == "errno":
        assert set_c == set_std
    else:
        assert _outcome(lambda: cfcntl.get_file_rw_hint(fd)) == ("ok", hint)


# --------------------------------------------------------------------------- 11. queries


@pytest.mark.skipif(cfcntl.has("F_DUPFD_QUERY"), reason="headers define F_DUPFD_QUERY")
def test_dupfd_query_absent(regular_file, fds):
    fd = fds(os.open(regular_file, os.O_RDONLY))
    assert not hasattr(cfcntl, "F_DUPFD_QUERY")
    with pytest.raises(NotImplementedError, match="F_DUPFD_QUERY"):
        cfcntl.dupfd_query(fd, fd)


@pytest.mark.skipif(not cfcntl.has("F_DUPFD_QUERY"), reason="headers lack F_DUPFD_QUERY")
def test_dupfd_query_present(regular_file, fds):
    """F_DUPFD_QUERY: True for descriptors sharing an open file description (a dup,
    itself), False for another open of the same file; parity with stdlib."""
    fd = fds(os.open(regular_file, os.O_RDONLY))
    dup = fds(os.dup(fd))
    other = fds(os.open(regular_file, os.O_RDONLY))
    assert cfcntl.dupfd_query(fd, dup) is True
    assert cfcntl.dupfd_query(fd, fd) is True
    assert cfcntl.dupfd_query(fd, other) is False
    assert fcntl.fcntl(fd, cfcntl.F_DUPFD_QUERY, dup) == 1
    assert fcntl.fcntl(fd, cfcntl.F_DUPFD_QUERY, other) == 0
    with open(regular_file, "rb") as f:  # other as an object with fileno()
        assert cfcntl.dupfd_query(fd, f) is False


@pytest.mark.skipif(cfcntl.has("F_CREATED_QUERY"), reason="headers define F_CREATED_QUERY")
def test_created_query_absent(regular_file, fds):
    fd = fds(os.open(regular_file, os.O_RDONLY))
    assert not hasattr(cfcntl, "F_CREATED_QUERY")
    with pytest.raises(NotImplementedError, match="F_CREATED_QUERY"):
        cfcntl.created_query(fd)


@pytest.mark.skipif(not cfcntl.has("F_CREATED_QUERY"), reason="headers lack F_CREATED_QUERY")
def test_created_query_present(tmp_path, fds):
    """F_CREATED_QUERY: True only for the open that created the file."""
    path = tmp_path / "new"
    created = fds(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    existing = fds(os.open(path, os.O_CREAT | os.O_RDWR))
    plain = fds(os.open(path, os.O_RDONLY))
    assert cfcntl.created_query(created) is True
    assert cfcntl.created_query(existing) is False
    assert cfcntl.created_query(plain) is False
    assert fcntl.fcntl(created, cfcntl.F_CREATED_QUERY) == 1


# --------------------------------------------------------------------------- 12. fd handling

FD_COMMANDS = [
    pytest.param(cfcntl.getfd, id="getfd"),
    pytest.param(cfcntl.getfl, id="getfl"),
    pytest.param(cfcntl.getown, id="getown"),
    pytest.param(cfcntl.getown_ex, id="getown_ex"),
    pytest.param(cfcntl.getsig, id="getsig"),
    pytest.param(cfcntl.getlease, id="getlease"),
    pytest.param(cfcntl.getpipe_sz, id="getpipe_sz"),
    pytest.param(cfcntl.get_seals, id="get_seals"),
    pytest.param(cfcntl.get_rw_hint, id="get_rw_hint"),
    pytest.param(cfcntl.dupfd, id="dupfd"),
    pytest.param(lambda fd: cfcntl.setfd(fd, 0), id="setfd"),
    pytest.param(lambda fd: cfcntl.setfl(fd, 0), id="setfl"),
    pytest.param(lambda fd: cfcntl.notify(fd, cfcntl.DN_CREATE), id="notify"),
    pytest.param(lambda fd: cfcntl.set_rw_hint(fd, 0), id="set_rw_hint"),
]
"""Commands taking only a descriptor (or a harmless constant besides it)."""


def test_objects_with_fileno(regular_file, sockets):
    """Any object with fileno() is accepted: a file object, a socket."""
    with open(regular_file, "rb") as f:
        assert cfcntl.getfl(f) == cfcntl.getfl(f.fileno()) == fcntl.fcntl(f, fcntl.F_GETFL)
        assert cfcntl.getfd(f) == fcntl.fcntl(f, fcntl.F_GETFD)
        assert cfcntl.getfl(f) & cfcntl.O_ACCMODE == cfcntl.O_RDONLY
    a, _ = sockets
    assert cfcntl.getfl(a) & cfcntl.O_ACCMODE == cfcntl.O_RDWR
    cfcntl.setown(a, os.getpid())
    assert cfcntl.getown(a.fileno()) == os.getpid()


@pytest.mark.parametrize("function", FD_COMMANDS)
def test_closed_fd_is_ebadf(regular_file, function, request):
    """A descriptor this test closed itself: the kernel answers EBADF."""
    if request.node.callspec.id in ("get_rw_hint", "set_rw_hint"):
        request.getfixturevalue("rw_hints")
    fd = os.open(regular_file, os.O_RDONLY)
    os.close(fd)
    assert errno_of(lambda: function(fd)) == errno.EBADF


class _FilenoReturns:
    def __init__(self, value: object) -> None:
        self.value = value

    def fileno(self) -> object:
        return self.value


@pytest.mark.parametrize("function", FD_COMMANDS)
def test_bad_descriptors(function):
    """Negative: ValueError; a str, a float, an object without fileno(), or a
    fileno() returning a non-int: TypeError; 2**40: OverflowError."""
    with pytest.raises(ValueError, match="negative"):
        function(-1)
    with pytest.raises(ValueError, match="negative"):
        function(_FilenoReturns(-5))
    for bad in ("3", 3.0, None, object()):
        with pytest.raises(TypeError):
            function(bad)
    with pytest.raises(TypeError, match=r"fileno\(\) returned str"):
        function(_FilenoReturns("3"))
    with pytest.raises(OverflowError):
        function(2**40)
    with pytest.raises(OverflowError):
        function(_FilenoReturns(2**40))


# --------------------------------------------------------------------------- 13. messages


@pytest.fixture
def rdonly_fd(regular_file, fds):
    return fds(os.open(regular_file, os.O_RDONLY))


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (
            lambda fd: cfcntl.setfd(fd, 2**40),
            OverflowError,
            "setfd(): flags=1099511627776 does not fit the C type int",
        ),
        (lambda fd: cfcntl.setfd(fd, "x"), TypeError, "setfd(): flags must be an int, not str"),
        (
            lambda fd: cfcntl.setpipe_sz(fd, "x"),
            TypeError,
            "setpipe_sz(): size must be an int, not str",
        ),
        (
            lambda fd: cfcntl.setpipe_sz(fd, 2**31),
            OverflowError,
            "setpipe_sz(): size=2147483648 does not fit the C type int",
        ),
        (
            lambda fd: cfcntl.set_rw_hint(fd, -1),
            OverflowError,
            "set_rw_hint(): hint=-1 does not fit the C type uint64_t",
        ),
        (
            lambda fd: cfcntl.set_rw_hint(fd, 1.5),
            TypeError,
            "set_rw_hint(): hint must be an int, not float",
        ),
        (lambda fd: cfcntl.setown_ex(fd, -1, 1), OverflowError, "setown_ex(): type=-1"),
        (
            lambda fd: cfcntl.setown_ex(fd, cfcntl.F_OWNER_PID, 2**31),
            OverflowError,
            "setown_ex(): pid=2147483648 does not fit the C type pid_t",
        ),
        (lambda fd: cfcntl.setown(fd, None), TypeError, "setown(): pid must be an int"),
        (lambda fd: cfcntl.setsig(fd, 2**31), OverflowError, "setsig(): sig=2147483648"),
        (lambda fd: cfcntl.dupfd(fd, 2**31), OverflowError, "dupfd(): minfd=2147483648"),
        (
            lambda fd: cfcntl.dupfd_cloexec(fd, "1"),
            TypeError,
            "dupfd_cloexec(): minfd must be an int",
        ),
        (lambda fd: cfcntl.setlease(fd, 2**32), OverflowError, "setlease(): type=4294967296"),
        (lambda fd: cfcntl.add_seals(fd, -(2**31) - 1), OverflowError, "add_seals(): seals="),
        (
            lambda fd: cfcntl.notify(fd, -1),
            OverflowError,
            "notify(): events=-1 does not fit the C type unsigned int",
        ),
        (
            lambda fd: cfcntl.getfd(2**40),
            OverflowError,
            "getfd(): fd=1099511627776 does not fit the C type int",
        ),
        (lambda fd: cfcntl.getown_ex(2**31), OverflowError, "getown_ex(): fd=2147483648"),
        (lambda fd: cfcntl.get_rw_hint(2**31), OverflowError, "get_rw_hint(): fd=2147483648"),
    ],
)
def test_argument_errors_name_function_and_argument(rdonly_fd, call, exc, message):
    """A value cffi refuses is reported with the function and the argument at fault."""
    with pytest.raises(exc, match="^" + re.escape(message)):
        call(rdonly_fd)


def test_getfl_overflow_names_function():
    """The fast path of getfl names the descriptor it could not pass, like every command."""
    with pytest.raises(OverflowError, match=r"^getfl\(\): fd=1099511627776"):
        cfcntl.getfl(2**40)


# --------------------------------------------------------------------------- 14. has/require


def test_has_and_require():
    assert cfcntl.has("F_GETFL") is True
    assert cfcntl.require("F_GETFL") == cfcntl.F_GETFL == fcntl.F_GETFL
    with pytest.raises(ValueError, match="F_NOT_A_THING"):
        cfcntl.has("F_NOT_A_THING")
    with pytest.raises(ValueError, match="F_NOT_A_THING"):  # a typo is not "absent"
        cfcntl.require("F_NOT_A_THING")


def test_present_and_absent_names_are_consistent():
    """Every name cfcntl looks for is either present (module attribute, returned by
    require) or absent (no attribute, NotImplementedError naming it)."""
    assert "F_GETFL" in cfcntl.NAMES
    for name in cfcntl.NAMES:
        if cfcntl.has(name):
            assert isinstance(getattr(cfcntl, name), int), name
            assert cfcntl.require(name) == getattr(cfcntl, name), name
        else:
            assert not hasattr(cfcntl, name), name
            with pytest.raises(NotImplementedError, match=name):
                cfcntl.require(name)


def test_constants_agree_with_stdlib():
    """Every name cfcntl has that the interpreter's fcntl module also exports has the
    same value."""
    compared = {}
    mismatched = {}
    for name in cfcntl.NAMES:
        if not (cfcntl.has(name) and hasattr(fcntl, name)):
            continue
        ours, theirs = getattr(cfcntl, name), getattr(fcntl, name)
        compared[name] = ours
        if name == "DN_MULTISHOT":
            # 0x80000000 (bit 31).  The stdlib adds it with a C int/long conversion, so
            # depending on the build it shows as 2147483648 or -2147483648; the kernel
            # reads an unsigned int, so compare as unsigned 32-bit.  cfcntl must give the
            # unsigned value, since notify() takes an unsigned int.
            assert ours == 0x80000000
            theirs &= 0xFFFFFFFF
        if ours != theirs:
            mismatched[name] = (ours, theirs)
    assert mismatched == {}
    assert {"F_GETFL", "F_SETFD", "FD_CLOEXEC", "DN_CREATE", "F_GETLEASE"} <= compared.keys()
