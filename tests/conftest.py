"""Fixtures shared by the suite: an independent C compiler run, a pseudo-terminal, files,
the lock-holding child (cfcntl.tools.lockchild), a check that no test leaves a signal
blocked, and loop devices with filesystems on them (root only), with a check that the
suite leaves none attached or mounted."""

from __future__ import annotations

import contextlib
import errno
import functools
import importlib.util
import os
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import cfcntl
from cfcntl.ioctls.loop import LoopDevice
from cfcntl.tools.lockchild import TIMEOUT, Child, Hold, WaitForWaiter

RunC = Callable[[str], str]


@pytest.fixture(scope="session")
def run_c(tmp_path_factory: pytest.TempPathFactory) -> RunC:
    """Compile a C program with the system compiler, run it, return its stdout.

    The program sees the headers exactly as a C user would: nothing of cfcntl's build
    is shared with it; it is compiled with the large-file (and time) macros of the
    interpreter's pyconfig.h, as every extension module is (on a 32-bit ABI they make
    off_t and struct flock 64-bit).
    """
    cc = shlex.split(os.environ.get("CC", "cc"))
    cc += python_macros(cc)
    workdir = tmp_path_factory.mktemp("c")
    count = 0

    def run(source: str) -> str:
        nonlocal count
        count += 1
        src = Path(workdir, f"prog{count}.c")
        exe = Path(workdir, f"prog{count}")
        src.write_text(source, encoding="utf-8")
        subprocess.run([*cc, "-Wall", "-o", str(exe), str(src)], check=True)
        return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout

    return run


def python_macros(cc: list[str]) -> list[str]:
    """-D options for the macros of the interpreter's pyconfig.h that change what the C
    library's headers declare (_FILE_OFFSET_BITS, _LARGEFILE_SOURCE, _TIME_BITS), as the
    compiler reads that header (Debian's includes the architecture's own)."""
    include = sysconfig.get_paths()["include"]
    proc = subprocess.run(
        [*cc, "-dM", "-E", f"-I{include}", "-x", "c", "-"],
        input="#include <pyconfig.h>\n",
        capture_output=True,
        text=True,
        check=True,
    )
    names = ("_FILE_OFFSET_BITS", "_LARGEFILE_SOURCE", "_TIME_BITS")
    found = [line.split() for line in proc.stdout.splitlines()]
    return [f"-D{w[1]}={w[2]}" for w in found if len(w) == 3 and w[1] in names]


@pytest.fixture(autouse=True)
def signal_mask_restored() -> Iterator[None]:
    """Fail the test that leaves the main thread's signal mask changed, and put the mask
    back (a signal left blocked would break every signal test after it)."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    yield
    after = signal.pthread_sigmask(signal.SIG_SETMASK, before)
    assert after == before, f"the test left the signal mask {after}, not {before}"


@pytest.fixture
def pty() -> Iterator[tuple[int, int]]:
    """A pseudo-terminal's (master, slave) from os.openpty, closed afterwards."""
    master, slave = os.openpty()
    yield master, slave
    os.close(slave)
    os.close(master)


