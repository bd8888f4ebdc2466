"""Block devices (``<linux/fs.h>``): the getters, BLKROSET and the argument-less requests
as rows, the device's size and the byte-range requests by hand
(``src/cfcntl/_c/block.c``: BLKGETSIZE64 is a u64, cfcntl.h's 64-bit alternative)."""

from __future__ import annotations

from .._cfcntl import lib as _lib
from .._syscall import U64_FAILED, FileDescriptorLike, call, fileno, needs, u64_failure
from ._pattern import int_getter, int_setter, no_argument

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from collections.abc import Callable

blksszget = int_getter(
    _lib.cf_blksszget,
    "BLKSSZGET",
    "int",
    "The block device's logical sector size in bytes (BLKSSZGET).",
)
blkpbszget = int_getter(
    _lib.cf_blkpbszget,
    "BLKPBSZGET",
    "unsigned int",
    "The block device's physical sector size in bytes (BLKPBSZGET).",
)
blkiomin = int_getter(
    _lib.cf_blkiomin,
    "BLKIOMIN",
    "unsigned int",
    "The smallest I/O the device prefers, in bytes (BLKIOMIN).",
)
blkioopt = int_getter(
    _lib.cf_blkioopt,
    "BLKIOOPT",
    "unsigned int",
    "The device's optimal I/O size in bytes, 0 if it states none (BLKIOOPT).",
)
blkalignoff = int_getter(
    _lib.cf_blkalignoff,
    "BLKALIGNOFF",
    "int",
    "How far the device's first sector is from its natural alignment (BLKALIGNOFF).",
)
blkdiscardzeroes = int_getter(
    _lib.cf_blkdiscardzeroes,
    "BLKDISCARDZEROES",
    "unsigned int",
    "Whether discarded sectors read back as zeros (BLKDISCARDZEROES); 0 on every kernel "
    "since 4.12, which answers it so for compatibility.",
)
blkrotational = int_getter(
    _lib.cf_blkrotational,
    "BLKROTATIONAL",
    "unsigned short",
    "1 for a rotational device (a disk that seeks), 0 otherwise (BLKROTATIONAL).",
)
blkroget = int_getter(
    _lib.cf_blkroget,
    "BLKROGET",
    "int",
    "1 if the block device is read-only, else 0 (BLKROGET).",
)
blkroset = int_setter(
    _lib.cf_blkroset,
    "BLKROSET",
    "int",
    "read_only",
    "Make the block device read-only (1) or writable (0) (BLKROSET; CAP_SYS_ADMIN).",
)
blkflsbuf = no_argument(
    _lib.cf_blkflsbuf,
    "BLKFLSBUF",
    "Write the device's dirty buffers and drop its page cache (BLKFLSBUF; CAP_SYS_ADMIN).",
)
blkrrpart = no_argument(
    _lib.cf_blkrrpart,
    "BLKRRPART",
    "Read the partition table again (BLKRRPART); EINVAL where partitions are off (a loop "
    "device without LO_FLAGS_PARTSCAN), EBUSY while a partition is in use.",
)

_cf_blkgetsize64 = needs("BLKGETSIZE64", _lib.cf_blkgetsize64)


def blkgetsize64(fd: FileDescriptorLike) -> int:
    """The block device's size in bytes (BLKGETSIZE64), the u64 the kernel writes."""
    number = fileno(fd)
    size = call("blkgetsize64", _cf_blkgetsize64, ("fd", "int", number))
    if size == U64_FAILED and (error := u64_failure(number)):
        raise error
    return size


def _checked_range(function: str, fd: int, start: int, length: int) -> None:
    """ValueError unless ``[start, start + length)`` is inside the device and aligned to
    its logical sector size (asked of the device: BLKSSZGET, BLKGETSIZE64), which the
    kernel would answer with EINVAL; ENOTTY for what is not a block device."""
    for name, value in (("start", start), ("length", length)):
        if not isinstance(value, int):
            raise TypeError(f"{function}(): {name} must be an int, not {type(value).__name__}")
        if value < 0:
            raise ValueError(f"{function}(): {name}={value} is negative")
    sector = blksszget(fd)
    size = blkgetsize64(fd)
    if start % sector or length % sector:
        raise ValueError(
            f"{function}(): start={start} and length={length} must be multiples of the "
            f"device's logical sector size, {sector}"
        )
    if start + length > size:
        raise ValueError(
            f"{function}(): start={start} + length={length} is past the device's end, {size}"
        )


_cf_blkdiscard = needs("BLKDISCARD", _lib.cf_blkdiscard)
_cf_blksecdiscard = needs("BLKSECDISCARD", _lib.cf_blksecdiscard)
_cf_blkzeroout = needs("BLKZEROOUT", _lib.cf_blkzeroout)


def _range(
    function: str,
    helper: Callable[[int, int, int], int],
    fd: FileDescriptorLike,
    start: int,
    length: int,
) -> None:
    number = fileno(fd)
    _checked_range(function, number, start, length)
    call(
        function,
        helper,
        ("fd", "int", number),
        ("start", "uint64_t", start),
        ("length", "uint64_t", length),
    )


def blkdiscard(fd: FileDescriptorLike, start: int, length: int) -> None:
    """Discard (TRIM/UNMAP) ``length`` bytes from byte ``start`` (BLKDISCARD, the
    kernel's uint64_t[2]); what reads back afterwards is the device's choice (zeros on
    a loop device).  Sector-aligned and inside the device, or ValueError before the
    call; EOPNOTSUPP where the device cannot discard."""
    _range("blkdiscard", _cf_blkdiscard, fd, start, length)


def blksecdiscard(fd: FileDescriptorLike, start: int, length: int) -> None:
    """As :func:`blkdiscard`, erasing the data for good (BLKSECDISCARD); EOPNOTSUPP on
    most devices, loop devices included."""
    _range("blksecdiscard", _cf_blksecdiscard, fd, start, length)


def blkzeroout(fd: FileDescriptorLike, start: int, length: int) -> None:
    """Write zeros over ``length`` bytes from byte ``start`` (BLKZEROOUT, uint64_t[2]),
    with the device's write-zeroes command where it has one; checked as
    :func:`blkdiscard`."""
    _range("blkzeroout", _cf_blkzeroout, fd, start, length)
