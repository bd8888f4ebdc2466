"""cfcntl.Lock with random ranges, modes and timeouts, with and without a conflicting lock.

Invariants: a Lock is made, or refused when it is made (or at acquire, for the range)
with the promised exception: TypeError for a number type it cannot take, ValueError for
a timeout it will not honour, OverflowError/ValueError for a range beyond off_t.  A timeout
it accepts is honoured, however long: a conflicting lock released 20 ms into the wait
means the lock is taken, never a raw OverflowError in the middle of the wait; a short
timeout against a lock that stays is TimeoutError.  A taken lock is seen by another open
file description, and gone after release.
"""

from __future__ import annotations

import decimal
import errno
import fcntl as stdlib
import fractions
import math
import os
import random
import struct
import tempfile
import threading
from typing import Any

from _harness import Batch, Case, Violation, describe, expect_raise, outcome, run_batch, short
from _inputs import BOUNDARIES, Number, any_number, fits, number

import cfcntl

_FLOCK = "hh4xqqi4x"
TIMEOUTS: tuple[Any, ...] = (
    None, 0, 0.0, 1e-9, 5e-324, 0.001, 0.01, 1, 2.5, 60, 1e10, 1e300, 10**400, 2**63, 2**64,
    float("inf"), float("nan"), -1, -0.0, -1e-9, True, False,
    decimal.Decimal("1"), fractions.Fraction(1, 2), "1", [1],
)  # fmt: skip
LONG = 1.0
"""A timeout at least this long outlasts a conflicting lock released after 20 ms."""


def _timeout_refusal(timeout: Any) -> tuple[bool, tuple[type[BaseException], ...]]:
    """(whether the Lock must refuse ``timeout`` when it is made, and with what it may):
    (False, ()) must be honoured; (False, types): honoured, or refused with those."""
    if timeout is None:
        return False, ()
    if isinstance(timeout, (bool, str, list)):
        return True, (TypeError,)
    if isinstance(timeout, (decimal.Decimal, fractions.Fraction)):
        return False, (TypeError, ValueError)  # a real number, but not an int or float
    if isinstance(timeout, float) and (math.isnan(timeout) or math.isinf(timeout)):
        return True, (ValueError,)
    if timeout < 0:
        return True, (ValueError,)
    if timeout > 1e9:
        return False, (ValueError,)  # the issue: honoured however long, or ValueError
    return False, ()


def make(rng: random.Random, index: int, ctx: Any) -> Case:
    timeout = TIMEOUTS[index % len(TIMEOUTS)] if index < 2 * len(TIMEOUTS) else rng.choice(TIMEOUTS)
    start = any_number(
        rng,
        rng.choice((0, 0, 10, 4096, *BOUNDARIES[::2]))
        if rng.random() < 0.4
        else rng.choice((0, 10, 100)),
        0.2,
    )
    length = any_number(
        rng,
        rng.choice((0, 1, 10, -5, *BOUNDARIES[::2]))
        if rng.random() < 0.4
        else rng.choice((0, 1, 100)),
        0.2,
    )
    if rng.random() < 0.5:
        start, length = (
            number(start.value if fits(start.value, "off_t") else 0, "int"),
            number(rng.choice((0, 1, 100)), "int"),
        )
    shared, ofd = rng.random() < 0.5, rng.random() < 0.7
    by_path = rng.random() < 0.5
    contended = rng.random() < 0.6
    text = (
        f"Lock({'path' if by_path else 'fd'}, shared={shared}, start={start.obj!r},"
        f" length={length.obj!r}, ofd={ofd}, timeout={short(timeout)}).acquire()"
        + (" against a conflicting lock" if contended else "")
    )
    return Case(text, lambda: check(timeout, start, length, shared, ofd, by_path, contended))


