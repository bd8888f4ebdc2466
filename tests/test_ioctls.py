"""cfcntl.ioctls against real kernel objects, side by side with the stdlib's fcntl.ioctl.

Sockets, pipes, pseudo-terminals from os.openpty (never a controlling terminal of the
test process) and tmp_path files; the block device, loop device and filesystem requests
are in test_ioctls_block.py, test_ioctls_loop.py and test_ioctls_fs.py.  Request numbers
given to the stdlib come from cfcntl (older Pythons lack FICLONE and the termios module
lacks the FS_IOC_* names).
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import socket
import struct
import sys
from array import array
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import cfcntl
from cfcntl import ioc, ioctls
from cfcntl._cfcntl import ffi, lib as _lib

QUEUED = 0x1234  # the seed article's FIONREAD experiment: 4660 bytes waiting


def errno_of(call: Callable[[], object]) -> int:
    with pytest.raises(OSError) as info:
        call()
    return info.value.errno


def stdlib_int(fd: int, request: int) -> int:
    """An int getter through the stdlib, the way its docs show it."""
    buf = array("i", [0])
    fcntl.ioctl(fd, request, buf, True)
    return buf[0]


@pytest.fixture
def queued() -> Iterator[socket.socket]:
    """The reading end of a socketpair with QUEUED bytes waiting."""
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"x" * QUEUED)
        yield b


# --------------------------------------------------------------------------- FIONREAD


def test_fionread_the_seeds_experiment_side_by_side(queued: socket.socket) -> None:
    """4660 bytes queued: cfcntl says 4660 from an int; the stdlib says it through each
    buffer kind the seed tried, and a buffer too short cuts the answer off silently (up to
    3.13) or is caught after the kernel wrote past it (3.14+)."""
    fd = queued.fileno()
    assert ioctls.fionread(queued) == ioctls.fionread(fd) == QUEUED
    assert ioctls.fionread(fd) == ioctls.read(fd, cfcntl.SIOCINQ, "int") == QUEUED
    native = sys.byteorder

    buf = array("i", [0])  # mutable, mutated in place: the docs' way
    assert fcntl.ioctl(fd, cfcntl.FIONREAD, buf, True) == 0
    assert buf[0] == QUEUED

    mutable = bytearray(4)
    assert fcntl.ioctl(fd, cfcntl.FIONREAD, mutable, True) == 0
    assert int.from_bytes(mutable, native) == QUEUED
    untouched = bytearray(4)  # mutate_flag=False: the answer is a copy, the buffer stays 0
    copy = fcntl.ioctl(fd, cfcntl.FIONREAD, untouched, False)
    assert (int.from_bytes(copy, native), untouched) == (QUEUED, bytearray(4))
    assert int.from_bytes(fcntl.ioctl(fd, cfcntl.FIONREAD, bytes(4)), native) == QUEUED

    # One byte where the kernel writes four.  Up to 3.13 the stdlib returns one byte of
    # the answer; 3.14 (gh-132915) puts a guard after its copy of the buffer and raises
    # SystemError when the kernel wrote into it.
    if sys.version_info >= (3, 14):
        for arg in (bytes(1), bytearray(1)):
            with pytest.raises(SystemError, match="buffer overflow"):
                fcntl.ioctl(fd, cfcntl.FIONREAD, arg, True)
    else:
        short = fcntl.ioctl(fd, cfcntl.FIONREAD, bytes(1))
        # the int's first byte in memory: its low byte on little-endian, high on big
        assert len(short) == 1 and short[0] == QUEUED.to_bytes(4, native)[0] != QUEUED
        tiny = bytearray(1)
        fcntl.ioctl(fd, cfcntl.FIONREAD, tiny, True)
        assert tiny[0] == QUEUED.to_bytes(4, native)[0]
    # cfcntl refuses the short buffer: FIONREAD is known to take an int.
    with pytest.raises(ValueError, match="takes a 4-byte argument, 'uint8_t' is 1 bytes"):
        ioctls.read(fd, cfcntl.FIONREAD, "uint8_t")
    assert ioctls.fionread(fd) == QUEUED  # nothing was read


def test_outq_on_a_socket_agrees_with_the_stdlib() -> None:
    """SIOCOUTQ on the sending end of a Unix socket: the memory the peer's unread data
    holds (at least the bytes), as the stdlib sees it; nothing on the receiving end."""
    a, b = socket.socketpair()
    with a, b:
        assert ioctls.tiocoutq(a) == 0
        a.sendall(b"x" * QUEUED)
        assert ioctls.tiocoutq(a) == stdlib_int(a.fileno(), cfcntl.SIOCOUTQ) >= QUEUED
        assert ioctls.tiocoutq(b) == stdlib_int(b.fileno(), cfcntl.TIOCOUTQ) == 0


# --------------------------------------------------------------------------- terminals


def test_winsize_round_trip_seen_by_the_stdlib(pty: tuple[int, int]) -> None:
    """Set on the master, read on the slave, by cfcntl and by the stdlib's struct path;
    the largest values (all bits set, the C helper's failure pattern) come back too."""
    master, slave = pty
    for size in (ioctls.Winsize(24, 80, 640, 480), ioctls.Winsize(65535, 65535, 65535, 65535)):
        ioctls.set_winsize(master, size)
        assert errno_of(lambda: ioctls.tiocgptn(slave)) == errno.ENOTTY  # errno left set
        got = ioctls.get_winsize(slave)
        assert got == size and type(got) is ioctls.Winsize and got.cols == size.cols
        raw = fcntl.ioctl(slave, cfcntl.TIOCGWINSZ, bytes(8))
        assert struct.unpack("HHHH", raw) == size
    fcntl.ioctl(master, cfcntl.TIOCSWINSZ, struct.pack("HHHH", 50, 132, 0, 7))
    assert ioctls.get_winsize(master) == (50, 132, 0, 7)
    win = ioctls.read(slave, cfcntl.TIOCGWINSZ, "struct winsize")
    assert (win.ws_row, win.ws_col, win.ws_xpixel, win.ws_ypixel) == (50, 132, 0, 7)
    ioctls.write(slave, cfcntl.TIOCSWINSZ, "struct winsize", {"ws_row": 3, "ws_col": 4})
    assert ioctls.get_winsize(master) == (3, 4, 0, 0)


def test_winsize_refusals(pty: tuple[int, int], regular: int) -> None:
    master, _ = pty
    ioctls.set_winsize(master, ioctls.Winsize(10, 20, 0, 0))
    with pytest.raises(ValueError, match=r"set_winsize\(\): 3 values for the 4 fields"):
        ioctls.set_winsize(master, (10, 20, 0))
    with pytest.raises(OverflowError, match=r"set_winsize\(\): cols=65536 does not fit"):
        ioctls.set_winsize(master, ioctls.Winsize(10, 65536, 0, 0))
    with pytest.raises(OverflowError, match="ypixel=-1"):
        ioctls.set_winsize(master, ioctls.Winsize(10, 20, 0, -1))
    with pytest.raises(TypeError, match="rows must be an int, not float"):
        ioctls.set_winsize(master, ioctls.Winsize(1.5, 20, 0, 0))  # type: ignore[arg-type]
    assert ioctls.get_winsize(master) == (10, 20, 0, 0)  # nothing reached the terminal
    assert errno_of(lambda: ioctls.get_winsize(regular)) == errno.ENOTTY
    assert errno_of(lambda: ioctls.set_winsize(regular, ioctls.Winsize(1, 1, 1, 1))) == (
        errno.ENOTTY
    )


def test_pty_number_lock_and_line_discipline(pty: tuple[int, int]) -> None:
    """TIOCGPTN names /dev/pts/N; TIOCSPTLCK locks the slave against opening."""
    master, slave = pty
    number = ioctls.tiocgptn(master)
    assert os.ttyname(slave) == f"/dev/pts/{number}"
    assert number == struct.unpack("I", fcntl.ioctl(master, cfcntl.TIOCGPTN, bytes(4)))[0]
    assert errno_of(lambda: ioctls.tiocgptn(slave)) == errno.ENOTTY  # a master-only request
    ioctls.tiocsptlck(master, 1)
    assert errno_of(lambda: os.open(os.ttyname(slave), os.O_RDWR | os.O_NOCTTY)) == errno.EIO
    ioctls.tiocsptlck(master, 0)
    os.close(os.open(os.ttyname(slave), os.O_RDWR | os.O_NOCTTY))
    assert ioctls.tiocgetd(slave) == stdlib_int(slave, cfcntl.TIOCGETD) == 0  # N_TTY


# qemu-user 7.2 does not know TIOCGEXCL (ENOSYS under qemu-s390x-static).
TIOCGEXCL_PROGRAM = r"""
#include <errno.h>
#include <pty.h>
#include <stdio.h>
#include <sys/ioctl.h>
int main(void) {
    int master, slave, excl = 0;
    if (openpty(&master, &slave, NULL, NULL, NULL) == 0 && ioctl(slave, TIOCGEXCL, &excl) == 0)
        return 0;
    printf("%d\n", errno);
    return 1;
}
"""


@pytest.fixture
def tiocgexcl_emulated(unemulated: Callable[..., None]) -> None:
    """Skip under an emulator that does not know TIOCGEXCL."""
    unemulated("TIOCGEXCL", TIOCGEXCL_PROGRAM)


def test_exclusive_mode(pty: tuple[int, int], tiocgexcl_emulated: None) -> None:
    """TIOCEXCL/TIOCNXCL, seen through TIOCGEXCL built with the encoder."""
    _, slave = pty
    tiocgexcl = ioc.IOR("T", 0x40, "int")
    assert ioctls.read(slave, tiocgexcl, "int") == 0
    ioctls.tiocexcl(slave)
    assert ioctls.read(slave, tiocgexcl, "int") == stdlib_int(slave, tiocgexcl) == 1
    ioctls.tiocnxcl(slave)
    assert ioctls.read(slave, tiocgexcl, "int") == 0


def test_tiocgexcl_reads_the_exclusive_mode(
    pty: tuple[int, int], regular: int, tiocgexcl_emulated: None
) -> None:
    """TIOCGEXCL answers 1 after TIOCEXCL and 0 after TIOCNXCL, as the stdlib reads it;
    on a regular file, ENOTTY; its registry row is the header's int."""
    _, slave = pty
    assert ioctls.tiocgexcl(slave) == 0
    ioctls.tiocexcl(slave)
    assert ioctls.tiocgexcl(slave) == stdlib_int(slave, ioc.IOR("T", 0x40, "int")) == 1
    ioctls.tiocnxcl(slave)
    assert ioctls.tiocgexcl(slave) == 0
    assert errno_of(lambda: ioctls.tiocgexcl(regular)) == errno.ENOTTY
    assert ioctls.KNOWN["TIOCGEXCL"][2:] == ("read", "int", "int", "")


def test_no_controlling_terminal_is_enotty(pty: tuple[int, int]) -> None:
    """The pty is nobody's controlling terminal: the session and process-group
    requests answer ENOTTY, as they do through the stdlib."""
    _, slave = pty
    for call in (ioctls.tiocgsid, ioctls.tiocgpgrp, ioctls.tiocnotty):
        assert errno_of(lambda call=call: call(slave)) == errno.ENOTTY
    assert errno_of(lambda: stdlib_int(slave, cfcntl.TIOCGSID)) == errno.ENOTTY


# qemu-user 7.2 answers TIOCGSID with 0 and writes no session id (qemu-arm-static).
TIOCGSID_PROGRAM = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int master, slave, status;
    if (openpty(&master, &slave, NULL, NULL, NULL) != 0) return 2;
    pid_t pid = fork();
    if (pid == 0) {
        pid_t sid = -1;
        setsid();
        if (ioctl(slave, TIOCSCTTY, 0) != 0 || ioctl(slave, TIOCGSID, &sid) != 0) _exit(2);
        if (sid == getpid()) _exit(0);
        printf("session %d for process %d\n", (int)sid, (int)getpid());
        fflush(stdout);
        _exit(3);
    }
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
"""


TIOCGSID_NUMBER = r"""
#include <stdio.h>
#include <sys/ioctl.h>
int main(void) { printf("%lu\n", (unsigned long)TIOCGSID); return 0; }
"""


def test_controlling_terminal_in_a_new_session(
    pty: tuple[int, int], misemulated: Callable[..., None], run_c: Callable[[str], str]
) -> None:
    """In a forked child that has made itself a session leader: TIOCSCTTY takes the pty,
    TIOCGSID/TIOCGPGRP name the child's session and group, TIOCSPGRP sets the group,
    TIOCNOTTY gives the terminal up.  The child reports through a pipe.  (The stdlib's
    termios module lacks TIOCGSID: its number, 0x5429 on x86-64, comes from the C
    compiler.)"""
    misemulated("TIOCGSID", TIOCGSID_PROGRAM)
    tiocgsid = int(run_c(TIOCGSID_NUMBER))
    _, slave = pty
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            os.setsid()
            ioctls.tiocsctty(slave)
            me = os.getpid()
            got = [ioctls.tiocgsid(slave), ioctls.tiocgpgrp(slave), stdlib_int(slave, tiocgsid)]
            ioctls.tiocspgrp(slave, os.getpgrp())
            signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a leader's TIOCNOTTY hangs up
            ioctls.tiocnotty(slave)
            after = errno_of(lambda: ioctls.tiocgsid(slave))
            os.write(w, repr([*(g - me for g in got), after]).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    with os.fdopen(r) as report:
        answer = report.read()
    assert os.waitpid(pid, 0)[1] == 0, answer
    assert answer == repr([0, 0, 0, errno.ENOTTY])


def test_close_on_exec_nonblocking_and_async(regular: int, queued: socket.socket) -> None:
    os.set_inheritable(regular, True)
    ioctls.fioclex(regular)
    assert cfcntl.getfd(regular) == cfcntl.FD_CLOEXEC
    ioctls.fionclex(regular)
    assert cfcntl.getfd(regular) == 0
    ioctls.fionbio(queued, 1)
    assert not os.get_blocking(queued.fileno())
    assert cfcntl.getfl(queued) & cfcntl.O_NONBLOCK
    ioctls.fionbio(queued, 0)
    assert not cfcntl.getfl(queued) & cfcntl.O_NONBLOCK
    ioctls.fioasync(queued, 1)
    assert cfcntl.getfl(queued) & cfcntl.O_ASYNC
    ioctls.fioasync(queued, 0)
    assert not cfcntl.getfl(queued) & cfcntl.O_ASYNC


# --------------------------------------------------------------------------- filesystems


FS_NODUMP_FL = 0x40  # <linux/fs.h>; settable by the file's owner without privileges


def test_fs_flags_pass_an_int(regular: int) -> None:
    """FS_IOC_GETFLAGS/SETFLAGS move an int although the header encodes a long: the
    typed helpers agree with the stdlib's int buffer, and the generic call refuses the
    4-byte int the kernel really uses because the request says 8 (the header trap)."""
    try:
        flags = ioctls.fs_getflags(regular)
    except OSError as exc:
        pytest.skip(f"this filesystem has no inode flags: {exc}")
    assert flags == stdlib_int(regular, cfcntl.FS_IOC_GETFLAGS)
    ioctls.fs_setflags(regular, flags | FS_NODUMP_FL)
    assert stdlib_int(regular, cfcntl.FS_IOC_GETFLAGS) == flags | FS_NODUMP_FL
    assert ioctls.fs_getflags(regular) == flags | FS_NODUMP_FL
    ioctls.fs_setflags(regular, flags)
    assert ioctls.fs_getflags(regular) == flags
    if ffi.sizeof("long") != ffi.sizeof("int"):  # a 64-bit ABI: the trap
        with pytest.raises(ValueError, match="8-byte argument, 'int' is 4 bytes"):
            ioctls.read(regular, cfcntl.FS_IOC_GETFLAGS, "int")
    else:  # a 32-bit ABI: a long is an int, the request's 4 bytes are right
        assert ioctls.read(regular, cfcntl.FS_IOC_GETFLAGS, "int") == flags
    # The kernel writes an int into the long: its low half on little-endian, its high
    # half on a big-endian 64-bit ABI (s390x).
    shift = 8 * (ffi.sizeof("long") - ffi.sizeof("int")) if sys.byteorder == "big" else 0
    assert ioctls.read(regular, cfcntl.FS_IOC_GETFLAGS, "long") == flags << shift
    assert cfcntl.ioctls.KNOWN["FS_IOC_GETFLAGS"].kernel_ctype == "int"
    assert "int" in ioctls.KNOWN["FS_IOC_SETFLAGS"].note


FS_XFLAG_NODUMP = 0x80  # <linux/fs.h>: FS_NODUMP_FL as FS_IOC_FSGETXATTR reports it


def test_fs_getxattr_reads_the_struct(regular: int, translated: Callable[..., Any]) -> None:
    """FS_IOC_FSGETXATTR (a struct getter row) agrees field by field with the stdlib
    reading the 28-byte struct with a hand-written format, and sees FS_NODUMP_FL set
    through FS_IOC_SETFLAGS as FS_XFLAG_NODUMP; on a pipe, ENOTTY; its registry row is
    the header's struct."""
    flags = ioctls.fs_getflags(regular)
    before = translated(lambda: ioctls.fs_getxattr(regular))
    request = ioctls.REQUESTS["FS_IOC_FSGETXATTR"]
    assert before == struct.unpack("=5I8x", fcntl.ioctl(regular, request, bytes(28)))
    assert isinstance(before, ioctls.FsXattr)
    ioctls.fs_setflags(regular, flags | FS_NODUMP_FL)
    try:
        assert ioctls.fs_getxattr(regular).xflags == before.xflags | FS_XFLAG_NODUMP
    finally:
        ioctls.fs_setflags(regular, flags)
    assert ioctls.fs_getxattr(regular) == before
    r, w = os.pipe()
    try:
        assert errno_of(lambda: ioctls.fs_getxattr(r)) == errno.ENOTTY
    finally:
        os.close(r)
        os.close(w)
    assert ioctls.KNOWN["FS_IOC_FSGETXATTR"][2:] == (
        "read",
        "struct fsxattr",
        "struct fsxattr",
        "",
    )


def test_fs_getversion_agrees_with_the_stdlib(regular: int) -> None:
    try:
        version = ioctls.fs_getversion(regular)
    except OSError as exc:
        assert exc.errno == errno_of(lambda: stdlib_int(regular, cfcntl.FS_IOC_GETVERSION))
        pytest.skip(f"no inode generation here: {exc}")
    assert version == stdlib_int(regular, cfcntl.FS_IOC_GETVERSION)


# --------------------------------------------------------------------------- generic calls


def test_generic_calls(
    queued: socket.socket,
    regular: int,
    tiocgexcl_emulated: None,  # its last call: TIOCGEXCL
) -> None:
    fd = queued.fileno()
    assert ioctls.read(fd, cfcntl.FIONREAD, "int") == QUEUED
    assert ioctls.readwrite(fd, cfcntl.FIONREAD, "int", 99) == QUEUED  # written back
    os.set_inheritable(regular, True)
    assert ioctls.none(regular, cfcntl.FIOCLEX) == 0
    assert cfcntl.getfd(regular) == cfcntl.FD_CLOEXEC
    assert ioctls.write(queued, cfcntl.FIONBIO, "int", 1) == 0
    assert not os.get_blocking(fd)
    softcar = ioc.IO("T", 0x19)  # TIOCGSOFTCAR: a legacy number, the registry says int
    assert ioctls.KNOWN["TIOCGSOFTCAR"].request == softcar
    master, slave = os.openpty()
    try:
        assert ioctls.read(slave, softcar, "int") == stdlib_int(slave, softcar)
        got = ioctls.readwrite(slave, ioc.IOR("T", 0x40, "int"), "int[1]", [7])
        assert list(got) == [0]  # an array comes back owned, item by item
    finally:
        os.close(slave)
        os.close(master)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda fd: ioctls.read(fd, cfcntl.TIOCGPTN, "long long"), "4-byte argument, 'long long'"),
        # size_t in the header: 8 bytes on a 64-bit ABI, 4 on a 32-bit one, never a short's 2
        (lambda fd: ioctls.read(fd, cfcntl.BLKGETSIZE64, "short"), "-byte argument, 'short' is 2"),
        (lambda fd: ioctls.write(fd, cfcntl.FICLONERANGE, "struct winsize", {}), "32-byte"),
        # the registry's row where TIOCSWINSZ is legacy, the header's size where not (mips)
        (lambda fd: ioctls.write(fd, cfcntl.TIOCSWINSZ, "int", 0), "8-byte argument, 'int' is 4"),
        (lambda fd: ioctls.none(fd, cfcntl.TIOCGPTN), "encodes a 4-byte argument"),
        (lambda fd: ioctls.read(fd, cfcntl.FIONREAD, "float"), "not an integer type"),
        (lambda fd: ioctls.read(fd, cfcntl.FIONREAD, "int *"), "a pointer type"),
        (lambda fd: ioctls.read(fd, cfcntl.FIONREAD, "struct nope"), "unknown C type"),
        (lambda fd: ioctls.read(fd, 1 << 32, "int"), "request 4294967296 does not fit"),
        (lambda fd: ioctls.none(fd, -1), "request -1 does not fit"),
    ],
)
def test_refused_before_the_syscall(call: Callable[[int], object], message: str) -> None:
    """Each refusal comes before the kernel is asked: the descriptor is closed, so a
    call that reached it would be EBADF."""
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(ValueError, match=message):
        call(r)


