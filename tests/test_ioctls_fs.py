"""cfcntl.ioctls' filesystem calls on ext4, XFS and btrfs made on loop devices and
mounted under tmp_path by the ``filesystem`` fixture (tests/conftest.py; root only, and
each filesystem only where the kernel and its mkfs have it), against ``filefrag -v``,
``xfs_io``, ``blkid``, ``fstrim -v`` and the stdlib's fcntl.ioctl."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import subprocess
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cfcntl
from cfcntl import ioctls
from cfcntl._cfcntl import ffi


def errno_of(call: Callable[[], object]) -> int:
    with pytest.raises(OSError) as info:
        call()
    return info.value.errno


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def run(*command: str) -> str:
    tool(command[0])
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def opened() -> Iterator[Callable[..., int]]:
    """``opened(path, flags=O_RDWR | O_CREAT)``: a descriptor closed at teardown."""
    fds: list[int] = []

    def open_(path: Path, flags: int = os.O_RDWR | os.O_CREAT) -> int:
        fds.append(os.open(path, flags, 0o600))
        return fds[-1]

    yield open_
    for fd in fds:
        os.close(fd)


# --------------------------------------------------------------------------- FIGETBSZ


def test_figetbsz_is_the_filesystems_block_size(
    filesystem: Callable[..., Any], opened: Callable[..., int], tmp_path: Path
) -> None:
    """FIGETBSZ (a legacy _IO number; the kernel writes an int) on a file of a 1024-byte
    block ext4 and on tmp_path's file: statvfs, dumpe2fs and the stdlib agree."""
    mount = filesystem("ext4", "-b", "1024")
    fd = opened(mount.path / "f")
    assert ioctls.figetbsz(fd) == 1024 == os.statvfs(mount.path).f_bsize
    out = run("dumpe2fs", "-h", mount.device.path)
    assert re.search(r"^Block size:\s+1024$", out, re.M)
    other = opened(tmp_path / "here")
    buf = array("i", [0])
    fcntl.ioctl(other, cfcntl.FIGETBSZ, buf, True)
    assert ioctls.figetbsz(other) == buf[0] == os.statvfs(tmp_path).f_bsize
    assert ioctls.KNOWN["FIGETBSZ"][2:5] == ("read", None, "int")
    closed = os.dup(other)
    os.close(closed)
    assert errno_of(lambda: ioctls.figetbsz(closed)) == errno.EBADF


# --------------------------------------------------------------------------- FIEMAP

FILEFRAG_EXTENT = re.compile(
    r"^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+(\d+)\.\.\s*(\d+):\s+(\d+):\s+(?:\d+:)?\s*(\S*)$", re.M
)


def filefrag(path: Path) -> tuple[int, list[tuple[int, int, int, set[str]]]]:
    """``filefrag -v``'s block size and its extents: (logical, physical, length) in
    blocks, and the flag names."""
    out = run("filefrag", "-v", str(path))
    block = int(re.search(r"blocks of (\d+) bytes", out).group(1))  # type: ignore[union-attr]
    extents = [
        (int(m[1]), int(m[3]), int(m[5]), set(m[6].split(",")) - {""})
        for m in FILEFRAG_EXTENT.finditer(out)
    ]
    return block, extents