@pytest.fixture
def regular(tmp_path: Path) -> Iterator[int]:
    """A descriptor of a 12-byte regular file, open for reading and writing."""
    fd = os.open(tmp_path / "data", os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, b"hello world\n")
    yield fd
    os.close(fd)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A 64-byte file of zeros in tmp_path, to lock."""
    p = tmp_path / "locked"
    p.write_bytes(b"\0" * 64)
    return p


@pytest.fixture
def fd(path: Path) -> Iterator[int]:
    """A descriptor of ``path``, open for reading and writing (closed afterwards unless the
    test closed it)."""
    number = os.open(path, os.O_RDWR)
    yield number
    with contextlib.suppress(OSError):
        os.close(number)


@pytest.fixture
def hold(path: Path) -> Iterator[Hold]:
    """``hold(*statements)``: a child process (cfcntl.tools.lockchild.Child) with ``fd``
    open on ``path`` that ran ``statements`` and said ready; all are stopped at teardown."""
    children: list[Child] = []

    def start(*setup: str) -> Child:
        child = Child(path, *setup, lifetime=60)  # no child outlives a broken test long
        children.append(child)
        return child

    yield start
    for child in children:
        child.stop()


@pytest.fixture
def wait_for_waiter(path: Path) -> WaitForWaiter:
    """``wait_for_waiter(pid=None)``: return once /proc/locks shows a process (``pid``, if
    given) blocked waiting for a lock on ``path``.

    No event says "a thread is now asleep in F_SETLKW", so this polls, with a deadline.
    """

    def wait(pid: int | None = None, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not any(h.waiting and pid in (None, h.pid) for h in cfcntl.file_locks(path)):
            assert time.monotonic() < deadline, f"nobody ({pid}) blocked on {path} in {timeout} s"
            time.sleep(0.002)

    return wait


# ----------------------------------------------------------------- loop devices and filesystems

LOOP_SIZE = 16 << 20
"""The backing image of the ``loop_device`` fixture, filled with PATTERN."""
PATTERN = bytes(range(256))

#: Every loop device and mount point the suite made, for the session-end check.
MADE_LOOPS: list[str] = []
MADE_MOUNTS: list[str] = []

#: mkfs command and image size for each filesystem (xfsprogs wants 300 MB at least).
MKFS = {
    "ext4": (["mkfs.ext4", "-q", "-F"], 64 << 20),
    "xfs": (["mkfs.xfs", "-q", "-f"], 320 << 20),
    "btrfs": (["mkfs.btrfs", "-q", "-f"], 256 << 20),
}


def needs_loop_devices() -> None:
    """Skip unless root with /dev/loop-control (tests that attach loop devices)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to attach loop devices")
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no /dev/loop-control on this machine")


def loop_detached(path: str) -> bool:
    """Whether /dev/loopN has no backing file (or no longer exists)."""
    name = os.path.basename(path)
    return not os.path.exists(f"/sys/block/{name}/loop/backing_file")


def mount_points() -> set[str]:
    with open("/proc/mounts", encoding="utf-8") as mounts:
        return {line.split()[1] for line in mounts}


def left_behind() -> list[str]:
    """The loop devices the suite attached that are still attached, and the mounts it made
    that are still mounted."""
    left = [p for p in MADE_LOOPS if not loop_detached(p)]
    return left + sorted(set(MADE_MOUNTS) & mount_points())


@pytest.fixture(scope="session", autouse=True)
def no_loop_device_or_mount_left() -> Iterator[None]:
    """Fails the session if a loop device the suite attached is still attached, or a
    mount it made is still mounted, when the suite ends."""
    yield
    left = left_behind()
    if left:
        pytest.fail(f"the suite left these attached or mounted: {', '.join(left)}")


@pytest.fixture
def leftovers() -> Callable[[], list[str]]:
    """:func:`left_behind`, the session-end check's list, for a test of that check."""
    return left_behind


