"""python -m cfcntl bench --locks: a --quick run of two contenders through the command
line, its JSON's structure, no lost update under cfcntl.Lock, and lost updates in the
control that takes no lock."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from cfcntl.tools import lockbench


@pytest.mark.usefixtures("timed_waits")
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
            "cfcntl-path,cfcntl-fd,raw-ofd-fd",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "bench --locks: handoff, 8 interleaved rounds" in proc.stderr  # the progress lines
    report = json.loads(out.read_text())
    rows = report["contenders"]
    assert list(rows) == ["cfcntl-path", "cfcntl-fd", "raw-ofd-fd", "none"]
    for name in ("cfcntl-path", "cfcntl-fd", "raw-ofd-fd"):
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
    targets = report["targets"]  # cfcntl-fd's against its floor; no pair for cfcntl-path
    assert [t["target"] for t in targets] == [
        f"cfcntl-fd vs raw-ofd-fd: {what}"
        for what in (
            "uncontended",
            "handoff median",
            "handoff p99",
            "contended N=2",
            "contended N=4",
        )
    ]
    assert all(t["ratio"] > 0 and t["met"] == (t["ratio"] <= t["bound"]) for t in targets)
    assert "targets (times the floor's cost" in proc.stdout


def test_contenders_without_their_module_are_left_out() -> None:
    names = [c.name for c in lockbench.available()]
    assert names[:5] == ["cfcntl-path", "cfcntl-fd", "raw-ofd-fd", "raw-ofd-open", "raw-flock-open"]
    for c in lockbench.CONTENDERS:
        assert (c.name in names) == (not c.needs or find_spec(c.needs) is not None)
    has = ["fasteners"] if find_spec("fasteners") else []
    assert [c.name for c in lockbench.available(["fasteners", "cfcntl-fd"])] == ["cfcntl-fd", *has]


def test_plot_and_the_peers_run(tmp_path: Path) -> None:
    """With matplotlib and the peers installed (CI's second pass): a one-contender-per-
    library quick run draws its figure, and every peer loses no update."""
    pytest.importorskip("matplotlib")
    peers = [c.name for c in lockbench.available(["filelock-1ms", "fasteners-1ms"])]
    if not peers:
        pytest.skip("neither filelock nor fasteners is installed (the peers extra)")
    report = lockbench.run(quick=True, only=peers, progress=False)
    assert all(
        c["lost"] == 0 for name in peers for c in report["contenders"][name]["contended"].values()
    )
    figure = tmp_path / "locks.png"
    lockbench.plot(report, str(figure))
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
