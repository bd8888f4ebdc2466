"""Issue 10's findings, each with a test that failed before the fix: import cost, ...

Every test uses real kernel objects (pipes, files, pseudo-terminals) and, where a
crash or a hang is the failure, runs the case in a child process with a deadline.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import cfcntl

# --------------------------------------------------------------------------- import cost


def test_import_loads_no_tool_module() -> None:
    # import cfcntl once cost 36-57 ms, mostly importlib.metadata (for __version__) and
    # the ctypes binding that layout imported (ctypes, the stdlib fcntl and termios).
    probe = (
        "import sys, cfcntl\n"
        "print(' '.join(m for m in ('ctypes', 'fcntl', 'termios', 'importlib.metadata',"
        " 'typing') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    assert out.split() == []


def test_version_is_the_package_metadata() -> None:
    assert cfcntl.__version__ == importlib.metadata.version("cfcntl")


def test_layout_still_compares_the_ctypes_declaration() -> None:
    mirror = cfcntl.layout()["struct flock"].ctypes
    assert mirror is not None and mirror.source == "cfcntl.ctypes_binding.flock"
    assert mirror.problems == ()