@pytest.fixture
def loop_image(tmp_path: Path) -> Path:
    """A LOOP_SIZE image in tmp_path filled with PATTERN."""
    image = tmp_path / "loop.img"
    image.write_bytes(PATTERN * (LOOP_SIZE // len(PATTERN)))
    return image


@pytest.fixture
def attach(tmp_path: Path) -> Iterator[Callable[..., LoopDevice]]:
    """``attach(backing, **options)``: a LoopDevice attached now (root only, else the
    test skips), detached and closed at teardown whatever happens."""
    needs_loop_devices()
    with contextlib.ExitStack() as stack:

        def make(backing: Path | int, **options: object) -> LoopDevice:
            device = stack.enter_context(LoopDevice(backing, **options))  # type: ignore[arg-type]
            MADE_LOOPS.append(device.path)
            return device

        yield make


@pytest.fixture
def loop_device(attach: Callable[..., LoopDevice], loop_image: Path) -> LoopDevice:
    """/dev/loopN attached to ``loop_image`` with the defaults."""
    return attach(loop_image)


class Mounted:
    """A filesystem made on a loop device and mounted under tmp_path."""

    def __init__(self, kind: str, device: LoopDevice, path: Path) -> None:
        self.kind, self.device, self.path = kind, device, path


def _unmount(path: Path) -> None:
    mounted = str(path) in mount_points()
    if mounted and subprocess.run(["umount", str(path)], check=False).returncode:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def filesystem(
    tmp_path: Path, attach: Callable[..., LoopDevice]
) -> Iterator[Callable[..., Mounted]]:
    """``filesystem(kind, *mkfs_options)``: ``kind`` (ext4, xfs, btrfs) made on a loop
    device over a sparse image in tmp_path and mounted there; unmounted, then detached,
    at teardown whatever happens.  Skips if the kernel or mkfs lacks the filesystem."""
    made: list[Path] = []

    def make(kind: str, *options: str) -> Mounted:
        command, size = MKFS[kind]
        if shutil.which(command[0]) is None:
            pytest.skip(f"{command[0]} is not installed")
        with open("/proc/filesystems", encoding="utf-8") as known:
            if kind not in known.read().split():
                pytest.skip(f"this kernel has no {kind}")
        image = tmp_path / f"{kind}-{len(made)}.img"
        with open(image, "wb") as f:
            f.truncate(size)
        device = attach(image)
        mkfs = subprocess.run([*command, *options, device.path], capture_output=True, text=True)
        if mkfs.returncode and emulator():
            # qemu-user 7.2 answers ENOSYS for block ioctls it does not translate:
            # mkfs.xfs's BLKBSZSET, mkfs.btrfs's BLKGETZONESZ
            enosys = [x for x in mkfs.stderr.splitlines() if os.strerror(errno.ENOSYS) in x]
            if enosys:
                pytest.skip(f"{command[0]} under {emulator()} fails: {enosys[0]}")
        mkfs.check_returncode()
        where = tmp_path / f"{kind}-{len(made)}"
        where.mkdir()
        made.append(where)
        MADE_MOUNTS.append(str(where))
        subprocess.run(["mount", "-t", kind, device.path, str(where)], check=True)
        return Mounted(kind, device, where)

    try:
        yield make
    finally:
        for where in reversed(made):
            _unmount(where)


# --------------------------------------------------------------------------------------
# network namespaces and TUN (issue 14, devices-a)

_FD_SENDER = """
import socket, sys
channel = socket.socket(fileno=int(sys.argv[1]))
namespace = {}
exec(sys.argv[2], namespace)
socket.send_fds(channel, [b"fd"], [namespace["fd"]])
"""


class NetNS:
    """A private network namespace, held by an ``unshare --net --mount`` process (its
    own sysfs mounted in its own mount namespace, so /sys/class/net there is the
    namespace's): nothing named, nothing mounted on the host, gone at teardown with every
    descriptor the test got from it.  The host's interfaces are never touched."""

    def __init__(self) -> None:
        self.fds: list[int] = []
        self.holder = subprocess.Popen(
            [
                "unshare",
                "--net",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                "mount -t sysfs sysfs /sys && ip link set lo up && echo ready && exec cat",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.holder.stdout is not None
        if self.holder.stdout.readline() != "ready\n":
            self.close()
            raise RuntimeError("the namespace's holder did not start")

    def run(self, *command: str) -> str:
        """``command`` run inside the namespace (its network and mount namespaces, so its
        /sys, and the holder's root directory: entering a mount namespace resets the root
        to the namespace's own, which in a chroot is not the holder's): its stdout."""
        proc = subprocess.run(
            ["nsenter", "-t", str(self.holder.pid), "-n", "-m", "-r", *command],
            check=True,
            capture_output=True,
            text=True,
        )
        return proc.stdout

    def entered(self) -> None:
        """Skip the test if nsenter cannot enter the namespace: under qemu-user, which
        runs a thread of its own in every process, setns(CLONE_NEWNS) refuses the
        multi-threaded caller (EINVAL), so ``run`` cannot work there."""
        probe = ["nsenter", "-t", str(self.holder.pid), "-n", "-m", "-r", "true"]
        tried = subprocess.run(probe, capture_output=True, text=True)
        if tried.returncode:
            pytest.skip(f"nsenter -m under {emulator()} fails: {tried.stderr.strip()}")

    def ip(self, *args: str) -> str:
        """``ip args`` inside the namespace: its stdout."""
        return self.run("ip", *args)

    def fd(self, code: str) -> int:
        """The descriptor named ``fd`` that the Python ``code`` opened in a process inside
        the namespace (a socket or /dev/net/tun stays in the namespace it was opened in),
        passed back with SCM_RIGHTS; closed at teardown."""
        import socket
        import sys

        mine, theirs = socket.socketpair()
        with mine, theirs:
            subprocess.run(
                [
                    "nsenter",
                    "-t",
                    str(self.holder.pid),
                    "-n",
                    sys.executable,
                    "-c",
                    _FD_SENDER,
                    str(theirs.fileno()),
                    code,
                ],
                check=True,
                pass_fds=[theirs.fileno()],
                timeout=60,
            )
            _, fds, _, _ = socket.recv_fds(mine, 16, 1)
        self.fds.append(fds[0])
        return fds[0]

    def socket(self, family: str = "AF_INET", kind: str = "SOCK_DGRAM") -> int:
        """A socket of the namespace."""
        return self.fd(
            f"import socket\nfd = socket.socket(socket.{family}, socket.{kind}).detach()"
        )

    def close(self) -> None:
        for number in self.fds:
            with contextlib.suppress(OSError):
                os.close(number)
        self.holder.kill()
        self.holder.communicate(timeout=60)


@pytest.fixture
def netns() -> Iterator[NetNS]:
    """A private network namespace with its loopback up (root, iproute2 and util-linux
    needed, else the test skips saying so); gone at teardown, whatever happens."""
    import shutil

    if os.geteuid() != 0:
        pytest.skip("needs root (a network namespace)")
    for tool, package in (("ip", "iproute2"), ("unshare", "util-linux"), ("nsenter", "util-linux")):
        if shutil.which(tool) is None:
            pytest.skip(f"needs the {tool} command ({package})")
    ns = NetNS()
    try:
        if emulator():
            ns.entered()
        yield ns
    finally:
        ns.close()


# -- issue 15: worker processes started together ---------------------------------------


@pytest.fixture
def together() -> Callable[..., None]:
    """``together(argvs)``: start a process per argv, let them all go at once (a line on
    each one's stdin, which it reads before its work), and wait for each to exit 0."""

    def run(argvs: list[list[str]], timeout: float = 60) -> None:
        procs = [subprocess.Popen(argv, stdin=subprocess.PIPE) for argv in argvs]
        try:
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write(b"go\n")
                proc.stdin.close()
            for proc in procs:
                assert proc.wait(timeout) == 0
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    return run


# ---------------------------------------------------------------- the CI scripts


@pytest.fixture(scope="session")
def ci_script() -> Callable[[str], ModuleType]:
    """``ci_script(name)``: .ci/<name>.py imported by path (the scripts are not part of the
    package), for tests of their pure functions."""
    ci = Path(__file__).resolve().parent.parent / ".ci"

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"cfcntl_ci_{name}", ci / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        try:
            spec.loader.exec_module(module)
        finally:
            del sys.modules[spec.name]
        return module

    return load


# ---------------------------------------------------------------- user-mode emulation
# (issue 16: the suite under qemu-user, .ci/cpus.py; see README, "Other CPUs")

Unemulated = Callable[..., None]


@functools.cache
def emulator() -> str | None:
    """The name of the user-mode emulator (qemu-user through binfmt_misc) this interpreter
    runs under, None when it runs natively.

    qemu-user answers a process's questions about itself (/proc/self/exe) as the guest
    would, but passes questions about another process to the kernel: a child's
    /proc/PID/exe names the emulator, not the interpreter."""
    child = subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)
    try:
        exe = os.readlink(f"/proc/{child.pid}/exe")
    finally:
        child.communicate(b"\n")
    ours = os.path.realpath(sys.executable)
    return None if os.path.basename(exe) == os.path.basename(ours) else os.path.basename(exe)


EMULATION_FACTOR = 25
"""How much longer than natively a timing bound may be under emulation (qemu-user runs
the suite some 10 times slower than the host on this machine, with peaks above that)."""


@pytest.fixture(scope="session")
def slowdown() -> float:
    """What a test multiplies its timing bounds by: 1 natively (never a looser bound
    there), EMULATION_FACTOR under an emulator."""
    return EMULATION_FACTOR if emulator() else 1


Rearmed = Callable[[Callable[[], None], float], contextlib.AbstractContextManager[None]]


@pytest.fixture
def rearmed() -> Rearmed:
    """``with rearmed(handler, interval):``, a SIGALRM handler that runs ``handler()`` and
    then arms the one-shot ITIMER_REAL again, ``interval`` seconds ahead. A periodic timer
    fires again while a handler slower than its interval (PyPy's, on a loaded machine)
    still runs: handlers back to back, and the loop they interrupt starves (the PyPy 8.0
    suite hung that way). Re-armed when it is done, the handler slows the loop instead.
    On leaving, the timer is stopped first, then a signal already delivered is handled
    (not re-arming), then the old handler is back: no signal is left to find SIG_IGN
    ("Signal 14 ignored due to race condition")."""

    @contextlib.contextmanager
    def timer(handler: Callable[[], None], interval: float) -> Iterator[None]:
        running = True

        def run(signum: int, frame: object) -> None:
            handler()
            if running:
                signal.setitimer(signal.ITIMER_REAL, interval)

        old = signal.signal(signal.SIGALRM, run)
        signal.setitimer(signal.ITIMER_REAL, interval)
        try:
            yield
        finally:
            running = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)  # runs a pending handler first

    return timer


@pytest.fixture
def unemulated(run_c: RunC) -> Unemulated:
    """``unemulated(what, program, *codes)``: skip the test when it runs under a user-mode
    emulator that does not emulate ``what`` (an ioctl, a syscall, an fcntl command).

    ``program`` is a C program making the same call: it exits with 0 when the call
    works, and otherwise prints the call's errno as a number on its last line and exits
    with 1. It is compiled and run under the same emulator (run_c); the test skips only
    if the call fails there with one of ``codes`` (errno names; by default ENOSYS and
    ENOTTY, what qemu-user answers for a syscall or an ioctl it does not know; EINVAL for
    an fcntl command it does not translate), and the skip says so. Natively nothing is
    run and nothing skipped: the test must pass."""

    def check(what: str, program: str, *codes: str) -> None:
        name = emulator()
        if name is None:
            return
        allowed = {getattr(errno, code) for code in codes or ("ENOSYS", "ENOTTY")}
        try:
            run_c(program)
        except subprocess.CalledProcessError as failed:
            last = (failed.stdout or "").strip().splitlines()[-1:] or ["?"]
            if last[0].isdigit() and int(last[0]) in allowed:
                code = errno.errorcode[int(last[0])]
                pytest.skip(f"{name} does not emulate {what}: a C program under it gets {code}")
            raise

    return check


@pytest.fixture
def misemulated(run_c: RunC) -> Unemulated:
    """``misemulated(what, program)``: skip the test when it runs under a user-mode
    emulator that makes ``what`` succeed without the kernel's answer (qemu-user copies
    back less than the kernel wrote, or nothing).

    ``program`` is a C program making the same call: it exits with 0 when the answer is
    the kernel's, and otherwise prints what it got instead on its last line and exits
    with 3. It is compiled and run under the same emulator (run_c); the test skips only
    on exit status 3, and the skip says what the program saw; any other failure is
    raised. Natively nothing is run and nothing skipped: the test must pass."""

    def check(what: str, program: str) -> None:
        name = emulator()
        if name is None:
            return
        try:
            run_c(program)
        except subprocess.CalledProcessError as failed:
            last = (failed.stdout or "").strip().splitlines()[-1:] or ["?"]
            if failed.returncode == 3:
                pytest.skip(f"{name} answers {what} wrongly: a C program under it got {last[0]}")
            raise

    return check


@pytest.fixture
def translated() -> Callable[[Callable[[], object]], Any]:
    """``translated(call)``: ``call()``'s answer; under a user-mode emulator, the test
    skipped if ``call()`` fails with ENOSYS, qemu-user's answer for an ioctl it does not
    translate (7.2: FITRIM, FIDEDUPERANGE, FS_IOC_GETFSLABEL, FS_IOC_FSGETXATTR...), so
    the kernel never saw it.  Natively an ENOSYS is raised like any error."""

    def call_it(call: Callable[[], object]) -> Any:
        try:
            return call()
        except OSError as exc:
            if exc.errno == errno.ENOSYS and emulator():
                pytest.skip(f"{emulator()} does not translate the ioctl: {exc}")
            raise

    return call_it


# cfcntl's timed wait (src/cfcntl/_c/lockwait.c) borrows the highest real-time signal
# nobody handles and aims a SIGEV_THREAD_ID timer with it at the waiting thread. qemu-user
# 7.2 accepts a handler for the guest's SIGRTMAX and SIGRTMAX-1 but cannot map them onto
# host signals (it keeps those for itself): timer_create answers EINVAL, and the timed
# wait polls F_SETLK instead, as when no signal is free.
TIMED_WAIT_PROGRAM = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static void wake(int sig, siginfo_t *info, void *context) { (void)sig; (void)info; (void)context; }
int main(void) {
    struct sigaction mine;
    memset(&mine, 0, sizeof mine);
    mine.sa_sigaction = wake;
    mine.sa_flags = SA_SIGINFO;
    if (sigaction(SIGRTMAX, &mine, NULL) != 0) { printf("%d\n", errno); return 1; }
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGRTMAX;
    event._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    int timer;
    if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &timer) != 0) {
        printf("%d\n", errno);
        return 1;
    }
    syscall(SYS_timer_delete, timer);
    return 0;
}
"""


@pytest.fixture
def timed_waits(unemulated: Unemulated) -> None:
    """Skip under an emulator that refuses the timer of cfcntl's timed wait (a lock
    acquired with a timeout > 0 that has to wait): there the wait polls F_SETLK, so no
    waiter sleeps in F_SETLKW, is listed as waiting or is woken by a signal, as these
    tests expect.  test_manager's timed-wait test shows the polling wait itself."""
    unemulated("a SIGEV_THREAD_ID timer with SIGRTMAX", TIMED_WAIT_PROGRAM, "EINVAL")


