"""The README's usage example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_usage_example_runs(tmp_path: Path) -> None:
    usage = README.read_text(encoding="utf-8").split("## Usage", 1)[1]
    code = re.search(r"```python\n(.*?)```", usage, re.S)
    assert code is not None
    proc = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data.db").exists()
    assert int(proc.stdout.split()[0]) >= 1 << 20  # setpipe_sz's answer
