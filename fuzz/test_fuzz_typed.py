"""The typed API (cfcntl's fcntl commands, record locks and typed ioctls) against the
stdlib, call by call.

Each case calls one function with a descriptor of some kind (or none) and arguments at
C-type boundaries in some number type.  The invariant: a refused number type is
TypeError, a value outside its C type is OverflowError/ValueError, both naming the
argument; an absent command is NotImplementedError; anything else does what the stdlib's
``fcntl.fcntl``/``fcntl.ioctl`` does with the same ints on a twin set of descriptors:
the same answer or the same errno, and the same descriptor state afterwards.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import dataclasses
import fcntl as stdlib
import os
import random
import struct
import subprocess
import tempfile
import termios
from collections.abc import Callable
from typing import Any, ClassVar

from _harness import Batch, Case, Violation, describe, expect_raise, outcome, promised, run_batch
from _inputs import (
    KINDS,
    SAFE_PIDS,
    SAFE_SIGNALS,
    SHOWN,
    Fd,
    Number,
    any_fd,
    any_number,
    boundary_or,
    fits,
    hold_locks,
    number,
    scratch,
)

import cfcntl
from cfcntl import ioctls

F = stdlib


@dataclasses.dataclass
class Param:
    """An int parameter: its name, its C type in cfcntl, the values that mean something
    to it, and whether C-type boundaries may be tried (not for owners and signals)."""

    name: str
    ctype: str
    meaningful: tuple[int, ...]
    boundaries: bool = True

    def good(self, rng: random.Random) -> int:
        return rng.choice(self.meaningful)

    def any(self, rng: random.Random) -> int:
        return boundary_or(rng, *self.meaningful) if self.boundaries else self.good(rng)


def values(*meaningful: int) -> tuple[int, ...]:
    return meaningful


@dataclasses.dataclass
class Spec:
    """A typed function, its parameters after the descriptor, and the stdlib call that
    must give the same answer: ``oracle(fd, *ints)``, normalised like ``normal``."""

    name: str
    function: Callable[..., Any]
    params: tuple[Param, ...]
    oracle: Callable[..., Any]
    command: str | None = None
    kinds: tuple[str, ...] = KINDS
    normal: Callable[[Any], Any] = lambda result: result
    keywords: Callable[[random.Random], dict[str, Any]] = lambda rng: {}

    @property
    def query(self) -> bool:
        """A question that changes nothing (no argument, or getlk's; not a setter, whose
        answer is None): the stdlib asks the same descriptor afterwards, not its twin."""
        return self.normal is not _none and (not self.params or self.name == "getlk")


def _fcntl(command: str) -> Callable[..., Any]:
    code = getattr(stdlib, command, None) or cfcntl.require(command)

    def call(fd: int, *args: int) -> Any:
        return stdlib.fcntl(fd, code, *args)

    return call


def _none(result: Any) -> None:
    return None


def _dup_normal(result: int) -> tuple[str, int]:
    flags = stdlib.fcntl(result, stdlib.F_GETFD)
    os.close(result)
    return "a new descriptor", flags


def _struct_get(command: str, fmt: str, wrap: Callable[..., Any]) -> Callable[..., Any]:
    code = cfcntl.require(command)
    return lambda fd: wrap(*struct.unpack(fmt, stdlib.fcntl(fd, code, bytes(struct.calcsize(fmt)))))


def _struct_set(command: str, fmt: str) -> Callable[..., Any]:
    code = cfcntl.require(command)
    return lambda fd, *values: stdlib.fcntl(fd, code, struct.pack(fmt, *values)) and None


class _Flock(ctypes.Structure):
    """struct flock by ctypes' own alignment rules, not from cfcntl's layout."""

    _fields_: ClassVar = [
        ("l_type", ctypes.c_short),
        ("l_whence", ctypes.c_short),
        ("l_start", ctypes.c_int64),  # off_t: 64 bits in CPython builds on Linux
        ("l_len", ctypes.c_int64),
        ("l_pid", ctypes.c_int),
    ]


def _flock(type: int, whence: int, start: int, length: int) -> bytes:
    return bytes(_Flock(type, whence, start, length, 0))


def _getlk_oracle(
    fd: int, type: int, start: int, length: int, whence: int, *, ofd: bool = False
) -> Any:
    cmd = cfcntl.require("F_OFD_GETLK") if ofd else stdlib.F_GETLK
    answer = _Flock.from_buffer_copy(stdlib.fcntl(fd, cmd, _flock(type, whence, start, length)))
    if answer.l_type == stdlib.F_UNLCK:
        return None
    return (answer.l_type, answer.l_whence, answer.l_start, answer.l_len, answer.l_pid)


def _setlk_oracle(wait: bool) -> Callable[..., Any]:
    def call(
        fd: int, type: int, start: int, length: int, whence: int, *, ofd: bool = False
    ) -> None:
        if ofd:
            cmd = cfcntl.require("F_OFD_SETLKW" if wait else "F_OFD_SETLK")
        else:
            cmd = stdlib.F_SETLKW if wait else stdlib.F_SETLK
        stdlib.fcntl(fd, cmd, _flock(type, whence, start, length))

    return call


def _lock_normal(result: Any) -> Any:
    return None if result is None else tuple(result)


def _ofd(rng: random.Random) -> dict[str, Any]:
    return {"ofd": rng.random() < 0.5} if cfcntl.has("F_OFD_GETLK") else {}


LOCK_TYPES = values(
    stdlib.F_RDLCK, stdlib.F_WRLCK, stdlib.F_RDLCK, stdlib.F_WRLCK, stdlib.F_UNLCK, 3
)
OFFSETS = values(0, 5, 9, 10, 11, 99, 100, 105, 109, 110, 299, 300, 305, 309, 310, 999, 1000)
LENGTHS = values(0, 1, 10, 100, -5, -100)
WHENCES = values(os.SEEK_SET, os.SEEK_SET, os.SEEK_SET, os.SEEK_CUR, os.SEEK_END, 3)
LOCK_PARAMS = (
    Param("type", "short", LOCK_TYPES),
    Param("start", "off_t", OFFSETS),
    Param("length", "off_t", LENGTHS),
    Param("whence", "short", WHENCES),
)

FLAGS = values(0, os.O_NONBLOCK, os.O_APPEND, os.O_ASYNC, os.O_DIRECT, os.O_NOATIME, 0o7777777)
FILES = ("file", "dir", "memfd")


def _ioctl_get(request: int, code: str = "i") -> Callable[[int], int]:
    def call(fd: int) -> int:
        buffer = array.array(code, [0])
        stdlib.ioctl(fd, request, buffer)
        return buffer[0]

    return call


def _ioctl_set(request: int) -> Callable[[int, int], None]:
    return lambda fd, value: stdlib.ioctl(fd, request, array.array("i", [value])) and None


def _ioctl_plain(request: int, arg: int | None = None) -> Callable[[int], None]:
    return lambda fd: (
        (stdlib.ioctl(fd, request) if arg is None else stdlib.ioctl(fd, request, arg)) and None
    )


def _command(name: str, *params: Param, **options: Any) -> Spec:
    """The Spec of ``cfcntl.NAME`` for command F_NAME, against the stdlib's ``fcntl``
    with the same ints; a setter (a name starting "set" or "add", or notify) answers None."""
    command = f"F_{name.upper()}"
    if name.startswith(("set", "add")) or name == "notify":
        options.setdefault("normal", _none)
    if "oracle" not in options:
        options["oracle"] = _fcntl(command)
    return Spec(name, getattr(cfcntl, name), params, command=command, **options)


def _struct(name: str, fmt: str, *params: Param, **options: Any) -> Spec:
    """As :func:`_command`, for a command whose argument is a struct (``fmt``)."""
    command = f"F_{name.upper()}"
    if params:
        return _command(name, *params, oracle=_struct_set(command, fmt), **options)
    if len(fmt) == 1:  # one field: its value
        return _command(name, oracle=_struct_get(command, fmt, lambda v: v), **options)
    return _command(name, oracle=_struct_get(command, fmt, lambda *v: v), normal=tuple, **options)


def _lock(name: str, oracle: Callable[..., Any], **options: Any) -> Spec:
    return _command(name, *LOCK_PARAMS, oracle=oracle, keywords=_ofd, **options)


SPECS: list[Spec] = [
    _command("dupfd", Param("minfd", "int", values(0, 3, 100, 1000)), normal=_dup_normal),
    _command("dupfd_cloexec", Param("minfd", "int", values(0, 50)), normal=_dup_normal),
    _command("getfd"),
    _command("setfd", Param("flags", "int", values(0, 1, 3))),
    _command("getfl"),
    _command("setfl", Param("flags", "int", FLAGS)),
    _command("getown"),
    _command("setown", Param("pid", "pid_t", SAFE_PIDS, boundaries=False)),
    _struct("getown_ex", "ii"),
    _struct(
        "setown_ex",
        "Ii",  # the type is an enum: unsigned int
        Param("type", "unsigned int", values(0, 1, 2, 3)),
        Param("pid", "pid_t", SAFE_PIDS, boundaries=False),
    ),
    _command("getsig"),
    _command("setsig", Param("sig", "int", SAFE_SIGNALS, boundaries=False)),
    _command("getlease", kinds=FILES),
    _command("setlease", Param("type", "int", values(0, 1, 2)), kinds=FILES),
    _command(
        "notify",
        Param("events", "unsigned int", values(0x80000000 | 0x3F, 1, 0x3F)),
        kinds=("dir", "file"),
    ),
    _command("getpipe_sz"),
    _command(
        "setpipe_sz",
        Param("size", "int", values(0, 4096, 65536, 1 << 20, 1 << 24)),
        kinds=("pipe_r", "pipe_w", "file"),
        normal=lambda size: size,  # the capacity chosen
    ),
    _command("add_seals", Param("seals", "int", values(1, 2, 4, 8, 16, 0x1F)), kinds=FILES),
    _command("get_seals", kinds=FILES),
    _struct("get_rw_hint", "Q", kinds=FILES),
    _struct(
        "set_rw_hint", "Q", Param("hint", "uint64_t", values(0, 1, 2, 3, 4, 5, 6)), kinds=FILES
    ),
    _struct("get_file_rw_hint", "Q", kinds=FILES),
    _struct("set_file_rw_hint", "Q", Param("hint", "uint64_t", values(0, 2)), kinds=FILES),
    _command("created_query", oracle=lambda fd: None),
    _lock("getlk", _getlk_oracle, kinds=("held",), normal=_lock_normal),
    _lock("setlk", _setlk_oracle(False), kinds=("file", "dir", "pipe_r", "memfd")),
    _lock("setlkw", _setlk_oracle(True), kinds=("file", "memfd", "pipe_r")),
]
if cfcntl.has("F_CREATED_QUERY"):
    SPECS = [
        dataclasses.replace(s, oracle=_fcntl("F_CREATED_QUERY"), normal=bool)
        if s.name == "created_query"
        else s
        for s in SPECS
    ]

_IOCTL_SPECS = {
    "get": (
        "fionread FIONREAD", "tiocoutq TIOCOUTQ", "tiocgpgrp TIOCGPGRP", "tiocgsid TIOCGSID",
        "tiocgptn TIOCGPTN", "tiocgetd TIOCGETD", "fs_getflags FS_IOC_GETFLAGS",
        "fs_getversion FS_IOC_GETVERSION", "blksszget BLKSSZGET",
    ),
    "set": ("fionbio FIONBIO", "fioasync FIOASYNC", "tiocsptlck TIOCSPTLCK"),
    "plain": (
        "fioclex FIOCLEX", "fionclex FIONCLEX", "tiocexcl TIOCEXCL", "tiocnxcl TIOCNXCL",
        "tiocnotty TIOCNOTTY",
    ),
}  # fmt: skip


def _ioctl_spec(kind: str, name: str, request: str) -> Spec:
    """The Spec of a typed ioctl helper: a getter, a setter of an int, or plain."""
    code = cfcntl.require(request)
    function = getattr(ioctls, name)
    if kind == "get":
        return Spec(
            name, function, (), _ioctl_get(code, "I" if name == "tiocgptn" else "i"), request
        )
    if kind == "set":
        param = Param("lock" if name == "tiocsptlck" else "on", "int", values(0, 1, 2))
        return Spec(name, function, (param,), _ioctl_set(code), request, normal=_none)
    return Spec(name, function, (), _ioctl_plain(code), request, normal=_none)


SPECS += [
    _ioctl_spec(kind, name, request)
    for kind, pairs in _IOCTL_SPECS.items()
    for name, request in (pair.split() for pair in pairs)
    if cfcntl.has(request)
]
SPECS += [
    Spec(
        "tiocsctty",
        ioctls.tiocsctty,
        (),
        _ioctl_plain(termios.TIOCSCTTY, 0),
        "TIOCSCTTY",
        normal=_none,
    ),
    Spec(
        "tiocspgrp",
        ioctls.tiocspgrp,
        (Param("pgrp", "pid_t", SAFE_PIDS, boundaries=False),),
        _ioctl_set(termios.TIOCSPGRP),
        "TIOCSPGRP",
        normal=_none,
    ),
    Spec(
        "fs_setflags",
        ioctls.fs_setflags,
        # never FS_IMMUTABLE_FL or FS_APPEND_FL: a crash would leave files no one can delete
        (Param("flags", "int", values(0, 0x80, 0x1000, 0x7FFFFFCF, -49), boundaries=False),),
        _ioctl_set(cfcntl.FS_IOC_SETFLAGS),
        "FS_IOC_SETFLAGS",
        kinds=("file", "memfd", "dir"),
        normal=_none,
    ),
    Spec(
        "blkgetsize64",
        ioctls.blkgetsize64,
        (),
        _ioctl_get(cfcntl.BLKGETSIZE64, "Q"),
        "BLKGETSIZE64",
    ),
    Spec(
        "get_winsize",
        ioctls.get_winsize,
        (),
        lambda fd: struct.unpack("4H", stdlib.ioctl(fd, termios.TIOCGWINSZ, bytes(8))),
        "TIOCGWINSZ",
        normal=tuple,
    ),
    Spec(
        "set_winsize",
        lambda fd, *v: ioctls.set_winsize(fd, ioctls.Winsize(*v)),
        tuple(
            Param(name, "unsigned short", values(0, 24, 80, 65535))
            for name in ("rows", "cols", "xpixel", "ypixel")
        ),
        lambda fd, *v: stdlib.ioctl(fd, termios.TIOCSWINSZ, struct.pack("4H", *v)) and None,
        "TIOCSWINSZ",
        normal=_none,
    ),
    Spec(
        "ficlonerange",
        lambda fd, *v: ioctls.ficlonerange(fd, fd, *v),  # within one file
        tuple(
            Param(name, "uint64_t", values(0, 4096))
            for name in ("src_offset", "length", "dst_offset")
        ),
        lambda fd, *v: stdlib.ioctl(fd, cfcntl.FICLONERANGE, struct.pack("qQQQ", fd, *v)) and None,
        "FICLONERANGE",
        kinds=("file", "memfd", "pipe_r"),
        normal=_none,
    ),
]
WEIGHTED = [
    spec for spec in SPECS for _ in range({"getlk": 6, "setlk": 3, "setlkw": 2}.get(spec.name, 1))
]
"""The record locks have the most arguments to get right: they get more cases."""


def state(fds: dict[str, int]) -> dict[str, Any]:
    """What the stdlib reads back about each descriptor, errors as their errno."""

    def fcntl(fd: int, cmd: int) -> Any:
        try:
            return stdlib.fcntl(fd, cmd)
        except OSError as exc:
            return f"errno {exc.errno}"

    def ioctl(fd: int, request: int, size: int) -> Any:
        try:
            return stdlib.ioctl(fd, request, bytes(size))
        except OSError as exc:
            return f"errno {exc.errno}"

    seen = {}
    for kind, fd in fds.items():
        lease = fcntl(fd, stdlib.F_GETLEASE)
        seen[kind] = (
            *(fcntl(fd, cmd) for cmd in (F.F_GETFL, F.F_GETFD, F.F_GETOWN, F.F_GETSIG)),
            lease,
            fcntl(fd, stdlib.F_GETPIPE_SZ),
            fcntl(fd, stdlib.F_GET_SEALS),
            ioctl(fd, termios.TIOCGWINSZ, 8),
            ioctl(fd, 0x80045439, 4),  # TIOCGPTLCK
            ioctl(fd, cfcntl.FS_IOC_GETFLAGS, 4),
            _locks(fd) if kind in ("file", "memfd", "held") and lease == stdlib.F_UNLCK else None,
        )
    return seen


def _locks(fd: int) -> Any:
    """The first lock on the file that a new open file description's whole-file write
    lock would meet (an OFD query sees this process's POSIX locks too)."""
    other = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        return _getlk_oracle(other, stdlib.F_WRLCK, 0, 0, 0, ofd=True)
    finally:
        os.close(other)


# -- the lock holder ------------------------------------------------------------------


@dataclasses.dataclass
class Context:
    workdir: str
    held: str
    holder: subprocess.Popen[bytes]


def setup() -> Context:
    """A file another process holds a write lock on (0+10) and a read lock on (100+10),
    and this one an OFD write lock on 300+10 through a description of its own."""
    workdir = tempfile.mkdtemp(dir=".")
    held = os.path.join(workdir, "held")
    holder = hold_locks(held)
    if cfcntl.has("F_OFD_SETLK"):
        own = os.open(held, os.O_RDWR)
        stdlib.fcntl(own, cfcntl.require("F_OFD_SETLK"), _flock(stdlib.F_WRLCK, 0, 300, 10))
    return Context(workdir, held, holder)


@contextlib.contextmanager
def twin(ctx: Context) -> Any:
    with scratch(ctx.workdir) as fds:
        fds["held"] = os.open(ctx.held, os.O_RDWR)
        try:
            yield fds
        finally:
            os.close(fds["held"])


# -- the case -----------------------------------------------------------------------


Problem = tuple[tuple[type[BaseException], ...], str, str, tuple[str, ...]]
"""(the exceptions it calls for, its category, which argument, the names to name)."""


def _argument_problems(fd: Fd, numbers: list[tuple[Param, Number]]) -> list[Problem]:
    """What is wrong with the arguments, by themselves."""
    problems: list[Problem] = []
    expected = fd.expect
    if expected:
        problems.append((expected[0], "a bad descriptor", expected[1], ()))
    for param, num in numbers:
        if num.refused:
            problems.append(
                ((TypeError,), f"{SHOWN[num.form]} taken as an int", param.name, (param.name,))
            )
        elif not fits(num.value, param.ctype):
            problems.append(
                (
                    (OverflowError, ValueError),
                    "a value beyond its C type",
                    f"{param.name} beyond {param.ctype}",
                    (param.name,),
                )
            )
    return problems


def _arguments(rng: random.Random, spec: Spec) -> tuple[list[tuple[Param, Number]], Fd]:
    """Half the cases all good arguments; else one argument at fault; sometimes all random."""
    roll = rng.random()
    if roll < 0.15:
        return [(p, any_number(rng, p.any(rng))) for p in spec.params], any_fd(rng, spec.kinds)
    good = [
        (
            p,
            number(
                p.good(rng), rng.choice(("int", "int", "int", "int", "intsub", "bool", "index"))
            ),
        )
        for p in spec.params
    ]
    fd = Fd(rng.choice(spec.kinds), rng.choice(("int", "int", "int", "fileno")))
    if roll < 0.6 or not spec.params:
        return good, fd if roll < 0.6 or rng.random() < 0.5 else any_fd(rng, spec.kinds)
    at = rng.randrange(len(good))
    param = good[at][0]
    good[at] = (param, any_number(rng, param.any(rng), refuse=0.5))
    return good, fd


def make(rng: random.Random, index: int, ctx: Context) -> Case:
    spec = SPECS[index % len(SPECS)] if index < 2 * len(SPECS) else rng.choice(WEIGHTED)
    numbers, fd = _arguments(rng, spec)
    keywords = spec.keywords(rng)
    shown = [
        str(fd),
        *(repr(n.obj) for _, n in numbers),
        *(f"{k}={v!r}" for k, v in keywords.items()),
    ]
    text = f"{spec.name}({', '.join(shown)})"

    def run() -> None:
        check(spec, fd, numbers, keywords, ctx)

    return Case(text, run)


def check(
    spec: Spec, fd: Fd, numbers: list[tuple[Param, Number]], keywords: dict[str, Any], ctx: Context
) -> None:
    problems = _argument_problems(fd, numbers)
    absent = spec.command is not None and not cfcntl.has(spec.command)
    with twin(ctx) as mine, twin(ctx) as theirs:
        got = outcome(
            lambda: spec.function(fd.resolve(mine), *(n.obj for _, n in numbers), **keywords)
        )
        if got[0] == "raise" and isinstance(got[1], TypeError):
            for param, num in numbers:
                if num.form == "index" and f" {param.name} " in f" {got[1]} ":
                    raise Violation("__index__ refused", describe(got[1]))
            if fd.form == "index":
                return  # the stdlib refuses an __index__ descriptor too: either is right
        if absent or problems:
            types = sum((p[0] for p in problems), (NotImplementedError,) if absent else ())
            names = sum((p[3] for p in problems), ()) if all(p[3] for p in problems) else ()
            category = " and ".join(sorted({p[1] for p in problems})) or "an absent command"
            detail = f"{spec.name}: " + ", ".join(p[2] for p in problems)
            expect_raise(got, types, category, detail, names)
            return
        target = fd.number(mine if spec.query else theirs)
        expected = outcome(lambda: spec.oracle(target, *(n.value for _, n in numbers), **keywords))
        compare(spec, got, expected)
        mine_state, theirs_state = state(mine), state(theirs)
        if mine_state != theirs_state:
            diff = {
                k: (mine_state[k], theirs_state[k])
                for k in mine_state
                if mine_state[k] != theirs_state[k]
            }
            raise Violation(f"{spec.name}: state afterwards differs from the stdlib's", repr(diff))


def compare(spec: Spec, got: tuple[str, Any], expected: tuple[str, Any]) -> None:
    """The same answer, or the same exception type and errno."""
    if got[0] == "raise":
        promised(got[1])
    mine = _normal(spec, got)
    theirs = _normal(spec, expected)
    if mine != theirs:
        raise Violation(
            f"{spec.name}: not the stdlib's outcome",
            f"cfcntl {_show(got)}, stdlib {_show(expected)}",
        )


def _normal(spec: Spec, got: tuple[str, Any]) -> Any:
    if got[0] == "raise":
        return type(got[1]).__name__, getattr(got[1], "errno", None)
    return "ok", spec.normal(got[1])


def _show(got: tuple[str, Any]) -> str:
    return describe(got[1]) if got[0] == "raise" else repr(got[1])


TYPED = Batch("typed", make, share=0.25, rate=1700, setup=setup)


def test_typed_api_against_the_stdlib() -> None:
    run_batch(__name__, TYPED)
