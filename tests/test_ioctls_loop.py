"""cfcntl.ioctls' loop device calls on real loop devices (root only), against
``losetup --json --list``, /sys/block/loopN and the stdlib's fcntl.ioctl.

Every device is attached by a fixture (tests/conftest.py: ``attach``, ``loop_device``)
over an image in tmp_path, and detached whatever happens; /dev/loop-control's numbers
are taken only for devices the test made and removes.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import cfcntl
from cfcntl import ioctls
from cfcntl._cfcntl import ffi
from cfcntl.ioctls.loop import LoopDevice

LOSETUP_COLUMNS = "NAME,BACK-FILE,OFFSET,SIZELIMIT,RO,AUTOCLEAR,LOG-SEC,DIO,BACK-INO,PARTSCAN"


def errno_of(call: Callable[[], object]) -> int:
    with pytest.raises(OSError) as info:
        call()
    return info.value.errno


def losetup(device: str) -> dict[str, object]:
    """What ``losetup --json --list`` says of ``device``."""
    if shutil.which("losetup") is None:
        pytest.skip("losetup (util-linux) is not installed")
    out = subprocess.run(
        ["losetup", "--json", "--list", "-O", LOSETUP_COLUMNS, device],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (entry,) = json.loads(out)["loopdevices"]
    return entry  # type: ignore[no-any-return]


def sysfs(device: str, *parts: str) -> str:
    return Path("/sys/block", os.path.basename(device), *parts).read_text().strip()


def truthy(value: object) -> bool:
    """losetup's JSON booleans (util-linux 2.38 writes true/false, older "0"/"1")."""
    return value in (True, 1, "1")


@pytest.fixture
def control() -> Iterator[int]:
    """/dev/loop-control, open (root only)."""
    if os.geteuid() != 0:
        pytest.skip("needs root for /dev/loop-control")
    if not os.path.exists(ioctls.loop.CONTROL):
        pytest.skip("no /dev/loop-control on this machine")
    fd = os.open(ioctls.loop.CONTROL, os.O_RDWR)
    yield fd
    os.close(fd)


def test_loop_configure_status_agrees_with_losetup_and_sysfs(
    attach: Callable[..., LoopDevice], loop_image: Path
) -> None:
    """LOOP_CONFIGURE with an offset, a size limit, LO_FLAGS_AUTOCLEAR and a 4096-byte
    block size: the status read back, losetup and sysfs agree, and the device shows the
    backing file's bytes from the offset."""
    page = os.sysconf("SC_PAGE_SIZE")
    offset, limit = 3 * page, 1 << 20
    device = attach(
        loop_image, offset=offset, sizelimit=limit, flags=cfcntl.LO_FLAGS_AUTOCLEAR, block_size=4096
    )
    info = ioctls.loop_get_status64(device.fd)
    st = loop_image.stat()
    assert isinstance(info, ioctls.LoopInfo)
    assert (info.device, info.inode, info.number) == (st.st_dev, st.st_ino, device.number)
    assert (info.offset, info.sizelimit) == (offset, limit)
    assert info.flags & cfcntl.LO_FLAGS_AUTOCLEAR
    assert not info.flags & cfcntl.LO_FLAGS_READ_ONLY
    assert info.file_name == str(loop_image)[: cfcntl.LO_NAME_SIZE - 1]
    seen = losetup(device.path)
    assert seen["name"] == device.path
    assert seen["back-file"] == str(loop_image)
    assert int(str(seen["offset"])) == offset and int(str(seen["sizelimit"])) == limit
    assert truthy(seen["autoclear"]) and not truthy(seen["ro"])
    assert int(str(seen["log-sec"])) == 4096 == ioctls.blksszget(device.fd)
    assert int(str(seen["back-ino"])) == st.st_ino
    assert sysfs(device.path, "loop", "backing_file") == str(loop_image)
    assert int(sysfs(device.path, "loop", "offset")) == offset
    assert int(sysfs(device.path, "loop", "sizelimit")) == limit
    assert sysfs(device.path, "loop", "autoclear") == "1"
    assert int(sysfs(device.path, "size")) * 512 == limit == ioctls.blkgetsize64(device.fd)
    with open(loop_image, "rb") as backing:
        backing.seek(offset)
        assert os.pread(device.fd, 8192, 0) == backing.read(8192)


