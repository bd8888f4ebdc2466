"""The run-time checker behind ``python -m cfcntl check`` and ``pytest -p cfcntl.check``.

:func:`install` replaces the stdlib ``fcntl`` module's ``fcntl`` and ``ioctl`` attributes
with wrappers that look at each call whose command or request cfcntl knows
(:mod:`cfcntl.tools.abi`) before the stdlib makes it: the argument's kind and size
against what the kernel reads or writes.  A finding is recorded (or, strict, raised as
:class:`CheckError` before the syscall); the call then goes on exactly as the stdlib's,
with the same arguments, result and exceptions.  Only calls made through the module's
attributes are seen: C code, and a name bound by ``from fcntl import ioctl`` before the
hook, call the stdlib directly.

``python -m cfcntl check -- COMMAND`` (:func:`main`) puts a directory first on
``PYTHONPATH`` whose ``sitecustomize.py`` installs the hook in every Python process
COMMAND starts and then runs the ``sitecustomize`` it shadowed; each process appends its
findings to one file named in the environment (under cfcntl's own ``F_SETLKW`` lock), and
the command prints one table of them at the end.
"""

from __future__ import annotations

import array
import atexit
import fcntl as _stdlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from .abi import Need, fcntl_needs, ioctl_need, recipe

FILE_VARIABLE = "CFCNTL_CHECK_FILE"
"""The environment variable naming the file every checked process appends findings to."""
MODE_VARIABLE = "CFCNTL_CHECK_MODE"
"""``report`` or ``strict``: what a checked process does with a finding."""


class CheckError(ValueError):
    """A call that ``--strict`` stopped before the syscall: the message is the finding."""


class Finding(NamedTuple):
    """One wrong call: where, what, and what to do about it."""

    site: str
    """``file:line`` of the first frame outside ``fcntl`` and cfcntl."""
    call: str
    """``fcntl.ioctl(fd, TIOCGWINSZ, <4-byte bytes>)``."""
    problem: str
    given: int | None
    """The argument's size in bytes; None for an int given where a pointer belongs."""
    needed: int | None
    """What the kernel reads or writes; None where it takes no pointer."""
    effect: str
    """What the call does on each Python version."""
    fix: str

    def message(self) -> str:
        """The finding as one paragraph."""
        return f"{self.site}: {self.call}: {self.problem}; {self.effect}. Fix: {self.fix}"


def _size(arg: object) -> tuple[int, bool] | None:
    """The bytes the stdlib passes for a buffer argument and whether it is mutable; None
    for anything else (an int, or what the stdlib refuses)."""
    if isinstance(arg, str):
        return len(arg.encode()), False
    try:
        view = memoryview(arg)  # type: ignore[arg-type]
    except TypeError:
        return None
    return view.nbytes, not view.readonly


def _typed(need: Need, stdlib: str) -> str:
    if stdlib == "fcntl":
        return f"or cfcntl's typed call for {need.name} (cfcntl.commands, cfcntl.locks)"
    if need.direction in ("read", "write", "readwrite") and need.ctype:
        value = "" if need.direction == "read" else ", value"
        return f'or cfcntl.ioctls.{need.direction}(fd, {need.name}, "{need.ctype}"{value})'
    return "or cfcntl.ioctls' typed call"


@cache
def _fix(need: Need, stdlib: str) -> str:
    """The fix of a finding: the right buffer, or cfcntl's typed call."""
    return f"{recipe(need)}, {_typed(need, stdlib)}"


def _short(need: Need, given: int, mutable_in_place: bool) -> str:
    if need.direction == "write":
        where = "the heap past the buffer" if mutable_in_place else "the stdlib's 1024-byte copy"
        return (
            f"the kernel reads {need.size - given} bytes past the argument, from {where}, "
            "on every Python version"
        )
    if mutable_in_place:
        return (
            f"the kernel writes {need.size - given} bytes past the buffer into the heap "
            "(the buffer is passed in place: 1024 bytes or more, mutable)"
        )
    return (
        f"Python 3.11-3.13: the answer is cut to {given} bytes (the rest is lost, a wider "
        f"field comes back garbage); 3.14+: SystemError after the kernel wrote "
        f"{need.size} bytes"
    )


