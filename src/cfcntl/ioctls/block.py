"""Block devices (``<linux/fs.h>``): the sector size as a row, the device's size by hand
(``src/cfcntl/_c/block.c``: a u64, cfcntl.h's 64-bit alternative)."""

from __future__ import annotations

from .._cfcntl import lib as _lib
from .._syscall import U64_FAILED, FileDescriptorLike, call, fileno, needs, u64_failure
from ._pattern import int_getter

blksszget = int_getter(
    _lib.cf_blksszget,
    "BLKSSZGET",
    "int",
    "The block device's logical sector size in bytes (BLKSSZGET).",
)

_cf_blkgetsize64 = needs("BLKGETSIZE64", _lib.cf_blkgetsize64)


def blkgetsize64(fd: FileDescriptorLike) -> int:
    """The block device's size in bytes (BLKGETSIZE64), the u64 the kernel writes."""
    number = fileno(fd)
    size = call("blkgetsize64", _cf_blkgetsize64, ("fd", "int", number))
    if size == U64_FAILED and (error := u64_failure(number)):
        raise error
    return size