def test_fiemap_of_hundreds_of_extents_agrees_with_filefrag(
    filesystem: Callable[..., Any], opened: Callable[..., int]
) -> None:
    """A file with a block of data every other block, 300 extents: fiemap loops until
    FIEMAP_EXTENT_LAST however small its batch, and gives what filefrag -v gives."""
    mount = filesystem("ext4")
    path = mount.path / "holes"
    fd = opened(path)
    block = ioctls.figetbsz(fd)
    for i in range(300):
        os.pwrite(fd, bytes([i % 255 + 1]) * block, 2 * i * block)
    os.fsync(fd)
    extents = ioctls.fiemap(fd)
    assert len(extents) == 300
    assert all(isinstance(e, ioctls.Extent) for e in extents)
    assert [e.logical for e in extents] == [2 * i * block for i in range(300)]
    assert {e.length for e in extents} == {block}
    last = [e.flags & cfcntl.FIEMAP_EXTENT_LAST for e in extents]
    assert last[-1] and not any(last[:-1])
    assert ioctls.fiemap(fd, batch=7) == extents
    assert ioctls.fiemap(fd, batch=1) == extents
    frag_block, frag = filefrag(path)
    assert frag_block == block
    assert [(e.logical // block, e.physical // block, e.length // block) for e in extents] == [
        f[:3] for f in frag
    ]
    assert "last" in frag[-1][3] and all("last" not in f[3] for f in frag[:-1])
    window = ioctls.fiemap(fd, 20 * block, 10 * block)  # extents 10 to 14 overlap it
    assert [e[:3] for e in window] == [e[:3] for e in extents[10:15]]
    assert window[-1].flags & cfcntl.FIEMAP_EXTENT_LAST  # ext4: the last of the range
    empty = opened(mount.path / "empty")
    assert ioctls.fiemap(empty) == []


def test_fiemap_errors(opened: Callable[..., int], tmp_path: Path) -> None:
    """Bad ranges are ValueError and a non-int TypeError before the call; a pipe gets
    the errno the stdlib gets with a zero-extent struct fiemap of the compiler's size."""
    fd = opened(tmp_path / "f")
    with pytest.raises(ValueError, match="not a range"):
        ioctls.fiemap(fd, -1)
    with pytest.raises(ValueError, match="not a range"):
        ioctls.fiemap(fd, 10, -5)
    with pytest.raises(ValueError, match="batch=0"):
        ioctls.fiemap(fd, batch=0)
    with pytest.raises(TypeError, match="start must be an int"):
        ioctls.fiemap(fd, 1.5)  # type: ignore[arg-type]
    with pytest.raises(OverflowError, match="flags"):
        ioctls.fiemap(fd, flags=1 << 32)
    r, w = os.pipe()
    try:
        code = errno_of(lambda: ioctls.fiemap(r))
        size = ffi.sizeof("struct fiemap")
        assert code == errno_of(lambda: fcntl.ioctl(r, cfcntl.FS_IOC_FIEMAP, bytes(size)))
    finally:
        os.close(r)
        os.close(w)
    assert ioctls.KNOWN["FS_IOC_FIEMAP"].direction == "refused"
    with pytest.raises(ValueError, match="cfcntl refuses FS_IOC_FIEMAP"):
        ioctls.readwrite(fd, cfcntl.FS_IOC_FIEMAP, "struct fiemap", {})


# --------------------------------------------------------------------------- FS_IOC_FSSETXATTR


def xfs_io_stat(path: Path) -> dict[str, str]:
    out = run("xfs_io", "-r", "-c", "stat", str(path))
    return dict(re.findall(r"^fsxattr\.(\w+) = (\S+)", out, re.M))


def test_fs_setxattr_agrees_with_xfs_io(
    filesystem: Callable[..., Any], opened: Callable[..., int], translated: Callable[..., Any]
) -> None:
    """FS_IOC_FSSETXATTR (a struct setter row) on XFS: an extent size hint, a project id
    and FS_XFLAG_NODUMP, as xfs_io -c stat and -c lsattr see them, and back."""
    mount = filesystem("xfs")
    path = mount.path / "f"
    fd = opened(path)
    before = translated(lambda: ioctls.fs_getxattr(fd))
    hint = 16 * ioctls.figetbsz(fd)
    wanted = before._replace(
        xflags=before.xflags | cfcntl.FS_XFLAG_EXTSIZE | cfcntl.FS_XFLAG_NODUMP,
        extsize=hint,
        projid=4242,
    )
    ioctls.fs_setxattr(fd, wanted)
    after = ioctls.fs_getxattr(fd)
    assert after == wanted
    seen = xfs_io_stat(path)
    assert int(seen["extsize"]) == hint and int(seen["projid"]) == 4242
    assert int(seen["xflags"], 16) == after.xflags
    flags = run("xfs_io", "-r", "-c", "lsattr", str(path)).split()[0]
    assert "e" in flags and "d" in flags
    ioctls.fs_setxattr(fd, before)
    assert ioctls.fs_getxattr(fd) == before
    assert int(xfs_io_stat(path)["projid"]) == 0
    with pytest.raises(ValueError, match="4 values for the 5 fields"):
        ioctls.fs_setxattr(fd, (0, 0, 0, 0))
    with pytest.raises(OverflowError, match="projid=-1"):
        ioctls.fs_setxattr(fd, before._replace(projid=-1))
    r, w = os.pipe()
    try:
        assert errno_of(lambda: ioctls.fs_setxattr(r, before)) == errno.ENOTTY
    finally:
        os.close(r)
        os.close(w)


# --------------------------------------------------------------------------- labels


def blkid_label(device: str) -> str:
    return run("blkid", "-p", "-s", "LABEL", "-o", "value", device).strip()


@pytest.mark.parametrize("kind", ["ext4", "xfs", "btrfs"])
def test_labels_agree_with_blkid(
    kind: str,
    filesystem: Callable[..., Any],
    opened: Callable[..., int],
    translated: Callable[..., Any],
) -> None:
    """FS_IOC_GETFSLABEL reads what mkfs wrote, FS_IOC_SETFSLABEL writes what blkid then
    finds on the device (its cache dropped with BLKFLSBUF first)."""
    mount = filesystem(kind, "-L", "cfcntl-a")
    device = mount.device
    fd = opened(mount.path, os.O_RDONLY)
    assert translated(lambda: ioctls.fs_getfslabel(fd)) == "cfcntl-a" == blkid_label(device.path)
    ioctls.fs_setfslabel(fd, "cfcntl-b")
    assert ioctls.fs_getfslabel(fd) == "cfcntl-b"
    os.sync()
    ioctls.blkflsbuf(device.fd)
    assert blkid_label(device.path) == "cfcntl-b"
    if kind == "xfs":
        assert run("xfs_admin", "-l", device.path).strip() == 'label = "cfcntl-b"'
    buf = bytearray(cfcntl.FSLABEL_MAX)
    fcntl.ioctl(fd, cfcntl.FS_IOC_GETFSLABEL, buf, True)
    assert buf.rstrip(b"\0") == b"cfcntl-b"


def test_label_errors(
    filesystem: Callable[..., Any], opened: Callable[..., int], translated: Callable[..., Any]
) -> None:
    """A label of FSLABEL_MAX bytes or more in UTF-8 (fewer characters), or with a NUL,
    is ValueError before the call; ext4's own limit, 16 bytes, is the kernel's EINVAL."""
    mount = filesystem("ext4", "-L", "keep")
    fd = opened(mount.path, os.O_RDONLY)
    assert translated(lambda: ioctls.fs_getfslabel(fd)) == "keep"
    with pytest.raises(ValueError, match=f"at most {cfcntl.FSLABEL_MAX - 1}"):
        ioctls.fs_setfslabel(fd, "é" * (cfcntl.FSLABEL_MAX // 2))
    with pytest.raises(ValueError, match="NUL"):
        ioctls.fs_setfslabel(fd, "a\0b")
    with pytest.raises(TypeError, match="must be a str"):
        ioctls.fs_setfslabel(fd, b"bytes")  # type: ignore[arg-type]
    assert errno_of(lambda: ioctls.fs_setfslabel(fd, "x" * 17)) == errno.EINVAL
    assert ioctls.fs_getfslabel(fd) == "keep"
    r, w = os.pipe()
    try:
        assert errno_of(lambda: ioctls.fs_getfslabel(r)) == errno.ENOTTY
        assert errno_of(lambda: ioctls.fs_setfslabel(r, "x")) == errno.ENOTTY
    finally:
        os.close(r)
        os.close(w)


# --------------------------------------------------------------------------- FITRIM


def fstrim(where: Path) -> int:
    out = run("fstrim", "-v", str(where))
    return int(re.search(r"\((\d+) bytes\) trimmed", out).group(1))  # type: ignore[union-attr]


def test_fitrim_agrees_with_fstrim(
    filesystem: Callable[..., Any], opened: Callable[..., int], translated: Callable[..., Any]
) -> None:
    """FITRIM on XFS (which trims every free extent each time) answers the bytes fstrim
    -v reports for the same free space; a minlen above the allocation group's size is
    EINVAL; a pipe, ENOTTY as for the stdlib."""
    mount = filesystem("xfs")
    where = mount.path
    fd = opened(where, os.O_RDONLY)
    expected = fstrim(where)
    assert expected > 0
    assert translated(lambda: ioctls.fitrim(fd)) == expected
    assert ioctls.fitrim(fd, 0, None, 4096) <= expected
    assert errno_of(lambda: ioctls.fitrim(fd, minlen=1 << 40)) == errno.EINVAL
    r, w = os.pipe()
    try:
        code = errno_of(lambda: ioctls.fitrim(r))
        size = ffi.sizeof("struct fstrim_range")
        assert code == errno_of(lambda: fcntl.ioctl(r, cfcntl.FITRIM, bytes(size))) == errno.ENOTTY
    finally:
        os.close(r)
        os.close(w)


# --------------------------------------------------------------------------- reflinks, dedupe


def test_ficlone_without_reflinks_is_a_clear_oserror(
    filesystem: Callable[..., Any], opened: Callable[..., int]
) -> None:
    """ext4 has no reflinks: the kernel refuses FICLONE and FICLONERANGE, cfcntl raises
    what the stdlib gets (moved here from test_ioctls.py, on a filesystem the test made)."""
    mount = filesystem("ext4")
    src = opened(mount.path / "src")
    dst = opened(mount.path / "clone")
    os.write(src, b"x" * 4096)
    code = errno_of(lambda: ioctls.ficlone(dst, src))
    assert code in (errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL)
    assert code == errno_of(lambda: fcntl.ioctl(dst, cfcntl.FICLONE, src))
    assert errno_of(lambda: ioctls.ficlonerange(dst, src, 0, 0, 0)) == code
    assert os.fstat(dst).st_size == 0


@pytest.mark.parametrize("kind", ["btrfs", "xfs"])
def test_ficlone_success_shares_the_extents(
    kind: str, filesystem: Callable[..., Any], opened: Callable[..., int]
) -> None:
    """FICLONE and FICLONERANGE on a reflink filesystem: the data are copied, and FIEMAP
    shows the clone's extent at the source's physical address, FIEMAP_EXTENT_SHARED."""
    mount = filesystem(kind)
    src = opened(mount.path / "src")
    dst = opened(mount.path / "dst")
    block = ioctls.figetbsz(src)
    data = os.urandom(4 * block)
    os.write(src, data)
    os.fsync(src)
    ioctls.ficlone(dst, src)
    assert os.pread(dst, len(data), 0) == data
    other = opened(mount.path / "by-the-stdlib")
    assert fcntl.ioctl(other, cfcntl.FICLONE, src) == 0  # what the stdlib's call does
    assert os.pread(other, len(data), 0) == data
    (source,) = ioctls.fiemap(src, flags=cfcntl.FIEMAP_FLAG_SYNC)
    (clone,) = ioctls.fiemap(dst, flags=cfcntl.FIEMAP_FLAG_SYNC)
    assert clone.physical == source.physical and clone.length == source.length
    assert clone.flags & cfcntl.FIEMAP_EXTENT_SHARED
    ioctls.ficlonerange(dst, src, 2 * block, block, 0)  # the third block over the first
    assert os.pread(dst, block, 0) == data[2 * block : 3 * block]
    first = ioctls.fiemap(dst, 0, block)[0]
    assert first.physical == source.physical + 2 * block
    assert errno_of(lambda: ioctls.ficlonerange(dst, src, 1, block, 0)) == errno.EINVAL


@pytest.mark.parametrize("kind", ["btrfs", "xfs"])
def test_fideduperange_with_several_destinations(
    kind: str,
    filesystem: Callable[..., Any],
    opened: Callable[..., int],
    translated: Callable[..., Any],
) -> None:
    """FIDEDUPERANGE with four destinations: two with the same data are deduped
    (FILE_DEDUPE_RANGE_SAME, every byte, the source's physical extent after, shared),
    one differs (FILE_DEDUPE_RANGE_DIFFERS, untouched), a closed descriptor gets its own
    -EBADF; filefrag -v says shared for the deduped ones."""
    mount = filesystem(kind)
    where = mount.path
    src = opened(where / "src")
    block = ioctls.figetbsz(src)
    data = os.urandom(8 * block)
    os.write(src, data)
    same = [opened(where / f"same{i}") for i in range(2)]
    differs = opened(where / "differs")
    for fd in same:
        os.write(fd, data)
    os.write(differs, data[:-1] + bytes([data[-1] ^ 1]))
    closed = os.dup(src)
    os.close(closed)
    for fd in (src, *same, differs):
        os.fsync(fd)
    before = ioctls.fiemap(differs)
    answers = translated(
        lambda: ioctls.fideduperange(
            src, 0, len(data), [(same[0], 0), (differs, 0), (same[1], 0), (closed, 0)]
        )
    )
    assert all(isinstance(a, ioctls.Deduped) for a in answers)
    assert answers == [
        (len(data), cfcntl.FILE_DEDUPE_RANGE_SAME),
        (0, cfcntl.FILE_DEDUPE_RANGE_DIFFERS),
        (len(data), cfcntl.FILE_DEDUPE_RANGE_SAME),
        (0, -errno.EBADF),
    ]
    source = ioctls.fiemap(src)
    for fd in same:
        assert os.pread(fd, len(data), 0) == data
        mapped = ioctls.fiemap(fd)
        assert [e.physical for e in mapped] == [e.physical for e in source]
        assert all(e.flags & cfcntl.FIEMAP_EXTENT_SHARED for e in mapped)
    assert ioctls.fiemap(differs) == before
    _, frag = filefrag(where / "same1")
    assert all("shared" in f[3] for f in frag)
    with pytest.raises(ValueError, match="0 destinations"):
        ioctls.fideduperange(src, 0, block, [])
    with pytest.raises(OverflowError, match="does not fit"):
        ioctls.fideduperange(src, -1, block, [(same[0], 0)])
    assert ioctls.KNOWN["FIDEDUPERANGE"].direction == "refused"


def test_the_session_end_check_sees_what_is_still_mounted(
    filesystem: Callable[..., Any], leftovers: Callable[[], list[str]]
) -> None:
    """The check the suite ends with (tests/conftest.py) lists a mount and a loop device
    of the suite's while they exist: so it would fail a suite that left them."""
    mount = filesystem("ext4")
    left = leftovers()
    assert str(mount.path) in left and mount.device.path in left
