#!/usr/bin/env python3
"""Run cfcntl's test suite on every interpreter of the matrix, each in a Debian chroot.

CPython 3.13 and PyPy come from Debian trixie, CPython 3.14, 3.15 and PyPy from sid, each
in a root made with debootstrap (--variant=minbase) from the Debian mirror this machine's
apt uses; CPython 3.12 (which Debian does not package) runs on the host when pyenv has it
under /root/.pyenv/versions. For each interpreter the checkout's files (tracked and
untracked-not-ignored) are copied into a fresh directory, a fresh venv gets
`pip install '.[test]'` (non-editable), and `python -m pytest` runs with a junit report.

Roots are cached under /var/cache/cfcntl-matrix (--cache), one directory per suite,
architecture and package list; a root is built in a temporary directory and renamed when
complete, so an interrupted build is never taken for a finished one. A run changes a
cached root only by copying /etc/resolv.conf in: each interpreter works in a directory of
the cache's runs/ bound at /cfcntl (tree, venv, TMPDIR, HOME), removed afterwards, and the
host's pip settings (CA bundle, local indexes) are bound read-only under /cfcntl/host.

All mounts are made in a private mount namespace (the script re-executes itself under
unshare(1)), so none can outlive the run or show on the host, and are unmounted anyway;
commands run in their own process group, killed on a timeout or an interrupt, and die
with the script even if it is killed with SIGKILL.

Each interpreter's pip and pytest output and its junit report go to a new directory
/tmp/cfcntl-matrix-logs-*, named at the start and at the end; the summary gives one line
per interpreter and the ids of the failing tests. Without --keep-going the run stops after
the first interpreter that fails (the rest are "not run").

Needs root, debootstrap, unshare and network access to the mirror and the package index.
Exit status: 0 when every expected interpreter passed, 1 when one failed, errored or could
not be set up (an optional one that does not exist, 3.12 or 3.15, is only reported).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # chroots.py, beside this file
from chroots import (
    BASE_PACKAGES,
    DEVICE_PACKAGES,
    Place,
    Result,
    Root,
    SetupError,
    cache_lock,
    clean_runs,
    ensure_root,
    host_arch,
    host_mirror,
    host_pip_config,
    in_namespace,
    place_in,
    plan_pip_env,
    progress,
    remove_tree,
    root_installed,
    run_arguments,
    run_tests,
    set_up,
)

# Bump when the way a root is built changes, so that cached roots are rebuilt.
RECIPE = 1
DEFAULT_CACHE = Path("/var/cache/cfcntl-matrix")
PYENV_VERSIONS = Path("/root/.pyenv/versions")
NAMESPACE_ENV = "CFCNTL_MATRIX_NAMESPACE"


@dataclasses.dataclass(frozen=True)
class Interpreter:
    """One interpreter of the matrix: where it comes from and how to call it."""

    name: str  # what --only selects
    suite: str | None  # Debian suite of its root, None for the host (pyenv)
    command: str  # the interpreter, inside its root
    packages: tuple[str, ...] = ()
    required: bool = True  # False: report "not available" instead of failing
    pure_python: tuple[str, ...] = ()  # projects taken from their newest py3-none-any wheel


def cpython(version: str, suite: str, *, required: bool = True) -> Interpreter:
    """A Debian-packaged CPython with its headers, venv and stdlib test packages."""
    v = version
    packages = (f"python{v}", f"python{v}-dev", f"python{v}-venv", f"libpython{v}-testsuite")
    return Interpreter(version, suite, f"python{version}", packages, required)


def pypy(name: str, suite: str) -> Interpreter:
    """Debian's PyPy 3 of a suite.

    hypothesis's newest releases have a native part: PyPy 8.0 has no wheel of it (its
    source build wants a Rust toolchain) and the PyPy 7.3 wheel does not load on Debian's
    7.3.19 (undefined symbol PyPyModule_FromDefAndSpec2), so hypothesis comes from its
    newest pure-Python wheel (issue 11)."""
    packages = ("pypy3", "pypy3-dev", "pypy3-venv", "pypy3-lib-testsuite")
    return Interpreter(name, suite, "pypy3", packages, pure_python=("hypothesis",))


INTERPRETERS = (
    Interpreter("3.12", None, "python3.12", required=False),
    cpython("3.13", "trixie"),
    pypy("pypy-7.3", "trixie"),
    cpython("3.14", "sid"),
    cpython("3.15", "sid", required=False),
    pypy("pypy-8.0", "sid"),
)


def roots_for(interpreters: Sequence[Interpreter], arch: str) -> dict[str, Root]:
    """One root per suite, with the base and device packages and every interpreter's of
    that suite.

    The package list is that of the whole matrix, not of --only, so that a subset run
    shares the full run's roots."""
    packages: dict[str, list[str]] = {}
    for interp in INTERPRETERS:
        if interp.suite:
            packages.setdefault(interp.suite, [*BASE_PACKAGES, *DEVICE_PACKAGES]).extend(
                interp.packages
            )
    suites = {i.suite for i in interpreters if i.suite}
    return {
        s: Root(s, arch, tuple(sorted(set(packages[s]))), RECIPE) for s in packages if s in suites
    }


