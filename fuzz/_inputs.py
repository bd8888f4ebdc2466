"""What the batches feed cfcntl: integers at every C-type boundary, numbers of every type,
and scratch descriptors of every kind (and none)."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import decimal
import fractions
import os
import random
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

# -- integers ------------------------------------------------------------------------


def _range(ctype: Any) -> tuple[int, int]:
    bits = 8 * ctypes.sizeof(ctype)
    if ctype(-1).value < 0:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


RANGES: dict[str, tuple[int, int]] = {
    "short": _range(ctypes.c_short),
    "unsigned short": _range(ctypes.c_ushort),
    "int": _range(ctypes.c_int),
    "unsigned int": _range(ctypes.c_uint),
    "long": _range(ctypes.c_long),
    "unsigned long": _range(ctypes.c_ulong),
    "off_t": _range(ctypes.c_int64),  # Python is built with 64-bit off_t on Linux
    "pid_t": _range(ctypes.c_int),
    "int64_t": _range(ctypes.c_int64),
    "uint64_t": _range(ctypes.c_uint64),
}
"""The C types of cfcntl's parameters, by their ranges (from ctypes, not from cfcntl)."""

BOUNDARIES: tuple[int, ...] = tuple(
    sorted(
        {0, 1, -1, 2, 10**30, -(10**30), 2**200}
        | {
            edge + delta
            for low, high in RANGES.values()
            for edge in (low, high)
            for delta in (-1, 0, 1)
        }
    )
)
"""Every C type's minimum and maximum, one either side of each, and a few more."""

INT_MIN, INT_MAX = RANGES["int"]


def fits(value: int, ctype: str) -> bool:
    low, high = RANGES[ctype]
    return low <= value <= high


def boundary_or(rng: random.Random, *meaningful: int) -> int:
    """Half the time a C-type boundary, else one of ``meaningful`` (or a small int)."""
    if rng.random() < 0.5 or not meaningful:
        return rng.choice(BOUNDARIES) if rng.random() < 0.8 else rng.randint(-70000, 70000)
    return rng.choice(meaningful)


# -- what may reach a real descriptor ------------------------------------------------

PID = os.getpid()
SAFE_PIDS = (0, PID, 4194305, 2**30, -4194305, -(2**30), *RANGES["int"], RANGES["int"][0] + 1)
"""Owners a fuzzed F_SETOWN may name: none, this process, ids no process can have
(beyond PID_MAX_LIMIT), and INT_MIN; never another process (SIGIO would reach it)."""
SAFE_SIGNALS = (0, 29, 10, 12, 23, 28, 65, 100, -1, *RANGES["int"])
"""F_SETSIG values: SIGIO, SIGUSR1/2, SIGURG, SIGWINCH (ignored by the children) and
invalid ones; never one that would kill the child."""


GETTERS = {
    # legacy numbers (no size bits) the kernel answers by writing through the pointer
    "TCGETS": 0x5401, "TCGETA": 0x5405, "TIOCGLCKTRMIOS": 0x5456, "TIOCGSOFTCAR": 0x5419,
    "TIOCMGET": 0x5415, "TIOCGSERIAL": 0x541E, "TIOCGICOUNT": 0x545D, "TIOCSERGETLSR": 0x5459,
    "FIOQSIZE": 0x5460, "FIGETBSZ": 2, "SIOCGPGRP": 0x8904, "SIOCATMARK": 0x8905,
    "SIOCGSTAMP_OLD": 0x8906, "SIOCOUTQNSD": 0x894B, "FIONREAD": 0x541B, "TIOCOUTQ": 0x5411,
    "TIOCGPGRP": 0x540F, "TIOCGSID": 0x5429, "TIOCGETD": 0x5424, "TIOCGWINSZ": 0x5413,
    "BLKSSZGET": 0x1268,
    # with size bits
    "TIOCGPTN": 0x80045430, "TIOCGPKT": 0x80045438, "TIOCGPTLCK": 0x80045439,
    "TIOCGEXCL": 0x80045440, "TIOCGDEV": 0x80045432, "TCGETS2": 0x802C542A,
    "FS_IOC_GETFLAGS": 0x80086601, "FS_IOC_GETVERSION": 0x80087601,
    "FS_IOC_FSGETXATTR": 0x801C581F, "BLKGETSIZE64": 0x80081272,
}  # fmt: skip
"""Requests that only report (numbers from the asm-generic headers: inputs, not
checked here; the ioc batch checks cfcntl's constants against the compiler)."""
SETTERS = {
    "TIOCSWINSZ": 0x5414, "FIONBIO": 0x5421, "FIOASYNC": 0x5452, "TIOCSPTLCK": 0x40045431,
    "TIOCPKT": 0x5420, "TIOCSPGRP": 0x5410, "FIOCLEX": 0x5451, "FIONCLEX": 0x5450,
    "TIOCEXCL": 0x540C, "TIOCNXCL": 0x540D, "TIOCNOTTY": 0x5422,
}  # fmt: skip
"""Requests that change only the descriptor or the pty they are issued on."""
HARMLESS = {**GETTERS, **SETTERS}
BY_VALUE = {"TIOCSCTTY": 0x540E, "FICLONE": 0x40049409, "TIOCSBRK": 0x5427, "TCSBRK": 0x5409}
"""Requests that take an int by value, or nothing: a pointer is not their argument."""


