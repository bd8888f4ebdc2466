#!/usr/bin/env python3
"""Run cfcntl's test suite on other CPUs, each in a Debian bookworm root (issue 16).

i386 runs natively (the kernel runs 32-bit x86 binaries); armhf, arm64, ppc64el, s390x
and mips64el run under Debian's qemu-user-static through binfmt_misc. Each root is made
with debootstrap --arch (--foreign and the second stage under qemu for the foreign ones)
from the host's mirror, with python3, its -dev and -venv packages, gcc and libc6-dev, the
device tests' tools (chroots.DEVICE_PACKAGES), and libffi-dev and pkg-config where cffi
has no wheel (cffi is then built from its source, as a user of that CPU must). The
checkout is copied, `pip install '.[test]'` runs in a fresh venv, then pytest; one line
per ABI: passed, failed, skipped, seconds.

The machinery is the interpreter matrix's (.ci/chroots.py): roots cached under
/var/cache/cfcntl-cpus (--cache), built in a temporary directory and renamed when
complete, a recipe number in the cache key; a private mount namespace; process groups;
a new logs directory /tmp/cfcntl-cpus-logs-*; a copy of the tree per run.

binfmt_misc is mounted (in the private namespace) if it is not, and a handler is
registered for each foreign ABI of the run that has none, under a name of this script's
(cfcntl-qemu-*), from qemu-user-static's own line in /usr/lib/binfmt.d with the F flag
(the emulator opened now, so that it runs in a chroot); exactly those handlers are
removed when the run ends, on an error or an interrupt too. Handlers that were there
before are used and left alone.

Needs root, debootstrap, unshare, qemu-user-static and network access to the mirror and
the package index. Exit status: 0 when every ABI asked for passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # chroots.py, beside this file
from chroots import (
    BASE_PACKAGES,
    DEVICE_PACKAGES,
    Result,
    Root,
    SetupError,
    cache_lock,
    capture,
    clean_runs,
    ensure_root,
    host_arch,
    host_mirror,
    host_pip_config,
    in_namespace as reexecute,
    place_in,
    plan_pip_env,
    progress,
    run_arguments,
    run_tests,
    set_up,
)

# Bump when the way a root is built changes, so that cached roots are rebuilt.
RECIPE = 1
SUITE = "bookworm"
DEFAULT_CACHE = Path("/var/cache/cfcntl-cpus")
NAMESPACE_ENV = "CFCNTL_CPUS_NAMESPACE"
# libpython3.11-testsuite: CPython's own fcntl tests, which tests/test_compat_cpython.py runs
PYTHON_PACKAGES = ("python3", "python3-dev", "python3-venv", "libpython3.11-testsuite")
# What building cffi from its source needs, where cffi has no wheel.
FFI_PACKAGES = ("libffi-dev", "pkg-config")
BINFMT = Path("/proc/sys/fs/binfmt_misc")
BINFMT_CONF = Path("/usr/lib/binfmt.d")
HANDLER_PREFIX = "cfcntl-"
REPORT = ("-m", "cfcntl", "report", "--json")


@dataclasses.dataclass(frozen=True)
class Abi:
    """One ABI: its Debian architecture, its qemu-user target (None: native) and whether
    cffi has a wheel for it."""

    arch: str
    qemu: str | None
    cffi_wheel: bool = True

    @property
    def packages(self) -> tuple[str, ...]:
        """What its root is built with."""
        ffi = () if self.cffi_wheel else FFI_PACKAGES
        return tuple(sorted({*BASE_PACKAGES, *DEVICE_PACKAGES, *PYTHON_PACKAGES, *ffi}))

    def root(self) -> Root:
        """Its Debian root."""
        return Root(SUITE, self.arch, self.packages, RECIPE)


ABIS = (
    Abi("i386", None),
    Abi("s390x", "s390x"),
    Abi("armhf", "arm", cffi_wheel=False),
    Abi("arm64", "aarch64"),
    Abi("ppc64el", "ppc64le"),
    Abi("mips64el", "mips64el", cffi_wheel=False),
)


# ---------------------------------------------------------------- binfmt_misc


def parse_binfmt_line(line: str) -> tuple[str, list[str]]:
    """A binfmt_misc registration line (:name:type:offset:magic:mask:interpreter:flags)
    as its name and the fields after it."""
    if len(line) < 2 or line[0] != ":":
        raise ValueError(f"not a binfmt_misc registration: {line!r}")
    fields = line.strip().split(line[0])[1:]
    if len(fields) != 7:
        raise ValueError(f"not 7 fields in {line!r}")
    return fields[0], fields[1:]


def registration(conf: str, name: str) -> str:
    """The line registering conf's handler (qemu-user-static's binfmt.d line) as name,
    with the F flag: the kernel opens the emulator at registration, so that it runs for
    a binary inside a chroot, where the emulator's path does not exist."""
    line = next(x for x in conf.splitlines() if x.startswith(":"))
    _, (kind, offset, magic, mask, interpreter, flags) = parse_binfmt_line(line)
    flags = "".join(sorted(set(flags) | {"F"}))
    return f":{name}:{kind}:{offset}:{magic}:{mask}:{interpreter}:{flags}"


