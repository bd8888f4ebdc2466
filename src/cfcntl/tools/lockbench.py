"""``python -m cfcntl bench --locks``: cfcntl.Lock against the raw syscalls and the
file-lock libraries people use, side by side in one run.

Each contender is a lock of one file with a setup, an acquire, a timed acquire (or none)
and a release, as Python statements (:data:`CONTENDERS`): cfcntl.Lock on a path and on
a descriptor; the floors, the stdlib's F_OFD_SETLK(W) pair on a descriptor, open +
F_OFD_SETLKW + close, and open + flock + close; and filelock, portalocker and fasteners
when they are installed (the ``peers`` extra), each with its default settings and with
its fastest documented poll.  ``none`` takes no lock: the control whose lost updates
show that the count can see one.  Measured, per contender:

- ``uncontended``: acquire + release in this process, ns (timeit: per round the best
  of 5 runs of 500, the median of 15 interleaved rounds);
- ``handoff``: a waiter process blocked, the holder process releases: the time from the
  release to the waiter holding the lock, median and p99 over the rounds, µs;
- ``contended N``: N processes each incrementing a counter in the file under the lock;
  acquisitions per second (the median of the repeated runs) and the updates lost (the
  count short of N x iterations, summed over the runs);
- ``timeout``: a timed acquire of a lock held by another process: its overshoot past
  the timeout, ms, and the CPU it used while waiting, ms.

Each contender locks a file of its own, and each measure runs the contenders
interleaved, round by round.  The table's ratios are each contender's time over
``cfcntl-path``'s (above 1: slower); :func:`targets` holds cfcntl.Lock to the raw
floors (:data:`PAIRS`).  Progress goes to stderr.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any

from .bench import machine


@dataclass(frozen=True)
class Contender:
    """One way of locking ``path`` (the statements see ``path``, ``os``, ``fcntl``)."""

    name: str
    setup: str
    acquire: str
    release: str
    timed: str = ""
    """A timed acquire of ``T`` seconds that raises on timeout; "" if it has none."""
    needs: str = ""
    """The module it needs; the contender is left out when it is not installed."""


_OFD = (
    "import fcntl, struct; from cfcntl.tools.struct_path import FORMAT; "
    "W = struct.pack(FORMAT, fcntl.F_WRLCK, 0, 0, 0, 0); "
    "U = struct.pack(FORMAT, fcntl.F_UNLCK, 0, 0, 0, 0); "
    "import cfcntl; SETLK, SETLKW = cfcntl.F_OFD_SETLK, cfcntl.F_OFD_SETLKW; "
    "FLAGS = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC"
)
CONTENDERS = (
    Contender(
        "cfcntl-path",
        "import cfcntl; L = cfcntl.Lock(path)",
        "L.acquire()",
        "L.release()",
        "L.acquire(T)",
    ),
    Contender(
        "cfcntl-fd",
        "import cfcntl; L = cfcntl.Lock(os.open(path, os.O_RDWR))",
        "L.acquire()",
        "L.release()",
        "L.acquire(T)",
    ),
    Contender(
        "raw-ofd-fd",
        _OFD + "; fd = os.open(path, os.O_RDWR)",
        "fcntl.fcntl(fd, SETLKW, W)",
        "fcntl.fcntl(fd, SETLK, U)",
    ),
    Contender(
        "raw-ofd-open",
        _OFD,
        "fd = os.open(path, FLAGS, 0o666); fcntl.fcntl(fd, SETLKW, W)",
        "os.close(fd)",
    ),
    Contender(
        "raw-flock-open",
        _OFD,
        "fd = os.open(path, FLAGS, 0o666); fcntl.flock(fd, fcntl.LOCK_EX)",
        "os.close(fd)",
    ),
    Contender(
        "filelock",
        "import filelock; L = filelock.FileLock(path + '.filelock')",
        "L.acquire()",
        "L.release()",
        "L.acquire(timeout=T)",
        "filelock",
    ),
    Contender(
        "filelock-1ms",
        "import filelock; L = filelock.FileLock(path + '.filelock')",
        "L.acquire(poll_interval=0.001)",
        "L.release()",
        "L.acquire(timeout=T, poll_interval=0.001)",
        "filelock",
    ),
    Contender(
        "portalocker",
        "import portalocker; L = portalocker.Lock(path + '.portalocker', timeout=600)",
        "L.acquire()",
        "L.release()",
        "portalocker.Lock(path + '.portalocker', timeout=T).acquire()",
        "portalocker",
    ),
    Contender(
        "portalocker-1ms",
        "import portalocker; "
        "L = portalocker.Lock(path + '.portalocker', timeout=600, check_interval=0.001)",
        "L.acquire()",
        "L.release()",
        "portalocker.Lock(path + '.portalocker', timeout=T, check_interval=0.001).acquire()",
        "portalocker",
    ),
    Contender(
        "fasteners",
        "import fasteners; L = fasteners.InterProcessLock(path + '.fasteners')",
        "L.acquire()",
        "L.release()",
        "assert L.acquire(timeout=T), 'timeout'",
        "fasteners",
    ),
    Contender(
        "fasteners-1ms",
        "import fasteners; L = fasteners.InterProcessLock(path + '.fasteners')",
        "L.acquire(delay=0.001, max_delay=0.001)",
        "L.release()",
        "assert L.acquire(timeout=T, delay=0.001, max_delay=0.001), 'timeout'",
        "fasteners",
    ),
)
NONE = Contender("none", "", "pass", "pass")
"""The control: no lock, so concurrent increments are lost."""
REFERENCE = "cfcntl-path"

_WORKER = r"""
import json, os, sys, time
path, job = sys.argv[1], sys.argv[2]
spec = json.loads(sys.argv[3])
counter = os.open(path + ".count", os.O_RDWR)
exec(spec["setup"])
acquire = compile(spec["acquire"], "<acquire>", "exec")
release = compile(spec["release"], "<release>", "exec")
say = lambda *a: (print(*a, flush=True))
if job == "contend":
    count = int(sys.argv[4])
    sys.stdin.readline()
    for _ in range(count):
        exec(acquire)
        n = int.from_bytes(os.pread(counter, 8, 0), "little")
        os.sched_yield()
        os.pwrite(counter, (n + 1).to_bytes(8, "little"), 0)
        exec(release)
