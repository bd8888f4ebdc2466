"""What each entry point imports, in a fresh interpreter: ``import cfcntl`` loads only what
the typed API needs (no tool, no ctypes, no stdlib fcntl or termios, no importlib.metadata,
typing, collections or re), and ``python -m cfcntl locks`` loads none of the tools (the
report, the bench)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import cfcntl

# -S: no site module, so no .pth file imports anything first; the package's own directory
# (site-packages, where cffi's backend lives too) goes on sys.path by hand.
SITE = os.path.dirname(os.path.dirname(cfcntl.__file__))
PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
before = set(sys.modules)
{run}
print(*sorted(set(sys.modules) - before), file=sys.stderr)
"""

NOT_FOR_THE_LIBRARY = (
    "ctypes",
    "fcntl",
    "termios",
    "importlib.metadata",
    "typing",
    "re",
    "collections",
)


def loaded_by(run: str, *args: str) -> tuple[list[str], str]:
    """(the modules ``run`` loaded in a fresh interpreter, what it printed)."""
    proc = subprocess.run(
        [sys.executable, "-S", "-c", PROBE.format(run=run), SITE, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.splitlines()[-1].split(), proc.stdout


@pytest.mark.parametrize("module", ["cfcntl", "cfcntl.compat"])
def test_import_loads_no_tool(module: str) -> None:
    loaded, _ = loaded_by(f"import {module}")
    assert module in loaded  # the probe sees what the import loads
    assert [m for m in loaded if m in NOT_FOR_THE_LIBRARY or m.startswith("cfcntl.tools")] == []


def test_a_tool_import_is_seen() -> None:
    """The probe can fail: importing the report loads the tools and what they need."""
    loaded, _ = loaded_by("import cfcntl.tools.report")
    assert {"cfcntl.tools.bench", "cfcntl.tools.ctypes_binding", "ctypes", "fcntl"} <= set(loaded)


def test_the_locks_job_loads_no_tool(path: Path) -> None:
    run = (
        "import runpy\nsys.argv = ['cfcntl', 'locks', sys.argv[2]]\n"
        "try:\n    runpy.run_module('cfcntl', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n    assert exc.code == 0, exc.code"
    )
    loaded, out = loaded_by(run, str(path))
    assert out == f"no locks on {path}\n"  # the job ran
    assert "cfcntl.holders" in loaded
    assert [m for m in loaded if m.startswith("cfcntl.tools") or m == "cfcntl.compat"] == []
