"""cfcntl.compat against the stdlib fcntl module: the same call through both, compared.

Each side gets its own fresh scratch descriptors (same numbers, same state) and its own
copy of the argument; what is compared is the result (type and value), the argument's
bytes afterwards, the exception (type, errno, message) and the audit events.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import errno
import fcntl as stdlib
import gc
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import assume, given, settings, strategies as st

import cfcntl
import cfcntl.compat as compat
from cfcntl import constants as C  # the kernel's numbers, for names an old stdlib lacks

EVENTS: list[tuple[str, tuple[Any, ...]]] = []
_recording = False


def _hook(event: str, arguments: tuple[Any, ...]) -> None:
    if _recording and event.startswith("fcntl.") and threading.current_thread() is MAIN:
        EVENTS.append((event, arguments))


MAIN = threading.main_thread()


sys.addaudithook(_hook)

Fd = Any  # a descriptor spec: the name of a scratch descriptor, or a literal
OMIT = object()  # what make_arg returns for "leave the argument out"


@contextlib.contextmanager
def scratch() -> Iterator[dict[str, int]]:
    """Fresh descriptors of every kind, opened in a fixed order so that two runs get
    the same numbers: a file, a pipe with 5 bytes waiting, a socket, a pty, a memfd."""
    opened: list[int] = []
    with tempfile.TemporaryFile() as tmp:
        fds = {"file": os.dup(tmp.fileno())}
        opened.append(fds["file"])
        fds["pipe_r"], fds["pipe_w"] = os.pipe()
        os.write(fds["pipe_w"], b"hello")
        left, right = socket.socketpair()
        fds["socket"] = left.detach()
        right.close()
        fds["pty_master"], fds["pty_slave"] = os.openpty()
        fds["memfd"] = os.memfd_create("cfcntl-compat", os.MFD_ALLOW_SEALING)
        opened.extend(fd for name, fd in fds.items() if name != "file")
        try:
            yield fds
        finally:
            for fd in opened:
                os.close(fd)


class FilenoObject:
    def __init__(self, value: object) -> None:
        self.value = value

    def fileno(self) -> object:
        return self.value


def resolve(fd: Fd, fds: dict[str, int]) -> object:
    if isinstance(fd, str):
        return fds.get(fd, fd)  # a name not among them is a literal str
    if isinstance(fd, tuple):  # ("fileno", what): an object whose fileno() returns it
        return FilenoObject(resolve(fd[1], fds))
    return fd


def outcome(
    function: Callable[..., Any], fd: Fd, args: tuple[Any, ...], make_arg: Callable[[], Any]
) -> dict[str, Any]:
    """What calling ``function(fd, *args[:1], arg, *args[1:])`` does, in fresh scratch."""
    global _recording
    with scratch() as fds:
        arg = make_arg()
        number = resolve(fd, fds)
        call_args = (number, *args) if arg is OMIT else (number, args[0], arg, *args[1:])
        EVENTS.clear()
        _recording = True
        try:
            result: Any = function(*call_args)
            error = None
        except Exception as exc:
            result = None
            error = (type(exc), getattr(exc, "errno", None), str(exc))
        finally:
            _recording = False
        if isinstance(result, int) and args and _dups(args[0]) and result > 2:
            os.close(result)
        after = _contents(arg) if isinstance(arg, (bytearray, array.array, memoryview)) else None
        return {
            "result": (type(result), result),
            "after": after,
            "error": error,
            "events": [(e, _plain(a)) for e, a in EVENTS],
        }


def _dups(cmd: Any) -> bool:
    """Whether fcntl's ``cmd`` makes a descriptor (PyPy cuts a command to 32 bits)."""
    return isinstance(cmd, int) and ((cmd + 2**31) % 2**32 - 2**31) in DUP_COMMANDS


def _contents(argument: Any) -> Any:
    """A buffer as its type and bytes; anything else (a released view too) as it is."""
    try:
        return (type(argument), memoryview(argument).tobytes())
    except (TypeError, ValueError):
        return argument if not isinstance(argument, memoryview) else "released"


def _plain(arguments: tuple[Any, ...]) -> list[Any]:
    """Audit arguments comparable across the two runs (buffers by type and content)."""
    return [_contents(argument) for argument in arguments]


