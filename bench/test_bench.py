"""pytest-benchmark over cfcntl.tools.bench's table: one group per operation, one test per
implementation, every result asserted.

    pytest bench/                         # time them (pytest-benchmark's table)
    pytest bench/ --benchmark-disable     # run each once: a correctness test (.ci/run)

``python -m cfcntl bench`` times the same contenders interleaved, with the C floor as ns
per call; here a floor contender is one C loop of ``n`` (1000) calls, and
``extra_info["ns_per_call"]`` has its own figure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cfcntl.tools import bench


@pytest.fixture(scope="module")
def scene() -> Iterator[bench.Scene]:
    with bench.Scene() as s:
        yield s


@pytest.mark.parametrize(
    "contender", bench.CONTENDERS, ids=[f"{c.group}-{c.impl}" for c in bench.CONTENDERS]
)
def test_contender(benchmark: Any, scene: bench.Scene, contender: bench.Contender) -> None:
    benchmark.group = contender.group
    result = benchmark(scene.function(contender))
    scene.check(contender, result)
    if contender.floor:
        benchmark.extra_info["ns_per_call"] = result
