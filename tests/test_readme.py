"""The README's usage example runs as written."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cfcntl._cfcntl import lib

README = Path(__file__).resolve().parents[1] / "README.md"


def test_usage_example_runs(tmp_path: Path) -> None:
    usage = README.read_text(encoding="utf-8").split("## Usage", 1)[1]
    code = re.search(r"```python\n(.*?)```", usage, re.S)
    assert code is not None
    proc = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data.db").exists()
    assert int(proc.stdout.split()[0]) >= 1 << 20  # setpipe_sz's answer


# ----------------------------------------------------- loop devices, block devices, filesystems


def _example(heading: str) -> str:
    section = README.read_text(encoding="utf-8").split(f"\n{heading}\n", 1)[1]
    code = re.search(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.S)
    assert code is not None, heading
    return code.group(1)


# qemu-user 7.2 does not know FS_IOC_FSGETXATTR, the Filesystems example's last call.
FSGETXATTR_PROGRAM = r"""
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
int main(void) {
    struct fsxattr attr;
    int fd = open("/proc/self/exe", O_RDONLY);
    if (ioctl(fd, FS_IOC_FSGETXATTR, &attr) == 0 || errno != ENOSYS) return 0;
    printf("%d\n", errno);
    return 1;
}
"""


@pytest.mark.parametrize(
    ("heading", "root", "expected"),
    [
        ("### Loop devices", True, r"^/dev/loop\d+ 4096 True\n67104768\n$"),
        ("### Block devices", True, r"^\d+ \d+ 0\nTrue\n$"),
        ("### Filesystems", False, r"^300 1\n\d+\n$"),
    ],
)
def test_device_examples_run(
    tmp_path: Path, heading: str, root: bool, expected: str, unemulated: Callable[..., None]
) -> None:
    """The loop, block and filesystem examples run as written (the first two as root, in
    tmp_path, leaving no loop device attached) and print what their comments say."""
    if root and os.geteuid() != 0:
        pytest.skip("the example attaches a loop device: root only")
    if heading == "### Filesystems":
        unemulated("FS_IOC_FSGETXATTR", FSGETXATTR_PROGRAM, "ENOSYS")
    proc = subprocess.run(
        [sys.executable, "-c", _example(heading)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.match(expected, proc.stdout), proc.stdout
    if root:
        image = str(tmp_path / "disk.img")
        assert not any(
            Path(p).read_text().strip() == image
            for p in glob.glob("/sys/block/loop*/loop/backing_file")
        )


# issue 14, devices-a: the device families' examples, each run as written (the network
# and TUN ones as root in a new network namespace, `unshare --net`: never the host's)


def example(heading: str) -> str:
    """The first python block of the README's ``### heading`` subsection."""
    section = README.read_text(encoding="utf-8").split(f"\n### {heading}\n", 1)[1]
    code = re.search(r"```python\n(.*?)```", section.split("\n### ", 1)[0], re.S)
    assert code is not None, heading
    return code.group(1)


def expected(code: str) -> list[str]:
    """What each print line's comment says it prints."""
    return [line.split("# ", 1)[1] for line in code.splitlines() if line.startswith("print(")]


def run_example(code: str, tmp_path: Path, *prefix: str) -> list[str]:
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_terminal_example_runs(tmp_path: Path, tty_ioctls_emulated: Callable[..., None]) -> None:
    if not lib.CF_TERMIOS2:
        pytest.skip(
            "this CPU has no termios2 (powerpc): the example's set_baud_rate raises "
            "NotImplementedError, as the README says"
        )
    tty_ioctls_emulated("TCGETS2", "TCSETS2")
    code = example("Terminals and serial lines")
    assert run_example(code, tmp_path) == expected(code)


@pytest.mark.parametrize("heading", ["Network interfaces", "TUN/TAP"])
def test_network_examples_run_in_a_new_namespace(heading: str, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (a network namespace)")
    for tool, package in (("unshare", "util-linux"), ("ip", "iproute2")):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} ({package})")
    code = example(heading)
    setup = "import subprocess\nsubprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)\n"
    assert run_example(setup + code, tmp_path, "unshare", "--net") == expected(code)
