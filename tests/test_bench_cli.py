"""cfcntl.tools.bench and ``python -m cfcntl bench``: every contender checked, the table, the
ratios, the JSON, the plot's missing-matplotlib error, and the C floor's own checks."""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import cfcntl
from cfcntl.tools import bench
from cfcntl.tools._floor import lib


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cfcntl", *args], capture_output=True, text=True, timeout=60
    )


def test_quick_bench_table_and_json(tmp_path: Path, recipe_28_right: bool) -> None:
    out = tmp_path / "bench.json"
    proc = run("bench", "--quick", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "bench: round 5/5" in proc.stderr  # the progress line
    lines = proc.stdout.splitlines()
    for group in bench.GROUPS:
        assert any(line.startswith(group + " ") for line in lines), group
    data = json.loads(out.read_text())
    assert data["rounds"] == 5
    rows = {(r["group"], r["impl"]): r for r in data["rows"]}
    # the 28-byte recipe answers wrongly on a 32-bit ABI: a finding, not timed.  There the
    # kernel reads the struct flock's tail from what follows the 16 packed bytes in the
    # stdlib's buffer (uninitialized before 3.14), so a group's check can pass by chance
    # (getlk-conflict did under qemu-arm): every finding is a recipe, and there is one.
    recipes = {(c.group, c.impl) for c in bench.CONTENDERS if c.recipe}
    found = {tuple(key.split()) for key in data["findings"]}
    if recipe_28_right:
        assert found == set()
    else:
        assert found and found <= recipes
    assert all(f"finding: {key}: wrong answer" in proc.stdout for key in data["findings"])
    assert set(rows) == {(c.group, c.impl) for c in bench.CONTENDERS} - found
    for (group, impl), row in rows.items():
        assert len(row["samples"]) == 5 and row["median_ns"] > 0, (group, impl)
        if impl == bench.REFERENCE:
            assert row["speedup"] == 1.0
        if impl == "floor":
            assert row["over_floor"] == 1.0
    assert {t["group"] for t in data["targets"]} <= set(bench.GROUPS)
    assert bench.Results.from_json(data).to_json() == data  # what --beside reads
    for t in data["targets"]:
        assert f"target {t['group']} {t['impl']} " in proc.stdout
        assert ("met" if t["met"] else "MISSED") in proc.stdout


def test_help_names_every_option() -> None:
    proc = run("bench", "--help")
    assert proc.returncode == 0
    for option in ("--quick", "--json", "--beside", "--plot", "matplotlib", "floor", "interleaved"):
        assert option in proc.stdout


def test_plot_without_matplotlib_is_a_clear_error(tmp_path: Path) -> None:
    """Checked before anything runs: exit 2, the extra to install named."""
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from cfcntl.__main__ import main\n"
        f"sys.exit(main(['bench', '--quick', '--plot', {str(tmp_path / 'b.png')!r}]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "pip install 'cfcntl[plot]'" in proc.stderr
    assert proc.stdout == "" and not (tmp_path / "b.png").exists()


def test_plot_draws_a_png(tmp_path: Path) -> None:
    """In a child process: importing matplotlib starts numpy's BLAS threads, which would
    take the process-directed signals other tests wait for."""
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed (the plot extra)")
    png = tmp_path / "b.png"
    code = (
        "from cfcntl.tools import bench\n"
        f"bench.plot(bench.run(rounds=1, sample=0.0005), {str(png)!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


WRONG = [
    # (group, statement that answers wrongly, fast)
    ("getlk-free", "getlk(fd, W, 100, 100)"),  # the held range: not None
    ("getlk-conflict", "getlk(fd, W, 0, 100)"),  # a free range: None
    ("getlk-conflict", "(W, SET, 100, 100, 0)"),  # a constant: the wrong pid
    ("getfl", "getfl(r)"),  # another descriptor's flags
]


@pytest.mark.parametrize("group, stmt", WRONG)
def test_a_fast_wrong_answer_fails_its_check(group: str, stmt: str) -> None:
    """The checks bench runs before timing catch an implementation that answers wrongly."""
    right = next(c for c in bench.CONTENDERS if (c.group, c.impl) == (group, "cfcntl"))
    wrong = bench.Contender(group, "wrong", stmt, right.check, right.setup)
    with pytest.raises(bench.CheckFailed, match=f"^{group} wrong: "):
        bench.run(rounds=1, contenders=(right, wrong))


def test_a_lock_pair_that_never_locks_fails() -> None:
    right = next(c for c in bench.CONTENDERS if (c.group, c.impl) == ("setlk", "cfcntl"))
    lazy = bench.Contender("setlk", "lazy", "None", "held(None) and free(None)")
    with bench.Scene() as scene:
        scene.check(right, scene.function(right)())
        with pytest.raises(bench.CheckFailed):
            scene.check(lazy, scene.function(lazy)())


def test_the_c_floor_checks_the_kernels_answers(tmp_path: Path) -> None:
    """Each floor loop returns ns per call, or -1 when a call fails or answers otherwise."""
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    r, w = os.pipe()
    try:
        os.write(w, b"abc")
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        assert lib.cf_floor_getfl(fd, flags, 100) > 0
        assert lib.cf_floor_getfl(fd, flags ^ os.O_RDWR, 100) == -1
        assert lib.cf_floor_fionread(r, 3, 100) > 0
        assert lib.cf_floor_fionread(r, 4, 100) == -1
        getlk, setlk, wrlck = cfcntl.F_GETLK, cfcntl.F_SETLK, cfcntl.F_WRLCK  # 14, 6, 1 on mips
        assert lib.cf_floor_getlk(fd, getlk, wrlck, 0, 10, cfcntl.F_UNLCK, 100) > 0
        assert lib.cf_floor_getlk(fd, getlk, wrlck, 0, 10, wrlck, 100) == -1
        assert lib.cf_floor_setlk(fd, setlk, wrlck, 0, 10, 100) > 0
        assert lib.cf_floor_setlk(r, setlk, wrlck, 0, 10, 100) == -1  # a pipe's read end: EBADF
    finally:
        for d in (fd, r, w):
            os.close(d)


def test_ratios_and_verdicts() -> None:
    """speedup = stdlib / impl, over_floor = impl / floor, the targets judged from them."""
    rows = [
        bench.Row("getlk-free", "stdlib", [900.0, 1000.0, 1100.0]),
        bench.Row("getlk-free", "cfcntl", [700.0, 500.0, 600.0]),
        bench.Row("getlk-free", "floor", [300.0]),
        bench.Row("getfl", "stdlib", [200.0]),
        bench.Row("getfl", "cfcntl", [270.0]),
    ]
    results = bench.Results(rows, 3, bench.machine())
    cf = rows[1]
    assert cf.median == 600.0
    assert results.speedup(cf) == pytest.approx(1000 / 600)
    assert results.over_floor(cf) == 2.0
    assert results.over_floor(rows[4]) is None
    faster = bench.Target("getlk-free", "cfcntl", "faster", 1.3)
    assert results.verdict(faster) == (pytest.approx(1000 / 600), True)
    assert results.verdict(bench.Target("getlk-free", "cfcntl", "floor", 2.0)) == (2.0, True)
    assert results.verdict(bench.Target("getlk-free", "cfcntl", "floor", 1.9))[1] is False  # type: ignore[index]
    assert results.verdict(bench.Target("getfl", "cfcntl", "slower", 1.3)) == (1.35, False)
    assert results.verdict(bench.Target("fionread", "cfcntl", "faster", 1.2)) is None
    assert "MISSED" in bench.table(results) and "met" in bench.table(results)


def test_the_machine_names_the_interpreter() -> None:
    python = bench.machine()["python"]
    assert python.startswith(platform.python_version())
    assert ("PyPy" in python) == (platform.python_implementation() == "PyPy")


def _run_of(python: str, *medians: tuple[str, str, float]) -> bench.Results:
    rows = [bench.Row(group, impl, [ns]) for group, impl, ns in medians]
    return bench.Results(rows, 1, {**bench.machine(), "python": python})


def test_beside_lines_two_runs_up() -> None:
    """Each run's ns, ratios and verdicts in its own columns; a row one run lacks is blank."""
    ours = _run_of(
        "3.11.7", ("getfl", "stdlib", 200.0), ("getfl", "cfcntl", 100.0), ("getfl", "floor", 50.0)
    )
    theirs = _run_of("3.11.17 (PyPy 8.0.1)", ("getfl", "stdlib", 300.0), ("getfl", "cfcntl", 600.0))
    lines = bench.beside([ours, theirs]).splitlines()
    assert [label.strip() for label in lines[0].split("Python ")] == [
        "",
        "3.11.7",
        "3.11.17 (PyPy 8.0.1)",
    ]
    assert lines[2].split() == ["getfl", "stdlib", "200", "1.00x", "4.00x", "300", "1.00x"]
    assert lines[3].split() == ["cfcntl", "100", "2.00x", "2.00x", "600", "0.50x"]
    assert lines[4].split() == ["floor", "50", "4.00x", "1.00x"]
    assert (
        "target getfl cfcntl no more than 1.3x slower than the stdlib: 0.50x met | 2.00x MISSED"
        in lines
    )


def test_bench_beside_a_saved_run(tmp_path: Path) -> None:
    saved = tmp_path / "other.json"
    saved.write_text(
        json.dumps(_run_of("0.0.0 (Other 1.2.3)", ("getfl", "stdlib", 12345.0)).to_json())
    )
    proc = run("bench", "--quick", "--beside", str(saved))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = [i for i, line in enumerate(lines) if line.startswith("operation ")][1]
    assert "Python 0.0.0 (Other 1.2.3)" in lines[header - 1]
    assert "12345" in next(line for line in lines[header:] if line.startswith("getfl "))


def test_bench_beside_needs_a_saved_run(tmp_path: Path) -> None:
    """Checked before anything runs: exit 2."""
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    for path in (bad, tmp_path / "missing.json"):
        proc = run("bench", "--quick", "--beside", str(path))
        assert proc.returncode == 2 and proc.stdout == ""
        assert "--beside needs a file that --json wrote" in proc.stderr
