"""A child process holding record locks: the other process the parity check and the
benchmarks need, since a process never conflicts with its own POSIX locks."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from types import TracebackType

from .constants import F_SETLK, require
from .layout import layout

# Independent of cfcntl's calls: the stdlib path with the compiler's exact format
# (argv[2]); the command numbers (cmd:type:start:length) are cfcntl's, since the stdlib
# fcntl may lack some (PyPy 7.3's has no F_OFD_*).
_CHILD = r"""
import fcntl, os, signal, struct, sys
signal.alarm(600)  # no child outlives a parent that died without closing its stdin
fd = os.open(sys.argv[1], os.O_RDWR)
for spec in sys.argv[3:]:
    cmd, type_, start, length = map(int, spec.split(":"))
    fcntl.fcntl(fd, cmd, struct.pack(sys.argv[2], type_, os.SEEK_SET, start, length, 0))
print("ready", flush=True)
sys.stdin.read()
"""


class LockChild:
    """``with LockChild(path, "posix:1:10:10", "ofd:1:50:10"):`` a child process holds those
    locks (kind:type:start:length) on ``path`` until the block ends; ``pid`` is its pid."""

    def __init__(self, path: str, *locks: str, timeout: float = 10.0) -> None:
        fmt = layout()["struct flock"].format
        specs = [
            f"{require('F_OFD_SETLK') if kind == 'ofd' else F_SETLK}:{rest}"
            for kind, rest in (spec.split(":", 1) for spec in locks)
        ]
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, path, fmt, *specs],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.pid = self._proc.pid
        self._timeout = timeout

    def __enter__(self) -> LockChild:
        out = self._proc.stdout
        assert out is not None
        deadline = time.monotonic() + self._timeout
        said = b""
        while (
            not said.endswith(b"\n")
            and select.select([out], [], [], deadline - time.monotonic())[0]
        ):
            chunk = os.read(out.fileno(), 64)
            if not chunk:
                break
            said += chunk
        if said != b"ready\n":
            self.__exit__(None, None, None)
            raise RuntimeError(f"the lock-holding child {self.pid} did not get ready")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()
        try:
            self._proc.wait(self._timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