# qemu-user 7.2 does not translate F_GET_RW_HINT/F_SET_RW_HINT: EINVAL for any descriptor.
RW_HINT_PROGRAM = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
int main(void) {
    uint64_t hint = 0;
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fcntl(fd, F_GET_RW_HINT, &hint) == 0) return 0;
    printf("%d\n", errno);
    return 1;
}
"""


@pytest.fixture
def rw_hints(unemulated: Unemulated) -> None:
    """Skip under an emulator that does not translate the rw-hint commands."""
    unemulated("F_GET_RW_HINT", RW_HINT_PROGRAM, "EINVAL")


def tty_ioctl_program(*requests: str) -> str:
    """A C program for ``unemulated(what, program, "ENOSYS")``: each request of
    <asm/ioctls.h> on a new pty's slave, with a zeroed buffer as the argument; it fails
    (printing the errno) only when one gets ENOSYS, what qemu-user answers for an ioctl it
    does not know (the kernel's own answer, ENOTTY or EINVAL included, means it was
    asked)."""
    failed = 'errno == ENOSYS) { printf("%d\\n", errno); return 1; }\n'
    calls = "".join(f"    if (ioctl(slave, {r}, buf) != 0 && {failed}" for r in requests)
    return (
        "#define _GNU_SOURCE\n#include <errno.h>\n#include <fcntl.h>\n#include <stdio.h>\n"
        "#include <stdlib.h>\n#include <asm/termbits.h>\n#include <asm/ioctls.h>\n"
        "#include <linux/serial.h>\n"  # mips's TIOCGRS485 is _IOR(..., struct serial_rs485)
        "int ioctl(int fd, unsigned long request, ...);\n"
        "int main(void) {\n    static char buf[4096];\n"
        "    int master = posix_openpt(O_RDWR | O_NOCTTY);\n"
        "    if (master < 0 || grantpt(master) || unlockpt(master)) return 2;\n"
        "    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);\n"
        "    if (slave < 0) return 2;\n"
        f"{calls}    return 0;\n}}\n"
    )


@pytest.fixture
def tty_ioctls_emulated(unemulated: Unemulated) -> Callable[..., None]:
    """``tty_ioctls_emulated(*requests)``: skip under an emulator that does not know one
    of these tty ioctls (tty_ioctl_program under it gets ENOSYS)."""

    def check(*requests: str) -> None:
        unemulated(", ".join(requests), tty_ioctl_program(*requests), "ENOSYS")

    return check


# ---------------------------------------------------------------- the docs' 28-byte recipe


@pytest.fixture(scope="session")
def recipe_28_right() -> bool:
    """Whether the docs' ``hhllhh`` struct format puts l_start and l_len where the
    compiler's struct flock has them (x86-64 and the other LP64 ABIs: the 28 bytes are
    right but for l_pid); where it does not (every 32-bit ABI), the bench and the report
    show its answers as a finding."""
    fields = {f.name: f for f in cfcntl.layout()["struct flock"].fields}
    long_size = struct.calcsize("l")
    ours = {"l_start": (struct.calcsize("hh0l"), long_size)}
    ours["l_len"] = (ours["l_start"][0] + long_size, long_size)
    return all((fields[n].offset, fields[n].size) == where for n, where in ours.items())
