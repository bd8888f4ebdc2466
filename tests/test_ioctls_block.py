"""cfcntl.ioctls' block device calls on loop devices the tests attach (root only; never
another block device), against ``blockdev``, /sys/block/loopN/queue and the stdlib's
fcntl.ioctl, and data read back after zero-out and discard."""

from __future__ import annotations

import errno
import fcntl
import gzip
import os
import shutil
import subprocess
from array import array
from collections.abc import Callable
from pathlib import Path

import pytest

import cfcntl
from cfcntl import ioctls
from cfcntl.ioctls.loop import LoopDevice


def errno_of(call: Callable[[], object]) -> int:
    with pytest.raises(OSError) as info:
        call()
    return info.value.errno


def blockdev(option: str, device: str) -> int:
    if shutil.which("blockdev") is None:
        pytest.skip("blockdev (util-linux) is not installed")
    out = subprocess.run(["blockdev", option, device], check=True, capture_output=True)
    return int(out.stdout)


def queue(device: LoopDevice, name: str) -> int:
    return int(Path("/sys/block", os.path.basename(device.path), "queue", name).read_text())


def stdlib(fd: int, request: int, typecode: str) -> int:
    """An int getter through the stdlib, in an array of the C type the kernel writes."""
    buf = array(typecode, [0])
    fcntl.ioctl(fd, request, buf, True)
    return buf[0]


