"""The fuzz suite's settings, printed in the header of every run (see _harness.py)."""

from __future__ import annotations

import _harness
import pytest


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"cfcntl fuzz: seed {_harness.seed()} (CFCNTL_FUZZ_SEED), budget {_harness.seconds():g} s"
        f" (CFCNTL_FUZZ_SECONDS), {_harness.jobs()} jobs (CFCNTL_FUZZ_JOBS)"
    )
