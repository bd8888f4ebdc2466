"""Issue 10's findings, each with a test that failed before the fix: the kernel writing
past a buffer, answers changed by signal handlers, integers truncated through __int__,
wrong exception types, the import cost, and timed lock waits after a fork.

Every test uses real kernel objects (pipes, files, pseudo-terminals) and, where a
crash or a hang is the failure, runs the case in a child process with a deadline.
"""

from __future__ import annotations

import errno
import fcntl
import importlib.metadata
import json
import os
import pickle
import signal
import subprocess
import sys
import termios
import threading
import time
import typing
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import cfcntl
from cfcntl import _record, ioc, ioctls
from cfcntl._cfcntl import ffi, lib
from cfcntl.tools.lockchild import LockChild

# --------------------------------------------------------------------------- sizeless requests

KERNEL_TERMIOS_PROGRAM = r"""
#include <stdio.h>
#include <asm/termbits.h>
int main(void) { printf("%zu\n", sizeof(struct termios)); return 0; }
"""
"""The kernel's struct termios, as the compiler sizes it on this CPU: 36 bytes from
<asm-generic/termbits.h> (4 flags, c_line, 19 c_cc), 40 on mips (23 c_cc), 44 on powerpc
(the speeds too)."""


@pytest.fixture(scope="module")
def termios_size(run_c: Callable[[str], str]) -> int:
    """sizeof(struct termios) from the kernel's header, as a C program sees it."""
    return int(run_c(KERNEL_TERMIOS_PROGRAM))


def test_tcgets_into_a_byte_is_refused_not_overrun(pty: tuple[int, int], termios_size: int) -> None:
    # Before: 100000 calls of this wrote 35 bytes past a 1-byte heap buffer each, and
    # glibc aborted (free(): invalid next size).  Now the registry knows TCGETS.
    _, slave = pty
    size, tcgets = termios_size, ioctls.REQUESTS["TCGETS"]  # the kernel's, as cfcntl's build
    # a legacy number, sized by the registry; powerpc's _IOR encodes the size itself
    named = "" if ioc.decode(tcgets).size else ".*TCGETS"
    with pytest.raises(ValueError, match=rf"{size}-byte argument, 'uint8_t' is 1 bytes{named}"):
        ioctls.read(slave, tcgets, "uint8_t")
    assert ffi.sizeof("struct termios") == size
    got = ioctls.read(slave, tcgets, "struct termios")
    assert bytes(ffi.buffer(got)) == fcntl.ioctl(slave, tcgets, bytes(size))


LIBC_TCGETS_PROGRAM = r"""
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>
int main(void) {
#if _HAVE_STRUCT_TERMIOS_C_ISPEED
    size_t speeds = offsetof(struct termios, c_ispeed);
#else
    size_t speeds = sizeof(struct termios); /* mips: glibc's struct termios has none */
#endif
    printf("%#lx %zu %zu\n", (unsigned long)TCGETS, sizeof(struct termios), speeds);
    return 0;
}
"""
"""TCGETS as the C library's headers give it (the termios module's), the size of the C
library's struct termios, and where its speeds start (its end when it has none)."""

