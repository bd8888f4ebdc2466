"""cfcntl.compat against the stdlib fcntl module, call by call.

Each case makes one random call (``fcntl``, ``ioctl``, ``flock``, ``lockf``, with
arguments of every type, sometimes too many or by keyword, or the function used as a
class attribute) and runs it through both modules, each on its own fresh set of scratch
descriptors opened in the same order (so with the same numbers).  The invariant: the same
result, the same buffer afterwards, the same exception (type, errno and message).  Every
mutable buffer is a view into a larger one whose guard bytes either side must be intact
afterwards.

Random commands and requests go only to a closed descriptor; real descriptors get
commands and requests that are harmless whatever the argument, with owners and signals
that cannot reach another process.
"""

from __future__ import annotations

import array
import fcntl as stdlib
import gc
import os
import random
import struct
from collections.abc import Callable
from typing import Any

from _harness import Batch, Case, Violation, run_batch, short
from _inputs import (
    ACCEPTED,
    BOUNDARIES,
    CLOSED,
    HARMLESS,
    KINDS,
    SAFE_PIDS,
    SAFE_SIGNALS,
    any_number,
    number,
    scratch,
)

import cfcntl.compat as compat

F = stdlib
GUARD = 64
FILL = 0xC3

COMMANDS: dict[int, Callable[[random.Random], Any]] = {}
"""The commands real descriptors get, each with what its argument may be."""


def _ints(*meaningful: int) -> Callable[[random.Random], Any]:
    """An int-ish argument, never a str or bytes: the kernel would take the address of
    each module's own copy for the int, and the two addresses differ."""

    def draw(rng: random.Random) -> Any:
        value = rng.choice(meaningful + BOUNDARIES[::3])
        return number(value, rng.choice((*ACCEPTED, "float", "decimal", "none"))).obj

    return draw


def _safe(*values: int) -> Callable[[random.Random], Any]:
    return lambda rng: rng.choice(values)


def _flock_bytes(rng: random.Random) -> Any:
    fields = (
        rng.choice((0, 1, 2, 5)),
        rng.choice((0, 1, 2, 9)),
        rng.choice((0, 10, -1, 2**62)),
        rng.choice((0, 10, -5)),
        0,
    )
    data = struct.pack("hh4xqqi4x", *fields)
    return _shape(rng, data[: rng.choice((len(data), 28))])  # 28: "hhllhh"


def _at_least(rng: random.Random, size: int) -> Any:
    """Random bytes, no fewer than the kernel reads: the stdlib copies a shorter buffer
    into an uninitialised one, whose rest is whatever its stack held."""
    length = rng.choice((size, size, size + 3, 1024, 1025, 2000))
    return _shape(rng, bytes(rng.randrange(256) for _ in range(length)))


for _cmd in (
    F.F_GETFD,
    F.F_GETFL,
    F.F_GETOWN,
    F.F_GETSIG,
    F.F_GETLEASE,
    F.F_GETPIPE_SZ,
    F.F_GET_SEALS,
):
    COMMANDS[_cmd] = _ints(0)
COMMANDS.update({
    F.F_SETFD: _ints(0, 1), F.F_SETFL: _ints(0, os.O_NONBLOCK, os.O_APPEND, os.O_DIRECT),
    F.F_DUPFD: _ints(0, 10, 60), F.F_DUPFD_CLOEXEC: _ints(0, 60),
    F.F_SETOWN: _safe(*SAFE_PIDS), F.F_SETSIG: _safe(*SAFE_SIGNALS),
    F.F_SETLEASE: _ints(0, 1, 2), F.F_NOTIFY: _ints(1, 0x80000003),
    F.F_SETPIPE_SZ: _ints(4096, 1 << 20), F.F_ADD_SEALS: _ints(1, 2, 4, 8, 16),
    F.F_GETLK: _flock_bytes, F.F_SETLK: _flock_bytes, F.F_SETLKW: _flock_bytes,
    F.F_OFD_GETLK: _flock_bytes, F.F_OFD_SETLK: _flock_bytes, F.F_OFD_SETLKW: _flock_bytes,
})  # fmt: skip


def _shape(rng: random.Random, data: bytes) -> Any:
    """``data`` as bytes, str, bytearray, array, memoryview, read-only or strided view."""
    kind = rng.choice(
        ("bytes", "bytes", "bytearray", "array", "view", "readonly", "str", "strided")
    )
    if kind == "bytes":
        return data
    if kind == "str":
        return data.decode("latin-1")
    if kind == "readonly":
        return memoryview(data)
    if kind == "array":
        return array.array("b", data)
    if kind == "strided":
        return memoryview(bytearray(data * 2))[::2]
    return Guarded(data, kind == "view")


