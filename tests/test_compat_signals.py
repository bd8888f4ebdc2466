"""A signal handler that calls compat between another call's syscall and its answer.

Python runs a handler at the first check after the C call returns, which is where
compat reads what the kernel left in its copy of the argument: the handler's own call
must use another copy, or the interrupted call returns the handler's bytes.
"""

from __future__ import annotations

import os
import signal
import termios
from collections.abc import Callable

import pytest

import cfcntl.compat as compat

CALLS = 50_000  # at one signal every 100 us, several hundred handler calls in between


@pytest.mark.parametrize(
    "call",
    [
        lambda fd, data: compat.fcntl(fd, compat.F_GETFD, data),  # F_GETFD ignores it
        lambda fd, data: compat.ioctl(fd, termios.FIOCLEX, data),  # so does FIOCLEX
    ],
    ids=["fcntl", "ioctl"],
)
def test_a_handler_calling_compat_cannot_change_an_answer(
    call: Callable[[int, bytes], object],
) -> None:
    r, w = os.pipe()
    mine, theirs = b"m" * 32, b"t" * 32
    handled: list[object] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: handled.append(call(r, theirs)))
    wrong = 0
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)
        for _ in range(CALLS):
            if call(r, mine) != mine:
                wrong += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.close(r)
        os.close(w)
    assert len(handled) > 50  # the handler really ran between the calls
    assert set(handled) == {theirs}
    assert wrong == 0, f"{wrong} of {CALLS} calls returned the handler's bytes"