def test_values_that_do_not_fit_are_refused(queued: socket.socket) -> None:
    with pytest.raises(OverflowError, match="does not fit 'int'"):
        ioctls.write(queued, cfcntl.FIONBIO, "int", 1 << 31)
    with pytest.raises(TypeError, match="does not fit 'int'"):
        ioctls.write(queued, cfcntl.FIONBIO, "int", "1")
    with pytest.raises(ValueError, match="does not fit 'int\\[1\\]'"):
        ioctls.write(queued, cfcntl.FIONBIO, "int[1]", [1, 2])
    with pytest.raises(ValueError, match="ws_nope"):
        ioctls.write(queued, cfcntl.TIOCSWINSZ, "struct winsize", {"ws_nope": 1})
    with pytest.raises(OverflowError, match=r"fionbio\(\): on=2147483648 does not fit"):
        ioctls.fionbio(queued, 1 << 31)
    with pytest.raises(TypeError, match=r"tiocspgrp\(\): pgrp must be an int, not str"):
        ioctls.tiocspgrp(queued, "1")  # type: ignore[arg-type]
    with pytest.raises(OverflowError, match=r"ficlonerange\(\): src_offset=-1"):
        ioctls.ficlonerange(queued, queued, -1, 0, 0)
    with pytest.raises(OverflowError, match=r"length=18446744073709551616"):
        ioctls.ficlonerange(queued, queued, 0, 1 << 64, 0)
    assert os.get_blocking(queued.fileno())  # FIONBIO never reached the kernel