def examine(
    need: Need, stdlib: str, arg: object, mutate: bool = True
) -> tuple[str, int | None, int | None, str, str] | None:
    """What is wrong with passing ``arg`` to ``stdlib`` (``"fcntl"`` or ``"ioctl"``) for
    a command or request whose argument is ``need``: (problem, size given, size needed,
    effect, fix), or None when nothing is."""
    if need.direction in ("none", "refused"):
        return None
    sized = None if isinstance(arg, int) else _size(arg)
    if need.direction == "value":
        if sized is None:
            return None
        return (
            f"a {sized[0]}-byte buffer for {need.name}, which takes a number by value",
            sized[0],
            None,
            "the kernel gets the address of the stdlib's copy as the number, on every version",
            f"pass the number itself (fcntl.{stdlib}(fd, {need.name}, n))",
        )
    if sized is None:
        if not isinstance(arg, int):
            return None
        pointee = need.ctype or f"{need.size} bytes"
        return (
            f"the int {arg} for {need.name}, which takes a pointer to {pointee}",
            None,
            need.size,
            "the kernel takes the number as an address: EFAULT, or memory at that address "
            "read or written, on every version",
            _fix(need, stdlib),
        )
    given, mutable = sized
    in_place = stdlib == "ioctl" and mutable and mutate and given >= 1024
    if given < need.size:
        verb = "reads" if need.direction == "write" else "writes"
        return (
            f"a {given}-byte buffer for {need.name}, whose kernel {verb} "
            f"{need.ctype or 'the size bits'}: {need.size} bytes",
            given,
            need.size,
            _short(need, given, in_place),
            _fix(need, stdlib),
        )
    if isinstance(arg, array.array) and len(arg) == 1 and arg.itemsize > need.size:
        return (
            f"array({arg.typecode!r}) of {arg.itemsize} bytes for {need.name}, whose kernel "
            f"type {need.ctype} is {need.size} bytes",
            given,
            need.size,
            "the kernel fills the first bytes only: the item reads right on little-endian "
            "CPUs and wrong (shifted) on big-endian ones, on every version",
            _fix(need, stdlib),
        )
    return None


# The hook ----------------------------------------------------------------------------

_ORIGINAL: dict[str, Callable[..., Any]] = {}
_HERE = str(Path(__file__).resolve().parents[1])
_SEEN: dict[tuple[str, str, str], list[Any]] = {}
"""(site, call, problem) -> [Finding, count, count already written]."""
_STRICT = False


def _site() -> str:
    """``file:line`` of the caller: the first frame outside cfcntl and the generated hook."""
    skip = (_HERE, os.path.dirname(os.environ.get(FILE_VARIABLE) or _HERE))
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(skip):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _describe(arg: object) -> str:
    if isinstance(arg, int):
        return repr(arg)
    sized = _size(arg)
    return f"<{sized[0] if sized else '?'}-byte {type(arg).__name__}>"


def _found(stdlib: str, need: Need, arg: object, what: tuple[Any, ...]) -> None:
    """Record a finding (and raise it, strict)."""
    finding = Finding(_site(), f"fcntl.{stdlib}(fd, {need.name}, {_describe(arg)})", *what)
    key = finding[:3]
    seen = _SEEN.get(key)
    if seen is None:
        _SEEN[key] = [finding, 1, 1]
        _write([finding], [1])  # at once: a process may end in os._exit
    else:
        seen[1] += 1
    if _STRICT:
        raise CheckError(finding.message())


_FCNTL: dict[int, tuple[Need, int]] = {}
"""The fcntl commands that use their argument, by value, with the size the kernel uses
(-1 for an int by value)."""
_IOCTL: dict[int, tuple[Need, int] | None] = {}
""":func:`ioctl_need` of each request seen so far, with the size a pointer argument needs
(-1 for a request that takes none)."""
_array = array.array
_POINTER = ("read", "write", "readwrite")


