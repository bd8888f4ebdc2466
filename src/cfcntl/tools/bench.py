"""``python -m cfcntl bench``: every binding of the same syscalls, side by side, in one run.

Each operation (a group) has contenders: the stdlib path (``struct.pack`` + ``fcntl.fcntl``
with the compiler's exact format, the ratio reference, and the docs' 28-byte ``hhllhh``
recipe), cfcntl, cfcntl's C helper called bare through cffi (the crossing's own cost), the
ctypes binding, and the C floor (the same syscall in a C loop, in its own small cffi
module, ``cfcntl.tools._floor``).  A contender is one statement, timed by :mod:`timeit` in a
:class:`Scene` (real files, a pipe, a pseudo-terminal, a child process holding a lock), and
one check of its result, made once per run, so a fast wrong answer cannot pass.  The
contenders run interleaved, round by round, so that drift on a busy machine hits them all
alike; the table shows medians.  ``bench/`` runs the same table under pytest-benchmark.

Adding a contender is one line in :data:`CONTENDERS`; adding a target, one in
:data:`TARGETS`.
"""

from __future__ import annotations

import array
import fcntl
import json
import os
import platform
import socket
import statistics
import struct
import sys
import tempfile
import timeit
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from types import CodeType, TracebackType
from typing import Any, Literal, TextIO

from .. import _cfcntl, constants, ioctls
from ..locks import Flock
from . import struct_path
from .lockchild import LockChild


@dataclass(frozen=True)
class Contender:
    """One implementation of one operation."""

    group: str
    impl: str
    stmt: str
    """The timed call, in the scene's names (see :attr:`Scene.names`)."""
    check: str
    """An expression, true when ``result`` (what ``stmt`` gave) is the right answer."""
    setup: str = ""
    """Imports, run once, outside the timing."""
    floor: bool = False
    """``stmt`` is a C loop of ``n`` calls that returns its own nanoseconds per call."""
    recipe: bool = False
    """A hand-written recipe (the docs' 28-byte ``hhllhh`` format), there to show what
    it costs and whether it is right on this ABI: its wrong answer (or the kernel's
    refusal) is a finding the table shows, not a failure of the run."""


REFERENCE = "stdlib"
"""The implementation each ratio is taken against: the stdlib struct.pack + fcntl path."""
_STDLIB = "from fcntl import fcntl, ioctl; from struct import pack, unpack"


def _floor(group: str, call: str) -> Contender:
    """The C loop ``lib.<call>`` with ``n`` calls; it checks the kernel's answers itself."""
    return Contender(group, "floor", f"lib.{call}", "result > 0", _FLOOR, floor=True)


_FLOOR = "from cfcntl.tools._floor import lib"
_LIB = "from cfcntl._cfcntl import lib"
BARE = "cffi-bare"
"""cfcntl's C helper called straight through cffi, no Python function around it: how
close any cffi binding can get to the floor (the cost of the crossing itself)."""


def _lock_pair(group: str, impl: str, lock: str, unlock: str, setup: str) -> Contender:
    """A lock+unlock contender: the check takes the lock and sees it from another open
    file description, then drops it and sees it gone."""
    return Contender(group, impl, f"{lock}; {unlock}", f"held({lock}) and free({unlock})", setup)


# The pid fields to pack: one int in the exact format, two shorts in hhllhh.
_PID = {"FMT": "0", "FMT28": "0, 0"}


def _stdlib_lock(cmd: str, type: str, fmt: str) -> str:
    return f"fcntl(fd, {cmd}, pack({fmt}, {type}, SET, 0, 100, {_PID[fmt]}))"