TYPED: list[Callable[[int], object]] = [
    ioctls.fionread,
    ioctls.tiocgptn,
    ioctls.blkgetsize64,
    ioctls.get_winsize,
    ioctls.fioclex,
    lambda fd: ioctls.fionbio(fd, 0),
    lambda fd: ioctls.set_winsize(fd, ioctls.Winsize(1, 1, 0, 0)),
    lambda fd: ioctls.ficlone(fd, fd),
    lambda fd: ioctls.read(fd, cfcntl.FIONREAD, "int"),
    lambda fd: ioctls.none(fd, cfcntl.FIOCLEX),
]


@pytest.mark.parametrize("call", TYPED)
def test_bad_descriptors(call: Callable[[object], object]) -> None:
    """Wrong type, negative, too large for a C int, closed: each its own clear error."""
    with pytest.raises(TypeError, match="expected a file descriptor"):
        call("3")
    with pytest.raises(ValueError, match="negative"):
        call(-1)
    with pytest.raises(OverflowError, match="=1099511627776 does not fit the C type int"):
        call(1 << 40)
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    assert errno_of(lambda: call(r)) == errno.EBADF


def test_wrong_device_is_enotty(regular: int, queued: socket.socket) -> None:
    """Terminal requests on a file or a socket: ENOTTY, as from the stdlib."""
    for fd in (regular, queued.fileno()):
        for call in (ioctls.tiocgptn, ioctls.tiocgetd, ioctls.tiocexcl):
            assert errno_of(lambda call=call, fd=fd: call(fd)) == errno.ENOTTY
        assert errno_of(lambda fd=fd: stdlib_int(fd, cfcntl.TIOCGPTN)) == errno.ENOTTY


