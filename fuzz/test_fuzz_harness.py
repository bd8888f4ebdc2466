"""The harness itself: a violation, an abort and a write past a buffer are each reported
with their case, and the batch goes on after a crash."""

from __future__ import annotations

import ctypes
import os
import random
from typing import Any

import pytest
from _harness import Batch, Case, Violation, run_batch


def _overrun() -> None:
    """Write 8 bytes past a 100-byte heap block, as the kernel does past a short buffer."""
    block = ctypes.create_string_buffer(100)  # more than ctypes keeps in the object
    ctypes.memset(block, 0x41, 108)


def make(rng: random.Random, index: int, ctx: Any) -> Case:
    if index == 3:
        return Case("os.abort()", os.abort)
    if index == 5:
        return Case("a broken invariant", lambda: (_ for _ in ()).throw(Violation("broken", "x")))
    if index == 7:
        return Case("a write past a heap block", _overrun)
    return Case(f"nothing ({rng.random():.3f})", lambda: None)


SELF = Batch("self", make, share=0.0, rate=100, minimum=10)


def test_violations_and_crashes_are_reported_with_their_cases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CFCNTL_FUZZ_CASE", raising=False)
    with pytest.raises(pytest.fail.Exception) as failed:
        run_batch(__name__, SELF)
    report = str(failed.value)
    assert "self: 10 cases" in report  # cases 4..9 ran after the crash at 3
    assert "VIOLATION (1 cases): broken" in report and "case 5: a broken invariant" in report
    assert "CRASH: killed by SIGABRT" in report and "case 3: os.abort()" in report
    assert "case 7: a write past a heap block" in report  # the debug allocator's abort