class Guarded:
    """A mutable buffer argument: a bytearray (guarded by the debug allocator), or a view
    into the middle of a larger one whose guard bytes the harness checks."""

    def __init__(self, data: bytes, view: bool) -> None:
        self.data, self.view = data, view

    def make(self) -> tuple[Any, bytearray, int]:
        """(the argument, the bytearray it lives in, the guard bytes either side)."""
        if not self.view:
            plain = bytearray(self.data)
            return plain, plain, 0
        outer = bytearray([FILL]) * GUARD + bytearray(self.data) + bytearray([FILL]) * GUARD
        return memoryview(outer)[GUARD : GUARD + len(self.data)], outer, GUARD

    def __repr__(self) -> str:
        return f"{'view' if self.view else 'buffer'}({bytes(self.data)!r})"


REQUESTS = {
    name: request for name, request in HARMLESS.items()
    if name not in ("TIOCGPTN", "TIOCGDEV", "FS_IOC_GETVERSION")
}  # fmt: skip
"""The harmless requests, but those whose answer differs between two fresh sets of
descriptors (the pty's number and device, the inode's generation)."""
READS = {
    "TIOCSWINSZ": 8,
    "FIONBIO": 4,
    "FIOASYNC": 4,
    "TIOCSPTLCK": 4,
    "TIOCPKT": 4,
    "TIOCSPGRP": 4,
}
"""How many bytes of the argument each harmless setter reads."""


def _length(argument: Any) -> int:
    """How many bytes a buffer argument gives the kernel (an int: all it needs)."""
    if isinstance(argument, Guarded):
        return len(argument.data)
    if isinstance(argument, (bytes, str, memoryview, array.array)):
        return memoryview(
            argument.encode("latin-1") if isinstance(argument, str) else argument
        ).nbytes
    return 1 << 30


