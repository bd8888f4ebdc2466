"""``python -m cfcntl``: the command line."""

from __future__ import annotations

import argparse
import json
import sys


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
    locks.add_argument("path", metavar="PATH", help="the file whose locks to list")
    locks.add_argument("--json", action="store_true", help="print the locks as JSON")
    ben = jobs.add_parser(
        "bench",
        help="time cfcntl against the stdlib struct path, a ctypes binding and the C floor",
        description="Time each operation (getlk on a free range and on a held one, "
        "setlk lock+unlock, OFD lock+unlock, getfl, fionread, get_winsize, and one getter "
        "per device family: tiocoutq, if-mtu, figetbsz) through every implementation: the "
        "stdlib struct.pack + fcntl path (the reference; also the docs' 28-byte 'hhllhh' "
        "recipe), the same through `cfcntl check`'s wrappers, cfcntl, cfcntl.compat, the "
        "ctypes binding, and the C floor (the same syscall in a C loop). Every answer is "
        "checked once; the implementations run interleaved, round by round, and the table "
        "shows medians: ns per call, the "
        "stdlib's time over each one's (above 1: faster) and each one's over the floor's.",
        epilog="Timing is only as quiet as the machine: close other work for stable numbers.",
    )
    ben.add_argument(
        "--quick", action="store_true", help="5 short rounds instead of 15 (about 1 s)"
    )
    ben.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    ben.add_argument(
        "--beside",
        metavar="FILE",
        help="also print this run's table beside the one in FILE, which --json wrote "
        "(another interpreter's run, say)",
    )
    ben.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also draw ns per call by operation and implementation "
        "(needs matplotlib: pip install 'cfcntl[plot]')",
    )
    # -- issue 15: bench --locks --
    ben.add_argument(
        "--locks",
        action="store_true",
        help="instead, time cfcntl.Lock against the raw syscalls and filelock, portalocker "
        "and fasteners (those installed: the peers extra): uncontended cost, handoff, "
        "contended throughput with lost updates, timeout overshoot and CPU "
        "(--quick: under a minute)",
    )
    ben.add_argument(
        "--only",
        metavar="NAMES",
        help="with --locks: only these contenders (comma-separated, as the table names them)",
    )
    # -- issue 13: check and scan --
    chk = jobs.add_parser(
        "check",
        help="run a command with every Python process's fcntl.fcntl/ioctl calls checked",
        description="Run COMMAND with the stdlib fcntl module's fcntl and ioctl checked in "
        "every Python process it starts: each call whose command or request cfcntl knows has "
        "its argument's kind and size compared with what the kernel reads or writes, before "
        "the kernel sees it. The calls go on as the stdlib makes them; at the end a table "
        "on stderr lists each call site with a finding once, with its count.",
    )
    chk.add_argument(
        "--strict", action="store_true", help="raise cfcntl.tools.checker.CheckError instead"
    )
    chk.add_argument(
        "--fail-on-findings",
        action="store_true",
        help="exit 1 when COMMAND succeeded but there was a finding",
    )
    chk.add_argument("--json", metavar="FILE", help="also write the findings as JSON to FILE")
    chk.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND ...")
    scn = jobs.add_parser(
        "scan",
        help="find wrong-size buffers and hard-coded ioctl numbers in Python files",
        description="Read Python files with ast (never importing or running them) and "
        "report fcntl.fcntl/fcntl.ioctl calls with a wrong-size buffer or answer format, a "
        "hard-coded command or request number, a struct format that breaks on another ABI, "
        "or an int where the kernel takes a pointer. Exit 1 when there are findings.",
    )
    scn.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    scn.add_argument("--json", action="store_true", help="print the findings as JSON")
    return top


def locks(path: str, as_json: bool) -> int:
    """Print the locks on ``path``; 1 if it cannot be examined."""
    from . import holders

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
    """Run the job named on the command line; its exit status.  Each job imports only
    what it runs (``locks`` needs neither the benchmarks nor compat)."""
    args = parser().parse_args(argv)
    if args.job == "locks":
        return locks(args.path, args.json)
    if args.job == "bench" and args.locks:
        from .tools import lockbench

        only = args.only.split(",") if args.only else None
        return lockbench.main(quick=args.quick, json_path=args.json, plot_path=args.plot, only=only)
    if args.job == "bench":
        from .tools import bench

        return bench.main(
            quick=args.quick, json_path=args.json, plot_path=args.plot, beside_path=args.beside
        )
    if args.job == "check":
        from .tools import checker

        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        return checker.main(command, args.strict, args.fail_on_findings, args.json)
    if args.job == "scan":
        from .tools import scan

        return scan.main(args.paths, as_json=args.json)
    from .tools import report

    return report.main(as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