def same(
    name: str,
    fd: Fd,
    args: tuple[Any, ...],
    make_arg: Callable[[], Any] = lambda: OMIT,
    against: Any = compat,
) -> dict[str, Any]:
    """Assert the stdlib's ``name`` and ``against``'s behave the same; the stdlib's outcome.

    The collector is off meanwhile: a leaked file it closed between the two runs would
    shift the scratch descriptors' numbers.
    """
    gc.disable()
    try:
        expected = outcome(getattr(stdlib, name), fd, args, make_arg)
        actual = outcome(getattr(against, name), fd, args, make_arg)
    finally:
        gc.enable()
    assert actual == expected, f"{name}{(fd, *args)}"
    return expected


DUP_COMMANDS = {C.F_DUPFD, C.F_DUPFD_CLOEXEC}
PYPY = sys.implementation.name == "pypy"
no_audit_on_pypy = pytest.mark.skipif(PYPY, reason="PyPy's fcntl raises no audit events")


# -- names --------------------------------------------------------------------------


def test_same_public_names_and_values() -> None:
    public = {n for n in dir(stdlib) if not n.startswith("_")}
    assert {n for n in dir(compat) if not n.startswith("_")} == public
    for name in public - {"fcntl", "ioctl", "flock", "lockf"}:
        assert getattr(compat, name) == getattr(stdlib, name), name
        assert type(getattr(compat, name)) is int


def released() -> memoryview:
    view = memoryview(bytearray(4))
    view.release()
    return view


# -- hand-picked corners ------------------------------------------------------------

INT_MAX = 2**31 - 1
F = stdlib


@pytest.mark.parametrize(
    ("fd", "args"),
    [
        ("pipe_r", (F.F_GETFL,)),
        ("pipe_r", (F.F_GETFD,)),
        ("pipe_r", (F.F_SETFL, os.O_NONBLOCK)),
        ("pipe_r", (C.F_GETPIPE_SZ, 0)),
        ("pipe_r", (F.F_DUPFD, 10)),
        ("file", (F.F_NOTIFY, F.DN_MULTISHOT | F.DN_ACCESS)),  # bit 31 through "I"
        ("pipe_r", (F.F_SETFD, 2**32 + 1)),  # unsigned int bits: FD_CLOEXEC
        ("pipe_r", (F.F_SETFD, -(2**40) + 1)),
        ("pipe_r", (F.F_SETFD, True)),
        ("pipe_r", (F.F_GETFL, None)),
        ("pipe_r", (F.F_GETFL, 1.5)),
        ("pipe_r", (INT_MAX + 1,)),
        ("pipe_r", (-1,)),
        ("pipe_r", (1.0,)),
        ("pipe_r", (2**40,)),
        (-1, (F.F_GETFL,)),
        (INT_MAX + 1, (F.F_GETFL,)),
        (-(2**31) - 1, (F.F_GETFL,)),
        (9999, (F.F_GETFL,)),
        ("spam", (F.F_GETFL,)),
        (1.0, (F.F_GETFL,)),
        (True, (F.F_GETFL,)),
        (("fileno", "pipe_r"), (F.F_GETFL,)),
        (("fileno", -3), (F.F_GETFL,)),
        (("fileno", 1.0), (F.F_GETFL,)),
        (("fileno", INT_MAX + 1), (F.F_GETFL,)),
    ],
)
def test_fcntl_int_corners(fd: Fd, args: tuple[Any, ...]) -> None:
    same("fcntl", fd, args)


@pytest.mark.parametrize(
    "make_arg",
    [
        lambda: b"",
        lambda: bytes(32),
        lambda: b"x" * 1024,
        lambda: b"x" * 1025,
        lambda: "é" * 16,
        lambda: "a\udc80",
        lambda: bytearray(32),
        lambda: array.array("h", [0] * 16),
        lambda: memoryview(b"abc"),
        lambda: (ctypes.c_char * 32)(),  # a buffer without bf_releasebuffer: accepted
        lambda: released(),
    ],
)
def test_fcntl_buffer_corners(make_arg: Callable[[], Any]) -> None:
    # F_GETLK on a zeroed struct flock is EINVAL (l_type 0 is F_RDLCK on x86: fine);
    # either way both must agree, including the bytes returned.  An empty argument
    # leaves the whole struct flock to what follows the copy in the stdlib's buffer:
    # before 3.14 (no guard bytes) its uninitialized stack, which decides whether the
    # kernel answers EINVAL (seen both ways in one process under qemu-arm).
    if sys.version_info >= (3, 14) or make_arg() != b"":
        same("fcntl", "file", (F.F_GETLK,), make_arg)
    same("fcntl", "pipe_r", (F.F_GETFL,), make_arg)