TCGETS_WRITTEN_PROGRAM = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <asm/termbits.h>
int main(void) {
    struct termios one, two;
    int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
    if (master < 0 || grantpt(master) || unlockpt(master)
        || (slave = open(ptsname(master), O_RDWR | O_NOCTTY)) < 0)
        return 1;
    memset(&one, 0xaa, sizeof one);
    memset(&two, 0x55, sizeof two);
    if (ioctl(slave, TCGETS, &one) || ioctl(slave, TCGETS, &two))
        return 1;
    for (size_t i = 0; i < sizeof one; i++)
        if (((unsigned char *)&one)[i] != ((unsigned char *)&two)[i]) {
            printf("the kernel's struct termios unwritten from byte %zu of %zu\n", i, sizeof one);
            return 3;
        }
    return 0;
}
"""
"""For ``misemulated``: whether the kernel's TCGETS comes back whole, into two buffers
filled differently.  qemu-ppc64le 7.2 copies it back without the speeds (the host's
struct termios has none), and glibc's tcgetattr() then copies its stack's bytes."""


def test_the_c_librarys_own_tcgets_is_taken_at_the_size_it_encodes(
    pty: tuple[int, int], run_c: Callable[[str], str], misemulated: Callable[..., None]
) -> None:
    # powerpc: the termios module's TCGETS is glibc's, _IOR with glibc's 60-byte struct
    # termios, and glibc's ioctl() answers it itself (tcgetattr() asks the kernel with the
    # kernel's TCGETS, 44 bytes, and copies).  cfcntl calls that ioctl(): the 60 bytes it
    # encodes are what is written.
    _, slave = pty
    number, libc_size, speeds = run_c(LIBC_TCGETS_PROGRAM).split()
    assert int(number, 16) == termios.TCGETS
    if ioctls.REQUESTS["TCGETS"] == termios.TCGETS:
        pytest.skip("the termios module's TCGETS is the kernel's on this CPU (not on powerpc)")
    size = int(libc_size)
    assert ioc.decode(termios.TCGETS).size == size
    with pytest.raises(ValueError, match=rf"{size}-byte argument, 'uint8_t' is 1 bytes"):
        ioctls.read(slave, termios.TCGETS, "uint8_t")
    got = bytes(ffi.buffer(ioctls.read(slave, termios.TCGETS, f"char[{size}]")))
    stdlib = fcntl.ioctl(slave, termios.TCGETS, bytes(size))
    kernel = bytes(ffi.buffer(ioctls.read(slave, ioctls.REQUESTS["TCGETS"], "struct termios")))
    assert got[:16] == kernel[:16]  # the four flags, first in both structs
    assert got[: int(speeds)] == stdlib[: int(speeds)]
    misemulated("TCGETS", TCGETS_WRITTEN_PROGRAM)
    assert got == stdlib


def test_a_child_doing_tcgets_100000_times_into_a_byte_survives() -> None:
    probe = (
        "import os, termios\nfrom cfcntl import ioctls\nm, s = os.openpty()\nrefused = 0\n"
        "for _ in range(100000):\n"
        "    try: ioctls.read(s, termios.TCGETS, 'uint8_t')\n"
        "    except ValueError: refused += 1\nprint(refused)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, "100000"), proc.stderr


@pytest.mark.parametrize(
    ("name", "kernel"),
    [
        ("TCGETA", "struct termio"),
        ("TIOCGLCKTRMIOS", "struct termios"),
        ("TIOCGSOFTCAR", "int"),
        ("FIOQSIZE", "int64_t"),
        ("FIGETBSZ", "int"),
        ("SIOCGPGRP", "int"),
        ("SIOCATMARK", "int"),
    ],
)
def test_the_issues_overrunning_requests_have_their_kernel_type(name: str, kernel: str) -> None:
    known = ioctls.KNOWN[name]
    assert (known.kernel_ctype, known.request) == (kernel, ioctls.REQUESTS[name])
    # the header cannot say it, except where it encodes the size (mips: SIOCGPGRP, SIOCATMARK)
    size = ioc.decode(known.request).size  # (glibc 2.42 has no struct termio to size)
    assert size == 0 or size == ioc.size_of(kernel)


def test_figetbsz_answers_the_block_size_not_a_cut_byte(tmp_path: Path) -> None:
    # Before: "uint8_t" answered 0 (4096 cut to its low byte), and 3 bytes went past.
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        figetbsz = ioctls.REQUESTS["FIGETBSZ"]
        with pytest.raises(ValueError, match="FIGETBSZ"):
            ioctls.read(fd, figetbsz, "uint8_t")
        assert ioctls.read(fd, figetbsz, "int") == os.fstatvfs(fd).f_bsize
    finally:
        os.close(fd)


def test_requests_are_refused_where_the_kernel_follows_pointers_or_takes_none(
    pty: tuple[int, int],
) -> None:
    _, slave = pty
    with pytest.raises(ValueError, match=r"refuses SIOCGIFCONF: .*ifc_buf"):
        ioctls.read(slave, ioctls.REQUESTS["SIOCGIFCONF"], "char[16]")
    with pytest.raises(ValueError, match="TCSBRK takes an int by value, not a pointer"):
        ioctls.read(slave, termios.TCSBRK, "int")
    tcgets = ioctls.REQUESTS["TCGETS"]
    sized = ioc.decode(tcgets).size  # powerpc's: _IOR, with the kernel's struct termios
    with pytest.raises(
        ValueError, match=f"encodes a {sized}-byte argument" if sized else "TCGETS takes a pointer"
    ):
        ioctls.none(slave, tcgets)


# qemu-user answers an ioctl it does not know itself (ENOSYS), never asking the kernel.
UNKNOWN_IOCTL_PROGRAM = r"""
#include <errno.h>
#include <pty.h>
#include <stdio.h>
#include <sys/ioctl.h>
int main(void) {
    int master, slave, arg = 0;
    if (openpty(&master, &slave, NULL, NULL, NULL) == 0 && ioctl(slave, _IO('T', 0x99), &arg) != 0
        && errno == ENOTTY)
        return 0;
    printf("%d\n", errno);
    return 1;
}
"""


def test_an_unknown_sizeless_request_needs_a_vouched_size(
    pty: tuple[int, int], unemulated: Callable[..., None]
) -> None:
    unemulated("an unknown ioctl (the kernel's ENOTTY)", UNKNOWN_IOCTL_PROGRAM, "ENOSYS")
    _, slave = pty
    unknown = ioc.IO("T", 0x99)
    assert unknown not in ioctls.REQUESTS.values()
    with pytest.raises(ValueError, match=r"encodes no argument size.*size=N"):
        ioctls.read(slave, unknown, "int")
    with pytest.raises(OSError) as info:  # vouched for: the kernel is asked, and says no
        ioctls.read(slave, unknown, "int", size=4)
    assert info.value.errno == 25  # ENOTTY
    with pytest.raises(ValueError, match=r"4-byte argument, 'int\[2\]' is 8 bytes \(vouched for"):
        ioctls.read(slave, unknown, "int[2]", size=4)


def test_an_overrun_of_a_vouched_size_is_caught_in_the_guard(
    pty: tuple[int, int], monkeypatch: pytest.MonkeyPatch, termios_size: int
) -> None:
    # TCGETS as if it were unknown (the registry without it; the kernel is the real one):
    # the kernel writes its 36 bytes (x86-64), all but one of them into the guard.
    if ioc.decode(termios.TCGETS).size:
        pytest.skip("TCGETS encodes its size on this CPU (powerpc): nothing to vouch for")
    _, slave = pty
    past = termios_size - 1
    monkeypatch.delitem(ioctls._by_number(), termios.TCGETS)
    message = f"{termios.TCGETS:#x} wrote at least {past} bytes past"
    with pytest.raises(ioctls.OverrunError, match=message) as info:
        ioctls.read(slave, termios.TCGETS, "uint8_t", size=1)
    assert (info.value.request, info.value.size, info.value.past) == (termios.TCGETS, 1, past)
    exact = ioctls.read(slave, termios.TCGETS, f"char[{termios_size}]", size=termios_size)
    assert bytes(ffi.buffer(exact)) == fcntl.ioctl(slave, termios.TCGETS, bytes(termios_size))


# --------------------------------------------------------------------------- error types


@pytest.mark.parametrize(
    ("ctype", "value", "exc", "message"),
    [
        ("struct winsize", {"nope": 1}, ValueError, "value=.*does not fit 'struct winsize'"),
        ("char[8]", b"abcdefghijk", ValueError, "value=b'abcdefghijk' does not fit 'char\\[8\\]'"),
        ("struct winsize", {"ws_row": -1}, OverflowError, "value=.*does not fit"),
        ("struct winsize", 3, TypeError, "value=3 does not fit"),
    ],
)
def test_a_value_that_does_not_fit_names_the_argument(
    pty: tuple[int, int], ctype: str, value: object, exc: type[Exception], message: str
) -> None:
    # Before: KeyError and IndexError straight from cffi.
    _, slave = pty
    request = termios.TIOCSWINSZ  # 8 bytes, as char[8]: only the value is wrong
    with pytest.raises(exc, match=message):
        ioctls.write(slave, request, ctype, value)


@pytest.mark.parametrize("ctype", ["char[1000000000000]", "char[1000000000]"])
def test_a_huge_argument_is_refused_before_it_is_allocated(
    pty: tuple[int, int], ctype: str
) -> None:
    # Before: MemoryError for the first, a quiet gigabyte for the second.
    _, slave = pty
    # On a 32-bit ABI the first is more than a size_t holds: cffi cannot name the type.
    unnamed = ffi.sizeof("size_t") < 8 and ctype == "char[1000000000000]"
    for request in (termios.TCGETS, ioc.IOR("T", 0x99, "int")):
        with pytest.raises(ValueError, match="number too large" if unnamed else "-byte argument"):
            ioctls.read(slave, request, ctype)
    if unnamed:
        return
    with pytest.raises(ValueError, match=f"is not between 1 and {ioctls.LIMIT}"):
        ioctls.read(slave, ioc.IO("T", 0x99), ctype, size=ffi.sizeof(ctype))
    assert ioctls.LIMIT == (1 << cfcntl._IOC_SIZEBITS) - 1


# --------------------------------------------------------------------------- import cost


def test_version_is_the_package_metadata() -> None:
    assert cfcntl.__version__ == importlib.metadata.version("cfcntl")


def test_layout_still_compares_the_ctypes_declaration() -> None:
    from cfcntl.tools.declarations import compared

    mirror = compared()["struct flock"].ctypes
    assert mirror is not None and mirror.source == "cfcntl.tools.ctypes_binding.flock"
    assert mirror.problems == ()


# --------------------------------------------------------------------------- signal handlers


Interleaved = Callable[[Callable[[], object], Callable[[], object]], None]


@pytest.fixture
def interleaved(slowdown: float, rearmed: Callable[..., typing.Any]) -> Interleaved:
    """``interleaved(main, other)``: ``main()`` in a loop for half a second while a SIGALRM
    handler, 200 us after the last one ended, calls ``other()``: the handler ran often, in
    between, and no answer of either changed.  Both times are ``slowdown`` times longer
    under an emulator, where 200 us is less than a call of ``main()`` takes."""

    def run(main: Callable[[], object], other: Callable[[], object]) -> None:
        expected, theirs = main(), other()
        assert expected != theirs  # else a swapped answer would go unseen
        runs = wrong = calls = 0

        def handler() -> None:
            nonlocal runs, wrong
            runs += 1
            wrong += other() != theirs

        with rearmed(handler, 0.0002 * slowdown):
            deadline = time.monotonic() + 0.5 * slowdown
            while time.monotonic() < deadline:
                for _ in range(100):
                    wrong += main() != expected
                calls += 100
        assert runs > 100 and calls > runs
        assert wrong == 0

    return run


def test_a_handlers_getlk_does_not_change_the_answer(
    tmp_path: Path, interleaved: Interleaved
) -> None:
    # Before: about 1 in 100 answers was the handler's lock (a per-thread C slot).
    path = tmp_path / "locked"
    path.write_bytes(bytes(1024))
    locks = (f"posix:{cfcntl.F_WRLCK}:0:10", f"posix:{cfcntl.F_RDLCK}:500:10")
    with LockChild(str(path), *locks), open(path, "rb+") as f:
        fd = f.fileno()
        interleaved(
            lambda: cfcntl.getlk(fd, cfcntl.F_WRLCK, 0, 10),
            lambda: cfcntl.getlk(fd, cfcntl.F_WRLCK, 500, 10),
        )


def test_a_handlers_getown_ex_does_not_change_the_answer(interleaved: Interleaved) -> None:
    a, b = os.pipe()
    try:
        cfcntl.setown_ex(a, cfcntl.F_OWNER_PID, os.getpid())
        cfcntl.setown_ex(b, cfcntl.F_OWNER_TID, threading.get_native_id())
        interleaved(lambda: cfcntl.getown_ex(a), lambda: cfcntl.getown_ex(b))
    finally:
        os.close(a)
        os.close(b)


@pytest.mark.usefixtures("rw_hints")
def test_a_handlers_get_rw_hint_does_not_change_the_answer(
    tmp_path: Path, interleaved: Interleaved
) -> None:
    a = os.open(tmp_path / "a", os.O_RDWR | os.O_CREAT, 0o600)
    b = os.open(tmp_path / "b", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        cfcntl.set_rw_hint(a, cfcntl.RWH_WRITE_LIFE_SHORT)
        cfcntl.set_rw_hint(b, cfcntl.RWH_WRITE_LIFE_EXTREME)
        interleaved(lambda: cfcntl.get_rw_hint(a), lambda: cfcntl.get_rw_hint(b))
    finally:
        os.close(a)
        os.close(b)


# --------------------------------------------------------------------------- fork


@pytest.mark.usefixtures("timed_waits")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_child_forked_during_a_timed_wait_can_wait_with_a_timeout(tmp_path: Path) -> None:
    # A thread runs the timed wait's C set-up in a tight loop (a deadline already passed,
    # so each call takes the mutex, arms and deletes a timer and returns ETIMEDOUT), so
    # it often holds the mutex when the main thread forks.  Before: a child forked then
    # hung in its own first timed acquire, on a mutex no thread of it would unlock.
    path = tmp_path / "lock"
    path.touch()
    stop = threading.Event()
    fd = os.open(path, os.O_RDWR)
    wait = (fd, cfcntl.F_OFD_SETLK, cfcntl.F_OFD_SETLKW, cfcntl.F_WRLCK, 0, 0, os.SEEK_SET, 0)

    def contend() -> None:
        while not stop.is_set():
            for _ in range(100):
                lib.cf_lock_until(*wait)

    hung = 0
    with cfcntl.Lock(path):  # an OFD lock: every other Lock on the file must wait
        thread = threading.Thread(target=contend)
        thread.start()
        try:
            for _ in range(300):
                pid = os.fork()
                if pid == 0:  # the child: its timed acquire must end in TimeoutError
                    try:
                        cfcntl.Lock(path, timeout=0.001).acquire()
                    except TimeoutError:
                        os._exit(0)
                    os._exit(1)
                status = _reaped(pid, deadline=2.0)
                if status is None:
                    hung += 1
                    break
                assert os.waitstatus_to_exitcode(status) == 0
        finally:
            stop.set()
            thread.join()
            os.close(fd)
    assert hung == 0


def _reaped(pid: int, deadline: float) -> int | None:
    """The child's wait status, or None (and the child killed) if it runs past ``deadline``
    seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.001)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


