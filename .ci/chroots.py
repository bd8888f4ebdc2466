"""What the interpreter matrix (.ci/matrix.py) and the CPU matrix (.ci/cpus.py) share.

Debian roots made with debootstrap from the host's mirror, cached (built in a temporary
directory, renamed when complete; a recipe number in the cache key), bound into with the
host's /proc, /sys and /dev in a private mount namespace; commands run in their own
process group, killed on a timeout or an interrupt and with the script; a per-run copy of
the checkout, pip's settings of the host, pytest with a junit report and its summary.
Not a script: both scripts import it from their own directory.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import fcntl
import functools
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

BASE_PACKAGES = ("ca-certificates", "gcc", "libc6-dev")
# What the device ioctl tests compare with or make their objects with (mkfs, sfdisk, ip),
# so that they run in every root instead of skipping.
DEVICE_PACKAGES = ("btrfs-progs", "e2fsprogs", "fdisk", "iproute2", "xfsprogs")
# Inside a root, everything of a run lives under this directory, bound from the host.
RUN_MOUNT = "/cfcntl"
# pip's settings that name a package index.
INDEX_SETTINGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")
# A bind mount: (source, target, read-only).
Bind = tuple[str, Path, bool]
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Filesystems the tests need, bound from the host in this order (unmounted in reverse).
BINDS = ("/proc", "/sys", "/dev", "/dev/pts", "/dev/shm")
APT_CONF = (
    "// sid's Release file is expired against this machine's clock\n"
    'Acquire::Check-Valid-Until "false";\n'
    'APT::Install-Recommends "false";\n'
)
PIP_TIMEOUT = 900
PYTEST_TIMEOUT = 2400  # the suite under qemu-user: 10 to 14 min alone, twice that beside others
START = time.monotonic()


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
        command = shlex.join(argv[2:] if argv[0] == "chroot" else argv)
        command = command if len(command) < 100 else command[:97] + "..."
        try:
            rc = proc.wait(timeout=timeout)
        except BaseException as error:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if isinstance(error, subprocess.TimeoutExpired):
                out.write(f"\n[killed: timed out after {timeout:.0f} s]\n")
                raise SetupError(f"{command} timed out after {timeout:.0f} s") from None
            raise
    if rc:
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
    """A Debian root: its suite, architecture, the packages asked of it and the recipe
    number of the script that builds it (bumped when the way a root is built changes, so
    that cached roots are rebuilt)."""

    suite: str
    arch: str
    packages: tuple[str, ...]
    recipe: int = 1

    @property
    def key(self) -> str:
        """The name of its cache directory: suite, architecture, hash of the recipe."""
        return f"{self.suite}-{self.arch}-{cache_hash(self.packages, self.recipe)}"

    @property
    def label(self) -> str:
        """How progress lines name it."""
        return f"{self.suite}/{self.arch}"


def cache_hash(packages: Sequence[str], recipe: int = 1) -> str:
    """A short hash of the package list and the build recipe."""
    text = json.dumps({"recipe": recipe, "packages": sorted(set(packages))})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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
    """root bound onto itself, so that the chroot's / is a mount point (else a test's
    ``unshare --mount --propagation private`` fails with EINVAL there, as it cannot make
    / private); then /proc, /sys, /dev, /dev/pts and /dev/shm of the host, bound into it."""
    pairs: list[Bind] = [(str(root), root, False)]
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
            f"no cached {spec.label} root, and no debootstrap to build one: "
            "apt-get install debootstrap (.ci/run does)"
        )
    foreign = spec.arch != host_arch()
    try:
        progress(f"{spec.label}: debootstrap --variant=minbase from {mirror} (log {log})")
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--arch={spec.arch}",
                *(["--foreign"] if foreign else []),
                f"--include={','.join(BASE_PACKAGES)}",
                spec.suite,
                str(partial),
                mirror,
            ],
            log,
            timeout=1800,
        )
        if foreign:  # the second stage runs the root's own binaries: under qemu-user
            progress(f"{spec.label}: debootstrap --second-stage")
            run(in_root(partial, "/debootstrap/debootstrap", "--second-stage"), log, timeout=3600)
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
        # an interrupted second stage leaves its own /proc and /sys mounted in the root
        for point in reversed(mounted_under(partial)):
            subprocess.run(["umount", "-l", point], check=False)
        remove_tree(partial)
        raise
    progress(f"{spec.label}: root built in {time.monotonic() - started:.0f} s: {final}")
    return final


def install_packages(spec: Root, root: Path, log: Path) -> dict[str, str]:
    """Install the packages of spec the suite has (asking apt-cache); their versions."""
    env = chroot_env()
    progress(f"{spec.label}: apt-get update")
    run(in_root(root, "apt-get", "update"), log, env=env, timeout=900)
    policy = capture(in_root(root, "apt-cache", "policy", *spec.packages))
    available = [p for p, v in parse_apt_policy(policy).items() if v]
    missing = sorted(set(spec.packages) - set(available))
    if missing:
        progress(f"{spec.label}: not in the suite: {' '.join(missing)}")
    progress(f"{spec.label}: apt-get install {len(available)} packages")
    run(in_root(root, "apt-get", "install", "-y", "-q", *available), log, env=env, timeout=1800)
    run(in_root(root, "apt-get", "clean"), log, env=env)
    query = capture(in_root(root, "dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *available))
    return dict(line.split(" ", 1) for line in query.splitlines())


def ensure_root(spec: Root, mirror: str, cache: Path, logs: Path, rebuild: bool) -> Path:
    """The cached root of spec, built (or rebuilt) first if needed."""
    final = cache / spec.key
    if final.exists() and rebuild:
        progress(f"{spec.label}: --rebuild: removing {final}")
        remove_tree(final)
    if final.exists():
        progress(f"{spec.label}: cached root {final}")
        return final
    for stale in cache.glob(f".{spec.key}.partial-*"):
        progress(f"{spec.label}: removing an interrupted build {stale}")
        remove_tree(stale)
    return build_root(spec, mirror, cache, logs / f"root-{spec.suite}-{spec.arch}.log")


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


def set_up(
    command: str,
    pure_python: Sequence[str],
    place: Place,
    tree: Path,
    log: Path,
    result: Result,
) -> None:
    """Copy the checkout, make a venv with the interpreter command and pip install
    '.[test]' into it (with the projects of pure_python from their newest py3-none-any
    wheel)."""
    started = time.monotonic()
    count = copy_tree(tree, place.outside / "tree")
    for sub in ("tmp", "home"):
        (place.outside / sub).mkdir(exist_ok=True)
    progress(f"{result.name}: copied {count} files; venv and pip install (log {log})")
    venv = f"{place.inside}/venv"
    run(place.argv(command, "-m", "venv", venv), log, env=place.env)
    result.version = capture(place.argv(f"{venv}/bin/python", "-c", VERSION_CODE)).strip()
    pip = [f"{venv}/bin/python", "-m", "pip"]
    wheels = []
    if pure_python:
        download = [*pip, "download", "--no-deps", "--only-binary", ":all:", "--implementation"]
        download += ["py", "--abi", "none", "--platform", "any", "-d", f"{place.inside}/wheels"]
        run(place.argv(*download, *pure_python), log, env=place.env, timeout=PIP_TIMEOUT)
        wheels = [f"{place.inside}/wheels/{w.name}" for w in (place.outside / "wheels").iterdir()]
    run(
        place.in_tree([*pip, "install", *wheels, ".[test]"]),
        log,
        env=place.env,
        timeout=PIP_TIMEOUT,
    )
    result.setup_seconds = time.monotonic() - started
    progress(f"{result.name}: {result.version} installed in {result.setup_seconds:.0f} s; pytest")


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
        rc_ok, why = True, ""
    except SetupError as error:
        rc_ok, why = False, str(error)
    result.test_seconds = time.monotonic() - started
    if not junit.exists():
        result.status, result.note = "failed", f"pytest wrote no report: {why} (see {log})"
        return
    shutil.copyfile(junit, logs / f"{result.name}.junit.xml")
    counts, result.failing = parse_junit(junit.read_text())
    for field, value in counts.items():
        setattr(result, field, value)
    clean = rc_ok and not (result.failed or result.errors)
    result.status = "passed" if clean else "failed"
    if not clean and not result.failing:
        result.note = f"pytest failed with no failing test (see {log})"


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


@contextlib.contextmanager
def place_in(
    root: Path, name: str, cache: Path, pip_plan: tuple[dict[str, str], list[str]]
) -> Iterator[Place]:
    """A Place in root with a new run directory under the cache's runs/, bound in with the
    system's filesystems and pip's paths; whatever happens, the processes left in root are
    killed, everything unmounted and the run directory removed."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=cache / "runs"))
    try:
        copy_resolv_conf(root)
        place, binds = root_place(root, run_dir, *pip_plan, cache)
        with mounts(binds):
            try:
                yield place
            finally:
                stop_processes_in(root)
    finally:
        remove_tree(run_dir)