# -- number types --------------------------------------------------------------------


class IntSub(int):
    """An int subclass: an int."""

    def __repr__(self) -> str:
        return f"IntSub({int(self)})"


class _Wraps:
    """An object standing for an int it is not."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value})"


class Index(_Wraps):
    """Not an int, but with __index__: taken as the int, as the stdlib does."""

    def __index__(self) -> int:
        return self.value


class IntOnly(_Wraps):
    """Only __int__ (as Decimal and Fraction have): refused, as the stdlib does."""

    def __int__(self) -> int:
        return self.value


ACCEPTED = ("int", "int", "int", "intsub", "bool", "index")
"""Forms that must be taken as the int they stand for (int weighted up)."""
REFUSED = ("float", "decimal", "decimal_whole", "fraction", "int_only", "str", "none")
"""Forms that must be TypeError: each of them truncates to the int it stands for."""


SHOWN = {
    "float": "a float",
    "decimal": "a Decimal",
    "decimal_whole": "a Decimal",
    "fraction": "a Fraction",
    "int_only": "an object with only __int__",
    "str": "a str",
    "none": "None",
}
"""How a violation names a refused form."""


@dataclasses.dataclass
class Number:
    """An argument: the int it stands for and the object passed."""

    value: int
    form: str
    obj: Any

    @property
    def refused(self) -> bool:
        return self.form in REFUSED


def number(value: int, form: str) -> Number:
    """``value`` in ``form``; a fractional form truncates (towards zero) to ``value``."""
    sign = -1 if value < 0 else 1
    if form == "bool" and value not in (0, 1):
        form = "int"
    obj: Any = {
        "int": lambda: value,
        "intsub": lambda: IntSub(value),
        "bool": lambda: bool(value),
        "index": lambda: Index(value),
        "float": lambda: float(value) + sign * 0.5 if abs(value) < 2**50 else float(value),
        "decimal": lambda: decimal.Decimal(value) + sign * decimal.Decimal("0.9"),
        "decimal_whole": lambda: decimal.Decimal(value),
        "fraction": lambda: fractions.Fraction(10 * value + sign * 9, 10),
        "int_only": lambda: IntOnly(value),
        "str": lambda: str(value),
        "none": lambda: None,
    }[form]()
    return Number(value, form, obj)


def any_number(rng: random.Random, value: int, refuse: float = 0.25) -> Number:
    return number(value, rng.choice(REFUSED if rng.random() < refuse else ACCEPTED))


# -- descriptors ---------------------------------------------------------------------

KINDS = ("file", "dir", "pipe_r", "pipe_w", "socket", "pty_master", "pty_slave", "memfd")
CLOSED = 9999
"""A descriptor number nothing here opens (checked)."""


class FilenoObject:
    def __init__(self, value: Any) -> None:
        self.value = value

    def fileno(self) -> Any:
        return self.value

    def __repr__(self) -> str:
        return f"FilenoObject({self.value!r})"


@dataclasses.dataclass
class Fd:
    """A descriptor argument: ``kind`` is a scratch kind (resolved per scratch set),
    "closed", or "literal" (``literal`` passed as it is)."""

    kind: str
    form: str = "int"
    literal: Any = None

    def resolve(self, fds: dict[str, int]) -> Any:
        if self.kind == "literal":
            return self.literal
        fd = fds.get(self.kind, CLOSED)
        if self.form == "fileno":
            return FilenoObject(fd)
        return number(fd, self.form).obj

    def number(self, fds: dict[str, int]) -> Any:
        """The descriptor number this argument stands for (a literal as it is)."""
        if self.kind == "literal":
            return self.literal
        return fds.get(self.kind, CLOSED)

    @property
    def expect(self) -> tuple[tuple[type[BaseException], ...], str] | None:
        """The exception this argument alone must raise, or None if it is a descriptor
        (an Index may be taken or refused: the stdlib refuses it, no promise says which)."""
        if self.kind == "literal":
            value = self.literal
            if isinstance(value, int):
                if value < 0:
                    return (ValueError,), "negative descriptor"
                if value > INT_MAX:
                    return (OverflowError, ValueError), "descriptor beyond C int"
                return None
            return (TypeError,), f"descriptor {type(value).__name__}"
        if self.form in REFUSED:
            return (TypeError,), f"descriptor as {self.form}"
        return None

    def __str__(self) -> str:
        if self.kind == "literal":
            return repr(self.literal)
        return self.kind if self.form == "int" else f"{self.kind}:{self.form}"


LITERAL_FDS: tuple[Any, ...] = (
    -1,
    -2,
    INT_MIN,
    INT_MIN - 1,
    INT_MAX,
    INT_MAX + 1,
    2**32,
    2**64,
    -(2**64),
    None,
    "0",
    1.0,
    b"\0",
)


def any_fd(rng: random.Random, kinds: tuple[str, ...] = KINDS) -> Fd:
    roll = rng.random()
    if roll < 0.1:
        return Fd("literal", literal=rng.choice(LITERAL_FDS))
    if roll < 0.15:
        return Fd("closed")
    kind = rng.choice(kinds)
    if roll < 0.25:
        return Fd(kind, "fileno")
    if roll < 0.4:
        return Fd(kind, rng.choice((*REFUSED[:5], "index", "intsub")))
    return Fd(kind)


@contextlib.contextmanager
def scratch(workdir: str) -> Iterator[dict[str, int]]:
    """Fresh descriptors of every kind: a 100-byte file, a directory, a pipe with 5 bytes
    waiting, a socket with 3, a pty pair, a sealable memfd.  All closed afterwards."""
    opened: list[int] = []
    try:
        fds: dict[str, int] = {}
        fd, _ = tempfile.mkstemp(dir=workdir)
        opened.append(fd)
        os.write(fd, b"x" * 100)
        os.lseek(fd, 0, os.SEEK_SET)
        fds["file"] = fd
        fds["dir"] = os.open(tempfile.mkdtemp(dir=workdir), os.O_RDONLY | os.O_DIRECTORY)
        opened.append(fds["dir"])
        fds["pipe_r"], fds["pipe_w"] = os.pipe()
        opened += [fds["pipe_r"], fds["pipe_w"]]
        os.write(fds["pipe_w"], b"hello")
        left, right = socket.socketpair()
        fds["socket"] = left.detach()
        opened.append(fds["socket"])
        right.send(b"abc")
        right.close()
        fds["pty_master"], fds["pty_slave"] = os.openpty()
        opened += [fds["pty_master"], fds["pty_slave"]]
        fds["memfd"] = os.memfd_create("cfcntl-fuzz", os.MFD_ALLOW_SEALING)
        opened.append(fds["memfd"])
        assert CLOSED not in opened
        yield fds
    finally:
        for fd in opened:
            os.close(fd)


HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 10, 100)
os.write(1, b"ready")
os.read(0, 1)
"""


def hold_locks(path: str) -> subprocess.Popen[bytes]:
    """Another process, holding a write lock on bytes 0+10 and a read lock on 100+10 of
    ``path`` (made 1000 bytes long), until its stdin closes (as when this one exits)."""
    with open(path, "wb") as f:
        f.write(b"x" * 1000)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert holder.stdout is not None and holder.stdout.read(5) == b"ready"
    return holder
