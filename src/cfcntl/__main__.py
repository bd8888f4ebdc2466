"""``python -m cfcntl``: the command line."""

from __future__ import annotations

import argparse
import json
import sys

from . import holders, report


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
    locks = jobs.add_parser(
        "locks",
        help="every lock on a file and who holds it",
        description="List every fcntl (POSIX and OFD) and flock lock on PATH, held or "
        "waited for, with the holding process; OFD locks are traced to their holders "
        "through /proc/PID/fdinfo.",
    )
    locks.add_argument("path", metavar="PATH")
    locks.add_argument("--json", action="store_true", help="print the locks as JSON")
    return top


def locks(path: str, as_json: bool) -> int:
    """Print the locks on ``path``; 1 if it cannot be examined."""
    try:
        found = holders.file_locks(path)
    except OSError as exc:
        print(f"python -m cfcntl locks: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(holders.as_json(found), indent=2))
    else:
        print(holders.table(found) if found else f"no locks on {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the job named on the command line; its exit status."""
    args = parser().parse_args(argv)
    if args.job == "locks":
        return locks(args.path, args.json)
    return report.main(as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