def _lock_pairs(group: str, cmd: str, ofd: str, helper: str) -> list[Contender]:
    def call(type: str) -> str:
        return f"setlk(fd, {type}, 0, 100{ofd})"

    def bare(type: str) -> str:
        return f"lib.{helper}(fd, {type}, 0, 100, SET)"

    def stdlib(fmt: str) -> tuple[str, str]:
        return _stdlib_lock(cmd, "W", fmt), _stdlib_lock(cmd, "U", fmt)

    return [
        _lock_pair(group, "stdlib", *stdlib("FMT"), _STDLIB),
        replace(_lock_pair(group, "stdlib-28", *stdlib("FMT28"), _STDLIB), recipe=True),
        _lock_pair(group, "cfcntl", call("W"), call("U"), "from cfcntl import setlk"),
        _lock_pair(group, BARE, bare("W"), bare("U"), _LIB),
        _lock_pair(
            group, "ctypes", call("W"), call("U"), "from cfcntl.tools.ctypes_binding import setlk"
        ),
        _floor(group, f"cf_floor_setlk(fd, {cmd}, W, 0, 100, n)"),
    ]


def _getlk(
    group: str, start: int, stdlib: str, stdlib28: str, typed: str, expect: str, found: int
) -> list[Contender]:
    def stdlib_call(fmt: str) -> str:
        query = f"pack({fmt}, W, SET, {start}, 100, {_PID[fmt]})"
        return f"unpack({fmt}, fcntl(fd, F_GETLK, {query}))"

    call = f"getlk(fd, W, {start}, 100)"
    return [
        Contender(group, "stdlib", stdlib_call("FMT"), stdlib, _STDLIB),
        Contender(group, "stdlib-28", stdlib_call("FMT28"), stdlib28, _STDLIB, recipe=True),
        Contender(group, "cfcntl", call, typed, "from cfcntl import getlk"),
        Contender(
            group,
            BARE,
            f"lib.cf_posix_getlk(fd, W, {start}, 100, SET, answer)",
            f"result == {found}",
            f"{_LIB}; from cfcntl._cfcntl import ffi; answer = ffi.new('int64_t[5]')",
        ),
        Contender(group, "ctypes", call, typed, "from cfcntl.tools.ctypes_binding import getlk"),
        _floor(group, f"cf_floor_getlk(fd, F_GETLK, W, {start}, 100, {expect}, n)"),
    ]


_BASE: tuple[Contender, ...] = (
    *_getlk("getlk-free", 0, "result[0] == U", "result[0] == U", "result is None", "U", 0),
    *_getlk(
        "getlk-conflict",
        100,
        "result == (W, SET, 100, 100, holder)",
        # hhllhh has room for 2 of l_pid's 4 bytes: the pid it reads is not checked.
        "result[:4] == (W, SET, 100, 100)",
        "result == (W, SET, 100, 100, holder)",
        "W",
        1,
    ),
    *_lock_pairs("setlk", "F_SETLK", "", "cf_posix_setlk"),
    *_lock_pairs("ofd-setlk", "F_OFD_SETLK", ", ofd=True", "cf_ofd_setlk"),
    Contender("getfl", "stdlib", "fcntl(fd, F_GETFL)", "result == flags", _STDLIB),
    Contender("getfl", "cfcntl", "getfl(fd)", "result == flags", "from cfcntl import getfl"),
    Contender("getfl", BARE, "lib.cf_getfl(fd)", "result == flags", _LIB),
    _floor("getfl", "cf_floor_getfl(fd, flags, n)"),
    Contender(
        "fionread",
        "stdlib",
        "ioctl(r, FIONREAD, count, True) or count[0]",
        "result == len(WAITING)",
        _STDLIB,
    ),
    Contender(
        "fionread",
        "ctypes",
        "fionread(r)",
        "result == len(WAITING)",
        "from cfcntl.tools.ctypes_binding import fionread",
    ),
    _floor("fionread", "cf_floor_fionread(r, len(WAITING), n)"),
    Contender(
        "fionread",
        "stdlib-new-array",
        "ioctl(r, FIONREAD, (a := array('i', [0])), True) or a[0]",
        "result == len(WAITING)",
        _STDLIB,
    ),
    Contender(
        "fionread",
        "cfcntl",
        "fionread(r)",
        "result == len(WAITING)",
        "from cfcntl.ioctls import fionread",
    ),
    Contender(
        "get_winsize",
        "stdlib",
        "unpack('HHHH', ioctl(master, TIOCGWINSZ, bytes(8)))",
        "result == WINSIZE",
        _STDLIB,
    ),
    Contender(
        "get_winsize",
        "cfcntl",
        "get_winsize(master)",
        "result == WINSIZE",
        "from cfcntl.ioctls import get_winsize",
    ),
    # issue 14, devices-a: one cheap getter per device family, against the hand-packed
    # stdlib path (a pty's output queue; the MTU of lo, read, never changed)
    Contender(
        "tiocoutq",
        "stdlib",
        "ioctl(master, TIOCOUTQ, count, True) or count[0]",
        "result == 0",
        _STDLIB,
    ),
    Contender(
        "tiocoutq",
        "cfcntl",
        "tiocoutq(master)",
        "result == 0",
        "from cfcntl.ioctls import tiocoutq",
    ),
    Contender(
        "if-mtu",
        "stdlib",
        "unpack_from('i', ioctl(sock, SIOCGIFMTU, IFREQ_LO), IFNAMSIZ)[0]",
        "result == LO_MTU",
        _STDLIB + "; from struct import unpack_from",
    ),
    Contender(
        "if-mtu",
        "cfcntl",
        "siocgifmtu(sock, 'lo')",
        "result == LO_MTU",
        "from cfcntl.ioctls import siocgifmtu",
    ),
    # FIGETBSZ on a regular file (issue 14, filesystems): the block size, an int the
    # kernel writes through a legacy _IO number with no size bits.
    Contender(
        "figetbsz",
        "stdlib",
        "ioctl(fd, FIGETBSZ, count, True) or count[0]",
        "result == BLOCK",
        _STDLIB,
    ),
    Contender(
        "figetbsz",
        "cfcntl",
        "figetbsz(fd)",
        "result == BLOCK",
        "from cfcntl.ioctls import figetbsz",
    ),
)

