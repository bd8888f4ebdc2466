"""Filesystems (``<linux/fs.h>``, ``<linux/fiemap.h>``): the inode flags, version,
extended attributes and block size as rows; the reflink copies, the extent map (FIEMAP),
dedupe, the label and FITRIM by hand (``src/cfcntl/_c/fs.c``)."""

from __future__ import annotations

from .._cfcntl import ffi as _ffi, lib as _lib
from .._syscall import (
    U64_FAILED,
    FileDescriptorLike,
    c_range,
    call,
    fileno,
    needs,
    u64_failure,
)
from ._pattern import (
    INT_TRAP as _INT_TRAP,
    int_getter,
    int_setter,
    struct_getter,
    struct_setter,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from collections.abc import Sequence
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

fs_setxattr = struct_setter(
    _lib.cf_fs_setxattr,
    "FS_IOC_FSSETXATTR",
    "struct fsxattr",
    (
        ("xflags", "fsx_xflags", "uint32_t"),
        ("extsize", "fsx_extsize", "uint32_t"),
        ("nextents", "fsx_nextents", "uint32_t"),
        ("projid", "fsx_projid", "uint32_t"),
        ("cowextsize", "fsx_cowextsize", "uint32_t"),
    ),
    "Set the inode's extended attributes from an FsXattr (FS_IOC_FSSETXATTR); the kernel "
    "ignores nextents.  Change one field of what fs_getxattr gave: every field is written.",
)

figetbsz = int_getter(
    _lib.cf_figetbsz,
    "FIGETBSZ",
    "int",
    "The block size of the file's filesystem in bytes (FIGETBSZ; a legacy _IO number, "
    "though the kernel writes an int).",
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


# --------------------------------------------------------------------------- FIEMAP

_cf_fiemap = needs("FS_IOC_FIEMAP", _lib.cf_fiemap)
_EXTENTS_AT: int = _lib.CF_FIEMAP_EXTENTS_AT
_EXTENT_SIZE = _ffi.sizeof("struct fiemap_extent")
_FIEMAP_SIZE = _ffi.sizeof("struct fiemap")
_HEADER_ZEROS = bytes(_EXTENTS_AT)
BATCH = 256
"""How many extents :func:`fiemap` asks the kernel for per call."""


class Extent(NamedTuple):
    """A ``struct fiemap_extent``: one extent of a file's data."""

    logical: int
    """Where it begins in the file, in bytes."""
    physical: int
    """Where it begins on the device, in bytes (0 with FIEMAP_EXTENT_UNKNOWN)."""
    length: int
    """Its length in bytes."""
    flags: int
    """FIEMAP_EXTENT_* bits (FIEMAP_EXTENT_LAST on the file's last extent)."""


def fiemap(
    fd: FileDescriptorLike,
    start: int = 0,
    length: int | None = None,
    flags: int = 0,
    *,
    batch: int = BATCH,
) -> list[Extent]:
    """The extents of the file's data from byte ``start`` for ``length`` bytes (None: to
    the end), holes left out (FS_IOC_FIEMAP with FIEMAP_FLAG_* ``flags``, e.g.
    FIEMAP_FLAG_SYNC to write dirty data first).  The kernel fills at most ``batch``
    extents per call, into a ``struct fiemap`` followed by that many
    ``struct fiemap_extent`` (the compiler's layout); the calls go on from the end of
    the last extent until one has FIEMAP_EXTENT_LAST or none is left, however many
    there are."""
    number = fileno(fd)
    for name, value in (("start", start), ("length", length), ("flags", flags), ("batch", batch)):
        if value is not None and not isinstance(value, int):
            raise TypeError(f"fiemap(): {name} must be an int, not {type(value).__name__}")
    low, high = c_range("uint64_t")
    end = high if length is None else start + length
    if not low <= start <= high or not start <= end <= high:
        raise ValueError(f"fiemap(): start={start}, length={length} is not a range of a file")
    if not 1 <= batch <= (1 << 20):
        raise ValueError(f"fiemap(): batch={batch} is not between 1 and {1 << 20}")
    if not 0 <= flags <= c_range("uint32_t")[1]:
        raise OverflowError(f"fiemap(): flags={flags} does not fit a uint32_t")
    size = max(_FIEMAP_SIZE, _EXTENTS_AT + batch * _EXTENT_SIZE)
    buffer = _ffi.new("char[]", size)
    request = _ffi.cast("struct fiemap *", buffer)
    extents = _ffi.cast("struct fiemap_extent *", buffer + _EXTENTS_AT)
    found: list[Extent] = []
    at = start
    while at < end:
        _ffi.memmove(buffer, _HEADER_ZEROS, _EXTENTS_AT)
        request.fm_start = at
        request.fm_length = end - at
        request.fm_flags = flags
        request.fm_extent_count = batch
        call(
            "fiemap",
            _cf_fiemap,
            ("fd", "int", number),
            ("map", "struct fiemap *", request),
        )
        mapped = request.fm_mapped_extents
        for i in range(mapped):
            extent = extents[i]
            found.append(
                Extent(extent.fe_logical, extent.fe_physical, extent.fe_length, extent.fe_flags)
            )
        if not mapped or found[-1].flags & _lib.FIEMAP_EXTENT_LAST:
            break
        at, before = found[-1].logical + found[-1].length, at
        if at <= before:  # an extent that ends where the call began: nothing further
            break
    return found


# --------------------------------------------------------------------------- FIDEDUPERANGE

_cf_fideduperange = needs("FIDEDUPERANGE", _lib.cf_fideduperange)
_INFO_AT: int = _lib.CF_DEDUPE_INFO_AT
_INFO_SIZE = _ffi.sizeof("struct file_dedupe_range_info")
_RANGE_SIZE = _ffi.sizeof("struct file_dedupe_range")


class Deduped(NamedTuple):
    """One destination's answer of FIDEDUPERANGE (``struct file_dedupe_range_info``)."""

    bytes_deduped: int
    """How many bytes now share the source's blocks."""
    status: int
    """FILE_DEDUPE_RANGE_SAME (deduped), FILE_DEDUPE_RANGE_DIFFERS (the data differ,
    nothing done), or a negated errno for this destination alone."""


def fideduperange(
    src: FileDescriptorLike,
    src_offset: int,
    length: int,
    destinations: Sequence[tuple[FileDescriptorLike, int]],
) -> list[Deduped]:
    """Make each destination (descriptor, offset) share ``src``'s blocks for ``length``
    bytes from ``src_offset`` where their data are the same (FIDEDUPERANGE).  The
    argument is a ``struct file_dedupe_range`` followed by one
    ``struct file_dedupe_range_info`` per destination (the compiler's layout); the
    kernel answers for each, in order.  A filesystem without dedupe answers EOPNOTSUPP
    or EINVAL for the whole call."""
    number = fileno(src)
    pairs = [(fileno(fd), offset) for fd, offset in destinations]
    high = c_range("uint16_t")[1]
    if not 1 <= len(pairs) <= high:
        raise ValueError(f"fideduperange(): {len(pairs)} destinations; 1 to {high} can be given")
    for name, value in (("src_offset", src_offset), ("length", length)):
        if not isinstance(value, int):
            raise TypeError(f"fideduperange(): {name} must be an int, not {type(value).__name__}")
    buffer = _ffi.new("char[]", max(_RANGE_SIZE, _INFO_AT + len(pairs) * _INFO_SIZE))
    request = _ffi.cast("struct file_dedupe_range *", buffer)
    infos = _ffi.cast("struct file_dedupe_range_info *", buffer + _INFO_AT)
    try:
        request.src_offset = src_offset
        request.src_length = length
        request.dest_count = len(pairs)
        for i, (fd, offset) in enumerate(pairs):
            infos[i].dest_fd = fd
            infos[i].dest_offset = offset
    except OverflowError:
        raise OverflowError(
            f"fideduperange(): src_offset={src_offset}, length={length} or a destination's "
            "offset does not fit a uint64_t"
        ) from None
    call(
        "fideduperange",
        _cf_fideduperange,
        ("src", "int", number),
        ("range", "struct file_dedupe_range *", request),
    )
    return [Deduped(infos[i].bytes_deduped, infos[i].status) for i in range(len(pairs))]


# --------------------------------------------------------------------------- labels, FITRIM

_cf_getfslabel = needs("FS_IOC_GETFSLABEL", _lib.cf_fs_getfslabel)
_cf_setfslabel = needs("FS_IOC_SETFSLABEL", _lib.cf_fs_setfslabel)
_cf_fitrim = needs("FITRIM", _lib.cf_fitrim)


def fs_getfslabel(fd: FileDescriptorLike) -> str:
    """The label of the filesystem of any file on it (FS_IOC_GETFSLABEL; btrfs, XFS,
    ext4...), UTF-8 decoded (bytes that are not UTF-8 kept as surrogates)."""
    label = _ffi.new("char[]", _lib.FSLABEL_MAX)
    call("fs_getfslabel", _cf_getfslabel, ("fd", "int", fileno(fd)), ("label", "char *", label))
    raw: bytes = _ffi.string(label)
    return raw.decode("utf-8", "surrogateescape")


def fs_setfslabel(fd: FileDescriptorLike, label: str) -> None:
    """Set the label of the filesystem of any file on it (FS_IOC_SETFSLABEL;
    CAP_SYS_ADMIN).  The label is UTF-8 encoded and must be shorter than FSLABEL_MAX
    bytes and free of NUL, or ValueError; each filesystem has its own, smaller, limit
    (EINVAL)."""
    if not isinstance(label, str):
        raise TypeError(f"fs_setfslabel(): label must be a str, not {type(label).__name__}")
    raw = label.encode("utf-8", "surrogateescape")
    if b"\0" in raw:
        raise ValueError("fs_setfslabel(): label contains a NUL character")
    if len(raw) >= _lib.FSLABEL_MAX:
        raise ValueError(
            f"fs_setfslabel(): label is {len(raw)} bytes in UTF-8; at most "
            f"{_lib.FSLABEL_MAX - 1} (FSLABEL_MAX - 1)"
        )
    call(
        "fs_setfslabel",
        _cf_setfslabel,
        ("fd", "int", fileno(fd)),
        ("label", "char *", raw),
        ("length", "size_t", len(raw)),
    )


def fitrim(
    fd: FileDescriptorLike, start: int = 0, length: int | None = None, minlen: int = 0
) -> int:
    """Discard the free space of the filesystem of any file on it, from byte ``start``
    for ``length`` bytes (None: all of it), in free extents of ``minlen`` bytes or more
    (FITRIM with a ``struct fstrim_range``; CAP_SYS_ADMIN).  Returns the bytes trimmed,
    which the kernel writes back into the range; EOPNOTSUPP where the device cannot
    discard."""
    number = fileno(fd)
    if length is None:
        length = c_range("uint64_t")[1]
    trimmed = call(
        "fitrim",
        _cf_fitrim,
        ("fd", "int", number),
        ("start", "uint64_t", start),
        ("length", "uint64_t", length),
        ("minlen", "uint64_t", minlen),
    )
    if trimmed == U64_FAILED and (error := u64_failure(number)):
        raise error
    return trimmed