def test_loop_status_matches_the_generic_read_of_the_kernels_struct(
    loop_device: LoopDevice,
) -> None:
    """The registry gives LOOP_GET_STATUS64 (a legacy number) the kernel's struct
    loop_info64, so the generic call reads it; the stdlib reads the same bytes into a
    buffer of the compiler's size."""
    typed = ioctls.loop_get_status64(loop_device.fd)
    generic = ioctls.read(loop_device.fd, cfcntl.LOOP_GET_STATUS64, "struct loop_info64")
    assert (generic.lo_inode, generic.lo_number, generic.lo_flags) == (
        typed.inode,
        typed.number,
        typed.flags,
    )
    size = ffi.sizeof("struct loop_info64")
    raw = fcntl.ioctl(loop_device.fd, cfcntl.LOOP_GET_STATUS64, bytes(size))
    assert raw == bytes(ffi.buffer(generic))
    known = ioctls.KNOWN
    assert known["LOOP_GET_STATUS64"][2:5] == ("read", None, "struct loop_info64")
    assert known["LOOP_SET_STATUS64"][2:5] == ("write", None, "struct loop_info64")
    assert known["LOOP_CONFIGURE"][2:5] == ("write", None, "struct loop_config")
    assert known["LOOP_SET_FD"][2] == known["LOOP_CTL_ADD"][2] == "value"
    assert known["LOOP_CLR_FD"][2] == known["LOOP_CTL_GET_FREE"][2] == "none"
    assert "LO_NAME_SIZE" not in known  # a length, not a request


def test_read_only_flag(attach: Callable[..., LoopDevice], loop_image: Path) -> None:
    """LO_FLAGS_READ_ONLY: BLKROGET, losetup and the status say so, and writes fail."""
    device = attach(loop_image, read_only=True)
    assert ioctls.loop_get_status64(device.fd).flags & cfcntl.LO_FLAGS_READ_ONLY
    assert ioctls.blkroget(device.fd) == 1
    assert truthy(losetup(device.path)["ro"])
    assert sysfs(device.path, "ro") == "1"
    with pytest.raises(OSError) as info, open(device.path, "r+b", buffering=0) as f:
        f.write(b"x")
    assert info.value.errno in (errno.EROFS, errno.EPERM, errno.EACCES)


def test_set_fd_set_status_clr_fd(control: int, loop_image: Path) -> None:
    """LOOP_SET_FD attaches with the defaults, LOOP_SET_STATUS64 then sets the offset,
    the name and LO_FLAGS_AUTOCLEAR (losetup and sysfs see them), LOOP_CLR_FD detaches
    (ENXIO for the status after, nothing in sysfs)."""
    number = ioctls.loop_ctl_get_free(control)
    path = f"/dev/loop{number}"
    fd = os.open(path, os.O_RDWR)
    backing = os.open(loop_image, os.O_RDWR)
    attached = False
    try:
        ioctls.loop_set_fd(fd, backing)
        attached = True
        before = ioctls.loop_get_status64(fd)
        assert (before.offset, before.sizelimit, before.file_name) == (0, 0, "")
        ioctls.loop_set_status64(
            fd, offset=4096, flags=cfcntl.LO_FLAGS_AUTOCLEAR, file_name="named by cfcntl"
        )
        after = ioctls.loop_get_status64(fd)
        assert after.offset == 4096 and after.file_name == "named by cfcntl"
        assert after.flags & cfcntl.LO_FLAGS_AUTOCLEAR
        assert int(sysfs(path, "loop", "offset")) == 4096
        assert sysfs(path, "loop", "autoclear") == "1"
        assert int(str(losetup(path)["offset"])) == 4096
        assert ioctls.blkgetsize64(fd) == loop_image.stat().st_size - 4096
        ioctls.loop_clr_fd(fd)
        attached = False
        assert errno_of(lambda: ioctls.loop_get_status64(fd)) == errno.ENXIO
    finally:
        if attached:
            ioctls.loop_clr_fd(fd)
        os.close(backing)
        os.close(fd)
    assert not Path(f"/sys/block/loop{number}/loop/backing_file").exists()


def test_set_capacity_block_size_and_direct_io(loop_device: LoopDevice, loop_image: Path) -> None:
    """LOOP_SET_CAPACITY follows the backing file's growth; LOOP_SET_BLOCK_SIZE and
    LOOP_SET_DIRECT_IO (by value) show in sysfs and BLKSSZGET."""
    fd = loop_device.fd
    size = loop_image.stat().st_size
    assert ioctls.blkgetsize64(fd) == size
    os.truncate(loop_image, 2 * size)
    assert ioctls.blkgetsize64(fd) == size
    ioctls.loop_set_capacity(fd)
    assert ioctls.blkgetsize64(fd) == 2 * size == int(sysfs(loop_device.path, "size")) * 512
    ioctls.loop_set_block_size(fd, 4096)
    assert ioctls.blksszget(fd) == 4096
    assert int(sysfs(loop_device.path, "queue", "logical_block_size")) == 4096
    assert errno_of(lambda: ioctls.loop_set_block_size(fd, 1000)) == errno.EINVAL
    try:
        ioctls.loop_set_direct_io(fd, True)
    except OSError as exc:
        pytest.skip(f"the backing file's filesystem takes no O_DIRECT here: {exc}")
    assert sysfs(loop_device.path, "loop", "dio") == "1"
    assert truthy(losetup(loop_device.path)["dio"])
    assert ioctls.loop_get_status64(fd).flags & cfcntl.LO_FLAGS_DIRECT_IO
    ioctls.loop_set_direct_io(fd, False)
    assert sysfs(loop_device.path, "loop", "dio") == "0"


