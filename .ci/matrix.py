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
import contextlib
import ctypes
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

# Bump when the way a root is built changes, so that cached roots are rebuilt.
RECIPE = 1
DEFAULT_CACHE = Path("/var/cache/cfcntl-matrix")
PYENV_VERSIONS = Path("/root/.pyenv/versions")
BASE_PACKAGES = ("ca-certificates", "gcc", "libc6-dev")
# Inside a root, everything of a run lives under this directory, bound from the host.
RUN_MOUNT = "/cfcntl"
# pip's settings that name a package index.
INDEX_SETTINGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")
# A bind mount: (source, target, read-only).
Bind = tuple[str, Path, bool]
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
NAMESPACE_ENV = "CFCNTL_MATRIX_NAMESPACE"
# Filesystems the tests need, bound from the host in this order (unmounted in reverse).
BINDS = ("/proc", "/sys", "/dev", "/dev/pts", "/dev/shm")
APT_CONF = (
    "// sid's Release file is expired against this machine's clock\n"
    'Acquire::Check-Valid-Until "false";\n'
    'APT::Install-Recommends "false";\n'
)
PIP_TIMEOUT = 900
PYTEST_TIMEOUT = 1200
START = time.monotonic()


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


@dataclasses.dataclass
class Result:
    """What happened to one interpreter."""

    name: str
    status: str  # "passed", "failed", "setup failed", "not available", "not run"
    version: str = ""
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    setup_seconds: float = 0.0
    test_seconds: float = 0.0
    failing: list[str] = dataclasses.field(default_factory=list)
    note: str = ""


class SetupError(Exception):
    """An interpreter or a root could not be set up."""


# ---------------------------------------------------------------- output


def progress(message: str) -> None:
    """One progress line, with the seconds since the script started."""
    print(f"[{time.monotonic() - START:7.1f}s] {message}", flush=True)


def die_with_parent() -> None:
    """In a child before exec: be killed if this script dies (PR_SET_PDEATHSIG, SIGKILL),
    so that not even a SIGKILL of the script leaves a pytest running in a root."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run(
    argv: Sequence[str],
    log: Path,
    *,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run a command, its output appended to log; SetupError (with the log's last line) if it
    fails. The command gets its own process group, killed whole on a timeout or an
    interrupt."""
    with open(log, "a") as out:
        out.write(f"\n$ {shlex.join(argv)}\n")
        out.flush()
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        try:
            rc = proc.wait(timeout=timeout)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    if rc:
        command = shlex.join(argv[2:] if argv[0] == "chroot" else argv)
        command = command if len(command) < 100 else command[:97] + "..."
        last = [line for line in log.read_text().splitlines() if line.strip()][-1:]
        raise SetupError(f"{command} exited with {rc}" + "".join(f": {x}" for x in last))