#: What compat and "checked" (issue 13: the stdlib statement through cfcntl check's
#: wrappers) put in place of the stdlib's fcntl and ioctl, after the reference's own setup.
_INSTEAD = {
    "compat": "from cfcntl.compat import fcntl, ioctl",
    "checked": "from cfcntl.tools.checker import wrappers; fcntl, ioctl = wrappers()",
}

_ORDER = (
    *(REFERENCE, "stdlib-28", "stdlib-new-array", "checked", "cfcntl", BARE),
    *("compat", "ctypes", "floor"),
)
_OPERATIONS = list(dict.fromkeys(c.group for c in _BASE))

#: Every contender, by operation.  The stdlib contender is each group's ratio reference;
#: compat and checked run the stdlib contender's very statement with their own fcntl and ioctl.
CONTENDERS: tuple[Contender, ...] = tuple(
    sorted(
        _BASE
        + tuple(
            replace(c, impl=impl, setup=f"{c.setup}; {instead}")
            for impl, instead in _INSTEAD.items()
            for c in _BASE
            if c.impl == REFERENCE
        ),
        key=lambda c: (_OPERATIONS.index(c.group), _ORDER.index(c.impl)),
    )
)

GROUPS: tuple[str, ...] = tuple(dict.fromkeys(c.group for c in CONTENDERS))
"""The operations, in table order."""


@dataclass(frozen=True)
class Target:
    """A speed target, as a ratio of medians in one run."""

    group: str
    impl: str
    kind: Literal["faster", "slower", "floor"]
    """faster: at least ``bound`` times faster than the stdlib; slower: at most ``bound``
    times slower; floor: at most ``bound`` times the C floor."""
    bound: float

    def describe(self) -> str:
        what = {
            "faster": "at least {:.1f}x faster than the stdlib",
            "slower": "no more than {:.1f}x slower than the stdlib",
            "floor": "within {:.1f}x of the C floor",
        }[self.kind]
        return f"{self.group} {self.impl} {what.format(self.bound)}"