elif job == "hold":  # hold until told; then a line per release: its time just before
    for line in sys.stdin:
        if line.startswith("acquire"):
            exec(acquire)
            say("held")
        else:
            t = time.monotonic_ns()
            exec(release)
            say(t)
elif job == "wait":  # each line: say waiting, acquire, say when it got it, release
    for line in sys.stdin:
        say("waiting")
        exec(acquire)
        t = time.monotonic_ns()
        exec(release)
        say(t)
elif job == "timed":
    T = float(sys.argv[4])
    t0, c0 = time.monotonic(), time.process_time()
    try:
        exec(spec["timed"])
        got = True
    except Exception:
        got = False
    say(json.dumps([got, time.monotonic() - t0 - T, time.process_time() - c0]))
"""


class _Worker:
    """A worker process running one job of :data:`_WORKER` for one contender."""

    def __init__(self, path: str, job: str, contender: Contender, *args: str) -> None:
        spec = json.dumps(contender.__dict__)
        self.name = f"{contender.name} ({job})"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, path, job, spec, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def tell(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def hear(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"lock bench worker {self.name} died")
        return line.strip()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def available(only: list[str] | None = None) -> list[Contender]:
    """The contenders whose module is installed (those named in ``only``, if given)."""
    return [
        c
        for c in CONTENDERS
        if (not c.needs or find_spec(c.needs) is not None) and (only is None or c.name in only)
    ]


def uncontended(
    paths: dict[str, str], contenders: list[Contender], rounds: int, number: int
) -> dict[str, float]:
    """acquire + release in this process: ns, the median over interleaved rounds."""
    timers = {}
    for c in contenders:
        names: dict[str, Any] = {"path": paths[c.name], "os": os}
        exec(c.setup, names)
        timers[c.name] = timeit.Timer(f"{c.acquire}\n{c.release}", globals=names)
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(rounds):
        for name, timer in timers.items():
            samples[name].append(min(timer.repeat(5, number)) / number * 1e9)
    return {name: statistics.median(s) for name, s in samples.items()}


def handoffs(
    paths: dict[str, str], contenders: list[Contender], rounds: int
) -> dict[str, tuple[float, float]]:
    """(median, p99) µs from the holder's release to the blocked waiter holding it, per
    contender: a holder and a waiter process each, the contenders' rounds interleaved."""
    pairs = {
        c.name: (_Worker(paths[c.name], "hold", c), _Worker(paths[c.name], "wait", c))
        for c in contenders
    }
    gaps: dict[str, list[float]] = {name: [] for name in pairs}
    try:
        for _ in range(rounds):
            for name, (holder, waiter) in pairs.items():
                holder.tell("acquire")
                assert holder.hear() == "held"
                waiter.tell("go")
                assert waiter.hear() == "waiting"
                time.sleep(0.005)  # the waiter goes to sleep in its acquire meanwhile
                holder.tell("release")
                released = int(holder.hear())
                gaps[name].append((int(waiter.hear()) - released) / 1000)
    finally:
        for pair in pairs.values():
            for worker in pair:
                worker.close()
    return {name: _median_p99(g) for name, g in gaps.items()}