def _learn(request: int) -> tuple[Need, int] | None:
    need = ioctl_need(request)
    known = None if need is None else (need, need.size if need.direction in _POINTER else -1)
    _IOCTL[request] = known
    return known


def _fine(arg: object, size: int) -> bool:
    """The hot path's test: a bytes, bytearray or array at least ``size`` bytes long (an
    array of one wider item is left to :func:`examine`)."""
    kind = type(arg)
    if kind is bytes or kind is bytearray:
        return len(arg) >= size  # type: ignore[arg-type]
    return kind is _array and arg.itemsize * len(arg) == size  # type: ignore[attr-defined,arg-type]


def _checked_fcntl(*args: Any, **kwargs: Any) -> Any:
    """The stdlib's ``fcntl.fcntl``, checked first (see :mod:`cfcntl.tools.checker`)."""
    if len(args) > 1 and not kwargs and args[1] in _FCNTL:
        need, size = _FCNTL[args[1]]
        arg = args[2] if len(args) > 2 else 0
        if type(arg) is not int if size < 0 else not _fine(arg, size):
            what = examine(need, "fcntl", arg)
            if what is not None:
                _found("fcntl", need, arg, what)
    return _fcntl(*args, **kwargs)


def _checked_ioctl(*args: Any, **kwargs: Any) -> Any:
    """The stdlib's ``fcntl.ioctl``, checked first (see :mod:`cfcntl.tools.checker`)."""
    if len(args) > 1 and not kwargs and type(args[1]) is int:
        try:
            known = _IOCTL[args[1]]
        except KeyError:
            known = _learn(args[1])
        if known is not None:
            arg = args[2] if len(args) > 2 else 0
            if known[1] < 0 or not _fine(arg, known[1]):
                what = examine(known[0], "ioctl", arg, bool(args[3]) if len(args) > 3 else True)
                if what is not None:
                    _found("ioctl", known[0], arg, what)
    return _ioctl(*args, **kwargs)


_fcntl = getattr(_stdlib.fcntl, "__wrapped__", _stdlib.fcntl)  # not the hook's first-call stub
_ioctl = getattr(_stdlib.ioctl, "__wrapped__", _stdlib.ioctl)


