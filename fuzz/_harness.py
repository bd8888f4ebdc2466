"""The fuzz harness: batches of seeded cases, each batch in child processes.

A batch is a function ``make(rng, index, ctx) -> Case``; a case is a text (what it
calls, printed before it runs) and a function that runs it and raises :class:`Violation`
when an invariant does not hold.  The parent (:func:`run_batch`, from a pytest test)
starts ``jobs`` children, each running every ``jobs``-th case index; a child writes each
case's text to a log before running it, so a child killed by a signal or an abort is a
failure naming the seed and the case, not a dead run.  Case ``index`` of a batch draws
from ``random.Random(f"{seed}:{batch}:{index}")``: any case can be run again alone
(``CFCNTL_FUZZ_SEED=S CFCNTL_FUZZ_CASE=I python -m pytest fuzz -k BATCH``).

The children run with Python's debug allocator (``PYTHONMALLOC=malloc_debug``): every
heap block, cffi's buffers included, has guard bytes before and after it, checked when it
is freed, so a write past a buffer aborts the child at the case that did it.  Their
address space is capped 256 MiB above what they use, so an absurd allocation fails
(MemoryError, which no invariant accepts) instead of taking the machine's memory.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent

DEFAULT_SECONDS = 45.0
"""CFCNTL_FUZZ_SECONDS's default: the budget of the whole fuzz run, shared by the batches."""

SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") else None
"""Where the children work and make their scratch files: a tmpfs, whose ioctls do not
depend on the disk's state (ext4's FS_IOC_SETFLAGS does)."""

PROMISED: tuple[type[BaseException], ...] = (
    TypeError,
    ValueError,
    OverflowError,
    OSError,
    NotImplementedError,
)
"""What cfcntl promises to raise for bad input (OSError only with an errno)."""


