"""cfcntl.tools.ctypes_binding: its errors word for word against cfcntl's, fionread, and its
struct against the compiler's.  (test_locks.py runs the record-lock suite through it, with
its ``binding`` fixture.)"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import socket
import termios
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cfcntl
from cfcntl.tools import ctypes_binding as ct
from cfcntl.tools.declarations import compared, ctypes_mirror

BAD_CALLS = [
    ((70000,), {}),
    ((1,), {"whence": -(2**15) - 1}),
    ((1,), {"start": 2**63}),
    ((1,), {"length": -(2**63) - 1}),
    ((1,), {"start": 1.5}),
    ((1,), {"length": "5"}),
    (("1",), {}),
    ((None,), {}),
]


@pytest.mark.parametrize("name", ["getlk", "setlk", "setlkw"])
@pytest.mark.parametrize("args, kwargs", BAD_CALLS)
def test_errors_are_cfcntls_word_for_word(
    fd: int, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Same exception class, same message, for every argument either binding refuses."""
    raised = []
    for module in (cfcntl.locks, ct):
        with pytest.raises((TypeError, OverflowError)) as info:
            getattr(module, name)(fd, *args, **kwargs)
        raised.append((type(info.value), str(info.value)))
    assert raised[0] == raised[1]


def test_fd_errors_are_cfcntls(fd: int) -> None:
    for bad in (2**31, -1, "x", 1.0):
        raised = []
        for func in (cfcntl.locks.getlk, ct.getlk, cfcntl.commands.getfl, ct.fionread):
            with pytest.raises((TypeError, ValueError, OverflowError)) as info:
                func(bad)
            raised.append((type(info.value), str(info.value).replace(func.__name__, "f")))
        assert len(set(raised)) == 1, raised


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    os.close(r)
    os.close(w)


def test_fionread_counts_what_waits(pipe: tuple[int, int]) -> None:
    r, w = pipe
    assert ct.fionread(r) == 0
    os.write(w, b"x" * 1000)
    buf = array("i", [0])
    fcntl.ioctl(r, termios.FIONREAD, buf, True)
    assert ct.fionread(r) == buf[0] == 1000
    os.read(r, 300)
    with os.fdopen(os.dup(r), "rb", buffering=0) as f:
        assert ct.fionread(f) == 700
    a, b = socket.socketpair()
    with a, b:
        a.send(b"hello")
        assert ct.fionread(b) == 5


def test_fionread_kernel_errors(tmp_path: Path, pipe: tuple[int, int]) -> None:
    closed = os.dup(pipe[0])
    os.close(closed)
    with pytest.raises(OSError) as info:
        ct.fionread(closed)
    assert info.value.errno == errno.EBADF
    with open(tmp_path / "d", "wb") as f:  # a regular file answers FIONREAD too
        assert ct.fionread(f) == 0
    directory = os.open(tmp_path, os.O_RDONLY)
    try:
        with pytest.raises(OSError) as info:
            ct.fionread(directory)
    finally:
        os.close(directory)
    assert info.value.errno in (errno.ENOTTY, errno.EINVAL)


def test_struct_matches_the_compilers() -> None:
    """ctypes' own padding rules give the compiler's layout: every offset, size, the tail."""
    c = compared()["struct flock"]
    assert c.ctypes is not None and c.ctypes.problems == ()
    assert ctypes.sizeof(ct.flock) == c.layout.size
    assert [(f.offset, f.size) for f in c.ctypes.fields] == [
        (f.offset, f.size) for f in c.layout.fields
    ]


def test_a_wrong_ctypes_struct_is_caught() -> None:
    """A ctypes struct written off the 28-byte recipe (a short l_pid, packed) is flagged."""

    class Short(ctypes.Structure):
        _pack_ = 4
        _layout_ = "ms"  # what _pack_ has always meant; 3.14 warns when it is left implicit
        _fields_ = (
            ("l_type", ctypes.c_short),
            ("l_whence", ctypes.c_short),
            ("l_start", ctypes.c_int64),
            ("l_len", ctypes.c_int64),
            ("l_pid", ctypes.c_short),
        )

    lay = cfcntl.layout()["struct flock"]
    problems = ctypes_mirror(Short, lay.size, lay.fields).problems
    assert any(p.startswith("l_pid: 2 bytes") for p in problems)
    # Where the compiler also puts l_start at 4 (i386: 8-byte fields 4-aligned) the packed
    # struct is right there, and as big as the C struct; elsewhere both are caught.
    start = next(f for f in lay.fields if f.name == "l_start")
    assert any(p.startswith("l_start: 8 bytes at 4") for p in problems) == (start.offset != 4)
    wrong_size = ctypes.sizeof(Short) != lay.size
    assert any(p.endswith(f"the C struct is {lay.size}") for p in problems) == wrong_size
    assert wrong_size or start.offset == 4