def handler_magic(text: str) -> str:
    """The magic bytes of a registered handler (its /proc/sys/fs/binfmt_misc entry), as
    the lowercase hex digits the entry shows; empty if it is disabled."""
    if not text.startswith("enabled"):
        return ""
    found = re.search(r"^magic ([0-9a-f]+)$", text, re.M)
    return found.group(1) if found else ""


def conf_magic(conf: str) -> str:
    """The magic bytes of a binfmt.d line, as handler_magic shows them."""
    line = next(x for x in conf.splitlines() if x.startswith(":"))
    magic = parse_binfmt_line(line)[1][2]
    return magic.encode().decode("unicode_escape").encode("latin-1").hex()


@contextlib.contextmanager
def binfmt_handlers(targets: Sequence[str]) -> Iterator[None]:
    """A binfmt_misc handler for each qemu target, for the time of the with-block: a
    handler already registered with the same magic is used as it is; the others are
    registered under HANDLER_PREFIX + qemu-<target> and removed afterwards, whatever
    happens. Nothing else is touched."""
    if targets and not (BINFMT / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=True)
    present = (
        {
            handler_magic(p.read_text())
            for p in BINFMT.glob("*")
            if p.name not in ("register", "status")
        }
        if targets
        else set()
    )
    registered: list[Path] = []
    try:
        for target in targets:
            conf = (BINFMT_CONF / f"qemu-{target}.conf").read_text()
            if conf_magic(conf) in present:
                progress(f"binfmt_misc: qemu-{target}: a handler is registered already")
                continue
            name = f"{HANDLER_PREFIX}qemu-{target}"
            (BINFMT / "register").write_text(registration(conf, name))
            registered.append(BINFMT / name)
            progress(f"binfmt_misc: registered {name}")
        yield
    finally:
        for entry in reversed(registered):
            entry.write_text("-1")
            progress(f"binfmt_misc: removed {entry.name}")


@dataclasses.dataclass
class Row:
    """One ABI's outcome: the suite's result, the seconds its root took to build (None:
    it was cached) and the README table's cells from cfcntl's report there."""

    abi: Abi
    result: Result
    root_seconds: float | None = None
    facts: dict[str, str] = dataclasses.field(default_factory=dict)


# ---------------------------------------------------------------- what cfcntl's report says

# The constants of the README's table, as `python -m cfcntl report --json` gives them; the
# commands in decimal, a flag and the requests in hex (mips's O_NONBLOCK is 0x80).
FACT_CONSTANTS = ("F_GETLK", "F_OFD_GETLK", "O_NONBLOCK", "FIONREAD", "TIOCGWINSZ")
HEX_CONSTANTS = frozenset({"O_NONBLOCK", "FIONREAD", "TIOCGWINSZ"})
FACT_HEADER = (
    "| ABI | struct flock | l_pid at | F_GETLK | F_OFD_GETLK | O_NONBLOCK | FIONREAD"
    " | TIOCGWINSZ | _IOC_SIZEBITS | 'hhllhh' | 'hhqqi' | tests: passed, failed, skipped |"
)


