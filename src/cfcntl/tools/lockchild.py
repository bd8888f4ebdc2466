"""A child process with a file open: the other process that lock checks need, since a
process never conflicts with its own POSIX locks (the report's parity check, the
benchmarks, the tests).

The child opens the file O_RDWR as ``fd``, runs the statements given on its command line,
says ``ready``, then runs each line it reads on its stdin and answers it with one JSON
line: ``["ok", value]`` (an expression's value; null for a statement) or
``["err", errno]`` for an OSError.  It holds what it locked until its stdin closes, when
it exits; ``signal.alarm`` ends it should the parent die while it sleeps in F_SETLKW.
Its names: ``fd``, ``path``, ``os``, ``fcntl``, ``cfcntl`` and ``struct_path`` (locks
the stdlib way, independent of cfcntl's calls).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ..constants import F_WRLCK
from ..locks import Flock

TIMEOUT = 10.0
"""Seconds the parent waits for any one line from the child."""

_CHILD = r"""
import fcntl, json, os, signal, sys
signal.alarm(int(sys.argv[1]))  # no child outlives a parent that died
path = sys.argv[2]
fd = os.open(path, os.O_RDWR)
import cfcntl
from cfcntl.tools import struct_path
names = {"fd": fd, "path": path, "os": os, "fcntl": fcntl, "cfcntl": cfcntl,
         "struct_path": struct_path}

def run(code):
    try:
        compiled = compile(code, "<parent>", "eval")
    except SyntaxError:
        compiled = compile(code, "<parent>", "exec")
    return eval(compiled, names)

for code in sys.argv[3:]:
    run(code)
print("ready", flush=True)
for line in sys.stdin:
    try:
        answer = ["ok", run(line)]
    except OSError as exc:
        answer = ["err", exc.errno]
    print(json.dumps(answer), flush=True)
"""


class Child:
    """A child process with ``fd`` open on ``path`` that ran ``setup`` (Python statements)
    and said ready; ``with`` stops it at the end of the block.

    ``lifetime`` bounds the child's life in seconds, whatever happens to the parent.
    RuntimeError if it does not get ready, with what it wrote to stderr.
    """

    def __init__(self, path: str | os.PathLike[str], *setup: str, lifetime: int = 600) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(lifetime), os.fspath(path), *setup],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        self.pid = self.proc.pid
        self._said = b""
        try:
            said = self.readline()
            if said != "ready":
                raise RuntimeError(f"the lock-holding child {self.pid} said {said!r}")
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> Child:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def readline(self, timeout: float = TIMEOUT) -> str:
        """The child's next line; RuntimeError after ``timeout`` or when it has exited."""
        out = self.proc.stdout
        assert out is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._said:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                raise RuntimeError(f"the lock-holding child {self.pid}: no line in {timeout} s")
            chunk = os.read(out.fileno(), 4096)
            if not chunk:
                self.proc.kill()
                self.proc.wait()
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"the lock-holding child {self.pid} exited:\n{err}")
            self._said += chunk
        line, _, self._said = self._said.partition(b"\n")
        return line.decode()

    def send(self, code: str) -> None:
        """Have the child run one line of Python; :meth:`answer` reads what it gave."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(code.encode() + b"\n")

    def answer(self, timeout: float = TIMEOUT) -> Any:
        """What the line sent last gave (JSON: a Flock comes as a list); OSError as the
        child's was."""
        status, value = json.loads(self.readline(timeout))
        if status == "err":
            raise OSError(value, os.strerror(value))
        return value

    def ask(self, code: str) -> Any:
        """:meth:`send` ``code``, then its :meth:`answer`."""
        self.send(code)
        return self.answer()

    def getlk(
        self, type: int = F_WRLCK, start: int = 0, length: int = 0, *, ofd: bool = False
    ) -> Flock | None:
        """cfcntl.getlk in the child: the lock it sees."""
        found = self.ask(f"cfcntl.getlk(fd, {type}, {start}, {length}, ofd={ofd})")
        return None if found is None else Flock(*found)

    def let_go(self) -> None:
        """Close the child's stdin: it exits, and the kernel drops its locks."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        if self.proc.wait(TIMEOUT) != 0:
            raise RuntimeError(f"the lock-holding child {self.pid} exited {self.proc.returncode}")

    def stop(self) -> None:
        """End the child (killed if it has not exited) and close its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


Hold = Callable[..., Child]
"""What the tests' ``hold`` fixture gives: start a :class:`Child` with these statements."""
WaitForWaiter = Callable[..., None]
"""What the tests' ``wait_for_waiter`` fixture gives: wait until a process (this pid, if
given) is blocked waiting for a lock on the file."""


class LockChild(Child):
    """``with LockChild(path, "posix:1:10:10", "ofd:1:50:10"):`` a child holds those locks
    (kind:type:start:length), taken the stdlib way, until the block ends."""

    def __init__(self, path: str | os.PathLike[str], *locks: str) -> None:
        super().__init__(
            path,
            *(
                f"struct_path.setlk(fd, {type}, {start}, {length}, ofd={kind == 'ofd'})"
                for kind, type, start, length in (spec.split(":") for spec in locks)
            ),
        )
