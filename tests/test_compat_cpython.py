"""CPython's own fcntl tests, run against ``cfcntl.compat`` and against the stdlib.

Each run is a fresh interpreter that, for compat, puts ``cfcntl.compat`` in
``sys.modules["fcntl"]`` before importing the test module, so the test module's
``fcntl`` is compat.  ``test_ioctl`` needs a controlling terminal: it runs in a child of
``pty.fork()``, whose pseudo-terminal is one; the CI needs none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = r"""
import json, os, sys, unittest

implementation, module, out = sys.argv[1:4]
if sys.implementation.name == "pypy":
    # PyPy's _testcapi compiles _testcapimodule.c at import, which Debian's
    # pypy3-lib-testsuite lacks (FileNotFoundError); None in sys.modules makes it the
    # ImportError that test.support handles, for both runs alike
    sys.modules.setdefault("_testcapi", None)
if implementation == "compat":
    import cfcntl.compat
    sys.modules["fcntl"] = cfcntl.compat


class Outcomes(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.outcomes = {}

    def addSuccess(self, test):
        self.outcomes[test.id()] = "pass"

    def addFailure(self, test, err):
        self.outcomes[test.id()] = "fail: " + self._exc_info_to_string(err, test)

    def addError(self, test, err):
        self.outcomes[test.id()] = "error: " + self._exc_info_to_string(err, test)

    def addSkip(self, test, reason):
        self.outcomes[test.id()] = "skip: " + reason


def run():
    suite = unittest.defaultTestLoader.loadTestsFromName("test." + module)
    result = Outcomes()
    suite.run(result)
    tested = sys.modules.get("test." + module)
    used = getattr(getattr(tested, "fcntl", None), "__name__", None)
    with open(out, "w") as f:
        json.dump({"fcntl": used, "outcomes": result.outcomes}, f)


if module == "test_ioctl":  # give it a controlling terminal
    import pty
    pid, master = pty.fork()
    if pid == 0:
        try:
            run()
        finally:
            os._exit(0)
    while True:
        try:
            if not os.read(master, 1024):
                break
        except OSError:  # EIO: the child's side closed
            break
    os.waitpid(pid, 0)
else:
    run()
"""


def run_suite(module: str, implementation: str, workdir: Path) -> dict[str, object]:
    out = workdir / f"{module}-{implementation}.json"
    subprocess.run(
        [sys.executable, "-c", RUNNER, implementation, module, str(out)],
        cwd=workdir,
        check=True,
        timeout=120,
        capture_output=True,
    )
    result: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return result


@pytest.mark.parametrize("module", ["test_fcntl", "test_ioctl"])
def test_cpython_suite_same_as_stdlib(module: str, tmp_path: Path) -> None:
    stdlib = run_suite(module, "stdlib", tmp_path)
    compat = run_suite(module, "compat", tmp_path)
    assert stdlib["fcntl"] == "fcntl"
    assert compat["fcntl"] == "cfcntl.compat"  # the tests really ran against compat
    assert compat["outcomes"] == stdlib["outcomes"]
    outcomes = compat["outcomes"]
    assert isinstance(outcomes, dict)
    assert "pass" in outcomes.values()  # not all skipped
    assert not [o for o in outcomes.values() if o.startswith(("fail", "error"))]
