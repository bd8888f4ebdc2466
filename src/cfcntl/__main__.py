"""``python -m cfcntl``: the command line."""

from __future__ import annotations

import argparse
import sys

from . import report


def parser() -> argparse.ArgumentParser:
    """The command-line parser: one sub-command per job."""
    top = argparse.ArgumentParser(
        prog="python -m cfcntl",
        description="Linux fcntl(2) through cffi, with every layout and constant "
        "taken from the C compiler reading the system headers.",
    )
    jobs = top.add_subparsers(dest="job", metavar="JOB", required=True)
    rep = jobs.add_parser(
        "report",
        help="struct layouts (compiler vs struct module) and the constants the headers define",
        description="Print the layout of each struct cfcntl passes to the kernel as the "
        "C compiler laid it out, beside what the struct module makes of the formats "
        "people write by hand, and which fcntl constants the build's headers define.",
    )
    rep.add_argument("--json", action="store_true", help="print the report as JSON")
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the job named on the command line; its exit status."""
    args = parser().parse_args(argv)
    return report.main(as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
