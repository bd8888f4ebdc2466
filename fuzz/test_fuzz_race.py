"""No answer can be changed by a signal handler, or another thread, calling cfcntl
meanwhile.

Each case is a burst: a loop asks one question over and over (getlk of a range another
process holds, getown_ex, get_rw_hint, compat's fcntl F_GETLK on bytes) while an
interval timer's SIGALRM handler, or a second thread, asks the same function a question
with a different answer.  Every answer the loop gets must be its own.  How often the
handler lands inside a call is up to the scheduler, so a case may find nothing; what a
case checks does not depend on it.
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import tempfile
import threading
from collections.abc import Callable
from typing import Any

from _harness import Batch, Case, Violation, run_batch, short
from _inputs import hold_locks

import cfcntl
import cfcntl.compat as compat

_FLOCK = "hh4xqqi4x"


@dataclasses.dataclass
class Context:
    held: int
    owned: tuple[int, int]
    hinted: tuple[int, int]
    holder: Any


def setup() -> Context:
    """A file another process holds locks on (0+10 write, 100+10 read); two pipes with
    different owners; two files with different write-life hints."""
    workdir = tempfile.mkdtemp(dir=".")
    path = os.path.join(workdir, "held")
    holder = hold_locks(path)
    held = os.open(path, os.O_RDWR)
    first, _ = os.pipe()
    second, _ = os.pipe()
    cfcntl.setown_ex(first, cfcntl.F_OWNER_PID, os.getpid())
    cfcntl.setown_ex(second, cfcntl.F_OWNER_TID, threading.get_native_id())
    hinted = []
    for hint in (cfcntl.RWH_WRITE_LIFE_SHORT, cfcntl.RWH_WRITE_LIFE_EXTREME):
        fd, _ = tempfile.mkstemp(dir=workdir)
        cfcntl.set_rw_hint(fd, hint)
        hinted.append(fd)
    return Context(held, (first, second), (hinted[0], hinted[1]), holder)


def _questions(ctx: Context) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Each function: (the loop's question, the interrupter's), answers that differ."""
    import struct

    def compat_getlk(start: int) -> Callable[[], Any]:
        request = struct.pack(_FLOCK, cfcntl.F_WRLCK, 0, start, 10, 0)
        return lambda: compat.fcntl(ctx.held, cfcntl.F_GETLK, request)

    return {
        "getlk": (
            lambda: cfcntl.getlk(ctx.held, cfcntl.F_WRLCK, 0, 10),
            lambda: cfcntl.getlk(ctx.held, cfcntl.F_WRLCK, 100, 10),
        ),
        "getown_ex": (
            lambda: cfcntl.getown_ex(ctx.owned[0]),
            lambda: cfcntl.getown_ex(ctx.owned[1]),
        ),
        "get_rw_hint": (
            lambda: cfcntl.get_rw_hint(ctx.hinted[0]),
            lambda: cfcntl.get_rw_hint(ctx.hinted[1]),
        ),
        "compat.fcntl F_GETLK": (compat_getlk(0), compat_getlk(100)),
    }


def make(rng: random.Random, index: int, ctx: Context) -> Case:
    name = sorted(_questions(ctx))[index % 4] if index < 8 else rng.choice(sorted(_questions(ctx)))
    by = "a signal handler" if index % 8 < 4 or rng.random() < 0.7 else "a thread"
    interval = rng.choice((50e-6, 100e-6, 200e-6, 500e-6))
    calls = rng.choice((2000, 4000))
    text = f"{name} x{calls}, interrupted by {by}" + (
        f" every {interval * 1e6:.0f} us" if by != "a thread" else ""
    )
    return Case(text, lambda: burst(ctx, name, by, interval, calls))


def _once_at_a_time(other: Callable[[], Any]) -> Callable[..., None]:
    """A SIGALRM handler that asks ``other``, unless it is itself what the signal
    interrupted: a handler slowed past the timer's interval (a loaded machine, a garbage
    collection) would otherwise nest in itself until RecursionError, which happened
    once in CI.  The caller's question is still interrupted at every tick."""
    busy = False

    def handler(*_: object) -> None:
        nonlocal busy
        if busy:
            return
        busy = True
        try:
            other()
        finally:
            busy = False

    return handler


def burst(ctx: Context, name: str, by: str, interval: float, calls: int) -> None:
    ask, other = _questions(ctx)[name]
    expected, theirs = ask(), other()
    assert expected != theirs, (expected, theirs)
    wrong: list[Any] = []
    stop = threading.Event()
    if by == "a thread":
        worker = threading.Thread(target=lambda: [other() for _ in iter(stop.is_set, True)])
        worker.start()
    else:
        previous = signal.signal(signal.SIGALRM, _once_at_a_time(other))
        signal.setitimer(signal.ITIMER_REAL, interval, interval)
    try:
        for _ in range(calls):
            answer = ask()
            if answer != expected:
                wrong.append(answer)
    finally:
        if by == "a thread":
            stop.set()
            worker.join()
        else:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if wrong:
        raise Violation(
            f"{name}: {by} changed the answer",
            f"{len(wrong)} of {calls} answers were not the call's own, e.g. {short(wrong[0])}"
            f" (its own: {short(expected)}; the interrupter's: {short(theirs)})",
        )


RACE = Batch("race", make, share=0.15, rate=80, setup=setup, minimum=16)


def test_answers_survive_handlers_and_threads() -> None:
    run_batch(__name__, RACE)