def capture(argv: Sequence[str]) -> str:
    """A command's standard output; SetupError if it fails."""
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode:
        raise SetupError(f"{shlex.join(argv)}: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout


# ---------------------------------------------------------------- the Debian mirror


def parse_sources(text: str, *, deb822: bool) -> list[tuple[str, list[str]]]:
    """(URI, suites) of every enabled `deb` entry of an apt sources file."""
    entries = []
    if deb822:
        for stanza in re.split(r"\n\s*\n", text):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[:1].isspace():
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            if fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                entries.append((uri, fields.get("suites", "").split()))
    else:
        for line in text.splitlines():
            words = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()
            if len(words) >= 3 and words[0] == "deb":
                entries.append((words[1], [words[2]]))
    return entries


def choose_mirror(entries: Sequence[tuple[str, list[str]]], codename: str) -> str:
    """The URI of the entry serving the host's own release (not -security or -updates)."""
    for uri, suites in entries:
        if codename in suites:
            return uri.rstrip("/")
    raise SetupError(f"no apt source serves the host's release {codename!r}")


def host_mirror() -> str:
    """The Debian mirror this machine's apt is configured with."""
    entries = []
    files = [Path("/etc/apt/sources.list")]
    files += sorted(Path("/etc/apt/sources.list.d").glob("*"))
    for path in files:
        if path.suffix in (".list", ".sources") and path.is_file():
            entries += parse_sources(path.read_text(), deb822=path.suffix == ".sources")
    os_release = Path("/etc/os-release").read_text()
    found = re.search(r"^VERSION_CODENAME=\"?(\w+)", os_release, re.M)
    if not found:
        raise SetupError("/etc/os-release has no VERSION_CODENAME")
    return choose_mirror(entries, found.group(1))


# ---------------------------------------------------------------- roots


@dataclasses.dataclass(frozen=True)
class Root:
    """A Debian root: its suite, architecture and the packages asked of it.

    Only the host's architecture is built today; another one (issue 16) needs
    `debootstrap --arch A --foreign`, the second stage and every command under qemu-user,
    which is where build_root and the chroot commands would change."""

    suite: str
    arch: str
    packages: tuple[str, ...]

    @property
    def key(self) -> str:
        """The name of its cache directory: suite, architecture, hash of the recipe."""
        return f"{self.suite}-{self.arch}-{cache_hash(self.packages)}"


def cache_hash(packages: Sequence[str]) -> str:
    """A short hash of the package list and the build recipe."""
    text = json.dumps({"recipe": RECIPE, "packages": sorted(set(packages))})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def roots_for(interpreters: Sequence[Interpreter], arch: str) -> dict[str, Root]:
    """One root per suite, with the base packages and every interpreter's of that suite.

    The package list is that of the whole matrix, not of --only, so that a subset run
    shares the full run's roots."""
    packages: dict[str, list[str]] = {}
    for interp in INTERPRETERS:
        if interp.suite:
            packages.setdefault(interp.suite, list(BASE_PACKAGES)).extend(interp.packages)
    suites = {i.suite for i in interpreters if i.suite}
    return {s: Root(s, arch, tuple(sorted(set(packages[s])))) for s in packages if s in suites}


def parse_apt_policy(text: str) -> dict[str, str | None]:
    """Each package of `apt-cache policy` output with its candidate version (None: none)."""
    found: dict[str, str | None] = {}
    package = None
    for line in text.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            package = line[:-1]
            found[package] = None
        elif package and line.strip().startswith("Candidate:"):
            version = line.split(":", 1)[1].strip()
            found[package] = None if version == "(none)" else version
    return found


def chroot_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean environment for commands in a root."""
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "DEBIAN_FRONTEND": "noninteractive",
    }
    for name in (
        "CI",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
    ):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra or {})
    return env


def in_root(root: Path, *argv: str) -> list[str]:
    """argv run inside root, with nothing of the caller's environment."""
    return ["chroot", str(root), *argv]


def mounted_under(path: Path) -> list[str]:
    """The mount points at or below path, in this mount namespace."""
    prefix = str(path.resolve()).rstrip("/") + "/"
    points = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = line.split()[1].replace("\\040", " ")
        if (point + "/").startswith(prefix):
            points.append(point)
    return points


def remove_tree(path: Path) -> None:
    """rm -rf a root or a run directory, refusing while anything is mounted inside."""
    if mounted_under(path):
        raise SetupError(f"not removing {path}: still mounted: {mounted_under(path)}")
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True)


def stop_processes_in(root: Path) -> None:
    """Kill what the run left running inside root (processes whose root it is)."""
    target = str(root.resolve())
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.readlink(pid_dir / "root") == target:
                os.kill(int(pid_dir.name), signal.SIGKILL)


@contextlib.contextmanager
def mounts(pairs: Sequence[Bind]) -> Iterator[None]:
    """Bind each (source, target, read_only) in order; unmount in reverse, whatever happens."""
    done: list[Path] = []
    try:
        for source, target, read_only in pairs:
            options = "bind,ro" if read_only else "bind"
            subprocess.run(["mount", "-o", options, source, str(target)], check=True)
            done.append(target)
        yield
    finally:
        for target in reversed(done):
            if subprocess.run(["umount", str(target)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(target)], check=False)


def system_binds(root: Path) -> list[Bind]:
    """/proc, /sys, /dev, /dev/pts and /dev/shm of the host, bound into root."""
    pairs = []
    for path in BINDS:
        (root / path[1:]).mkdir(parents=True, exist_ok=True)
        pairs.append((path, root / path[1:], False))
    return pairs