class Violation(AssertionError):
    """An invariant that did not hold: ``kind`` groups the failures of a batch."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclasses.dataclass
class Case:
    text: str
    run: Callable[[], None]


Make = Callable[[random.Random, int, Any], Case]


@dataclasses.dataclass
class Batch:
    """``rate``: cases per second this batch runs on the development machine with two
    jobs; the budget is turned into a case count with it, so that a run checks the same
    cases on any machine (a slower one takes longer)."""

    name: str
    make: Make
    share: float
    rate: float
    setup: Callable[[], Any] | None = None
    minimum: int = 100

    def cases(self, seconds: float) -> int:
        return max(self.minimum, int(seconds * self.share * self.rate))


# --------------------------------------------------------------------------- settings


def seed() -> int:
    """CFCNTL_FUZZ_SEED: an int, or "random" for a new one (printed); default 1."""
    value = os.environ.get("CFCNTL_FUZZ_SEED", "1")
    if value == "random":
        chosen = random.SystemRandom().randrange(1 << 32)
        os.environ["CFCNTL_FUZZ_SEED"] = str(chosen)  # one seed for the whole run
        return chosen
    return int(value)


def seconds() -> float:
    return float(os.environ.get("CFCNTL_FUZZ_SECONDS", DEFAULT_SECONDS))


def jobs() -> int:
    return int(os.environ.get("CFCNTL_FUZZ_JOBS", min(2, os.cpu_count() or 1)))


def only_case() -> int | None:
    value = os.environ.get("CFCNTL_FUZZ_CASE")
    return None if value is None else int(value)


# --------------------------------------------------------------------------- the parent


def run_batch(module: str, batch: Batch) -> str:
    """Run ``batch`` of test module ``module`` in child processes; its summary line, or
    a test failure listing every kind of violation and crash with its seed and cases.

    A child that dies (signal, abort, exit) is a crash of the case it was running; a new
    child goes on from the next case, up to ``MAX_CRASHES`` times per child."""
    chosen, single = seed(), only_case()
    count = batch.cases(seconds()) if single is None else single + 1
    workers = 1 if single is not None else max(1, min(jobs(), count))
    deadline = time.monotonic() + 60 + 10 * count / batch.rate
    started = time.monotonic()
    failures: list[dict[str, Any]] = []
    ran = 0
    with tempfile.TemporaryDirectory(prefix=f"cfcntl-fuzz-{batch.name}-", dir=SCRATCH) as tmp:
        shards = [
            _Shard(module, batch.name, chosen, Path(tmp, f"shard{n}"), n, count, workers, single)
            for n in range(workers)
        ]
        while any(shard.running for shard in shards):
            for shard in shards:
                shard.poll(failures, time.monotonic() > deadline)
            time.sleep(0.02)
        ran = sum(shard.ran for shard in shards)
    elapsed = time.monotonic() - started
    problems = list(_grouped(failures))
    summary = (
        f"{batch.name}: {ran} cases, seed {chosen}, {workers} jobs, {elapsed:.1f} s,"
        f" {len(problems)} kinds of violation"
    )
    print(summary)
    if problems:
        rerun = f"CFCNTL_FUZZ_SEED={chosen} CFCNTL_FUZZ_CASE=<case> python -m pytest fuzz"
        rerun += f" -k {batch.name}"
        pytest.fail("\n".join([summary, f"run one case again: {rerun}", *problems]), pytrace=False)
    return summary


MAX_CRASHES = 50


class _Shard:
    """One child's share of the cases (every ``step``-th index from ``first``), and the
    children that run it: a new one after each crash."""

    def __init__(
        self, module: str, batch: str, chosen: int, where: Path, first: int, count: int,
        step: int, single: int | None,
    ) -> None:  # fmt: skip
        where.mkdir()
        self.where, self.crashes, self.ran = where, 0, 0
        self.spec: dict[str, Any] = {
            "module": module, "batch": batch, "seed": chosen, "dir": str(where),
            "start": first if single is None else single,
            "stop": count, "step": step if single is None else count, "verbose": single is not None,
        }  # fmt: skip
        self.child: subprocess.Popen[bytes] | None = self._spawn()

    @property
    def running(self) -> bool:
        return self.child is not None

    def _spawn(self) -> subprocess.Popen[bytes]:
        for name in ("cases", "failures", "done"):
            Path(self.where, name).unlink(missing_ok=True)
        env = dict(os.environ, PYTHONMALLOC="malloc_debug", PYTHONFAULTHANDLER="1")
        code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import _harness; _harness.child()"
        with open(Path(self.where, "output"), "wb") as sink:
            return subprocess.Popen(
                [sys.executable, "-c", code, json.dumps(self.spec)],
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                cwd=self.where, env=env,
            )  # fmt: skip

    def poll(self, failures: list[dict[str, Any]], late: bool) -> None:
        """Collect the child if it ended (or kill it if ``late``); respawn after a crash."""
        if self.child is None:
            return
        status = self.child.poll()
        if status is None and not late:
            return
        if status is None:
            self.child.kill()
            self.child.wait()
        log = _lines(Path(self.where, "cases"))
        failures.extend(json.loads(line) for line in _lines(Path(self.where, "failures")))
        self.ran += len(log)
        self.child = None
        if Path(self.where, "done").exists():
            if self.spec["verbose"]:
                print(Path(self.where, "output").read_text(errors="replace"))
            return
        if status is None:
            what = "hung: killed at the time limit"
        elif status < 0:
            what = f"killed by {signal.Signals(-status).name}"
        else:
            what = f"exited with status {status}"
        index, _, text = log[-1].partition(": ") if log else ("-", "", "(before its first case)")
        output = Path(self.where, "output").read_text(errors="replace").strip().splitlines()
        detail = "\n      ".join(["the child's output ends:", *output[-12:]])
        failures.append({"index": index, "text": text, "kind": f"CRASH: {what}", "detail": detail})
        self.crashes += 1
        if log and status is not None and self.crashes < MAX_CRASHES:
            self.spec["start"] = int(index) + self.spec["step"]
            if self.spec["start"] < self.spec["stop"]:
                self.child = self._spawn()


def _lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def _grouped(failures: list[dict[str, Any]]) -> Iterator[str]:
    """One entry per kind of violation: how many cases, and the first three."""
    kinds: dict[str, list[dict[str, Any]]] = {}
    for failure in failures:
        kinds.setdefault(failure["kind"], []).append(failure)
    for kind, group in sorted(kinds.items()):
        lines = [f"VIOLATION ({len(group)} cases): {kind}"]
        for failure in [f for f in group if "text" in f][:3]:
            lines.append(f"  case {failure['index']}: {failure['text']}")
            lines.append(f"    {failure['detail']}")
        yield "\n".join(lines)


# --------------------------------------------------------------------------- the child


def child() -> None:
    """A child's main: run its share of the cases, each logged before it runs and each
    violation written as it is found (with its text and detail for the first three of
    a kind), so that a crash loses nothing; ``done`` at the end."""
    spec = json.loads(sys.argv[1])
    _cap_memory()
    for signum in (signal.SIGIO, signal.SIGURG, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH):
        signal.signal(signum, signal.SIG_IGN)  # what a fuzzed F_SETSIG/F_SETOWN may send
    module = importlib.import_module(spec["module"])
    batch = next(
        b for b in vars(module).values() if isinstance(b, Batch) and b.name == spec["batch"]
    )
    ctx = batch.setup() if batch.setup else None
    per_kind: dict[str, int] = {}
    where = Path(spec["dir"])
    with (
        open(where / "cases", "w", buffering=1) as log,
        open(where / "failures", "w", buffering=1) as out,
    ):
        for index in range(spec["start"], spec["stop"], spec["step"]):
            rng = random.Random(f"{spec['seed']}:{batch.name}:{index}")
            try:
                case = batch.make(rng, index, ctx)
            except Exception as exc:  # the harness's own fault: report it as one
                case = Case("(the case could not be made)", lambda exc=exc: _reraise(exc))
            log.write(f"{index}: {case.text}\n")
            try:
                case.run()
            except Violation as violation:
                kind, detail = violation.kind, violation.detail
            except MemoryError as exc:  # the cap, reached by what the case allocated
                kind, detail = "MemoryError past the children's 256 MiB cap", repr(exc)
            except Exception as exc:  # the harness's own fault: report it as one
                kind, detail = f"harness error {type(exc).__name__}", repr(exc)
            else:
                kind = detail = ""
            if spec["verbose"]:
                print(f"case {index}: {case.text}\n  {kind or 'passed'}\n  {detail}", flush=True)
            if kind:
                per_kind[kind] = per_kind.get(kind, 0) + 1
                failure = {"index": index, "kind": kind}
                if per_kind[kind] <= 3:
                    failure.update(text=case.text, detail=detail)
                out.write(json.dumps(failure) + "\n")
    (where / "done").touch()


def _reraise(exc: Exception) -> None:
    raise exc


def _cap_memory() -> None:
    """Cap the address space at what the child maps now plus 256 MiB."""
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = mapped + (256 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


# --------------------------------------------------------------------------- checking


def outcome(thunk: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", result) or ("raise", exception)."""
    try:
        return "ok", thunk()
    except Exception as exc:
        return "raise", exc


