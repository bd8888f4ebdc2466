"""The pytest plugin of ``cfcntl check``: ``pytest -p cfcntl.check --cfcntl-check=report``
checks every ``fcntl.fcntl``/``fcntl.ioctl`` call of the test session (the machinery is
:mod:`cfcntl.tools.checker`) and lists the findings in the terminal summary;
``--cfcntl-check=strict`` raises each as the call is made and fails the session.

Registered as a pytest entry point, it does nothing unless ``--cfcntl-check`` is given.
"""

from __future__ import annotations

import sys
from typing import Any


def _not_rewritten() -> None:
    """Take cfcntl off pytest's list of modules to rewrite the asserts of.  pytest marks
    every module of a distribution that registers a plugin, and a rewritten module gains
    two names (``@py_builtins``, ``@pytest_ar``): cfcntl.compat would no longer have
    exactly the stdlib's names.  Only the modules imported with this one keep them."""
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        if type(finder).__name__ == "AssertionRewritingHook" and isinstance(marked, set):
            marked.discard("cfcntl")
            finder._marked_for_rewrite_cache.clear()  # type: ignore[attr-defined]


_not_rewritten()


def pytest_addoption(parser: Any) -> None:
    """Add ``--cfcntl-check=report|strict``."""
    parser.getgroup("cfcntl").addoption(
        "--cfcntl-check",
        choices=("report", "strict"),
        default=None,
        help="check fcntl.fcntl/fcntl.ioctl calls against the kernel's sizes (cfcntl): "
        "report the findings at the end, or raise each and fail the session (strict)",
    )


def pytest_configure(config: Any) -> None:
    """Install the checker when asked to."""
    mode = config.getoption("cfcntl_check")
    if mode:
        from .tools import checker

        checker.install(strict=mode == "strict")


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """Strict: any finding fails the session."""
    if session.config.getoption("cfcntl_check") == "strict":
        from .tools import checker

        if checker.findings() and exitstatus == 0:
            session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """The findings, one per call site, with their counts."""
    if not config.getoption("cfcntl_check"):
        return
    from .tools import checker

    found = [{**f._asdict(), "count": n} for f, n in checker.findings()]
    terminalreporter.section("cfcntl check")
    terminalreporter.write(checker.table(found))


def pytest_unconfigure(config: Any) -> None:
    """Give the stdlib module its functions back."""
    if config.getoption("cfcntl_check"):
        from .tools import checker

        checker.uninstall()