# --------------------------------------------------------------------------- the registry


def test_registry_agrees_with_the_request_numbers() -> None:
    """Each known request decodes to the size and direction of the type its header
    names; every typed helper's request is known; the header traps are spelled out."""
    assert len(ioctls.KNOWN) >= 27
    for known in ioctls.KNOWN.values():
        decoded = ioc.decode(known.request)
        assert known.request == ioctls.REQUESTS[known.name]
        assert known.name not in cfcntl.NAMES or known.request == getattr(cfcntl, known.name)
        if known.header_ctype is None and decoded.size:  # sized here (mips: SIOCGPGRP)
            # TIOCCONS is _IOW(..., int) on mips, and the kernel still takes no argument
            kernel = known.kernel_ctype
            assert kernel is None or decoded.size == ffi.sizeof(kernel), known
        elif known.header_ctype is None:  # a legacy number has no direction bits at all
            assert decoded.dir in (0, ioc.NONE), known
        elif known.direction == "refused":  # its header's struct is not declared to cffi
            assert decoded.size and known.kernel_ctype is None, known
        else:
            assert decoded.size == ffi.sizeof(known.header_ctype), known
            expected = {"read": ioc.READ, "write": ioc.WRITE, "value": ioc.WRITE}
            assert decoded.dir == expected[known.direction], known
        if known.kernel_ctype is not None and known.header_ctype is not None:
            differs = ffi.sizeof(known.kernel_ctype) != ffi.sizeof(known.header_ctype)
            if "encodes a long" in known.note:  # a trap where a long is not an int
                assert differs == (ffi.sizeof("long") != ffi.sizeof("int")), known
            else:  # BLKGETSIZE64's size_t is 4 bytes on a 32-bit ABI
                assert not differs or "in the header; the kernel" in known.note, known
    assert ioctls.KNOWN["BLKGETSIZE64"].kernel_ctype == "uint64_t"
    assert ioctls.KNOWN["FIONREAD"].request == ioctls.KNOWN["SIOCINQ"].request
    for struct_name in ioctls.STRUCTS:
        assert ffi.sizeof(struct_name) > 0
    assert {"struct winsize", "struct fsxattr", "struct file_clone_range"} <= set(ioctls.STRUCTS)