def check(
    timeout: Any,
    start: Number,
    length: Number,
    shared: bool,
    ofd: bool,
    by_path: bool,
    contended: bool,
) -> None:
    fd, path = tempfile.mkstemp(dir=".")
    other = os.open(path, os.O_RDWR)
    conflict = struct.pack(_FLOCK, stdlib.F_WRLCK, 0, 0, 0, 0)
    ofd_setlk = cfcntl.require("F_OFD_SETLK")
    try:
        made = outcome(
            lambda: cfcntl.Lock(
                path if by_path else fd,
                shared=shared,
                start=start.obj,
                length=length.obj,
                ofd=ofd,
                timeout=timeout,
            )
        )
        must, may = _timeout_refusal(timeout)
        in_range = not (start.refused or length.refused)
        in_range = in_range and fits(start.value, "off_t") and fits(length.value, "off_t")
        if must:
            if made[0] == "ok" and not in_range:
                return  # the Lock may leave the range to acquire, which then refuses it
            if not in_range:  # either may be named first
                may += (TypeError, OverflowError, ValueError)
            expect_raise(made, may, "a timeout the Lock cannot honour", f"timeout={short(timeout)}")
            return
        if made[0] == "raise":
            if may and isinstance(made[1], may):
                return  # refused when the Lock is made: allowed for this timeout
            _index_refused(made, start, length)
            if not in_range:
                _range_refused(made, start, length)
                return
            refused = type(made[1]).__name__
            category = f"a huge timeout refused with {refused}, not ValueError" if may else ""
            raise Violation(category or f"a valid Lock refused with {refused}", describe(made[1]))
        lock = made[1]
        if contended:
            stdlib.fcntl(other, ofd_setlk, conflict)
        long_wait = timeout is None or timeout >= LONG
        releaser = None
        if contended and long_wait:
            unlock = struct.pack(_FLOCK, stdlib.F_UNLCK, 0, 0, 0, 0)
            releaser = threading.Timer(0.02, stdlib.fcntl, (other, ofd_setlk, unlock))
            releaser.start()
        got = outcome(lock.acquire)
        if releaser is not None:
            releaser.join()
        _index_refused(got, start, length)
        if not in_range:
            _range_refused(got, start, length)
            return
        if got[0] == "raise" and getattr(got[1], "errno", None) in (errno.EINVAL, errno.EOVERFLOW):
            return  # a range the kernel refuses (before byte 0, past the largest offset)
        if contended and not long_wait:
            if got[0] == "ok":
                lock.release()
            if not (got[0] == "raise" and isinstance(got[1], TimeoutError)):
                raise Violation(
                    "a short timeout against a held lock did not time out", f"{got[1]!r}"
                )
            return
        if got[0] == "raise":
            when = "after the conflict went" if contended else "on a free file"
            raise Violation(f"acquire() raised {type(got[1]).__name__} {when}", describe(got[1]))
        seen = _seen(path, lock)
        lock.release()
        if seen is None:
            raise Violation(
                "an acquired Lock is not seen by another open file description", repr(lock)
            )
        if _seen(path, lock) is not None:
            raise Violation("a released Lock is still seen", repr(lock))
    finally:
        os.close(other)
        os.close(fd)
        os.unlink(path)


def _index_refused(got: tuple[str, Any], start: Number, length: Number) -> None:
    if got[0] == "raise" and isinstance(got[1], TypeError):
        for name, num in (("start", start), ("length", length)):
            if num.form == "index" and name in str(got[1]):
                raise Violation("__index__ refused", describe(got[1]))


def _range_refused(got: tuple[str, Any], start: Number, length: Number) -> None:
    names = []
    for name, num in (("start", start), ("length", length)):
        if num.refused or not fits(num.value, "off_t"):
            names.append(name)
    category = (
        "a refused number type in the range"
        if start.refused or length.refused
        else "a range beyond off_t"
    )
    types = (TypeError,) if category.startswith("a refused") else (OverflowError, ValueError)
    if start.refused or length.refused:
        types += (OverflowError, ValueError)  # the other one may be named first
    expect_raise(got, types, category, f"start={start.obj!r}, length={length.obj!r}")


def _seen(path: str, lock: cfcntl.Lock) -> Any:
    """The first lock a whole-file write lock from a new description would meet."""
    probe = os.open(path, os.O_RDONLY)
    try:
        answer = stdlib.fcntl(
            probe, cfcntl.require("F_OFD_GETLK"), struct.pack(_FLOCK, stdlib.F_WRLCK, 0, 0, 0, 0)
        )
        kind = struct.unpack(_FLOCK, answer)[0]
        return None if kind == stdlib.F_UNLCK else struct.unpack(_FLOCK, answer)
    finally:
        os.close(probe)


LOCK = Batch("lock", make, share=0.1, rate=220, minimum=60)


def test_lock_ranges_and_timeouts() -> None:
    run_batch(__name__, LOCK)