def test_fcntl_returns_what_the_kernel_wrote() -> None:
    # F_WRLCK, SEEK_SET, the whole file, in the compiler's layout and byte order
    lock = struct.pack(cfcntl.layout()["struct flock"].format, C.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    expected = same("fcntl", "file", (F.F_GETLK,), lambda: lock)
    assert expected["result"][0] is bytes
    assert expected["result"][1][:2] == struct.pack("=h", C.F_UNLCK)


FIONREAD = termios.FIONREAD
TIOCGWINSZ = termios.TIOCGWINSZ


@pytest.mark.parametrize(
    ("fd", "args", "make_arg"),
    [
        ("pipe_r", (FIONREAD,), lambda: array.array("i", [0])),
        ("pipe_r", (FIONREAD, True), lambda: array.array("i", [0])),
        ("pipe_r", (FIONREAD, False), lambda: array.array("i", [0])),
        ("pipe_r", (FIONREAD, []), lambda: bytearray(4)),
        ("pipe_r", (FIONREAD,), lambda: bytearray(2)),  # short: the copy absorbs the rest
        ("pipe_r", (FIONREAD,), lambda: bytearray(1024)),
        ("pipe_r", (FIONREAD,), lambda: bytearray(1025)),  # in place
        ("pipe_r", (FIONREAD, False), lambda: bytearray(1024)),
        ("pipe_r", (FIONREAD, False), lambda: bytearray(1025)),  # too long to copy
        ("pipe_r", (FIONREAD,), lambda: b"\0" * 4),
        ("pipe_r", (FIONREAD,), lambda: b"\0" * 1025),
        ("pipe_r", (FIONREAD,), lambda: "abcd"),
        ("pipe_r", (FIONREAD,), lambda: "a\udc80"),
        ("pipe_r", (FIONREAD,), lambda: memoryview(bytearray(4))),
        ("pipe_r", (FIONREAD,), lambda: memoryview(bytes(4))),  # read-only: copied
        ("pipe_r", (FIONREAD,), lambda: memoryview(bytearray(8))[::2]),  # not contiguous
        # one item, strided: contiguous on CPython; PyPy's fcntl takes it as read-only
        ("pipe_r", (FIONREAD,), lambda: memoryview(bytearray(2))[::2]),
        ("pipe_r", (FIONREAD, True), lambda: memoryview(bytearray(2))[::2]),
        ("pipe_r", (FIONREAD,), released),
        ("pipe_r", (FIONREAD,), lambda: 0),
        ("pipe_r", (FIONREAD,), lambda: 2**31),
        ("pipe_r", (FIONREAD,), lambda: -(2**31) - 1),
        ("pipe_r", (FIONREAD,), lambda: 2**70),
        ("pipe_r", (FIONREAD,), lambda: 1.5),
        ("pipe_r", (FIONREAD,), lambda: [1]),
        ("pty_master", (TIOCGWINSZ,), lambda: bytearray(8)),
        ("pty_master", (TIOCGWINSZ,), lambda: bytes(8)),
        ("pty_master", (TIOCGWINSZ,), lambda: bytearray(3)),
        ("pty_master", (TIOCGWINSZ, False), lambda: bytearray(8)),
        ("pipe_r", (FIONREAD + 2**32,), lambda: bytearray(4)),  # the request width
        ("pipe_r", (FIONREAD - 2**32,), lambda: bytearray(4)),
        ("pipe_r", (-1,), lambda: OMIT),
        ("pipe_r", (1.0,), lambda: OMIT),
        ("pipe_r", (termios.FIOCLEX,), lambda: OMIT),
        ("pipe_r", (FIONREAD,), lambda: None),
        ("pipe_r", (0x12345678,), lambda: bytearray(4)),  # ENOTTY
        ("socket", (FIONREAD,), lambda: bytearray(4)),
        (9999, (FIONREAD,), lambda: bytearray(4)),
    ],
)
def test_ioctl_corners(fd: Fd, args: tuple[Any, ...], make_arg: Callable[[], Any]) -> None:
    same("ioctl", fd, args, make_arg)


def test_ioctl_fills_a_mutable_buffer() -> None:
    expected = same("ioctl", "pipe_r", (FIONREAD,), lambda: array.array("i", [0]))
    assert expected["after"] == (
        array.array,
        array.array("i", [5]).tobytes(),
    )  # the 5 bytes waiting


@pytest.mark.parametrize(
    ("fd", "args"),
    [
        ("file", (F.LOCK_SH,)),
        ("file", (F.LOCK_EX | F.LOCK_NB,)),
        ("file", (F.LOCK_UN,)),
        ("file", (0,)),
        ("file", (INT_MAX + 1,)),
        ("file", (1.0,)),
        (-1, (F.LOCK_SH,)),
        ("spam", (F.LOCK_SH,)),
        ("pipe_r", (F.LOCK_EX | F.LOCK_NB,)),
    ],
)
def test_flock_corners(fd: Fd, args: tuple[Any, ...]) -> None:
    same("flock", fd, args)


@pytest.mark.parametrize(
    "args",
    [
        (F.LOCK_SH,),
        (F.LOCK_EX | F.LOCK_NB, 10, 5, os.SEEK_SET),
        (F.LOCK_UN, 0, 0, 0),
        (F.LOCK_SH, 10, 0, os.SEEK_END),
        (0,),  # ValueError: neither LOCK_SH, LOCK_EX nor LOCK_UN
        (0, 1.5),  # ValueError before len is read
        (0, 0, 0, 1.5),  # but whence is parsed first: TypeError
        (F.LOCK_NB,),
        (F.LOCK_SH, 2**63),
        (F.LOCK_SH, 0, -(2**63) - 1),
        (F.LOCK_SH, 1.5),
        (F.LOCK_SH, 0, 0, 2**31),
        (F.LOCK_SH, 0, 0, 2**16 + os.SEEK_CUR),  # l_whence is a short
        (F.LOCK_SH, 0, -1),
        (F.LOCK_SH, True, False, True),
    ],
)
def test_lockf_corners(args: tuple[Any, ...]) -> None:
    same("lockf", "file", args)
    same("lockf", "pipe_r", args)


WRONG_CALLS = [
    ("fcntl", (), {}),
    ("fcntl", ("r",), {}),
    ("fcntl", ("r", F.F_GETFL, 0, 0), {}),
    ("fcntl", ("r",), {"cmd": F.F_GETFL}),
    ("fcntl", (), {"fd": "r", "cmd": F.F_GETFL}),
    ("fcntl", ("r", F.F_GETFL), {"arg": 0}),
    ("fcntl", ("r", F.F_GETFL), {"op": 0}),
    ("ioctl", (), {}),
    ("ioctl", ("r",), {}),
    ("ioctl", ("r", FIONREAD, 0, True, 0), {}),
    ("ioctl", ("r", FIONREAD), {"arg": 0}),
    ("ioctl", ("r", FIONREAD), {"mutate_flag": True}),
    ("flock", (), {}),
    ("flock", ("r",), {}),
    ("flock", ("r", F.LOCK_UN, 0), {}),
    ("flock", ("r",), {"operation": F.LOCK_UN}),
    ("flock", ("r",), {"op": F.LOCK_UN}),
    ("lockf", (), {}),
    ("lockf", ("r",), {}),
    ("lockf", ("r", F.LOCK_UN, 0, 0, 0, 0), {}),
    ("lockf", ("r", F.LOCK_UN), {"len": 0}),
    ("lockf", ("r", F.LOCK_UN), {"length": 0}),
    ("lockf", ("r", F.LOCK_UN), {}),  # right, and so are the rest
    ("fcntl", ("r", F.F_GETFL), {}),
]


@pytest.mark.parametrize(("name", "args", "keywords"), WRONG_CALLS)
def test_wrong_calls_as_the_stdlib(
    name: str, args: tuple[Any, ...], keywords: dict[str, Any]
) -> None:
    """Too few or too many arguments, or keywords: the running stdlib's own outcome
    (CPython's builtins take no keywords; PyPy's take their own names)."""

    def call(module: Any) -> Any:
        r, w = os.pipe()
        try:
            resolved = tuple(r if a == "r" else a for a in args)
            named = {k: r if v == "r" else v for k, v in keywords.items()}
            return ("result", getattr(module, name)(*resolved, **named))
        except Exception as exc:
            return (type(exc), str(exc))
        finally:
            os.close(r)
            os.close(w)

    assert call(compat) == call(stdlib)


class Locker:
    """A class that keeps the module's functions as attributes, as portalocker does."""

    lock = compat.flock
    control = compat.fcntl
    stdlib_lock = stdlib.flock


def test_functions_do_not_bind_as_methods(tmp_path: Any) -> None:
    locker = Locker()
    assert Locker.stdlib_lock is stdlib.flock and locker.stdlib_lock is stdlib.flock
    assert locker.lock is compat.flock and Locker.lock is compat.flock
    assert locker.control is compat.fcntl
    with open(tmp_path / "f", "wb") as f:
        locker.lock(f, compat.LOCK_EX | compat.LOCK_NB)  # (fd, op): no self passed
        assert locker.control(f, compat.F_GETFD) == stdlib.fcntl(f, stdlib.F_GETFD)
        locker.lock(f, compat.LOCK_UN)
    for name in ("fcntl", "ioctl", "flock", "lockf"):
        assert getattr(compat, name).__name__ == getattr(stdlib, name).__name__ == name


@pytest.mark.skipif(
    sys.implementation.name == "pypy", reason="PyPy's s# takes every buffer: no bf_releasebuffer"
)
def test_bf_releasebuffer_is_read_from_the_type() -> None:
    """The C helper reads the slot through PyType_GetSlot: static types, heap types and
    subclasses, each checked against what the stdlib's "s#" does with it (before 3.14)."""

    class Bytes(bytes):
        pass

    class ByteArray(bytearray):
        pass

    chars = (ctypes.c_char * 4)()
    values: list[Any] = [
        bytes(4), Bytes(4), chars,  # no bf_releasebuffer: "s#" takes them
        bytearray(4), ByteArray(4), array.array("b", [0] * 4), memoryview(bytes(4)),
    ]  # fmt: skip
    r, w = os.pipe()
    try:
        for value in values:
            refused = not isinstance(value, (bytes, type(chars)))
            if type(value) in (bytes, Bytes, type(chars), memoryview):  # in every version
                assert compat._releases_buffers(type(value)) is refused, type(value)
            # the stdlib's "s#" is the judge before 3.14; 3.14 parses "s*", which takes
            # them all, and compat no longer asks
            if sys.version_info < (3, 14):
                assert compat._releases_buffers(type(value)) is refused, type(value)
                try:
                    taken = isinstance(stdlib.fcntl(r, F.F_GETFD, value), bytes)
                except TypeError:  # "s#" refused it, then "I" did
                    taken = False
                assert taken is not refused, type(value)
    finally:
        os.close(w)


# -- hypothesis ---------------------------------------------------------------------

FDS = st.sampled_from(["file", "pipe_r", "pipe_w", "socket", "pty_master", "pty_slave", "memfd"])
INTS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.integers(-(2**32) - 2, 2**32 + 2),
    st.sampled_from([0, 1, -1, INT_MAX, INT_MAX + 1, -(2**31), -(2**31) - 1, 2**32 - 1]),
)
SIZES = st.one_of(st.integers(0, 40), st.sampled_from([1023, 1024, 1025, 1100]))
BUFFER_KINDS = st.sampled_from(
    ["bytes", "bytearray", "array_i", "array_b", "memoryview", "memoryview_ro", "stride"]
)