def test_absent_request_raises_not_implemented(
    monkeypatch: pytest.MonkeyPatch, regular: int
) -> None:
    """A row whose request the headers lacked makes a function that raises
    NotImplementedError naming the header constant, before any C runs (the helper given
    would answer)."""
    from cfcntl.ioctls import _pattern

    monkeypatch.setattr(_pattern, "ROWS", [])
    getter = _pattern.int_getter(_lib.cf_fionread, "CF_NO_SUCH_REQUEST", "int", "")
    setter = _pattern.int_setter(_lib.cf_fionbio, "CF_NO_SUCH_REQUEST", "int", "on", "")
    plain = _pattern.no_argument(_lib.cf_fionclex, "CF_NO_SUCH_REQUEST", "")
    assert getter.__name__ == "fionread" and _pattern.ROWS[0][0] == "CF_NO_SUCH_REQUEST"
    for call in (lambda: getter(regular), lambda: setter(regular, 1), lambda: plain(regular)):
        with pytest.raises(NotImplementedError, match=r"^CF_NO_SUCH_REQUEST is not defined"):
            call()
    assert cfcntl.getfd(regular) == cfcntl.FD_CLOEXEC  # FIONCLEX never ran


def test_the_package_exports_what_its_families_make() -> None:
    """cfcntl.ioctls has every function and record its family modules define (a new row
    needs no line in the package), under the family's name, and none of what they
    import."""
    for family in ioctls.FAMILIES:
        made = [
            name
            for name, value in vars(family).items()
            if callable(value)
            and not name.startswith("_")  # private helpers stay in their module
            and getattr(value, "__module__", None) == family.__name__
        ]
        assert made
        for name in made:
            assert getattr(ioctls, name) is getattr(family, name)
    assert ioctls.fionread.__module__ == "cfcntl.ioctls.fio"
    assert ioctls.fs_getxattr.__module__ == "cfcntl.ioctls.fs"
    leaked = {"NamedTuple", "FileDescriptorLike", "fileno", "call", "needs", "int_getter", "struct"}
    assert leaked.isdisjoint(dir(ioctls))