def short(value: Any) -> str:
    """``repr(value)``, cut to about 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}...({len(text)} characters)"


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}({str(exc)[:200]!r})"


def promised(exc: BaseException) -> None:
    """Violation unless ``exc`` is one of the exceptions cfcntl promises (a Lock's
    TimeoutError has no errno)."""
    if not isinstance(exc, PROMISED):
        raise Violation(f"unpromised exception {type(exc).__name__}", describe(exc))
    if isinstance(exc, OSError) and exc.errno is None and not isinstance(exc, TimeoutError):
        raise Violation("OSError without an errno", describe(exc))


def expect_raise(
    got: tuple[str, Any],
    types: tuple[type[BaseException], ...],
    category: str,
    detail: str,
    names: tuple[str, ...] = (),
) -> BaseException:
    """The exception of ``got``; Violation unless it is one of ``types`` whose message
    names one of ``names`` (when given).  ``category`` says what was wrong with the call
    (the violation's kind), ``detail`` which argument."""
    kind, value = got
    wanted = "/".join(t.__name__ for t in types)
    if kind == "ok":
        raise Violation(f"{category}: not refused", f"{detail}; returned {value!r}")
    promised(value)
    if not isinstance(value, types):
        if isinstance(value, OSError):
            raise Violation(
                f"{category}: not refused", f"{detail}; the kernel said {describe(value)}"
            )
        raise Violation(
            f"{category}: {type(value).__name__}, not {wanted}", f"{detail}; {describe(value)}"
        )
    if names and not any(name in str(value) for name in names):
        raise Violation(
            f"{category}: the message names no argument", f"{detail}; {describe(value)}"
        )
    return value  # type: ignore[no-any-return]