def _median_p99(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[round(0.99 * (len(values) - 1))]


def contended(path: str, c: Contender, workers: int, count: int) -> tuple[float, int]:
    """(acquisitions per second, updates lost) of ``workers`` processes x ``count``."""
    with open(path + ".count", "wb") as f:
        f.write(bytes(8))
    procs = [_Worker(path, "contend", c, str(count)) for _ in range(workers)]
    time.sleep(0.05 + 0.02 * workers)  # let every worker import and set up
    t0 = time.monotonic()
    for p in procs:
        p.tell("go")
    for p in procs:
        p.close()
    elapsed = time.monotonic() - t0
    with open(path + ".count", "rb") as f:
        done = int.from_bytes(f.read(8), "little")
    return workers * count / elapsed, workers * count - done


def timed(path: str, c: Contender, timeout: float) -> tuple[float, float]:
    """(overshoot ms, CPU ms) of a timed acquire against a holder in another process."""
    holder = _Worker(path, "hold", c)
    try:
        holder.tell("acquire")
        assert holder.hear() == "held"
        probe = _Worker(path, "timed", c, str(timeout))
        got, overshoot, cpu = json.loads(probe.hear())
        probe.close()
        if got:
            raise RuntimeError(f"{c.name}: the timed acquire took a held lock")
    finally:
        holder.close()
    return overshoot * 1000, cpu * 1000


def _progress(text: str) -> None:
    sys.stderr.write(f"bench --locks: {text}\n")
    sys.stderr.flush()


def run(
    *, quick: bool = False, only: list[str] | None = None, progress: bool = True
) -> dict[str, Any]:
    """The whole comparison, as the JSON ``--json`` writes.  Each contender locks a file
    of its own; every measure runs the contenders interleaved, round by round."""
    contenders = available(only)
    rounds = 5 if quick else 15
    rounds_handoff = 8 if quick else 40
    counts = (2, 4) if quick else (2, 4, 8)
    iterations, repeats = (100, 1) if quick else (300, 3)
    report: dict[str, Any] = {"machine": machine(), "quick": quick, "contenders": {}}
    say = _progress if progress else (lambda text: None)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {c.name: os.path.join(tmp, c.name) for c in [*contenders, NONE]}
        for path in paths.values():
            for name in (path, path + ".count"):
                open(name, "wb").close()
        say(f"uncontended, {rounds} interleaved rounds")
        costs = uncontended(paths, contenders, rounds, 100 if quick else 500)
        rows: dict[str, dict[str, Any]] = {
            c.name: {"uncontended_ns": costs.get(c.name)} for c in [*contenders, NONE]
        }
        say(f"handoff, {rounds_handoff} interleaved rounds")
        for name, (median, p99) in handoffs(paths, contenders, rounds_handoff).items():
            rows[name]["handoff_us"] = {"median": median, "p99": p99}
        runs: dict[tuple[str, int], list[tuple[float, int]]] = {}
        for r in range(repeats):
            for n in counts:
                say(f"contended N = {n}, {iterations} each (run {r + 1} of {repeats})")
                for c in [*contenders, NONE]:
                    runs.setdefault((c.name, n), []).append(
                        contended(paths[c.name], c, n, iterations)
                    )
        for (name, n), got in runs.items():
            rows[name].setdefault("contended", {})[str(n)] = {
                "per_s": statistics.median(rate for rate, _ in got),
                "lost": sum(lost for _, lost in got),
            }
        say("timeouts: 0.2 s against a holder in another process")
        for c in contenders:
            if c.timed:
                overshoot, cpu = timed(paths[c.name], c, 0.2)
                rows[c.name]["timeout_ms"] = {"overshoot": overshoot, "cpu": cpu}
        report["contenders"] = rows
        report["repeats"] = repeats
    report["targets"] = targets(report)
    return report


PAIRS = (("cfcntl-fd", "raw-ofd-fd"), ("cfcntl-path", "raw-ofd-open"))
"""Each cfcntl contender and the raw floor it is held to (issue 15's targets)."""


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of :data:`PAIRS`: cfcntl's figure over the floor's (for throughput
    the floor's over cfcntl's, so that every ratio is "times worse"), its bound, met."""
    rows = report["contenders"]
    found = []
    for mine, floor in PAIRS:
        if mine not in rows or floor not in rows:
            continue
        a, b = rows[mine], rows[floor]
        checks = [
            ("uncontended", a["uncontended_ns"] / b["uncontended_ns"], 1.2),
            ("handoff median", a["handoff_us"]["median"] / b["handoff_us"]["median"], 1.3),
            ("handoff p99", a["handoff_us"]["p99"] / b["handoff_us"]["p99"], 3.0),
        ]
        checks += [
            (f"contended N={n}", b["contended"][n]["per_s"] / a["contended"][n]["per_s"], 1 / 0.9)
            for n in a["contended"]
        ]
        found += [
            {"target": f"{mine} vs {floor}: {what}", "ratio": r, "bound": bound, "met": r <= bound}
            for what, r, bound in checks
        ]
    return found


def _ratio(mine: float | None, theirs: float | None) -> str:
    return f"{mine / theirs:.2f}x" if mine and theirs else "-"


def table(report: dict[str, Any]) -> str:
    """The report as text: a row per contender, ratios to cfcntl-path."""
    rows = report["contenders"]
    ref = rows.get(REFERENCE, {})
    counts = list(next(iter(rows.values()))["contended"])
    head = f"{'contender':16} {'ns/acq+rel':>10} {'x':>6} {'handoff µs':>10} {'p99':>8} {'x':>6}"
    head += "".join(f" {'N=' + n + ' /s':>10} {'lost':>5}" for n in counts)
    head += f" {'overshoot ms':>12} {'CPU ms':>7}"
    lines = [head]
    for name, row in rows.items():
        cost = row.get("uncontended_ns")
        hand = row.get("handoff_us", {})
        line = f"{name:16} {cost or 0:>10.0f} {_ratio(cost, ref.get('uncontended_ns')):>6}"
        if hand:
            ratio = _ratio(hand["median"], ref.get("handoff_us", {}).get("median"))
            line += f" {hand['median']:>10.1f} {hand['p99']:>8.1f} {ratio:>6}"
        else:
            line += f" {'-':>10} {'-':>8} {'-':>6}"
        for n in counts:
            got = row["contended"][n]
            line += f" {got['per_s']:>10.0f} {got['lost']:>5}"
        t = row.get("timeout_ms")
        line += f" {t['overshoot']:>12.2f} {t['cpu']:>7.2f}" if t else f" {'-':>12} {'-':>7}"
        lines.append(line)
    lines.append(
        "x: this contender's figure over cfcntl-path's (above 1: slower); /s: acquisitions "
        "per second, all processes; lost: updates lost (none for every real lock)"
    )
    m = report["machine"]
    lines.append(f"Python {m['python']}, Linux {m['kernel']}, {m['machine']}, {m['cpus']} CPUs")
    found = report.get("targets", [])
    if found:
        lines.append(
            "\ntargets (times the floor's cost; contended: the floor's rate over cfcntl's)"
        )
        for t in found:
            verdict = "met" if t["met"] else "MISSED"
            lines.append(
                f"  {t['target']:44} {t['ratio']:5.2f}x  bound {t['bound']:.2f}x  {verdict}"
            )
    return "\n".join(lines)


def plot(report: dict[str, Any], path: str) -> None:
    """Draw handoff medians and contended throughput per contender into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    rows = {k: v for k, v in report["contenders"].items() if "handoff_us" in v}
    names = list(rows)
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(12, 5))
    left.barh(names, [rows[n]["handoff_us"]["median"] for n in names])
    left.set_xscale("log")
    left.set_xlabel("handoff, µs (median, log)")
    for n in next(iter(rows.values()))["contended"]:
        right.plot(names, [rows[k]["contended"][n]["per_s"] for k in names], "o", label=f"N={n}")
    right.set_yscale("log")
    right.set_ylabel("acquisitions per second (log)")
    right.tick_params(axis="x", labelrotation=60)
    right.legend()
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def main(
    *,
    quick: bool = False,
    json_path: str | None = None,
    plot_path: str | None = None,
    only: list[str] | None = None,
) -> int:
    """Run the lock comparison and print its table; the exit status."""
    if plot_path is not None and find_spec("matplotlib") is None:
        print(
            "python -m cfcntl bench --locks: --plot needs matplotlib: pip install 'cfcntl[plot]'",
            file=sys.stderr,
        )
        return 2
    report = run(quick=quick, only=only)
    print(table(report))
    if json_path is not None:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    if plot_path is not None:
        plot(report, plot_path)
    return 0
