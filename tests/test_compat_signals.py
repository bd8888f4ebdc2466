"""A signal handler that calls compat between another call's syscall and its answer.

Python runs a handler at the first check after the C call returns, which is where
compat reads what the kernel left in its copy of the argument, and the errno: the
handler's own call must use another copy, and its errno must not be the one read, or the
interrupted call returns the handler's bytes, or its error.
"""

from __future__ import annotations

import errno
import os
import termios
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

import cfcntl.compat as compat

Rearmed = Callable[..., AbstractContextManager[None]]  # conftest's rearmed fixture

CALLS = 50_000  # at one signal every 100 us, several hundred handler calls in between
INTERVAL = 0.0001
"""Seconds from one handler's end to the next signal natively; times the ``slowdown``
fixture under an emulator (qemu-user: about 25 times slower).  The timer is one-shot,
re-armed by the handler when it is done, so a handler slower than the interval (PyPy on
a loaded machine) slows the loop down instead of starving it for ever."""


@pytest.mark.parametrize(
    "call",
    [
        lambda fd, data: compat.fcntl(fd, compat.F_GETFD, data),  # F_GETFD ignores it
        lambda fd, data: compat.ioctl(fd, termios.FIOCLEX, data),  # so does FIOCLEX
    ],
    ids=["fcntl", "ioctl"],
)
def test_a_handler_calling_compat_cannot_change_an_answer(
    call: Callable[[int, bytes], object], slowdown: float, rearmed: Rearmed
) -> None:
    r, w = os.pipe()
    mine, theirs = b"m" * 32, b"t" * 32
    handled: list[object] = []
    interval = INTERVAL * slowdown
    wrong = 0
    try:
        with rearmed(lambda: handled.append(call(r, theirs)), interval):
            for _ in range(CALLS):
                if call(r, mine) != mine:
                    wrong += 1
    finally:
        os.close(r)
        os.close(w)
    assert len(handled) > 50  # the handler really ran between the calls
    assert set(handled) == {theirs}
    assert wrong == 0, f"{wrong} of {CALLS} calls returned the handler's bytes"


def test_a_handler_calling_compat_cannot_change_an_errno(slowdown: float, rearmed: Rearmed) -> None:
    """The handler's call fails with EBADF between another call's failure (EINVAL) and
    the moment its OSError is made: the errno must still be the first call's own."""
    r, w = os.pipe()
    unknown_command = 9999  # EINVAL

    def fail() -> None:
        with pytest.raises(OSError) as info:
            compat.fcntl(w + 1000, compat.F_GETFL)
        handled.append(info.value.errno)

    handled: list[object] = []
    interval = INTERVAL * slowdown
    wrong = 0
    try:
        with rearmed(fail, interval):
            for _ in range(CALLS):
                try:
                    compat.fcntl(r, unknown_command)
                except OSError as exc:
                    wrong += exc.errno != errno.EINVAL
    finally:
        os.close(r)
        os.close(w)
    assert len(handled) > 50
    assert set(handled) == {errno.EBADF}
    assert wrong == 0, f"{wrong} of {CALLS} failures carried the handler's errno"