def wrappers() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The checked ``fcntl`` and ``ioctl``, without putting them in the stdlib module
    (what the bench's "checked" contender times)."""
    if not _ORIGINAL:
        _FCNTL.update(
            (v, (n, n.size if n.size else -1))
            for v, n in fcntl_needs().items()
            if n.direction != "none"
        )
        _ORIGINAL.update(fcntl=_fcntl, ioctl=_ioctl)
        for name, wrapper in (("fcntl", _checked_fcntl), ("ioctl", _checked_ioctl)):
            wrapper.__name__ = wrapper.__qualname__ = name
            wrapper.__module__ = "fcntl"
    return _checked_fcntl, _checked_ioctl


def install(strict: bool = False) -> None:
    """Check every later call of ``fcntl.fcntl`` and ``fcntl.ioctl`` in this process
    (``strict``: raise :class:`CheckError` instead of recording)."""
    global _STRICT
    _STRICT = strict
    if _stdlib.fcntl is _checked_fcntl:
        return
    _stdlib.fcntl, _stdlib.ioctl = wrappers()
    os.register_at_fork(after_in_child=_forked)
    atexit.register(_flush)


def uninstall() -> None:
    """Give the stdlib module its own functions back."""
    for name, original in _ORIGINAL.items():
        setattr(_stdlib, name, original)


def findings() -> list[tuple[Finding, int]]:
    """This process's findings so far, each with its count."""
    return [(f, n) for f, n, _ in _SEEN.values()]


def _forked() -> None:
    for seen in _SEEN.values():  # the parent writes its own counts
        seen[2] = seen[1]


def _flush() -> None:
    """Write the counts not written yet (a finding's later calls)."""
    pending = [(f, n - w) for f, n, w in _SEEN.values() if n > w]
    for seen in _SEEN.values():
        seen[2] = seen[1]
    if pending:
        _write([f for f, _ in pending], [n for _, n in pending])


def _write(found: list[Finding], counts: list[int]) -> None:
    """Append findings to the file the environment names, under cfcntl's F_SETLKW."""
    path = os.environ.get(FILE_VARIABLE)
    if not path:
        return
    from ..locks import setlkw

    lines = "".join(
        json.dumps({**f._asdict(), "count": n, "pid": os.getpid()}) + "\n"
        for f, n in zip(found, counts, strict=True)
    )
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        setlkw(fd, _stdlib.F_WRLCK, ofd=True)
        os.write(fd, lines.encode())
    finally:
        os.close(fd)  # closing drops the lock


def from_environment() -> None:
    """Install the hook as the environment says (what the generated sitecustomize runs)."""
    if os.environ.get(FILE_VARIABLE):
        install(strict=os.environ.get(MODE_VARIABLE) == "strict")


# The command -------------------------------------------------------------------------

SITECUSTOMIZE = '''\
"""Written by python -m cfcntl check: fcntl.fcntl and fcntl.ioctl checked from their first
call on (cfcntl is imported then, not at start-up), then the sitecustomize this shadows."""
import fcntl as _fcntl
import importlib, os, sys

_original = _fcntl.fcntl, _fcntl.ioctl


def _first(name):
    def call(*args, **kwargs):
        if getattr(_fcntl, name) is call:
            _fcntl.fcntl, _fcntl.ioctl = _original
            try:
                from cfcntl.tools.checker import from_environment
            except ImportError:  # an interpreter without cfcntl: unchecked
                pass
            else:
                from_environment()
        return getattr(_fcntl, name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__wrapped__ = getattr(_fcntl, name)
    return call


_fcntl.fcntl, _fcntl.ioctl = _first("fcntl"), _first("ioctl")
_here = os.path.dirname(__file__)
sys.path[:] = [p for p in sys.path if p != _here]
_me = sys.modules.pop("sitecustomize")
try:
    importlib.import_module("sitecustomize")  # the import system then returns that one
except ImportError as exc:
    sys.modules["sitecustomize"] = _me
    if exc.name != "sitecustomize":
        raise
'''


def read(path: str) -> list[dict[str, Any]]:
    """The findings the checked processes wrote, one per call site and problem, counts
    summed, in the order first seen."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record.pop("pid")
        key = (record["site"], record["call"], record["problem"])
        if key in merged:
            merged[key]["count"] += record["count"]
        else:
            merged[key] = record
    return list(merged.values())


def table(found: list[dict[str, Any]]) -> str:
    """The findings as the text ``check`` prints on stderr."""
    if not found:
        return "cfcntl check: no findings\n"
    lines = [f"cfcntl check: {len(found)} call site(s) with findings"]
    for record in found:
        lines += [
            f"  {record['site']}  x{record['count']}  {record['call']}",
            f"      {record['problem']}",
            f"      effect: {record['effect']}",
            f"      fix: {record['fix']}",
        ]
    return "\n".join(lines) + "\n"


def main(command: list[str], strict: bool, fail_on_findings: bool, json_path: str | None) -> int:
    """Run ``command`` checked; its exit status (1 with ``fail_on_findings`` and a finding)."""
    if not command:
        print("python -m cfcntl check: no COMMAND (use: check -- COMMAND ...)", file=sys.stderr)
        return 2
    if command[0].endswith(".py"):
        command = [sys.executable, *command]
    with tempfile.TemporaryDirectory(prefix="cfcntl-check-") as tmp:
        hook = Path(tmp, "hook")
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
        out = Path(tmp, "findings.jsonl")
        out.touch()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hook), env.get("PYTHONPATH")]))
        env[FILE_VARIABLE] = str(out)
        env[MODE_VARIABLE] = "strict" if strict else "report"
        try:
            status = subprocess.call(command, env=env)
        except OSError as exc:
            print(f"python -m cfcntl check: {command[0]}: {exc.strerror}", file=sys.stderr)
            return 127
        found = read(str(out))
    sys.stderr.write(table(found))
    if json_path:
        Path(json_path).write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    if status < 0:
        status = 128 - status
    return 1 if fail_on_findings and found and status == 0 else status