def test_block_requests_on_a_regular_file_are_enotty(tmp_path: Path) -> None:
    regular = os.open(tmp_path / "plain", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        for call in (
            ioctls.blksszget,
            ioctls.blkgetsize64,
            ioctls.blkpbszget,
            ioctls.blkroget,
            ioctls.blkiomin,
            ioctls.blkflsbuf,
            lambda fd: ioctls.blkzeroout(fd, 0, 512),
            lambda fd: ioctls.blkdiscard(fd, 0, 512),
        ):
            assert errno_of(lambda call=call: call(regular)) == errno.ENOTTY
    finally:
        os.close(regular)


def test_getters_agree_with_blockdev_sysfs_and_the_stdlib(loop_device: LoopDevice) -> None:
    """Each getter against blockdev's answer, the queue's sysfs file and the stdlib
    reading the C type the kernel writes (int, unsigned int, unsigned short, u64)."""
    fd, path = loop_device.fd, loop_device.path
    assert (
        ioctls.blksszget(fd)
        == blockdev("--getss", path)
        == queue(loop_device, "logical_block_size")
    )
    assert ioctls.blksszget(fd) == stdlib(fd, cfcntl.BLKSSZGET, "i")
    pbsz = ioctls.blkpbszget(fd)
    assert pbsz == blockdev("--getpbsz", path) == queue(loop_device, "physical_block_size")
    assert pbsz == stdlib(fd, ioctls.REQUESTS["BLKPBSZGET"], "I")
    assert (
        ioctls.blkgetsize64(fd)
        == blockdev("--getsize64", path)
        == os.path.getsize(
            Path(f"/sys/block/{os.path.basename(path)}/loop/backing_file").read_text().strip()
        )
    )
    assert (
        ioctls.blkiomin(fd) == blockdev("--getiomin", path) == queue(loop_device, "minimum_io_size")
    )
    assert (
        ioctls.blkioopt(fd) == blockdev("--getioopt", path) == queue(loop_device, "optimal_io_size")
    )
    assert ioctls.blkalignoff(fd) == blockdev("--getalignoff", path)
    assert ioctls.blkroget(fd) == blockdev("--getro", path) == 0
    assert ioctls.blkdiscardzeroes(fd) == blockdev("--getdiscardzeroes", path)
    assert ioctls.blkrotational(fd) == queue(loop_device, "rotational")
    assert ioctls.blkrotational(fd) == stdlib(fd, ioctls.REQUESTS["BLKROTATIONAL"], "H")
    known = ioctls.KNOWN
    assert known["BLKPBSZGET"].kernel_ctype == known["BLKIOMIN"].kernel_ctype == "unsigned int"
    assert known["BLKFLSBUF"].direction == known["BLKRRPART"].direction == "none"
    assert known["BLKZEROOUT"].kernel_ctype == known["BLKDISCARD"].kernel_ctype == "uint64_t[2]"


def test_roset_makes_the_device_read_only(loop_device: LoopDevice) -> None:
    fd, path = loop_device.fd, loop_device.path
    ioctls.blkroset(fd, 1)
    try:
        assert ioctls.blkroget(fd) == 1 == blockdev("--getro", path)
        assert Path(f"/sys/block/{os.path.basename(path)}/ro").read_text().strip() == "1"
        assert errno_of(lambda: os.pwrite(fd, b"x" * 512, 0)) == errno.EPERM
    finally:
        ioctls.blkroset(fd, 0)
    assert ioctls.blkroget(fd) == 0 == blockdev("--getro", path)


def test_flsbuf_writes_the_device_cache_to_the_backing_file(
    loop_device: LoopDevice, loop_image: Path
) -> None:
    """A buffered write to the device sits in its page cache; BLKFLSBUF writes it out
    (through the loop driver into the backing file) and drops the cache."""
    data = os.urandom(4096)
    os.pwrite(loop_device.fd, data, 8192)
    ioctls.blkflsbuf(loop_device.fd)
    with open(loop_image, "rb") as backing:
        backing.seek(8192)
        assert backing.read(4096) == data


def test_zeroout_and_discard_read_back_zeros(loop_device: LoopDevice, loop_image: Path) -> None:
    """BLKZEROOUT and BLKDISCARD over byte ranges: the range reads back as zeros through
    the device and in the backing file (the loop driver punches a hole for a discard:
    the file's allocation shrinks), the bytes around it are untouched."""
    fd = loop_device.fd
    sector = ioctls.blksszget(fd)
    before = os.pread(fd, 64 * sector, 0)
    ioctls.blkzeroout(fd, 4 * sector, 8 * sector)
    after = os.pread(fd, 64 * sector, 0)
    assert after[4 * sector : 12 * sector] == bytes(8 * sector)
    assert after[: 4 * sector] == before[: 4 * sector]
    assert after[12 * sector :] == before[12 * sector :]
    with open(loop_image, "rb") as backing:
        assert backing.read(64 * sector) == after
    if queue(loop_device, "discard_max_bytes") == 0:
        pytest.skip("this loop device does not discard")
    allocated = os.stat(loop_image).st_blocks
    start, length = 1 << 20, 1 << 20
    ioctls.blkdiscard(fd, start, length)
    ioctls.blkflsbuf(fd)
    assert os.pread(fd, length, start) == bytes(length)
    assert os.pread(fd, 4096, start + length) != bytes(4096)
    with open(loop_image, "rb") as backing:
        backing.seek(start)
        assert backing.read(length) == bytes(length)
    assert os.stat(loop_image).st_blocks < allocated
    assert errno_of(lambda: ioctls.blksecdiscard(fd, 0, sector)) == errno.EOPNOTSUPP


def test_ranges_are_checked_before_the_call(loop_device: LoopDevice) -> None:
    """A range that is not sector-aligned, runs past the end or is negative is
    ValueError, a non-int TypeError, and the data is untouched."""
    fd = loop_device.fd
    sector = ioctls.blksszget(fd)
    size = ioctls.blkgetsize64(fd)
    before = os.pread(fd, 4 * sector, 0)
    for call in (ioctls.blkzeroout, ioctls.blkdiscard, ioctls.blksecdiscard):
        with pytest.raises(ValueError, match="multiples of the device's logical sector size"):
            call(fd, 1, sector)
        with pytest.raises(ValueError, match="multiples"):
            call(fd, 0, sector + 1)
        with pytest.raises(ValueError, match="past the device's end"):
            call(fd, size - sector, 2 * sector)
        with pytest.raises(ValueError, match="start=-512 is negative"):
            call(fd, -512, sector)
        with pytest.raises(TypeError, match="length must be an int"):
            call(fd, 0, float(sector))  # type: ignore[arg-type]
    assert os.pread(fd, 4 * sector, 0) == before


def msdos_partitions() -> bool:
    """Whether the kernel reads MSDOS partition tables (CONFIG_MSDOS_PARTITION), if it says."""
    try:
        with gzip.open("/proc/config.gz", "rt") as config:
            return "CONFIG_MSDOS_PARTITION=y\n" in config
    except OSError:
        return True  # no config to ask: expect the usual


def test_rrpart_rereads_the_partition_table(
    attach: Callable[..., LoopDevice], tmp_path: Path
) -> None:
    """BLKRRPART is EINVAL on a loop device without LO_FLAGS_PARTSCAN; with it, a
    partition table written after the attach appears as loopNp1 once re-read."""
    if shutil.which("sfdisk") is None:
        pytest.skip("sfdisk (the fdisk package) is not installed")
    image = tmp_path / "parted.img"
    with open(image, "wb") as f:
        f.truncate(8 << 20)
    plain = attach(image)
    assert errno_of(lambda: ioctls.blkrrpart(plain.fd)) == errno.EINVAL
    device = attach(image, flags=cfcntl.LO_FLAGS_PARTSCAN)
    name = os.path.basename(device.path)
    partition = Path("/sys/block", name, f"{name}p1")
    assert not partition.exists()
    subprocess.run(
        ["sfdisk", "--no-reread", "--no-tell-kernel", "-q", str(image)],
        input="label: dos\n,4MiB\n",
        text=True,
        check=True,
        capture_output=True,
    )
    ioctls.blkflsbuf(device.fd)  # the device's cache still has the zeros sfdisk overwrote
    ioctls.blkrrpart(device.fd)
    if not msdos_partitions():
        pytest.skip("BLKRRPART succeeded, but this kernel has no MSDOS partition parser")
    assert partition.exists()
    assert int((partition / "size").read_text()) * 512 == 4 << 20