#: The issue's targets for the contenders that exist.
TARGETS: tuple[Target, ...] = (
    Target("getlk-free", "cfcntl", "faster", 1.3),
    Target("getlk-free", "cfcntl", "floor", 2.0),
    Target("getlk-conflict", "cfcntl", "faster", 1.3),
    Target("getlk-conflict", "cfcntl", "floor", 2.0),
    Target("setlk", "cfcntl", "faster", 1.2),
    Target("getfl", "cfcntl", "slower", 1.3),
    Target("fionread", "cfcntl", "faster", 1.2),
    Target("get_winsize", "cfcntl", "faster", 1.2),
    *(Target(group, "compat", "slower", 1.5) for group in GROUPS),
)

WAITING = b"12345"
"""What waits in the scene's pipe, for FIONREAD."""
WINSIZE = (24, 80, 0, 0)
"""The scene's pseudo-terminal's window size (rows, columns, x and y pixels)."""


class CheckFailed(AssertionError):
    """A contender gave a wrong answer."""


class Scene:
    """The files, descriptors and processes the contenders run on; a context manager.

    ``fd`` is a file open for reading and writing, ``probe`` a second open file
    description of it (to see the locks taken through ``fd``), ``holder`` the pid of a
    child process holding a write lock on bytes 100..199, ``r`` a pipe with
    :data:`WAITING` in it, ``master`` a pseudo-terminal with window size :data:`WINSIZE`.
    """

    def __init__(self) -> None:
        self._stack = ExitStack()
        self.names: dict[str, Any] = {}

    def __enter__(self) -> Scene:
        try:
            self._build()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    def _open(self, *fds: int) -> None:
        for fd in fds:
            self._stack.callback(os.close, fd)

    def _build(self) -> None:
        wrlck = constants.F_WRLCK
        path = os.path.join(self._stack.enter_context(tempfile.TemporaryDirectory()), "locked")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        probe = os.open(path, os.O_RDWR)
        self._open(fd, probe)
        holder = self._stack.enter_context(LockChild(path, f"posix:{wrlck}:100:100"))
        r, w = os.pipe()
        self._open(r, w)
        os.write(w, WAITING)
        master, slave = os.openpty()
        self._open(master, slave)
        fcntl.ioctl(master, constants.TIOCSWINSZ, struct.pack("HHHH", *WINSIZE))
        sock = self._stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))

        def lock_seen(_: object) -> Flock | None:
            """The lock another open file description sees on bytes 0..99."""
            return struct_path.getlk(probe, wrlck, 0, 100, ofd=True)

        self.names = {
            "fd": fd,
            "probe": probe,
            "holder": holder.pid,
            "r": r,
            "master": master,
            "flags": fcntl.fcntl(fd, constants.F_GETFL),
            "count": array.array("i", [0]),
            "array": array.array,
            "n": 1000,
            "FMT": struct_path.FORMAT,
            "FMT28": "hhllhh",
            "W": wrlck,
            "U": constants.F_UNLCK,
            "SET": os.SEEK_SET,
            "WAITING": WAITING,
            "WINSIZE": WINSIZE,
            "BLOCK": os.fstatvfs(fd).f_bsize,  # figetbsz's answer
            # issue 14, devices-a: lo's MTU through an ifreq of the compiler's size
            "sock": sock.fileno(),
            "IFNAMSIZ": _cfcntl.lib.IFNAMSIZ,
            "IFREQ_LO": b"lo".ljust(_cfcntl.ffi.sizeof("struct ifreq"), b"\0"),
            "LO_MTU": int(Path("/sys/class/net/lo/mtu").read_text(encoding="ascii")),
            "SIOCGIFMTU": ioctls.REQUESTS["SIOCGIFMTU"],
            "TIOCOUTQ": ioctls.REQUESTS["TIOCOUTQ"],
            "held": lambda _: (lock_seen(_) or ())[:4] == (wrlck, os.SEEK_SET, 0, 100),
            "free": lambda _: lock_seen(_) is None,
            **{
                name: constants.require(name)
                for name in (
                    "F_GETLK",
                    "F_SETLK",
                    "F_OFD_SETLK",
                    "F_GETFL",
                    "FIONREAD",
                    "TIOCGWINSZ",
                    "FIGETBSZ",
                )
            },
        }

    def namespace(self, contender: Contender) -> dict[str, Any]:
        """The scene's names with the contender's imports."""
        names = dict(self.names)
        exec(contender.setup, names)
        return names

    def function(self, contender: Contender) -> Callable[[], object]:
        """The contender's statement as a function of no arguments, returning its value."""
        names = self.namespace(contender)
        try:
            compile(contender.stmt, "<contender>", "eval")
            body = f"return {contender.stmt}"
        except SyntaxError:
            body = contender.stmt
        exec(f"def _run():\n    {body}\n", names)
        run: Callable[[], object] = names["_run"]
        return run

    def check(self, contender: Contender, result: object) -> None:
        """CheckFailed unless ``result`` passes the contender's check."""
        names = {**self.namespace(contender), "result": result}
        if not eval(contender.check, names):
            raise CheckFailed(
                f"{contender.group} {contender.impl}: {contender.stmt} gave {result!r}, "
                f"which fails {contender.check}"
            )


