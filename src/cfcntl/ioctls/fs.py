"""Filesystems (``<linux/fs.h>``): the inode flags, version and extended attributes as
rows, the reflink copies by hand (``src/cfcntl/_c/fs.c``)."""

from __future__ import annotations

from .._cfcntl import lib as _lib
from .._syscall import FileDescriptorLike, call, fileno, needs
from ._pattern import INT_TRAP as _INT_TRAP, int_getter, int_setter, struct_getter

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from typing import NamedTuple
else:
    from .._record import NamedTuple

fs_getflags = int_getter(
    _lib.cf_fs_getflags,
    "FS_IOC_GETFLAGS",
    "int",
    "The inode flags, FS_*_FL (FS_IOC_GETFLAGS).  The header encodes a long; the kernel "
    "writes an int, and that is what is passed.",
    header="long",
    note=_INT_TRAP,
)
fs_setflags = int_setter(
    _lib.cf_fs_setflags,
    "FS_IOC_SETFLAGS",
    "int",
    "flags",
    "Set the inode flags (FS_IOC_SETFLAGS); passes an int, as the kernel reads.",
    header="long",
    note=_INT_TRAP,
)
fs_getversion = int_getter(
    _lib.cf_fs_getversion,
    "FS_IOC_GETVERSION",
    "int",
    "The inode's generation number (FS_IOC_GETVERSION); an int, though the header says long.",
    header="long",
    note=_INT_TRAP,
)


class FsXattr(NamedTuple):
    """A ``struct fsxattr``: an inode's extended attributes, as XFS defined them and
    every filesystem with inode flags reports them."""

    xflags: int
    """FS_XFLAG_* bits (FS_XFLAG_NODUMP, FS_XFLAG_NOATIME...)."""
    extsize: int
    """The extent size hint in bytes; 0 when none is set."""
    nextents: int
    """The number of data extents (XFS; 0 where the filesystem does not count them)."""
    projid: int
    """The project id (quotas)."""
    cowextsize: int
    """The copy-on-write extent size hint in bytes."""


fs_getxattr = struct_getter(
    _lib.cf_fs_getxattr,
    "FS_IOC_FSGETXATTR",
    "struct fsxattr",
    FsXattr,
    ("fsx_xflags", "fsx_extsize", "fsx_nextents", "fsx_projid", "fsx_cowextsize"),
    "The inode's extended attributes (FS_IOC_FSGETXATTR), as an FsXattr.",
)

_cf_ficlone = needs("FICLONE", _lib.cf_ficlone)
_cf_ficlonerange = needs("FICLONERANGE", _lib.cf_ficlonerange)


def ficlone(dst: FileDescriptorLike, src: FileDescriptorLike) -> None:
    """Make ``dst`` share all of ``src``'s data blocks (FICLONE, a reflink copy).

    Only filesystems with reflinks (btrfs, XFS, ...) do it; others answer EOPNOTSUPP,
    EXDEV (different filesystems) or EINVAL.
    """
    call("ficlone", _cf_ficlone, ("dst", "int", fileno(dst)), ("src", "int", fileno(src)))


def ficlonerange(
    dst: FileDescriptorLike,
    src: FileDescriptorLike,
    src_offset: int,
    length: int,
    dst_offset: int,
) -> None:
    """Share ``length`` bytes of ``src`` at ``src_offset`` into ``dst`` at ``dst_offset``
    (FICLONERANGE); offsets and length must be block-aligned, length 0 means to the end."""
    call(
        "ficlonerange",
        _cf_ficlonerange,
        ("dst", "int", fileno(dst)),
        ("src", "int", fileno(src)),
        ("src_offset", "uint64_t", src_offset),
        ("length", "uint64_t", length),
        ("dst_offset", "uint64_t", dst_offset),
    )