def copy_resolv_conf(root: Path) -> None:
    """The host's resolver configuration, so that names resolve inside root."""
    target = root / "etc/resolv.conf"
    if target.is_symlink():
        target.unlink()
    shutil.copyfile("/etc/resolv.conf", target)


def build_root(spec: Root, mirror: str, cache: Path, log: Path) -> Path:
    """Build spec's root from nothing in a temporary directory; rename it when complete."""
    final = cache / spec.key
    partial = Path(tempfile.mkdtemp(prefix=f".{spec.key}.partial-", dir=cache))
    started = time.monotonic()
    if shutil.which("debootstrap") is None:
        raise SystemExit(
            f"matrix.py: no cached {spec.suite} root, and no debootstrap to build one: "
            "apt-get install debootstrap (.ci/run does)"
        )
    try:
        progress(f"{spec.suite}: debootstrap --variant=minbase from {mirror} (log {log})")
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--arch={spec.arch}",
                f"--include={','.join(BASE_PACKAGES)}",
                spec.suite,
                str(partial),
                mirror,
            ],
            log,
            timeout=1800,
        )
        (partial / "etc/apt/apt.conf.d/99cfcntl-matrix").write_text(APT_CONF)
        copy_resolv_conf(partial)
        (partial / RUN_MOUNT[1:]).mkdir()
        with mounts(system_binds(partial)):
            try:
                installed = install_packages(spec, partial, log)
            finally:
                stop_processes_in(partial)
        manifest = {
            "suite": spec.suite,
            "arch": spec.arch,
            "mirror": mirror,
            "requested": list(spec.packages),
            "installed": installed,
            "build_seconds": round(time.monotonic() - started, 1),
        }
        (partial / "cfcntl-matrix.json").write_text(json.dumps(manifest, indent=1) + "\n")
        partial.rename(final)
    except BaseException:
        remove_tree(partial)
        raise
    progress(f"{spec.suite}: root built in {time.monotonic() - started:.0f} s: {final}")
    return final


