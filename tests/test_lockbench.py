"""python -m cfcntl bench --locks: a --quick run of two contenders through the command
line, its JSON's structure, no lost update under cfcntl.Lock, and lost updates in the
control that takes no lock."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

from cfcntl.tools import lockbench


def test_quick_run_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "locks.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cfcntl",
            "bench",
            "--locks",
            "--quick",
            "--only",
            "cfcntl-path,raw-ofd-fd",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "bench --locks: cfcntl-path: handoff" in proc.stderr  # the progress lines
    report = json.loads(out.read_text())
    rows = report["contenders"]
    assert list(rows) == ["cfcntl-path", "raw-ofd-fd", "none"]
    for name in ("cfcntl-path", "raw-ofd-fd"):
        row = rows[name]
        assert row["uncontended_ns"] > 0
        assert 0 < row["handoff_us"]["median"] <= row["handoff_us"]["p99"]
        assert {n: c["lost"] for n, c in row["contended"].items()} == {"2": 0, "4": 0}
        assert all(c["per_s"] > 0 for c in row["contended"].values())
    assert rows["cfcntl-path"]["timeout_ms"]["overshoot"] >= 0
    assert "timeout_ms" not in rows["raw-ofd-fd"]  # the raw call has no timeout
    assert sum(c["lost"] for c in rows["none"]["contended"].values()) > 0
    for name in rows:
        assert any(line.startswith(name) for line in proc.stdout.splitlines())


def test_contenders_without_their_module_are_left_out() -> None:
    names = [c.name for c in lockbench.available()]
    assert names[:5] == ["cfcntl-path", "cfcntl-fd", "raw-ofd-fd", "raw-ofd-open", "raw-flock-open"]
    for c in lockbench.CONTENDERS:
        assert (c.name in names) == (not c.needs or find_spec(c.needs) is not None)
    has = ["fasteners"] if find_spec("fasteners") else []
    assert [c.name for c in lockbench.available(["fasteners", "cfcntl-fd"])] == ["cfcntl-fd", *has]