def run_interpreter(
    interp: Interpreter, place: Place, args: argparse.Namespace, logs: Path
) -> Result:
    """Copy the checkout, make a venv, pip install '.[test]', run pytest; the result."""
    result = Result(interp.name, "setup failed")
    try:
        set_up(
            interp.command,
            interp.pure_python,
            place,
            args.tree,
            logs / f"{interp.name}.log",
            result,
        )
    except SetupError as error:
        result.note = str(error)
        return result
    run_tests(place, args.pytest_args, logs, result)
    return result


def host_python312() -> Path | None:
    """The newest pyenv CPython 3.12 under /root/.pyenv/versions, if any."""
    found = sorted(
        PYENV_VERSIONS.glob("3.12.*/bin/python3.12"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parts[-3])],
    )
    return found[-1] if found else None


def matrix_entry(
    interp: Interpreter,
    root: Path | None,
    args: argparse.Namespace,
    pip_plan: tuple[dict[str, str], list[str]],
    logs: Path,
) -> Result:
    """Set up and run one interpreter; whatever happens, unmount and clean up."""
    if interp.suite is None:
        python = host_python312()
        if python is None:
            return Result(interp.name, "not available", note=f"no {PYENV_VERSIONS}/3.12.*")
        interp = dataclasses.replace(interp, command=str(python))
    elif root is None:
        return Result(interp.name, "setup failed", note=f"no {interp.suite} root")
    elif missing := sorted(set(interp.packages) - set(root_installed(root))):
        status = "setup failed" if interp.required else "not available"
        return Result(interp.name, status, note=f"{interp.suite} lacks {' '.join(missing)}")
    if root is not None:
        with place_in(root, interp.name, args.cache, pip_plan) as place:
            return run_interpreter(interp, place, args, logs)
    run_dir = Path(tempfile.mkdtemp(prefix=f"{interp.name}-", dir=args.cache / "runs"))
    try:
        env = {**os.environ, "TMPDIR": str(run_dir / "tmp")}
        return run_interpreter(interp, Place(None, run_dir, str(run_dir), env), args, logs)
    finally:
        remove_tree(run_dir)


# ---------------------------------------------------------------- the whole matrix


def report(results: Sequence[Result], logs: Path) -> bool:
    """Print one line per interpreter and the failing tests; whether all went well."""
    print(
        f"\n{'interpreter':<30} {'passed':>6} {'failed':>6} {'errors':>6} {'skipped':>7}"
        f" {'setup s':>7} {'tests s':>7}  status"
    )
    ok = True
    for r in results:
        label = r.version or r.name
        print(
            f"{label:<30} {r.passed:>6} {r.failed:>6} {r.errors:>6} {r.skipped:>7}"
            f" {r.setup_seconds:>7.0f} {r.test_seconds:>7.0f}  {r.status}"
            + (f": {r.note}" if r.note else "")
        )
        ok &= r.status in ("passed", "not available")
    for r in results:
        if r.failing:
            print(f"\n{r.version or r.name}: {len(r.failing)} failing")
            for test_id in r.failing:
                print(f"  {test_id}")
    print(f"\nlogs: {logs}")
    return ok