def install_packages(spec: Root, root: Path, log: Path) -> dict[str, str]:
    """Install the packages of spec the suite has (asking apt-cache); their versions."""
    env = chroot_env()
    progress(f"{spec.suite}: apt-get update")
    run(in_root(root, "apt-get", "update"), log, env=env, timeout=900)
    policy = capture(in_root(root, "apt-cache", "policy", *spec.packages))
    available = [p for p, v in parse_apt_policy(policy).items() if v]
    missing = sorted(set(spec.packages) - set(available))
    if missing:
        progress(f"{spec.suite}: not in the suite: {' '.join(missing)}")
    progress(f"{spec.suite}: apt-get install {len(available)} packages")
    run(in_root(root, "apt-get", "install", "-y", "-q", *available), log, env=env, timeout=1800)
    run(in_root(root, "apt-get", "clean"), log, env=env)
    query = capture(in_root(root, "dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *available))
    return dict(line.split(" ", 1) for line in query.splitlines())


def ensure_root(spec: Root, mirror: str, cache: Path, logs: Path, rebuild: bool) -> Path:
    """The cached root of spec, built (or rebuilt) first if needed."""
    final = cache / spec.key
    if final.exists() and rebuild:
        progress(f"{spec.suite}: --rebuild: removing {final}")
        remove_tree(final)
    if final.exists():
        progress(f"{spec.suite}: cached root {final}")
        return final
    for stale in cache.glob(f".{spec.key}.partial-*"):
        progress(f"{spec.suite}: removing an interrupted build {stale}")
        remove_tree(stale)
    return build_root(spec, mirror, cache, logs / f"root-{spec.suite}.log")


def root_installed(root: Path) -> dict[str, str]:
    """The packages a cached root was built with."""
    manifest = json.loads((root / "cfcntl-matrix.json").read_text())
    installed: dict[str, str] = manifest["installed"]
    return installed


# ---------------------------------------------------------------- pip's configuration


def parse_pip_config(text: str) -> dict[str, str]:
    """`pip config list` output as PIP_* variables; the environment's entries win."""
    from_files: dict[str, str] = {}
    from_env: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        section, _, option = key.rpartition(".")
        if not sep or section not in (":env:", "global", "install"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        name = "PIP_" + option.upper().replace("-", "_")
        (from_env if section == ":env:" else from_files)[name] = value
    return {**from_files, **from_env}


def plan_pip_env(
    config: dict[str, str],
    exists: Callable[[str], bool] = os.path.exists,
    host_dir: str = f"{RUN_MOUNT}/host",
) -> tuple[dict[str, str], list[str], list[str]]:
    """pip's settings for a root: (variables, host paths to bind, dropped paths).

    A local path or file:// URL of the host is bound under host_dir when it exists there,
    and dropped otherwise; a local index is bound with its parent directory, where a
    PEP 503 index keeps the files its pages link to (../../files/...). Everything else
    (URLs, numbers, flags) is kept as it is."""
    env: dict[str, str] = {}
    binds: list[str] = []
    dropped: list[str] = []
    for name, value in config.items():
        kept = []
        for word in value.split():
            scheme = "file://" if word.startswith("file://") else ""
            path = word[len(scheme) :].rstrip("/")
            if not path.startswith("/"):
                kept.append(word)
            elif exists(path):
                parent = os.path.dirname(path)
                binds.append(parent if name in INDEX_SETTINGS and parent != "/" else path)
                kept.append(f"{scheme}{host_dir}{path}")
            else:
                dropped.append(path)
        if kept:
            env[name] = " ".join(kept)
    outermost = [p for p in binds if not any(p.startswith(f"{q}/") for q in binds)]
    return env, sorted(set(outermost)), dropped


def host_pip_config() -> dict[str, str]:
    """The host's pip settings (its config files and PIP_* variables)."""
    return parse_pip_config(capture([sys.executable, "-m", "pip", "config", "list"]))


# ---------------------------------------------------------------- one interpreter


def tree_files(tree: Path) -> list[str]:
    """The checkout's tracked and untracked-not-ignored files."""
    out = capture(["git", "-C", str(tree), "ls-files", "-co", "--exclude-standard", "-z"])
    return [name for name in out.split("\0") if name]


def copy_tree(tree: Path, target: Path) -> int:
    """Copy the checkout's files into target; how many there were."""
    count = 0
    for name in tree_files(tree):
        source = tree / name
        if not os.path.lexists(source):
            continue  # deleted but not yet committed
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target / name)
        else:
            shutil.copy2(source, target / name)
        count += 1
    return count


def junit_id(case: ET.Element) -> str:
    """A pytest node id from a junit testcase: its classname is the dotted module path
    (where the test was collected) and then its Test* classes."""
    name = case.get("name", "")
    parts = case.get("classname", "").split(".") if case.get("classname") else []
    if not parts:  # a module that did not import: its dotted path is the name
        parts, name = name.split("."), ""
    classes = len(parts)
    while classes > 1 and parts[classes - 1].startswith("Test"):
        classes -= 1
    path = "/".join(parts[:classes]) + ".py"
    return "::".join([path, *parts[classes:], *([name] if name else [])])


def parse_junit(text: str) -> tuple[dict[str, int], list[str]]:
    """Counts (passed, failed, errors, skipped) and failing ids of a pytest junit report."""
    counts = dict.fromkeys(("passed", "failed", "errors", "skipped"), 0)
    failing = []
    for case in ET.fromstring(text).iter("testcase"):
        tags = {child.tag for child in case}
        if "failure" in tags:
            counts["failed"] += 1
            failing.append(junit_id(case))
        elif "error" in tags:
            counts["errors"] += 1
            failing.append(junit_id(case))
        elif "skipped" in tags:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts, failing


VERSION_CODE = (
    "import platform, sys; v = platform.python_version(); "
    "p = getattr(sys, 'pypy_version_info', None); "
    "print(f'PyPy {p.major}.{p.minor}.{p.micro} (Python {v})' if p else f'CPython {v}')"
)


@dataclasses.dataclass
class Place:
    """Where an interpreter runs: a root (or the host), its run directory and environment.

    `outside` is the run directory as the host sees it, `inside` as the interpreter does."""

    root: Path | None
    outside: Path
    inside: str
    env: dict[str, str]

    def argv(self, *argv: str) -> list[str]:
        """argv run where the interpreter lives."""
        return in_root(self.root, *argv) if self.root else list(argv)

    def in_tree(self, argv: Sequence[str]) -> list[str]:
        """argv run there, from the checkout's copy (chroot(8) starts in /)."""
        return self.argv("sh", "-c", f"cd {self.inside}/tree && exec {shlex.join(argv)}")


def run_interpreter(
    interp: Interpreter, place: Place, args: argparse.Namespace, logs: Path
) -> Result:
    """Copy the checkout, make a venv, pip install '.[test]', run pytest; the result."""
    result = Result(interp.name, "setup failed")
    try:
        set_up(interp, place, args.tree, logs / f"{interp.name}.log", result)
    except SetupError as error:
        result.note = str(error)
        return result
    run_tests(place, args.pytest_args, logs, result)
    return result


def set_up(interp: Interpreter, place: Place, tree: Path, log: Path, result: Result) -> None:
    """Copy the checkout, make a venv and pip install '.[test]' into it."""
    started = time.monotonic()
    count = copy_tree(tree, place.outside / "tree")
    for sub in ("tmp", "home"):
        (place.outside / sub).mkdir(exist_ok=True)
    progress(f"{interp.name}: copied {count} files; venv and pip install (log {log})")
    venv = f"{place.inside}/venv"
    run(place.argv(interp.command, "-m", "venv", venv), log, env=place.env)
    result.version = capture(place.argv(f"{venv}/bin/python", "-c", VERSION_CODE)).strip()
    pip = [f"{venv}/bin/python", "-m", "pip"]
    wheels = []
    if interp.pure_python:
        download = [*pip, "download", "--no-deps", "--only-binary", ":all:", "--implementation"]
        download += ["py", "--abi", "none", "--platform", "any", "-d", f"{place.inside}/wheels"]
        run(place.argv(*download, *interp.pure_python), log, env=place.env, timeout=PIP_TIMEOUT)
        wheels = [f"{place.inside}/wheels/{w.name}" for w in (place.outside / "wheels").iterdir()]
    run(
        place.in_tree([*pip, "install", *wheels, ".[test]"]),
        log,
        env=place.env,
        timeout=PIP_TIMEOUT,
    )
    result.setup_seconds = time.monotonic() - started
    progress(f"{interp.name}: {result.version} installed in {result.setup_seconds:.0f} s; pytest")


def run_tests(place: Place, pytest_args: Sequence[str], logs: Path, result: Result) -> None:
    """Run pytest in the venv with a junit report; read the counts and failing ids."""
    log = logs / f"{result.name}.log"
    junit = place.outside / "junit.xml"
    started = time.monotonic()
    # A module that does not import is an error, and the rest of the suite still runs.
    pytest = [f"{place.inside}/venv/bin/python", "-m", "pytest", "-p", "no:cacheprovider"]
    pytest += ["--continue-on-collection-errors", f"--junitxml={place.inside}/junit.xml"]
    try:
        env = {**place.env, "COLUMNS": "160"}  # the summary's lines, less truncated
        run(place.in_tree([*pytest, *pytest_args]), log, env=env, timeout=PYTEST_TIMEOUT)
        rc_ok = True
    except SetupError:
        rc_ok = False
    result.test_seconds = time.monotonic() - started
    if not junit.exists():
        result.status, result.note = "failed", f"pytest wrote no report (see {log})"
        return
    shutil.copyfile(junit, logs / f"{result.name}.junit.xml")
    counts, result.failing = parse_junit(junit.read_text())
    for field, value in counts.items():
        setattr(result, field, value)
    clean = rc_ok and not (result.failed or result.errors)
    result.status = "passed" if clean else "failed"
    if not clean and not result.failing:
        result.note = f"pytest failed with no failing test (see {log})"


def host_python312() -> Path | None:
    """The newest pyenv CPython 3.12 under /root/.pyenv/versions, if any."""
    found = sorted(
        PYENV_VERSIONS.glob("3.12.*/bin/python3.12"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parts[-3])],
    )
    return found[-1] if found else None


def root_place(
    root: Path,
    run_dir: Path,
    pip_env: dict[str, str],
    host_paths: Sequence[str],
    cache: Path,
) -> tuple[Place, list[Bind]]:
    """How to run in root: the Place and the binds it needs (system, run dir, pip's paths)."""
    pip_cache = cache / "pip-cache"
    pip_cache.mkdir(exist_ok=True)
    (run_dir / "pip-cache").mkdir()
    binds = [
        *system_binds(root),
        (str(run_dir), root / RUN_MOUNT[1:], False),
        (str(pip_cache), root / RUN_MOUNT[1:] / "pip-cache", False),
    ]
    for path in host_paths:
        target = run_dir / "host" / path[1:]
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.isdir(path):
            target.mkdir(exist_ok=True)
        else:
            target.touch()
        binds.append((path, root / RUN_MOUNT[1:] / "host" / path[1:], True))
    env = chroot_env(
        {
            **pip_env,
            "HOME": f"{RUN_MOUNT}/home",
            "TMPDIR": f"{RUN_MOUNT}/tmp",
            "PIP_CACHE_DIR": f"{RUN_MOUNT}/pip-cache",
        }
    )
    return Place(root, run_dir, RUN_MOUNT, env), binds


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
    run_dir = Path(tempfile.mkdtemp(prefix=f"{interp.name}-", dir=args.cache / "runs"))
    try:
        if root is None:
            env = {**os.environ, "TMPDIR": str(run_dir / "tmp")}
            place, binds = Place(None, run_dir, str(run_dir), env), list[Bind]()
        else:
            copy_resolv_conf(root)
            place, binds = root_place(root, run_dir, *pip_plan, args.cache)
        with mounts(binds):
            try:
                return run_interpreter(interp, place, args, logs)
            finally:
                if root is not None:
                    stop_processes_in(root)
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
    args.cache.mkdir(parents=True, exist_ok=True)
    logs = Path(tempfile.mkdtemp(prefix="cfcntl-matrix-logs-"))
    progress(f"tree {args.tree}; cache {args.cache}; logs {logs}")
    with open(args.cache / ".lock", "w") as lock:
        try:  # one run at a time per cache
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"waiting for another run using {args.cache}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        results = run_interpreters(interpreters, args, arch, logs)
    return 0 if report(results, logs) else 1


def run_interpreters(
    interpreters: Sequence[Interpreter], args: argparse.Namespace, arch: str, logs: Path
) -> list[Result]:
    """Each interpreter's result, building or reusing the roots on the way."""
    runs = args.cache / "runs"  # each interpreter's run directory, removed after it
    for stale in runs.glob("*"):  # left by a run that was killed
        remove_tree(stale)
    runs.mkdir(exist_ok=True)
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
    parser.add_argument(
        "--only", metavar="NAMES", help="comma-separated interpreters to run (default: all)"
    )
    parser.add_argument(
        "--tree",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="the checkout to test (default: the one this script is in)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"where roots are kept between runs (default: {DEFAULT_CACHE})",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build the roots used by this run from nothing"
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the interpreters, their roots and packages, and stop",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="run every interpreter even after one failed (default: stop)",
    )
    parser.add_argument(
        "pytest_args",
        nargs="*",
        metavar="-- PYTEST_ARGS",
        help="arguments for pytest instead of none (the whole suite)",
    )
    args = parser.parse_args(argv)
    args.tree, args.cache = args.tree.resolve(), args.cache.resolve()
    return args


def main(argv: Sequence[str]) -> int:
    """Parse the command line; re-execute in a private mount namespace; run the matrix."""
    args = parse_args(argv)
    arch = capture(["dpkg", "--print-architecture"]).strip()
    if args.list:
        list_matrix(select(args.only), args.cache, arch)
        return 0
    if os.geteuid() != 0:
        raise SystemExit("matrix.py: run as root (debootstrap, chroot and mount need it)")
    if os.environ.get(NAMESPACE_ENV) != "1":
        cmd = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            sys.executable,
            str(Path(__file__).resolve()),
            *argv,
        ]
        child = subprocess.Popen(cmd, env={**os.environ, NAMESPACE_ENV: "1"})
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda s, _f: child.send_signal(s))
        rc = child.wait()
        leaks = mounted_under(args.cache)
        if leaks:
            print(f"matrix.py: mounts left on the host: {leaks}", file=sys.stderr)
            return 1
        return rc
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda s, _f: sys.exit(128 + s))
    return run_matrix(args, arch)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