def verdict(entry: dict[str, object]) -> str:
    """A hand-written format's verdict from the report: its size, and right or wrong."""
    return f"{entry['size']} bytes, " + ("right" if not entry["problems"] else "WRONG")


def facts(report: dict[str, Any]) -> dict[str, str]:
    """The README table's cells for one ABI, from cfcntl's report (--json) there."""
    flock = report["structs"]["struct flock"]
    pid = next(f for f in flock["fields"] if f["name"] == "l_pid")
    constants = report["constants"]
    cells = {"struct flock": f"{flock['size']} bytes", "l_pid at": str(pid["offset"])}
    for name in FACT_CONSTANTS:
        value = constants.get(name)
        cells[name] = (
            "absent" if value is None else f"{value:#x}" if name in HEX_CONSTANTS else str(value)
        )
    cells["_IOC_SIZEBITS"] = str(constants["_IOC_SIZEBITS"])
    for entry in flock["hand_written"]:
        cells[f"'{entry['format']}'"] = verdict(entry)
    return cells


def facts_table(rows: Sequence[Row]) -> str:
    """The README's table: one line per ABI, the cells of facts() and the test counts."""
    names = [c.strip() for c in FACT_HEADER.strip("|").split("|")][1:-1]
    lines = [FACT_HEADER, "|" + "---|" * (len(names) + 2)]
    for row in rows:
        r = row.result
        cells = " | ".join(row.facts.get(n, "?") for n in names)
        lines.append(
            f"| {row.abi.arch} | {cells} | {r.passed}, {r.failed + r.errors}, {r.skipped} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- the run


def select(only: str | None) -> list[Abi]:
    """The ABIs named by --only (all when None), in the script's order."""
    if not only:
        return list(ABIS)
    names = {name.strip() for name in only.split(",") if name.strip()}
    unknown = names - {a.arch for a in ABIS}
    if unknown:
        known = ", ".join(a.arch for a in ABIS)
        raise SystemExit(f"cpus.py: unknown ABI {', '.join(sorted(unknown))} (known: {known})")
    return [a for a in ABIS if a.arch in names]


def summary_line(row: Row) -> str:
    """One ABI's line: passed, failed (with errors), skipped, root, setup and test seconds."""
    r = row.result
    root = "cached" if row.root_seconds is None else f"{row.root_seconds:.0f}"
    how = "native" if row.abi.qemu is None else f"qemu-{row.abi.qemu}"
    return (
        f"{row.abi.arch:<9} {how:<14} {r.passed:>6} {r.failed + r.errors:>6}"
        f" {r.skipped:>7} {root:>6} {r.setup_seconds:>7.0f}"
        f" {r.test_seconds:>7.0f}  {r.status}" + (f": {r.note}" if r.note else "")
    )


def report(rows: Sequence[Row], logs: Path | str) -> bool:
    """Print one line per ABI, the failing tests and the README's table; whether every
    ABI passed."""
    print(
        f"\n{'ABI':<9} {'how':<14} {'passed':>6} {'failed':>6} {'skipped':>7} {'root s':>6}"
        f" {'setup s':>7} {'tests s':>7}  status"
    )
    for row in rows:
        print(summary_line(row))
    for row in rows:
        if row.result.failing:
            print(f"\n{row.abi.arch}: {len(row.result.failing)} failing")
            for test_id in row.result.failing:
                print(f"  {test_id}")
    if any(row.facts for row in rows):
        print(f"\n{facts_table([row for row in rows if row.facts])}")
    print(f"\nlogs: {logs}")
    return all(row.result.status == "passed" for row in rows)


def run_abi(
    abi: Abi,
    args: argparse.Namespace,
    mirror: str,
    pip_plan: tuple[dict[str, str], list[str]],
    logs: Path,
) -> Row:
    """Build or reuse abi's root, install cfcntl there, run the suite and the report."""
    result = Result(abi.arch, "setup failed")
    spec = abi.root()
    cached = (args.cache / spec.key).exists() and not args.rebuild
    try:
        root = ensure_root(spec, mirror, args.cache, logs, args.rebuild)
    except SetupError as error:
        result.note = str(error)
        return Row(abi, result)
    seconds = None if cached else root_build_seconds(root)
    with place_in(root, abi.arch, args.cache, pip_plan) as place:
        try:
            set_up("python3", (), place, args.tree, logs / f"{abi.arch}.log", result)
        except SetupError as error:
            result.note = str(error)
            return Row(abi, result, seconds)
        run_tests(place, args.pytest_args, logs, result)
        try:  # the README's table, from cfcntl's own report on this ABI
            python = f"{place.inside}/venv/bin/python"
            cells = facts(json.loads(capture(place.in_tree([python, *REPORT]))))
        except (SetupError, ValueError, KeyError) as error:
            result.status, result.note = "failed", f"python -m cfcntl report: {error}"
            cells = {}
    return Row(abi, result, seconds, cells)


def root_build_seconds(root: Path) -> float:
    """How long a root took to build, from its manifest."""
    seconds: float = json.loads((root / "cfcntl-matrix.json").read_text())["build_seconds"]
    return seconds


def run_cpus(args: argparse.Namespace) -> int:
    """Register the handlers, run each ABI, print the summary; the exit status."""
    abis = select(args.only)
    logs = Path(tempfile.mkdtemp(prefix="cfcntl-cpus-logs-"))
    progress(f"tree {args.tree}; cache {args.cache}; logs {logs}")
    rows: list[Row] = []
    with cache_lock(args.cache):
        clean_runs(args.cache)
        pip_env, host_paths, dropped = plan_pip_env(host_pip_config())
        if dropped:
            progress(f"pip settings not on this host, dropped: {' '.join(dropped)}")
        mirror = host_mirror()
        with binfmt_handlers([a.qemu for a in abis if a.qemu]):
            for abi in abis:
                if rows and not args.keep_going and rows[-1].result.status != "passed":
                    note = "stopped (see --keep-going)"
                    rows.append(Row(abi, Result(abi.arch, "not run", note=note)))
                    continue
                row = run_abi(abi, args, mirror, (pip_env, host_paths), logs)
                progress(f"{abi.arch}: {row.result.status} {row.result.note}".rstrip())
                rows.append(row)
    return 0 if report(rows, logs) else 1


def list_abis(abis: Sequence[Abi], cache: Path) -> None:
    """--list: each ABI, how it runs, its root and whether the root is cached."""
    for abi in abis:
        path = cache / abi.root().key
        how = "native" if abi.qemu is None else f"qemu-{abi.qemu}-static"
        state = "cached" if path.exists() else "not built"
        print(f"{abi.arch:<9} {how:<22} {path} ({state})")
        print(f"{'':<9} packages: {' '.join(abi.packages)}")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line; see --help."""
    parser = argparse.ArgumentParser(
        prog=".ci/cpus.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__,
        epilog="ABIs: " + ", ".join(a.arch for a in ABIS) + ".\nExamples:\n  .ci/cpus.py --list"
        "\n  .ci/cpus.py --only i386,s390x"
        "\n  .ci/cpus.py --only armhf -- -x -q tests/test_layout.py",
    )
    return run_arguments(parser, "ABIs", DEFAULT_CACHE, argv)


def main(argv: Sequence[str]) -> int:
    """Parse the command line; re-execute in a private mount namespace; run the ABIs."""
    args = parse_args(argv)
    if args.list:
        list_abis(select(args.only), args.cache)
        return 0
    if os.geteuid() != 0:
        raise SystemExit("cpus.py: run as root (debootstrap, chroot, mount, binfmt_misc)")
    if host_arch() != "amd64":
        raise SystemExit(f"cpus.py: made for an amd64 host, not {host_arch()}")
    rc = reexecute(Path(__file__).resolve(), argv, NAMESPACE_ENV, args.cache)
    return run_cpus(args) if rc is None else rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