def test_loop_control_add_and_remove(control: int, loop_image: Path) -> None:
    """LOOP_CTL_ADD makes a /dev/loopN the test chose (EEXIST the second time),
    LOOP_CTL_REMOVE refuses it while attached (EBUSY) and removes it after; the stdlib's
    call (the number by value) says the same."""
    existing = {int(n[4:]) for n in os.listdir("/sys/block") if n[4:].isdigit()}
    number = max(existing, default=0) + 17
    assert ioctls.loop_ctl_add(control, number) == number
    try:
        assert Path(f"/sys/block/loop{number}").exists()
        assert errno_of(lambda: ioctls.loop_ctl_add(control, number)) == errno.EEXIST
        with LoopDevice(loop_image) as device:
            busy = device.number
            assert errno_of(lambda: ioctls.loop_ctl_remove(control, busy)) == errno.EBUSY
    finally:
        ioctls.loop_ctl_remove(control, number)
    assert not Path(f"/sys/block/loop{number}").exists()
    assert fcntl.ioctl(control, cfcntl.LOOP_CTL_ADD, number) == number
    assert fcntl.ioctl(control, cfcntl.LOOP_CTL_REMOVE, number) >= 0
    assert not Path(f"/sys/block/loop{number}").exists()
    free = ioctls.loop_ctl_get_free(control)
    assert not Path(f"/sys/block/loop{free}/loop/backing_file").exists()
    assert ioctls.none(control, cfcntl.LOOP_CTL_GET_FREE) == free


def test_loop_device_context_manager_detaches(loop_image: Path) -> None:
    """LoopDevice attaches a free device and detaches it when the block ends, also when
    it ends with an exception; a second attach of a busy device is EBUSY."""
    if os.geteuid() != 0:
        pytest.skip("needs root to attach loop devices")
    with pytest.raises(RuntimeError), LoopDevice(loop_image) as device:
        path = device.path
        assert sysfs(path, "loop", "backing_file") == str(loop_image)
        with open(loop_image, "rb") as backing:
            assert errno_of(lambda: ioctls.loop_set_fd(device.fd, backing)) == errno.EBUSY
            assert errno_of(lambda: ioctls.loop_configure(device.fd, backing)) == errno.EBUSY
        raise RuntimeError
    assert device.fd == -1
    assert not Path(f"/sys/block/{os.path.basename(path)}/loop/backing_file").exists()


def test_errors_before_and_from_the_kernel(tmp_path: Path, loop_device: LoopDevice) -> None:
    """A name too long for lo_file_name, or with a NUL, is ValueError before the call;
    a loop request on a regular file is ENOTTY; a number out of its C type names it."""
    fd = loop_device.fd
    long_name = "x" * cfcntl.LO_NAME_SIZE
    with pytest.raises(ValueError, match=f"file_name is {cfcntl.LO_NAME_SIZE} bytes"):
        ioctls.loop_set_status64(fd, file_name=long_name)
    with pytest.raises(ValueError, match="NUL"):
        ioctls.loop_set_status64(fd, file_name="a\0b")
    assert ioctls.loop_get_status64(fd).file_name != long_name
    regular = os.open(tmp_path / "plain", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        for call in (
            lambda: ioctls.loop_get_status64(regular),
            lambda: ioctls.loop_set_status64(regular),
            lambda: ioctls.loop_configure(regular, regular),
            lambda: ioctls.loop_clr_fd(regular),
            lambda: ioctls.loop_set_capacity(regular),
            lambda: ioctls.loop_ctl_get_free(regular),
        ):
            assert errno_of(call) == errno.ENOTTY
    finally:
        os.close(regular)
    with pytest.raises(OverflowError, match=r"loop_configure\(\): offset=-1"):
        ioctls.loop_configure(fd, fd, offset=-1)
    with pytest.raises(ValueError, match="negative"):
        ioctls.loop_set_fd(fd, -1)
    with pytest.raises(TypeError, match="block_size must be an int"):
        ioctls.loop_configure(fd, fd, block_size=4096.0)  # type: ignore[arg-type]


def test_loop_device_over_a_descriptor(attach: Callable[..., LoopDevice], loop_image: Path) -> None:
    """LoopDevice over an open descriptor (left open) with read_only: the device is
    read-only, has no name in its status, and shows the backing file's bytes."""
    with open(loop_image, "rb") as backing:
        device = attach(backing.fileno(), read_only=True, sizelimit=1 << 20)
        info = ioctls.loop_get_status64(device.fd)
        assert info.file_name == "" and info.sizelimit == 1 << 20
        assert info.flags & cfcntl.LO_FLAGS_READ_ONLY
        assert ioctls.blkroget(device.fd) == 1
        assert os.pread(device.fd, 4096, 4096) == os.pread(backing.fileno(), 4096, 4096)
        assert os.fstat(backing.fileno())  # still open
