"""The registry of ioctl requests: every request macro of the build's headers
(:data:`REQUESTS`, valued by the compiler) and the ones cfcntl knows (:data:`KNOWN`),
with the types the header and the kernel give their argument."""

from __future__ import annotations

from .._cfcntl import ffi as _ffi, lib as _lib
from .._syscall import NEEDED
from . import FAMILIES
from ._pattern import FAMILY, INT_TRAP, ROWS

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from typing import NamedTuple

    from ._pattern import Direction, Entry
else:
    from .._record import NamedTuple

_new_tuple = tuple.__new__


class Known(NamedTuple):
    """A request cfcntl knows, with the types the header and the kernel give its argument."""

    name: str
    request: int
    direction: Direction
    """"read": the kernel writes the argument; "write": it reads it; "readwrite": both;
    "none": no argument; "value": a number of type ``kernel_ctype`` passed by value, not
    through a pointer (:func:`by_value`);
    "refused": the generic calls refuse it (the note says why)."""
    header_ctype: str | None
    """The type the header's ``_IOR``/``_IOW`` encodes; None for a legacy number."""
    kernel_ctype: str | None
    """The type the kernel actually reads or writes; None when there is no argument or
    cfcntl refuses the request."""
    note: str


# issue 14, devices-a: a family module may list its hand-written helpers' requests as
# registry entries, HAND_WRITTEN; they join KNOWN, STRUCTS and the report's family.
HAND_WRITTEN: tuple[Entry, ...] = tuple(
    entry for family in FAMILIES for entry in getattr(family, "HAND_WRITTEN", ())
)
"""Every family's hand-written requests (request, direction, header's C type, kernel's
C type, note)."""


def _declared(ctype: str) -> bool:
    """Whether the compiled module knows the struct ``ctype`` (a sizeless request's type
    is declared only when the build's headers define it)."""
    try:
        _ffi.typeof(ctype)
    except _ffi.error:
        return False
    return True


FAMILY.update(  # the hand-written helpers' requests, which their modules ask needs() for
    (name, module)
    for name, module in NEEDED.items()
    if module in {family.__name__ for family in FAMILIES} and name not in FAMILY
)
FAMILY.update(
    (entry[0], family.__name__)
    for family in FAMILIES
    for entry in getattr(family, "HAND_WRITTEN", ())
)

STRUCTS = tuple(
    dict.fromkeys(
        [
            *(
                ctype
                for _, _, _, ctype, _ in (*ROWS, *HAND_WRITTEN)
                if ctype and ctype.startswith("struct ") and _declared(ctype)
            ),
            "struct file_clone_range",  # FICLONERANGE's, hand-written (src/cfcntl/_c/fs.c)
            # the hand-written helpers' of loop.c, block.c (none) and fs.c (issue 14)
            "struct loop_info64",
            "struct loop_config",
            "struct fiemap",
            "struct fiemap_extent",
            "struct file_dedupe_range",
            "struct file_dedupe_range_info",
            "struct fstrim_range",
        ]
    )
)
"""The C structs the typed ioctl helpers pass, declared to the compiler with ``...;``:
the pattern rows' (``struct winsize``, ``struct fsxattr``...) and the hand-written
helpers'."""

_SIZED: tuple[tuple[str, Direction, str, str | None, str], ...] = (
    ("FICLONE", "value", "int", "int", "the source descriptor"),
    ("FICLONERANGE", "write", "struct file_clone_range", "struct file_clone_range", ""),
    ("BLKGETSIZE64", "read", "size_t", "uint64_t", "size_t in the header; the kernel writes a u64"),
    ("FS_IOC_SETVERSION", "write", "long", "int", INT_TRAP),
    (
        "BLKBSZGET",
        "read",
        "size_t",
        "int",
        "the header encodes a long (size_t); the kernel writes an int",
    ),
    (
        "BLKBSZSET",
        "write",
        "size_t",
        "int",
        "the header encodes a long (size_t); the kernel reads an int",
    ),
    ("TIOCSIG", "value", "int", "int", "the signal number itself, not a pointer to it"),
    (
        "FIDEDUPERANGE",
        "refused",
        "struct file_dedupe_range",
        None,
        "dest_count 32-byte records follow the 24 bytes the header encodes, and the kernel "
        "writes them back",
    ),
    (
        "FS_IOC_FIEMAP",
        "refused",
        "struct fiemap",
        None,
        "fm_extent_count struct fiemap_extent follow the struct the header encodes, and the "
        "kernel writes them: ioctls.fiemap",
    ),
    (
        "FS_IOC_GET_ENCRYPTION_POLICY_EX",
        "refused",
        "__u8[9]",
        None,
        "the kernel writes up to 32 bytes (the policy_size field inside says how many), "
        "past the 9 the header encodes",
    ),
    (
        "FS_IOC_SET_ENCRYPTION_POLICY",
        "refused",
        "struct fscrypt_policy",
        None,
        "the kernel reads 24 bytes for a version 2 policy, past the 12 the header encodes",
    ),
    (
        "FS_IOC_ADD_ENCRYPTION_KEY",
        "refused",
        "struct fscrypt_add_key_arg",
        None,
        "the key's raw_size bytes follow the 80 the header encodes",
    ),
)
"""The sized requests cfcntl knows beside the pattern rows' (which register their own):
the hand-written helpers', and every one of the build's headers whose header misleads:
a type the kernel does not use, an int the kernel takes by value, or an argument longer
than the size the header encodes (refused)."""

REQUESTS: dict[str, int]
"""Every ioctl request macro the build's headers define, valued by the compiler."""

KNOWN: dict[str, Known]
"""The requests cfcntl knows that the build's headers define, by name: the typed
helpers' sized requests (the pattern rows' and :data:`_SIZED`), and every request
without size bits (``_requests.py``)."""

_BY_NUMBER: dict[int, Known] = {}


def _by_number() -> dict[int, Known]:
    """:data:`KNOWN` by request number (the first name of a number wins)."""
    if not _BY_NUMBER:
        _load()
    return _BY_NUMBER


def _load() -> None:
    """Build :data:`REQUESTS` and :data:`KNOWN` (on first use: they would add about a
    third of a millisecond to ``import cfcntl``)."""
    from .._requests import SIZELESS

    names = _ffi.string(_lib.cf_request_names()).decode().split()
    requests = dict(zip(names, _ffi.unpack(_lib.cf_request_values(), len(names)), strict=True))
    known = {
        name: _new_tuple(Known, (name, requests[name], *row))
        for name, *row in (*ROWS, *_SIZED, *HAND_WRITTEN)
        if name in requests
    }
    for name, (kind, ctype, note) in SIZELESS.items():
        if kind != "not a request" and name in requests:
            known[name] = _new_tuple(Known, (name, requests[name], kind, None, ctype, note))
    globals().update(REQUESTS=requests, KNOWN=known)
    _BY_NUMBER.update((k.request, k) for k in reversed(known.values()))


def __getattr__(name: str) -> object:
    """:data:`REQUESTS` and :data:`KNOWN`, built the first time either is asked for."""
    if name in ("REQUESTS", "KNOWN"):
        _load()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