# ---------------------------------------------------------------- the run as a whole


@functools.cache
def host_arch() -> str:
    """The host's Debian architecture (dpkg --print-architecture)."""
    return capture(["dpkg", "--print-architecture"]).strip()


@contextlib.contextmanager
def cache_lock(cache: Path) -> Iterator[None]:
    """One run at a time per cache: hold an exclusive lock on its .lock file."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"waiting for another run using {cache}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def clean_runs(cache: Path) -> Path:
    """The cache's runs/ directory, emptied of what a killed run left there."""
    runs = cache / "runs"
    for stale in runs.glob("*"):
        remove_tree(stale)
    runs.mkdir(exist_ok=True)
    return runs


def in_namespace(script: Path, argv: Sequence[str], marker: str, cache: Path) -> int | None:
    """Re-execute script with argv in a private mount namespace (unshare(1)), passing
    SIGTERM and SIGHUP on; its exit status, 1 if it left mounts under cache on the host.
    None when this process already is the re-executed one (marker is set in its
    environment): then SIGTERM and SIGHUP exit through the cleanup code."""
    if os.environ.get(marker) == "1":
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda s, _f: sys.exit(128 + s))
        return None
    cmd = ["unshare", "--mount", "--propagation", "private", "--", sys.executable, str(script)]
    child = subprocess.Popen([*cmd, *argv], env={**os.environ, marker: "1"})
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda s, _f: child.send_signal(s))
    rc = child.wait()
    leaks = mounted_under(cache)
    if leaks:
        print(f"{script.name}: mounts left on the host: {leaks}", file=sys.stderr)
        return 1
    return rc


def run_arguments(
    parser: argparse.ArgumentParser, things: str, default_cache: Path, argv: Sequence[str]
) -> argparse.Namespace:
    """The options the matrix and the CPU script share (``things``: what ``--only`` picks,
    "interpreters" or "ABIs"), parsed from argv, with the tree and the cache resolved."""
    one = things[:-1]
    parser.add_argument(
        "--only", metavar=things.upper(), help=f"comma-separated {things} to run (default: all)"
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
        default=default_cache,
        help=f"where roots are kept between runs (default: {default_cache})",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build the roots used by this run from nothing"
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help=f"list the {things}, their roots and packages, and stop",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help=f"run every {one} even after one failed (default: stop)",
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
