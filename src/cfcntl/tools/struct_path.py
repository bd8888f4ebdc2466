"""Record locks the stdlib way: ``struct.pack`` with the compiler's exact format,
``fcntl.fcntl``, ``struct.unpack``.  The reference every binding is checked against (the
report's parity check, the bench's checks, the tests), and the way the lock-holding child
takes its locks, independent of cfcntl's calls.

The command numbers are cfcntl's, from its compiled module: the stdlib ``fcntl`` may lack
some (PyPy 7.3's has no F_OFD_*).
"""

from __future__ import annotations

import fcntl
import os
import struct
from collections.abc import Callable
from typing import Any

from .. import constants
from ..layout import exact_format
from ..locks import Flock

FORMAT = exact_format("struct flock")
"""``struct flock`` as the compiler laid it out (``cfcntl.layout()``)."""


def getlk(
    fd: int,
    type: int = constants.F_WRLCK,
    start: int = 0,
    length: int = 0,
    whence: int = os.SEEK_SET,
    *,
    ofd: bool = False,
    call: Callable[..., Any] = fcntl.fcntl,
) -> Flock | None:
    """F_GETLK (F_OFD_GETLK) through ``call`` (``fcntl.fcntl``, or a drop-in with its
    signature), with cfcntl's signature: None when nothing conflicts."""
    cmd = constants.require("F_OFD_GETLK") if ofd else constants.F_GETLK
    query = struct.pack(FORMAT, type, whence, start, length, 0)
    answer = Flock(*struct.unpack(FORMAT, call(fd, cmd, query)))
    return None if answer.type == constants.F_UNLCK else answer


def setlk(
    fd: int,
    type: int,
    start: int = 0,
    length: int = 0,
    whence: int = os.SEEK_SET,
    *,
    ofd: bool = False,
) -> None:
    """F_SETLK (F_OFD_SETLK) through ``fcntl.fcntl``: BlockingIOError on a conflict."""
    cmd = constants.require("F_OFD_SETLK") if ofd else constants.F_SETLK
    fcntl.fcntl(fd, cmd, struct.pack(FORMAT, type, whence, start, length, 0))