@dataclass
class Row:
    """A contender's measurements in one run."""

    group: str
    impl: str
    samples: list[float] = field(default_factory=list)
    """Nanoseconds per call, one per round."""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass
class Results:
    """One run: a row per contender, in table order."""

    rows: list[Row]
    rounds: int
    machine: dict[str, str]
    findings: dict[str, str] = field(default_factory=dict)
    """The recipes that answered wrongly here ("group impl": what they did), not timed."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Results:
        """The run that :meth:`to_json` (``--json``) wrote."""
        rows = [Row(r["group"], r["impl"], [float(x) for x in r["samples"]]) for r in data["rows"]]
        findings = {str(k): str(v) for k, v in data.get("findings", {}).items()}
        return cls(rows, int(data["rounds"]), dict(data["machine"]), findings)

    def row(self, group: str, impl: str) -> Row | None:
        return next((r for r in self.rows if (r.group, r.impl) == (group, impl)), None)

    def speedup(self, row: Row) -> float | None:
        """stdlib ns / this ns: above 1, faster than the stdlib path."""
        reference = self.row(row.group, REFERENCE)
        return None if reference is None else reference.median / row.median

    def over_floor(self, row: Row) -> float | None:
        """This ns / the C floor's ns."""
        floor = self.row(row.group, "floor")
        return None if floor is None else row.median / floor.median

    def verdict(self, target: Target) -> tuple[float, bool] | None:
        """(the measured ratio, whether it meets the target), or None if not measured."""
        row = self.row(target.group, target.impl)
        if row is None:
            return None
        ratio = {
            "faster": self.speedup,
            "slower": lambda r: 1 / s if (s := self.speedup(r)) else None,
            "floor": self.over_floor,
        }[target.kind](row)
        if ratio is None:
            return None
        return ratio, ratio >= target.bound if target.kind == "faster" else ratio <= target.bound

    def to_json(self) -> dict[str, Any]:
        rows = [
            {
                **asdict(r),
                "median_ns": r.median,
                "speedup": self.speedup(r),
                "over_floor": self.over_floor(r),
            }
            for r in self.rows
        ]
        targets = []
        for t in TARGETS:
            verdict = self.verdict(t)
            if verdict is not None:
                targets.append({**asdict(t), "ratio": verdict[0], "met": verdict[1]})
        return {
            "machine": self.machine,
            "rounds": self.rounds,
            "rows": rows,
            "targets": targets,
            "findings": self.findings,
        }


def machine() -> dict[str, str]:
    """What ran the benchmark."""
    from .. import __version__

    python = platform.python_version()
    if sys.implementation.name != "cpython":  # PyPy: its own version too
        v = sys.implementation.version
        python += f" ({platform.python_implementation()} {v.major}.{v.minor}.{v.micro})"
    return {
        "cfcntl": __version__,
        "python": python,
        "machine": platform.machine(),
        "kernel": platform.release(),
        "libc": " ".join(platform.libc_ver()),
        "cpus": str(os.cpu_count()),
    }