def make_buffer(kind: str, content: bytes) -> Callable[[], Any]:
    def make() -> Any:
        return {
            "bytes": lambda: bytes(content),
            "bytearray": lambda: bytearray(content),
            "array_i": lambda: array.array("i", content[: len(content) // 4 * 4]),
            "array_b": lambda: array.array("b", content),
            "memoryview": lambda: memoryview(bytearray(content)),
            "memoryview_ro": lambda: memoryview(bytes(content)),
            "stride": lambda: memoryview(bytearray(content))[::2],
        }[kind]()

    return make


@st.composite
def arguments(draw: st.DrawFn) -> Callable[[], Any]:
    choice = draw(st.sampled_from(["omit", "int", "buffer", "text", "other"]))
    if choice == "omit":
        return lambda: OMIT
    if choice == "int":
        value = draw(INTS)
        return lambda: value
    if choice == "text":
        text = draw(st.text(max_size=40) | st.text(alphabet="x", min_size=1020, max_size=1030))
        return lambda: text
    if choice == "other":
        other = draw(st.sampled_from([None, 1.5, [1], (), object()]))
        return lambda: other
    size = draw(SIZES)
    return make_buffer(draw(BUFFER_KINDS), draw(st.binary(min_size=size, max_size=size)))


FCNTL_COMMANDS = st.sampled_from(
    [
        F.F_GETFD, F.F_SETFD, F.F_GETFL, F.F_SETFL, F.F_GETLK, F.F_GETOWN, F.F_GETSIG,
        F.F_GETLEASE, C.F_GETPIPE_SZ, C.F_GET_SEALS, F.F_DUPFD, C.F_DUPFD_CLOEXEC,
        C.F_OFD_GETLK, 9999, -1,
    ]
)  # fmt: skip
POINTER_REQUESTS = {FIONREAD, TIOCGWINSZ, termios.TCGETS}  # they write through the argument
IOCTL_REQUESTS = st.one_of(
    st.sampled_from(
        [FIONREAD, TIOCGWINSZ, termios.TCGETS, termios.FIOCLEX, termios.FIONCLEX, 0x12345678]
    ),
    st.sampled_from([FIONREAD, TIOCGWINSZ]).map(lambda r: r + 2**32),
)


def unaddressed(make_arg: Callable[[], Any]) -> Callable[[], Any]:
    """``make_arg``, but an int that reaches the kernel (a C int) as the address of what it
    writes (a struct flock, a winsize, a count) is taken below vm.mmap_min_addr (65536),
    where nothing is ever mapped: EFAULT for both implementations.  A drawn int can be a
    mapped address: under qemu-user a 64-bit guest's interpreter lies below 2**31, and on
    i386 every address is an int; the kernel then wrote into the interpreter (ppc64el's
    suite died of it).  An int outside a C int's range never reaches the kernel."""
    value = make_arg()
    if type(value) is int and -(2**31) <= value <= INT_MAX:
        return lambda: value % 65536
    return make_arg


@settings(max_examples=200, deadline=None)
@given(fd=FDS, cmd=FCNTL_COMMANDS, make_arg=arguments())
def test_fcntl_parity(fd: str, cmd: int, make_arg: Callable[[], Any]) -> None:
    if cmd in LOCK_COMMANDS:
        make_arg = unaddressed(make_arg)
    if cmd in DUP_COMMANDS and isinstance(make_arg(), int):
        make_arg = (lambda value: lambda: value % 64)(make_arg())  # a small minimum fd
    # F_SETFL takes its argument as flags: with a buffer, the flags are the bits of the
    # copy's address (the stdlib's C stack, compat's scratch buffer), which no two
    # implementations share
    assume(cmd != F.F_SETFL or isinstance(make_arg(), int) or make_arg() is OMIT)
    # a lock command's argument shorter than a struct flock: before 3.14 (no guard bytes)
    # the stdlib lets the kernel read the rest from its uninitialized stack, so the answer
    # (EINVAL or not: both seen in one process under qemu-arm) is not the stdlib's to repeat
    assume(sys.version_info >= (3, 14) or cmd not in LOCK_COMMANDS or not short(make_arg()))
    same("fcntl", fd, (cmd,), make_arg)


LOCK_COMMANDS = {F.F_GETLK, C.F_OFD_GETLK}


def short(arg: Any) -> bool:
    """Whether arg is text or a buffer of fewer bytes than a struct flock."""
    if isinstance(arg, str):
        size = len(arg.encode("utf-8", "surrogatepass"))
    else:
        try:
            size = memoryview(arg).nbytes
        except (TypeError, ValueError):
            return False
    return size < cfcntl.layout()["struct flock"].size


# glibc's ioctl() on powerpc answers TCGETS itself, through tcgetattr(), which writes the
# answer through the argument in user space: an int or no argument on a terminal is then
# a SIGSEGV for the stdlib, where elsewhere the kernel says EFAULT (and compat says it
# everywhere: src/cfcntl/_c/compat.c).
LIBC_TCGETS_PROGRAM = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
int main(void) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) return 2;
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    pid_t pid = fork();
    if (pid == 0) _exit(ioctl(slave, TCGETS, 0) == 0 ? 0 : 1);
    int status;
    if (slave < 0 || pid < 0 || waitpid(pid, &status, 0) != pid) return 2;
    printf("%d\n", WIFSIGNALED(status));
    return 0;
}
"""


@pytest.fixture(scope="module")
def tcgets_crashes_on_a_number(run_c: Callable[[str], str]) -> bool:
    """Whether ioctl(tty, TCGETS, 0) kills the caller here (powerpc's glibc)."""
    return run_c(LIBC_TCGETS_PROGRAM).strip() == "1"


TERMIOS_ON_NUMBERS = """
import importlib, os, sys, termios
fcntl = importlib.import_module(sys.argv[1])
_, tty = os.openpty()
for request, arg in ((termios.TCGETS, ()), (termios.TCGETS, (8,)), (termios.TCSETS, (0,)),
                     (termios.TCSETSW, (4096,))):
    try:
        fcntl.ioctl(tty, request, *arg)
    except OSError as exc:
        print(exc.errno)
"""
"""ioctl(tty, TCGETS or TCSETS*, a number below every mapping) with the module named by
argv[1]: each errno printed."""


def test_termios_requests_on_a_number_are_efault_not_a_crash(
    tcgets_crashes_on_a_number: bool,
) -> None:
    # In a child, so that a crash fails the test, not the run.
    def run(module: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-c", TERMIOS_ON_NUMBERS, module]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    ours = run("cfcntl.compat")
    assert (ours.returncode, ours.stdout.split()) == (0, [str(errno.EFAULT)] * 4), ours.stderr
    theirs = run("fcntl")
    if tcgets_crashes_on_a_number:  # powerpc: the one place compat does not follow
        assert theirs.returncode == -signal.SIGSEGV
    else:
        assert (theirs.returncode, theirs.stdout) == (0, ours.stdout)


@settings(max_examples=200, deadline=None)
@given(
    fd=FDS,
    request=IOCTL_REQUESTS,
    make_arg=arguments(),
    mutate=st.sampled_from([(), (True,), (False,), (0,), ("",)]),
)
def test_ioctl_parity(
    fd: str,
    request: int,
    make_arg: Callable[[], Any],
    mutate: tuple[Any, ...],
    tcgets_crashes_on_a_number: bool,
) -> None:
    arg = make_arg()
    if arg is OMIT:
        mutate = ()
    kernels = request % 2**32  # the kernel cuts a request to 32 bits
    if kernels in POINTER_REQUESTS:
        make_arg = unaddressed(make_arg)
    number = arg is OMIT or isinstance(arg, int)
    assume(not (tcgets_crashes_on_a_number and kernels == termios.TCGETS and number))
    same("ioctl", fd, (request, *mutate), make_arg)


@settings(max_examples=100, deadline=None)
@given(
    fd=FDS,
    cmd=st.sampled_from([0, F.LOCK_SH, F.LOCK_UN, F.LOCK_NB]).map(lambda c: c | F.LOCK_NB)
    | st.just(F.LOCK_EX | F.LOCK_NB)
    | INTS,
    rest=st.lists(INTS, max_size=3),
)
def test_lockf_and_flock_parity(fd: str, cmd: int, rest: list[int]) -> None:
    same("flock", fd, (cmd,))
    same("lockf", fd, (cmd, *rest))


# -- the test of the test -----------------------------------------------------------


class Altered:
    """compat with one function made to differ in a single corner."""

    def __init__(self, **functions: Callable[..., Any]) -> None:
        self.__dict__.update(functions)


def test_the_comparison_catches_a_differing_compat() -> None:
    def short_copy(fd: Any, cmd: Any, arg: Any = OMIT) -> Any:
        result = compat.fcntl(fd, cmd) if arg is OMIT else compat.fcntl(fd, cmd, arg)
        return result[:-1] if isinstance(result, bytes) and len(result) > 30 else result

    def signed_request(fd: Any, request: Any, arg: Any = 0, *rest: Any) -> Any:
        if request > INT_MAX:  # as if the request were parsed as a checked C int
            raise OverflowError("Python int too large to convert to C int")
        return compat.ioctl(fd, request, arg, *rest)

    def no_copy_back(fd: Any, request: Any, arg: Any = 0, mutate: Any = True) -> Any:
        return compat.ioctl(fd, request, bytes(arg) if isinstance(arg, bytearray) else arg)

    def silent_audit(fd: Any, cmd: Any, *rest: Any) -> Any:
        global _recording
        _recording = False
        return compat.lockf(fd, cmd, *rest)

    cases: list[tuple[str, Fd, tuple[Any, ...], Callable[[], Any], Altered]] = [
        ("fcntl", "file", (F.F_GETLK,), lambda: bytes(32), Altered(fcntl=short_copy)),
        ("ioctl", "pipe_r", (FIONREAD + 2**32,), lambda: OMIT, Altered(ioctl=signed_request)),
        ("ioctl", "pipe_r", (FIONREAD,), lambda: bytearray(4), Altered(ioctl=no_copy_back)),
    ]
    if not PYPY:  # PyPy's fcntl raises no audit events to miss
        cases.append(("lockf", "file", (F.LOCK_SH,), lambda: OMIT, Altered(lockf=silent_audit)))
    for name, fd, args, make_arg, altered in cases:
        same(name, fd, args, make_arg)  # the real compat passes
        with pytest.raises(AssertionError):
            same(name, fd, args, make_arg, against=altered)


# -- signals, audit hooks, descriptors ----------------------------------------------


@pytest.mark.parametrize("module", [stdlib, compat], ids=["stdlib", "compat"])
def test_eintr_runs_the_handler_and_retries(module: Any, tmp_path: Any) -> None:
    """flock(LOCK_EX) waits for another open file's lock; SIGALRM interrupts the wait
    every 20 ms; the handler runs each time and the wait goes on until the lock is free."""
    path = tmp_path / "lock"
    path.write_bytes(b"")
    handled: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: handled.append(signum))
    with open(path, "rb") as holder, open(path, "rb") as waiter:
        stdlib.flock(holder, stdlib.LOCK_EX)
        release = threading.Timer(0.2, stdlib.flock, (holder, stdlib.LOCK_UN))
        release.start()
        signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
        try:
            started = time.monotonic()
            module.flock(waiter, module.LOCK_EX)
            waited = time.monotonic() - started
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            release.join()
    assert handled  # the handler ran while flock waited
    assert 0.15 < waited < 5


@pytest.mark.parametrize("module", [stdlib, compat], ids=["stdlib", "compat"])
def test_eintr_handler_exception_ends_the_wait(module: Any, tmp_path: Any) -> None:
    path = tmp_path / "lock"
    path.write_bytes(b"")

    def interrupt(signum: int, frame: object) -> None:
        raise TimeoutError("handler")

    previous = signal.signal(signal.SIGALRM, interrupt)
    with open(path, "rb") as holder, open(path, "rb") as waiter:
        stdlib.flock(holder, stdlib.LOCK_EX)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        try:
            with pytest.raises(TimeoutError, match="handler"):
                module.flock(waiter, module.LOCK_EX)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        with pytest.raises(BlockingIOError):  # no lock was taken
            stdlib.flock(waiter, stdlib.LOCK_EX | stdlib.LOCK_NB)


@no_audit_on_pypy
def test_audit_events_name_the_arguments() -> None:
    global _recording
    r, w = os.pipe()
    buf = bytearray(4)
    try:
        EVENTS.clear()
        _recording = True
        compat.fcntl(r, F.F_GETFL)
        compat.fcntl(r, F.F_SETFL, 0)
        compat.ioctl(r, FIONREAD + 2**32, buf)
        compat.flock(r, F.LOCK_UN)
        with contextlib.suppress(OSError):
            compat.lockf(r, F.LOCK_UN)
        with contextlib.suppress(ValueError):
            compat.fcntl(-1, F.F_GETFL)  # refused before the event
    finally:
        _recording = False
        os.close(r)
        os.close(w)
    # the request is audited whole from 3.14, by its low 32 bits before
    request = FIONREAD + 2**32 if sys.version_info >= (3, 14) else FIONREAD
    assert [
        ("fcntl.fcntl", (r, F.F_GETFL, None)),
        ("fcntl.fcntl", (r, F.F_SETFL, 0)),
        ("fcntl.ioctl", (r, request, buf)),
        ("fcntl.flock", (r, F.LOCK_UN)),
        ("fcntl.lockf", (r, F.LOCK_UN, None, None, 0)),
    ] == EVENTS


@no_audit_on_pypy
def test_an_audit_hook_that_raises_stops_the_call() -> None:
    refused: list[int] = []

    def refuse(event: str, arguments: tuple[Any, ...]) -> None:
        if event == "fcntl.fcntl" and arguments[0] in refused:
            raise PermissionError("audit says no")

    sys.addaudithook(refuse)  # hooks cannot be removed: it refuses only while armed
    r, w = os.pipe()
    try:
        refused.append(r)
        with pytest.raises(PermissionError, match="audit says no"):
            compat.fcntl(r, F.F_SETFL, os.O_NONBLOCK)
        refused.clear()
        assert os.get_blocking(r)  # the call never reached the kernel
    finally:
        refused.clear()
        os.close(r)
        os.close(w)


def test_lockf_takes_len_then_start(tmp_path: Any) -> None:
    """lockf(f, LOCK_EX, 10, 20) locks bytes 20..29: another process sees exactly that."""
    path = tmp_path / "data"
    path.write_bytes(b"x" * 100)

    def free_in_child(start: int, length: int) -> bool:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            with open(path, "rb+") as other:
                try:
                    stdlib.lockf(other, stdlib.LOCK_EX | stdlib.LOCK_NB, length, start)
                except OSError:
                    os._exit(1)
                os._exit(0)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0

    with open(path, "rb+") as f:
        compat.lockf(f, compat.LOCK_EX, 10, 20)
        assert not free_in_child(25, 1)
        assert free_in_child(0, 20) and free_in_child(30, 10)
        compat.lockf(f, compat.LOCK_UN, 10, 20)
        assert free_in_child(25, 1)