def select(only: str | None) -> list[Interpreter]:
    """The interpreters named by --only (all when None), in the matrix's order."""
    if not only:
        return list(INTERPRETERS)
    names = {name.strip() for name in only.split(",") if name.strip()}
    unknown = names - {i.name for i in INTERPRETERS}
    if unknown:
        known = ", ".join(i.name for i in INTERPRETERS)
        raise SystemExit(
            f"matrix.py: unknown interpreter {', '.join(sorted(unknown))} (known: {known})"
        )
    return [i for i in INTERPRETERS if i.name in names]


def list_matrix(interpreters: Sequence[Interpreter], cache: Path, arch: str) -> None:
    """--list: each interpreter, its root and whether the root is cached."""
    roots = roots_for(interpreters, arch)
    for interp in interpreters:
        if interp.suite is None:
            python = host_python312()
            where = f"host: {python}" if python else f"host: not available ({PYENV_VERSIONS})"
        else:
            path = cache / roots[interp.suite].key
            state = "cached" if path.exists() else "not built"
            where = f"{interp.suite} root {path} ({state})"
        optional = "" if interp.required else " [optional]"
        print(f"{interp.name:<9} {interp.command:<11} {where}{optional}")
        if interp.packages:
            print(f"{'':<9} packages: {' '.join(interp.packages)}")


def run_matrix(args: argparse.Namespace, arch: str) -> int:
    """Build or reuse the roots, run each interpreter, print the summary; the exit status."""
    interpreters = select(args.only)
    logs = Path(tempfile.mkdtemp(prefix="cfcntl-matrix-logs-"))
    progress(f"tree {args.tree}; cache {args.cache}; logs {logs}")
    with cache_lock(args.cache):
        results = run_interpreters(interpreters, args, arch, logs)
    return 0 if report(results, logs) else 1


def run_interpreters(
    interpreters: Sequence[Interpreter], args: argparse.Namespace, arch: str, logs: Path
) -> list[Result]:
    """Each interpreter's result, building or reusing the roots on the way."""
    clean_runs(args.cache)  # each interpreter's run directory, removed after it
    pip_env, host_paths, dropped = plan_pip_env(host_pip_config())
    if dropped:
        progress(f"pip settings not on this host, dropped: {' '.join(dropped)}")
    specs = roots_for(interpreters, arch)
    mirror = host_mirror() if specs else ""
    roots: dict[str, Path | None] = {}
    results: list[Result] = []
    for interp in interpreters:
        if results and not args.keep_going and results[-1].status in ("failed", "setup failed"):
            results.append(Result(interp.name, "not run", note="stopped (see --keep-going)"))
            continue
        if interp.suite and interp.suite not in roots:
            try:
                roots[interp.suite] = ensure_root(
                    specs[interp.suite], mirror, args.cache, logs, args.rebuild
                )
            except SetupError as error:
                progress(f"{interp.suite}: {error}")
                roots[interp.suite] = None
        result = matrix_entry(
            interp,
            roots.get(interp.suite) if interp.suite else None,
            args,
            (pip_env, host_paths),
            logs,
        )
        progress(f"{interp.name}: {result.status} {result.note}".rstrip())
        results.append(result)
    return results


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line; see --help."""
    parser = argparse.ArgumentParser(
        prog=".ci/matrix.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__,
        epilog="Interpreters: "
        + ", ".join(i.name + ("" if i.required else " (optional)") for i in INTERPRETERS)
        + ".\nExamples:\n  .ci/matrix.py --list\n  .ci/matrix.py --only 3.14,pypy-8.0"
        "\n  .ci/matrix.py --only 3.13 -- -x -q tests/test_compat.py",
    )
    return run_arguments(parser, "interpreters", DEFAULT_CACHE, argv)


def main(argv: Sequence[str]) -> int:
    """Parse the command line; re-execute in a private mount namespace; run the matrix."""
    args = parse_args(argv)
    arch = host_arch()
    if args.list:
        list_matrix(select(args.only), args.cache, arch)
        return 0
    if os.geteuid() != 0:
        raise SystemExit("matrix.py: run as root (debootstrap, chroot and mount need it)")
    rc = in_namespace(Path(__file__).resolve(), argv, NAMESPACE_ENV, args.cache)
    return run_matrix(args, arch) if rc is None else rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