def _progress(stream: TextIO | None, text: str) -> None:
    if stream is None:
        return
    if stream.isatty():
        stream.write(f"\r{text:<60}")
    else:
        stream.write(text + "\n")
    stream.flush()


def _floor_sample(code: CodeType, names: dict[str, Any]) -> float:
    return float(eval(code, names))


def _timer_sample(timer: timeit.Timer, loops: int) -> float:
    return timer.timeit(loops) / loops * 1e9


def _samplers(
    scene: Scene, contenders: tuple[Contender, ...], sample: float
) -> list[Callable[[], float]]:
    """Per contender, a function that takes one sample (ns per call) of about ``sample``
    seconds; the loop count is calibrated here."""
    samplers: list[Callable[[], float]] = []
    for c in contenders:
        names = scene.namespace(c)
        if c.floor:
            code = compile(c.stmt, "<floor>", "eval")
            per_call = _floor_sample(code, {**names, "n": 1000}) * 1e-9
            loops = max(1000, int(sample / per_call))
            samplers.append(partial(_floor_sample, code, {**names, "n": loops}))
        else:
            timer = timeit.Timer(c.stmt, c.setup, globals=names)
            per_call = timer.timeit(200) / 200
            samplers.append(partial(_timer_sample, timer, max(20, int(sample / per_call))))
    return samplers


def run(
    *,
    rounds: int = 15,
    sample: float = 0.02,
    progress: TextIO | None = None,
    contenders: tuple[Contender, ...] = CONTENDERS,
) -> Results:
    """Check every contender once, then take ``rounds`` interleaved samples of each.

    Each round runs every contender once, starting one further along the table than the
    round before.  CheckFailed if a contender's answer is wrong, but a recipe's wrong
    answer or error is a finding of the results, and the recipe is not timed.
    """
    findings: dict[str, str] = {}
    with Scene() as scene:
        for c in contenders:
            try:
                scene.check(c, scene.function(c)())
            except (CheckFailed, OSError) as exc:
                if not c.recipe:
                    raise
                findings[f"{c.group} {c.impl}"] = f"wrong answer, the recipe's own bug: {exc}"
        contenders = tuple(c for c in contenders if f"{c.group} {c.impl}" not in findings)
        samplers = _samplers(scene, contenders, sample)
        rows = [Row(c.group, c.impl) for c in contenders]
        for i in range(rounds):
            _progress(progress, f"bench: round {i + 1}/{rounds}")
            for k in range(len(samplers)):
                j = (i + k) % len(samplers)
                rows[j].samples.append(samplers[j]())
    if progress is not None and progress.isatty():
        progress.write("\n")
    return Results(rows, rounds, machine(), findings)


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _cells(results: Results, row: Row) -> str:
    """A row's three columns: ns per call, vs stdlib, x floor."""
    return (
        f"{row.median:>8.0f} {_ratio(results.speedup(row)):>10} "
        f"{_ratio(results.over_floor(row)):>8}"
    )


def table(results: Results) -> str:
    """The results as a text table, with the targets' verdicts under it."""
    m = results.machine
    w = max(len("implementation"), *(len(row.impl) for row in results.rows))
    lines = [
        f"cfcntl {m['cfcntl']} on Python {m['python']}, {m['machine']}, Linux {m['kernel']}, "
        f"{m['libc']}, {m['cpus']} CPUs: medians of {results.rounds} interleaved rounds",
        "vs stdlib: the stdlib path's time over this one (above 1: faster); "
        "x floor: this time over the C loop's",
        "",
        f"{'operation':<16} {'implementation':<{w}} {'ns/call':>8} "
        f"{'vs stdlib':>10} {'x floor':>8}",
    ]
    for group in GROUPS:
        for k, row in enumerate(r for r in results.rows if r.group == group):
            lines.append(f"{group if k == 0 else '':<16} {row.impl:<{w}} {_cells(results, row)}")
    lines.append("")
    lines += [f"finding: {key}: {what}" for key, what in results.findings.items()]
    for t in TARGETS:
        verdict = results.verdict(t)
        if verdict is not None:
            lines.append(
                f"target {t.describe()}: {verdict[0]:.2f}x  {'met' if verdict[1] else 'MISSED'}"
            )
    return "\n".join(lines)