# --------------------------------------------------------------------------- integers

NOT_INTS = [Decimal("5.9"), Fraction(7, 2), 5.0]


class Index:
    """An integer by ``__index__`` only, as the stdlib takes one (numpy's ints are so)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


@pytest.mark.parametrize("bad", NOT_INTS, ids=type)
def test_int_arguments_refuse_what_only_has_int(
    bad: object, regular: int, pty: tuple[int, int]
) -> None:
    # Before: setlk(fd, F_WRLCK, Decimal("5.9"), Decimal("1.5")) locked byte 5 only, and
    # getfl(Decimal("3.7")) read descriptor 3: cffi converts through __int__.
    _, slave = pty
    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: cfcntl.setlk(regular, cfcntl.F_WRLCK, bad, 1), "start"),  # type: ignore[arg-type]
        (lambda: cfcntl.setlk(regular, cfcntl.F_WRLCK, 0, bad), "length"),  # type: ignore[arg-type]
        (lambda: cfcntl.getlk(regular, cfcntl.F_WRLCK, bad), "start"),  # type: ignore[arg-type]
        (lambda: cfcntl.setlkw(regular, cfcntl.F_WRLCK, 0, 1, bad), "whence"),  # type: ignore[arg-type]
        (lambda: cfcntl.getfl(bad), "file descriptor"),  # type: ignore[arg-type]
        (lambda: cfcntl.dupfd(regular, bad), "minfd"),  # type: ignore[arg-type]
        (lambda: cfcntl.setfl(regular, bad), "flags"),  # type: ignore[arg-type]
        (lambda: cfcntl.setsig(regular, bad), "sig"),  # type: ignore[arg-type]
        (lambda: cfcntl.set_rw_hint(regular, bad), "hint"),  # type: ignore[arg-type]
        (lambda: ioctls.fionbio(slave, bad), "on"),  # type: ignore[arg-type]
        (lambda: ioctls.write(slave, cfcntl.FIONBIO, "int", bad), "value"),
        (lambda: ioctls.read(slave, bad, "int"), "request"),  # type: ignore[arg-type]
        (lambda: cfcntl.Lock(regular, start=bad), "start"),  # type: ignore[arg-type]
        (lambda: cfcntl.Lock(regular, length=bad), "length"),  # type: ignore[arg-type]
    ]
    flags = cfcntl.getfl(regular)
    for call, name in calls:
        with pytest.raises(TypeError, match=name):
            call()
    assert cfcntl.getfl(regular) == flags  # setfl never reached the kernel
    assert cfcntl.getlk(regular, cfcntl.F_WRLCK) is None  # nor did setlk


def test_int_arguments_take_index(regular: int) -> None:
    cfcntl.setlk(regular, cfcntl.F_WRLCK, Index(5), Index(2), Index(os.SEEK_SET))  # type: ignore[arg-type]
    held = cfcntl.file_locks(regular)
    assert [(h.start, h.end) for h in held] == [(5, 6)]
    cfcntl.setlk(regular, cfcntl.F_UNLCK, 5, 2)
    new = cfcntl.dupfd(regular, Index(100))  # type: ignore[arg-type]
    os.close(new)
    assert new >= 100
    lock = cfcntl.Lock(regular, start=Index(3), length=Index(4))  # type: ignore[arg-type]
    assert (lock.start, lock.length) == (3, 4)
    assert ioc.IO(Index(ord("T")), Index(1)) == ioc.IO("T", 1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- lock timeouts


@pytest.mark.usefixtures("timed_waits")
@pytest.mark.parametrize("timeout", [1e10, 1e300, 10**400], ids=str)
def test_a_huge_timeout_waits_without_a_raw_cffi_error(tmp_path: Path, timeout: float) -> None:
    # Before: OverflowError ("int too big to convert", "cannot convert float infinity to
    # integer") mid-wait, and for 10**400 in the constructor.
    path = tmp_path / "lock"
    path.touch()
    holder = cfcntl.Lock(path)
    holder.acquire()
    timer = threading.Timer(0.2, holder.release)
    timer.start()
    waiter = cfcntl.Lock(path, timeout=timeout)
    try:
        waiter.acquire()  # waits for the holder, which lets go after 0.2 s
        assert waiter.locked
        waiter.release()
    finally:
        timer.join()


@pytest.mark.parametrize("timeout", [-1, -1e-9, float("inf"), float("nan"), -(10**400)], ids=str)
def test_an_impossible_timeout_is_refused_when_the_lock_is_made(
    tmp_path: Path, timeout: float
) -> None:
    with pytest.raises(ValueError, match="timeout must be None or a finite number >= 0"):
        cfcntl.Lock(tmp_path / "lock", timeout=timeout)


class Twin(typing.NamedTuple):
    cols: int
    rows: int = 24


class Mine(_record.NamedTuple):
    cols: int
    rows: int = 24

    def area(self) -> int:
        return self.cols * self.rows


def test_records_behave_as_typing_namedtuples() -> None:
    """cfcntl's tuple classes (made without typing, for the import cost) against the
    same class made by typing.NamedTuple."""
    for make in (Twin, Mine):
        made = make(80)
        assert made == (80, 24) and made.rows == 24 and make(cols=1, rows=2) == (1, 2)
        assert repr(made).split("(", 1)[1] == "cols=80, rows=24)"
        assert made._asdict() == {"cols": 80, "rows": 24} and make._fields == ("cols", "rows")
        assert made._replace(rows=1) == (80, 1) and make._make([1, 2]) == (1, 2)
        assert make._field_defaults == {"rows": 24} and make.__match_args__ == ("cols", "rows")
        assert pickle.loads(pickle.dumps(made)) == made
        with pytest.raises(AttributeError):
            made.cols = 1  # type: ignore[misc]
        with pytest.raises(TypeError):
            make()  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            make(1, 2, 3)  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            make(1, nope=2)  # type: ignore[call-arg]
    assert Mine(2, 3).area() == 6 and type(pickle.loads(pickle.dumps(Mine(1)))) is Mine
    assert cfcntl.Flock.__doc__ and cfcntl.Flock.__module__ == "cfcntl.locks"


# --------------------------------------------------------------------------- the fuzz suite's
# findings: answers that did not own their memory, by-value requests given a pointer, None

# The termios read: TCGETS2 and struct termios2, or TCGETS and struct termios where the CPU
# has no termios2 (powerpc, whose struct termios carries the speeds).
TERMIOS_GET, TERMIOS = ("TCGETS2", "termios2") if lib.CF_TERMIOS2 else ("TCGETS", "termios")
TERMIOS_SIZE = ffi.sizeof(f"struct {TERMIOS}")

_OWNED_PROBE = f"""\
import fcntl, json, os
from cfcntl import ioctls
from cfcntl._cfcntl import ffi
master, slave = os.openpty()
ioctls.set_winsize(slave, ioctls.Winsize(37, 101, 5, 7))
tcgets = ioctls.REQUESTS["{TERMIOS_GET}"]
got = {{
    "read char[N]": ioctls.read(master, tcgets, "char[{TERMIOS_SIZE}]"),
    "read uint8_t[N]": ioctls.read(master, tcgets, "uint8_t[{TERMIOS_SIZE}]"),
    "read struct winsize": ioctls.read(slave, ioctls.REQUESTS["TIOCGWINSZ"], "struct winsize"),
    "readwrite char[8]": ioctls.readwrite(
        slave, ioctls.REQUESTS["TIOCGWINSZ"], "char[8]", bytes(8)
    ),
}}
churn = [bytearray({TERMIOS_SIZE}) for _ in range(10000)]  # reuse whatever the calls freed
print(json.dumps({{
    "want termios": fcntl.ioctl(master, tcgets, bytes({TERMIOS_SIZE})).hex(),
    "want winsize": fcntl.ioctl(slave, ioctls.REQUESTS["TIOCGWINSZ"], bytes(8)).hex(),
    **{{k: [bytes(ffi.buffer(v)).hex(), "owning" in repr(v)] for k, v in got.items()}},
}}))
"""


def test_a_struct_or_array_answer_owns_its_memory(tty_ioctls_emulated: Callable[..., None]) -> None:
    tty_ioctls_emulated(TERMIOS_GET)
    # Before: read/readwrite with an array ctype returned arg[0], a view into the buffer
    # freed when the call returned (the debug allocator fills freed memory with 0xdd).
    proc = subprocess.run(
        [sys.executable, "-c", _OWNED_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONMALLOC": "malloc_debug"},
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    wanted, winsize = seen.pop("want termios"), seen.pop("want winsize")
    assert winsize == bytes(ffi.buffer(ffi.new("unsigned short[4]", [37, 101, 5, 7]))).hex()
    assert seen == {
        "read char[N]": [wanted, True],
        "read uint8_t[N]": [wanted, True],
        "read struct winsize": [winsize, True],
        "readwrite char[8]": [winsize, True],
    }


_BY_VALUE = sorted(k.name for k in ioctls.KNOWN.values() if k.direction == "value")


@pytest.mark.parametrize("name", _BY_VALUE)
@pytest.mark.parametrize("op", ["read", "write", "readwrite"])
def test_a_by_value_request_given_a_pointer_is_refused(name: str, op: str) -> None:
    # Before: FICLONE (and TIOCSIG) went through with the buffer's address as the number:
    # EBADF for FICLONE's source, and on main TIOCSCTTY's nonzero address stole a terminal.
    read, write = os.pipe()  # if a pointer went through, a pipe answers ENOTTY or EBADF
    try:
        call = getattr(ioctls, op)
        args = () if op == "read" else (1,)
        with pytest.raises(ValueError, match=rf"{name} takes an? .* by value.*by_value\("):
            call(read, ioctls.REQUESTS[name], ioctls.KNOWN[name].kernel_ctype, *args)
    finally:
        os.close(read)
        os.close(write)


def test_ficlone_by_value_passes_the_source_descriptor(tmp_path: Path, regular: int) -> None:
    dst = os.open(tmp_path / "dst", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        ficlone = ioctls.REQUESTS["FICLONE"]
        outcomes = []
        for clone in (
            lambda: ioctls.by_value(dst, ficlone, regular),
            lambda: ioctls.ficlone(dst, regular),
            lambda: fcntl.ioctl(dst, ficlone, regular),
        ):
            try:
                clone()
                outcomes.append(0)
            except OSError as exc:
                outcomes.append(exc.errno)
        assert outcomes[0] == outcomes[1] == outcomes[2] != errno.EBADF, outcomes
        closed = os.dup(regular)
        os.close(closed)
        with pytest.raises(OSError) as info:  # the kernel saw the number itself
            ioctls.by_value(dst, ficlone, closed)
        assert info.value.errno == errno.EBADF
    finally:
        os.close(dst)


# qemu-user 7.2 does not know TIOCSIG (ENOSYS under qemu-arm-static).
TIOCSIG_PROGRAM = r"""
#include <errno.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
int main(void) {
    int master, slave;
    if (openpty(&master, &slave, NULL, NULL, NULL) == 0 && ioctl(master, TIOCSIG, SIGINT) == 0)
        return 0;
    printf("%d\n", errno);
    return 1;
}
"""


def test_tiocsig_by_value_sends_the_signal_number(
    pty: tuple[int, int], unemulated: Callable[..., None]
) -> None:
    unemulated("TIOCSIG", TIOCSIG_PROGRAM)
    # The pty's slave is nobody's controlling terminal: no process group gets the signal.
    master, _ = pty
    tiocsig = ioctls.REQUESTS["TIOCSIG"]
    got: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _: got.append(signum))
    try:
        assert ioctls.by_value(master, tiocsig, signal.SIGINT) == 0
        with pytest.raises(OSError) as info:  # a pty sends only SIGINT, SIGQUIT or SIGTSTP
            ioctls.by_value(master, tiocsig, signal.SIGUSR1)
        assert info.value.errno == errno.EINVAL
        with pytest.raises(ValueError, match="TIOCSIG takes an int by value"):
            ioctls.write(master, tiocsig, "int", signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert got == []


def test_by_value_takes_only_what_the_kernel_reads_as_a_number(pty: tuple[int, int]) -> None:
    master, slave = pty
    for request, message in [
        (termios.FIONREAD, "FIONREAD takes a pointer to int: use read"),
        (termios.TIOCNOTTY, "TIOCNOTTY takes no argument: use none"),
        (ioctls.REQUESTS["TIOCLINUX"], "TIOCLINUX is refused"),
        (ioc.IO("T", 0x99), f"{ioc.IO('T', 0x99):#x} is not in cfcntl.ioctls.KNOWN"),
    ]:
        with pytest.raises(ValueError, match=message):
            ioctls.by_value(slave, request, 1)
    with pytest.raises(OverflowError, match=r"by_value\(\): value=2147483648 does not fit"):
        ioctls.by_value(slave, termios.TCSBRK, 1 << 31)
    with pytest.raises(TypeError, match=r"by_value\(\): value must be an int, not Decimal"):
        ioctls.by_value(slave, termios.TCSBRK, Decimal(1))
    peer = ioctls.by_value(master, ioctls.REQUESTS["TIOCGPTPEER"], os.O_RDWR | os.O_NOCTTY)
    try:
        assert os.ttyname(peer) == os.ttyname(slave)
    finally:
        os.close(peer)


@pytest.mark.parametrize(
    "name",
    [
        "FIDEDUPERANGE",
        "FS_IOC_GET_ENCRYPTION_POLICY_EX",
        "FS_IOC_SET_ENCRYPTION_POLICY",
        "FS_IOC_ADD_ENCRYPTION_KEY",
    ],
)
def test_a_sized_request_whose_argument_outgrows_its_size_is_refused(
    regular: int, name: str
) -> None:
    # Before: taken at the header's word; FIDEDUPERANGE writes dest_count 32-byte records
    # after the 24 bytes it encodes (on a filesystem with dedupe: btrfs, XFS).
    request = ioctls.REQUESTS[name]
    ctype = f"char[{ioc.decode(request).size}]"
    for call in (
        lambda: ioctls.read(regular, request, ctype),
        lambda: ioctls.readwrite(regular, request, ctype, bytes(8)),
    ):
        with pytest.raises(ValueError, match=f"cfcntl refuses {name}: .*the header encodes"):
            call()


@pytest.mark.parametrize("op", ["write", "readwrite"])
def test_none_as_the_value_is_refused_not_a_zero(op: str) -> None:
    # Before: write(fd, FIONBIO, "int", None) passed a zero and cleared O_NONBLOCK.
    read, write = os.pipe()
    try:
        os.set_blocking(read, False)
        with pytest.raises(TypeError, match=rf"{op}\(\): value must be given, not None"):
            getattr(ioctls, op)(read, termios.FIONBIO, "int", None)
        assert not os.get_blocking(read)
    finally:
        os.close(read)
        os.close(write)


def test_getlk_answers_when_every_answer_slot_is_claimed(tmp_path: Path) -> None:
    # Answers left unread (in handlers, in threads, or lost to an exception) hold their
    # slots; with none left, getlk asks again into a buffer of its own.
    from cfcntl import locks

    path = tmp_path / "locked"
    path.write_bytes(bytes(1024))
    with LockChild(str(path), f"posix:{cfcntl.F_WRLCK}:0:10"), open(path, "rb+") as f:
        fd = f.fileno()
        expected = cfcntl.getlk(fd, cfcntl.F_WRLCK, 0, 10)
        assert expected is not None and expected[:4] == (cfcntl.F_WRLCK, os.SEEK_SET, 0, 10)
        held = []
        try:
            while (
                found := lib.cf_posix_getlk_slot(fd, cfcntl.F_WRLCK, 0, 10, os.SEEK_SET)
            ) <= lib.CF_SLOTS:
                held.append(found)
            assert len(held) == lib.CF_SLOTS == len(locks._ANSWERS) - 1
            assert cfcntl.getlk(fd, cfcntl.F_WRLCK, 0, 10) == expected
            assert cfcntl.getlk(fd, cfcntl.F_WRLCK, 100, 10) is None
        finally:
            for found in held:
                lib.cf_answer_free(found)
        assert lib.cf_posix_getlk_slot(fd, cfcntl.F_WRLCK, 0, 10, os.SEEK_SET) == 1
        lib.cf_answer_free(1)