def _argument(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.35:
        return any_number(rng, rng.choice((*BOUNDARIES, 0, 1, 4, 100))).obj
    if roll < 0.9:
        size = rng.choice((0, 1, 2, 4, 8, 32, 36, 60, 1023, 1024, 1025, 2000))
        return _shape(rng, bytes(rng.randrange(256) for _ in range(size)))
    return rng.choice((None, 1.5, [1], (), object()))


LOCKS = frozenset((F.F_GETLK, F.F_SETLK, F.F_SETLKW, F.F_OFD_GETLK, F.F_OFD_SETLK, F.F_OFD_SETLKW))
"""The record-lock commands: what they answer depends on the locks other processes hold."""


def _call(rng: random.Random) -> tuple[str, Any, tuple[Any, ...], dict[str, Any]]:
    """(function, descriptor kind, the arguments after the descriptor, keywords)."""
    name = rng.choice(("fcntl", "fcntl", "ioctl", "ioctl", "flock", "lockf"))
    real = rng.random() < 0.8
    fd: Any = rng.choice(KINDS) if real else rng.choice(("closed", "closed", -1, 2**31, None, "x"))
    if name == "fcntl":
        if real:
            cmd = rng.choice(sorted(COMMANDS))
            args: tuple[Any, ...] = (cmd,) if rng.random() < 0.2 else (cmd, COMMANDS[cmd](rng))
        else:
            cmd = any_number(
                rng, rng.choice(BOUNDARIES + tuple(range(0, 48)) + (1024, 1031)), 0.2
            ).obj
            args = (cmd,) if rng.random() < 0.2 else (cmd, _argument(rng))
    elif name == "ioctl":
        if real:
            chosen = rng.choice(sorted(REQUESTS))
            request: Any = REQUESTS[chosen]
            reads = READS.get(chosen)
            argument = _at_least(rng, reads) if reads and rng.random() < 0.7 else _argument(rng)
            if reads and _length(argument) < reads:
                argument = 0  # a short buffer: see _at_least
        else:
            request = any_number(rng, rng.choice((*BOUNDARIES, rng.randrange(1 << 32))), 0.2).obj
            argument = _argument(rng)
        args = (request,) if rng.random() < 0.15 else (request, argument)
        if len(args) == 2 and rng.random() < 0.4:
            args += (rng.choice((True, False, 0, 1, "", None)),)
    elif name == "flock":
        ops = (F.LOCK_SH, F.LOCK_EX, F.LOCK_UN, F.LOCK_SH | F.LOCK_NB, F.LOCK_EX | F.LOCK_NB, 0, 3)
        args = (any_number(rng, rng.choice(ops + BOUNDARIES[::4]), 0.2).obj,)
    else:
        cmds = (
            F.LOCK_UN,
            F.LOCK_SH,
            F.LOCK_EX,
            F.LOCK_SH | F.LOCK_NB,
            F.LOCK_EX | F.LOCK_NB,
            0,
            F.LOCK_NB,
        )
        args = (any_number(rng, rng.choice(cmds), 0.1).obj,)
        for _ in range(rng.randrange(4)):
            args += (any_number(rng, rng.choice((0, 10, 100, -1, 2, *BOUNDARIES[::3])), 0.2).obj,)
    locking = name in ("flock", "lockf") or (name == "fcntl" and real and args[0] in LOCKS)
    if fd == "pty_master" and locking:
        # Every pty master is the one inode of /dev/ptmx, shared by every process on the
        # machine: a lock taken there by a parallel job (or anyone) changes the answer
        # between compat's call and the stdlib's, and a waiting lock could block for good.
        fd = rng.choice([kind for kind in KINDS if kind != "pty_master"])
    keywords: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.03:
        args += (0,) * (5 - len(args))  # one more than any function takes
    elif roll < 0.06:
        keywords = {"fd": 0}
    return name, fd, args, keywords


def make(rng: random.Random, index: int, ctx: Any) -> Case:
    if rng.random() < 0.02:
        name = rng.choice(("fcntl", "ioctl", "flock", "lockf"))
        return Case(f"class C: f = {name}; C().f", lambda: _as_attribute(name))
    name, fd, args, keywords = _call(rng)
    shown = ", ".join(
        [str(fd), *(short(a) for a in args), *(f"{k}={v!r}" for k, v in keywords.items())]
    )
    return Case(f"{name}({shown})", lambda: check(name, fd, args, keywords))


def _as_attribute(name: str) -> None:
    """A builtin neither binds nor changes identity as a class attribute."""
    theirs, mine = getattr(stdlib, name), getattr(compat, name)
    got = (type("C", (), {"f": theirs})().f is theirs, type("C", (), {"f": mine})().f is mine)
    if got[0] != got[1]:
        raise Violation(
            "compat: binds as a method, the stdlib's builtin does not",
            f"{name}: C().f is f: stdlib {got[0]}, compat {got[1]}",
        )


def run_one(
    module: Any, name: str, fd: Any, args: tuple[Any, ...], keywords: dict[str, Any]
) -> dict[str, Any]:
    """What ``module.name(fd, *args, **keywords)`` does on fresh scratch descriptors."""
    with scratch(".") as fds:
        guards: list[tuple[bytearray, int]] = []
        passed = []
        for arg in args:
            if isinstance(arg, Guarded):
                inner, outer, guard = arg.make()
                guards.append((outer, guard))
                passed.append(inner)
            else:
                passed.append(arg)
        number = fds.get(fd, CLOSED) if isinstance(fd, str) and fd in (*KINDS, "closed") else fd
        try:
            result: Any = getattr(module, name)(number, *passed, **keywords)
            error = None
        except Exception as exc:
            result = None
            error = (type(exc).__name__, getattr(exc, "errno", None), str(exc))
        if (
            name == "fcntl"
            and isinstance(result, int)
            and passed
            and passed[0] in (F.F_DUPFD, F.F_DUPFD_CLOEXEC)
            and result > 2
        ):
            os.close(result)
        after = [bytes(outer[guard : len(outer) - guard]) for outer, guard in guards]
        intact = bytes([FILL]) * GUARD
        damaged = [
            i for i, (outer, guard) in enumerate(guards)
            if guard and (outer[:guard] != intact or outer[-guard:] != intact)
        ]  # fmt: skip
        return {
            "result": (type(result).__name__, result),
            "after": after,
            "error": error,
            "guards damaged": damaged,
        }


def check(name: str, fd: Any, args: tuple[Any, ...], keywords: dict[str, Any]) -> None:
    gc.disable()  # a collection between the runs could close a leaked file and shift numbers
    try:
        theirs = run_one(stdlib, name, fd, args, keywords)
        mine = run_one(compat, name, fd, args, keywords)
    finally:
        gc.enable()
    if mine["guards damaged"]:
        raise Violation(
            "compat wrote outside the buffer", f"guards of argument {mine['guards damaged']}"
        )
    if mine == theirs:
        return
    differ = sorted(k for k in mine if mine[k] != theirs[k])
    kind = f"compat: not the stdlib's {' and '.join(differ)}"
    if keywords or len(args) >= MOST[name]:
        kind += " (too many arguments, or keywords)"
    raise Violation(
        kind, "; ".join(f"{k}: compat {short(mine[k])}, stdlib {short(theirs[k])}" for k in differ)
    )


MOST = {"fcntl": 3, "ioctl": 4, "flock": 2, "lockf": 5}
"""How many positional arguments each function takes, the descriptor included."""

COMPAT = Batch("compat", make, share=0.2, rate=3000)


def test_compat_against_the_stdlib() -> None:
    run_batch(__name__, COMPAT)