def beside(runs: list[Results]) -> str:
    """Several runs' tables side by side (each interpreter's one run: ``--beside``), with
    the targets' verdicts in each, the rows in the first run's order."""
    keys = list(dict.fromkeys((r.group, r.impl) for run in runs for r in run.rows))
    w = max(len("implementation"), *(len(impl) for _, impl in keys))
    cell = f"{'ns/call':>8} {'vs stdlib':>10} {'x floor':>8}"
    lines = [
        (
            " " * (18 + w)
            + "    ".join(f"{'Python ' + run.machine['python']:^{len(cell)}}" for run in runs)
        ).rstrip(),
        f"{'operation':<16} {'implementation':<{w}}" + "   ".join(f" {cell}" for _ in runs),
    ]
    last = ""
    for group, impl in keys:
        cells = []
        for run in runs:
            row = run.row(group, impl)
            cells.append(f"{'':>8} {'':>10} {'':>8}" if row is None else _cells(run, row))
        lines.append(
            f"{group if group != last else '':<16} {impl:<{w}}"
            + "   ".join(f" {c}" for c in cells).rstrip()
        )
        last = group
    lines.append("")
    for t in TARGETS:
        verdicts = [run.verdict(t) for run in runs]
        if any(verdicts):
            lines.append(
                f"target {t.describe()}: "
                + " | ".join(
                    "-" if v is None else f"{v[0]:.2f}x {'met' if v[1] else 'MISSED'}"
                    for v in verdicts
                )
            )
    return "\n".join(lines)


def plot(results: Results, path: str) -> None:
    """Draw ns per call by operation and implementation into ``path`` (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    impls = list(dict.fromkeys(r.impl for r in results.rows))
    figure, axes = pyplot.subplots(figsize=(10, 5))
    width = 0.8 / len(impls)
    for i, impl in enumerate(impls):
        xs, heights = [], []
        for g, group in enumerate(GROUPS):
            row = results.row(group, impl)
            if row is not None:
                xs.append(g + i * width)
                heights.append(row.median)
        axes.bar(xs, heights, width, label=impl)
    axes.set_xticks([g + 0.4 - width / 2 for g in range(len(GROUPS))], GROUPS)
    axes.set_ylabel("ns per call (median)")
    m = results.machine
    axes.set_title(f"cfcntl {m['cfcntl']}, Python {m['python']}, Linux {m['kernel']}")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def main(
    *,
    quick: bool = False,
    json_path: str | None = None,
    plot_path: str | None = None,
    beside_path: str | None = None,
) -> int:
    """Run the comparison and print the table (and beside the run in ``beside_path``, a
    ``--json`` file); the exit status (1: a wrong answer, 2: an unusable option)."""
    other = None
    if beside_path is not None:
        try:
            with open(beside_path, encoding="utf-8") as f:
                other = Results.from_json(json.load(f))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(
                f"python -m cfcntl bench: --beside needs a file that --json wrote: {exc!r}",
                file=sys.stderr,
            )
            return 2
    if plot_path is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print(
                "python -m cfcntl bench: --plot needs matplotlib: pip install 'cfcntl[plot]'",
                file=sys.stderr,
            )
            return 2
    try:
        results = run(
            rounds=5 if quick else 15, sample=0.004 if quick else 0.02, progress=sys.stderr
        )
    except CheckFailed as exc:
        print(f"python -m cfcntl bench: wrong answer: {exc}", file=sys.stderr)
        return 1
    print(table(results))
    if other is not None:
        print("\n" + beside([results, other]))
    if json_path is not None:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(results.to_json(), f, indent=2)
            f.write("\n")
    if plot_path is not None:
        plot(results, plot_path)
    return 0
