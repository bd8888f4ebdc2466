"""Typed ioctl(2): one function per request that returns or takes Python values, generic
size-checked calls for the rest, and a registry of the requests cfcntl knows.

The typed helpers call one fixed-signature C helper per request, which passes the kernel
an argument of the type the kernel really uses and returns the value as a scalar, so a
call allocates nothing.  The generic calls (:func:`read`, :func:`write`,
:func:`readwrite`, :func:`none`) take a request number and a C type name, and refuse a
type whose size differs from the size the request encodes, or for a request without
size bits from the type :data:`KNOWN` gives it, before any syscall; an unknown request
without size bits needs ``size=``, and its argument then carries a guard.
"""

from __future__ import annotations

import struct

from . import ioc
from ._cfcntl import ffi as _ffi, lib as _lib
from ._syscall import (
    Argument,
    FileDescriptorLike,
    as_int,
    call,
    fileno,
    misfit,
    oserror,
    refused,
)
from .constants import _IOC_SIZEBITS, has, require

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from collections.abc import Callable
    from typing import Any, Literal, NamedTuple
else:
    from ._record import NamedTuple

_FAILED: int = _lib.CF_IOCTL_FAILED
_U64_FAILED = (1 << 64) - 1


def _helper(name: str, request: str) -> Callable[..., Any]:
    """The C helper ``cf_NAME``, or a stand-in raising NotImplementedError when the
    build's headers lacked ``request``."""
    if has(request):
        helper: Callable[..., Any] = getattr(_lib, f"cf_{name}")
        return helper

    def absent(*_: object) -> Any:
        return require(request)  # raises NotImplementedError

    return absent


def _fd(fd: FileDescriptorLike, name: str = "fd") -> Argument:
    return name, "int", fd if isinstance(fd, int) and fd >= 0 else fileno(fd)


# --------------------------------------------------------------------------- typed helpers


def _int_getter(name: str, request: str, doc: str) -> Callable[[FileDescriptorLike], int]:
    """``name(fd)``: the int the C helper returns, or the OSError for its errno."""
    helper = _helper(name, request)
    failed = _FAILED

    def get(fd: FileDescriptorLike) -> int:
        number = fd if isinstance(fd, int) and fd >= 0 else fileno(fd)
        try:
            value: int = helper(number)
        except OverflowError as exc:
            raise refused(exc, name, ("fd", "int", number)) from None
        if value == failed:
            raise oserror()
        return value

    get.__name__ = get.__qualname__ = name
    get.__doc__ = doc
    return get


def _int_setter(
    name: str, request: str, argument: str, ctype: str, doc: str
) -> Callable[[FileDescriptorLike, int], None]:
    """``name(fd, value)``: pass ``value`` as the helper's ``ctype``, named ``argument``."""
    helper = _helper(name, request)

    def put(fd: FileDescriptorLike, value: int) -> None:
        call(name, helper, _fd(fd), (argument, ctype, value))

    put.__name__ = put.__qualname__ = name
    put.__doc__ = doc
    return put


def _plain(name: str, request: str, doc: str) -> Callable[[FileDescriptorLike], None]:
    """``name(fd)`` for a request with no argument."""
    helper = _helper(name, request)

    def plain(fd: FileDescriptorLike) -> None:
        call(name, helper, _fd(fd))

    plain.__name__ = plain.__qualname__ = name
    plain.__doc__ = doc
    return plain


fionread = _int_getter(
    "fionread", "FIONREAD", "Bytes waiting to be read (FIONREAD; SIOCINQ on sockets)."
)
tiocoutq = _int_getter(
    "tiocoutq", "TIOCOUTQ", "Bytes written but not yet sent (TIOCOUTQ; SIOCOUTQ on sockets)."
)
tiocgpgrp = _int_getter(
    "tiocgpgrp", "TIOCGPGRP", "The terminal's foreground process group (TIOCGPGRP)."
)
tiocgsid = _int_getter(
    "tiocgsid", "TIOCGSID", "The session the terminal controls (TIOCGSID); ENOTTY if none."
)
tiocgptn = _int_getter(
    "tiocgptn", "TIOCGPTN", "The number N of the pseudo-terminal /dev/pts/N, asked of its master."
)
tiocgetd = _int_getter("tiocgetd", "TIOCGETD", "The terminal's line discipline (TIOCGETD).")
fs_getflags = _int_getter(
    "fs_getflags",
    "FS_IOC_GETFLAGS",
    "The inode flags, FS_*_FL (FS_IOC_GETFLAGS).  The header encodes a long; the kernel "
    "writes an int, and that is what is passed.",
)
fs_getversion = _int_getter(
    "fs_getversion",
    "FS_IOC_GETVERSION",
    "The inode's generation number (FS_IOC_GETVERSION); an int, though the header says long.",
)
blksszget = _int_getter(
    "blksszget", "BLKSSZGET", "The block device's logical sector size in bytes (BLKSSZGET)."
)

fionbio = _int_setter(
    "fionbio", "FIONBIO", "on", "int", "Set (non-zero) or clear O_NONBLOCK (FIONBIO)."
)
fioasync = _int_setter(
    "fioasync", "FIOASYNC", "on", "int", "Set (non-zero) or clear O_ASYNC (FIOASYNC)."
)
tiocsptlck = _int_setter(
    "tiocsptlck",
    "TIOCSPTLCK",
    "lock",
    "int",
    "Lock (non-zero) or unlock the slave of a pseudo-terminal master (TIOCSPTLCK).",
)
tiocspgrp = _int_setter(
    "tiocspgrp",
    "TIOCSPGRP",
    "pgrp",
    "pid_t",
    "Make ``pgrp`` the terminal's foreground process group (TIOCSPGRP).",
)
fs_setflags = _int_setter(
    "fs_setflags",
    "FS_IOC_SETFLAGS",
    "flags",
    "int",
    "Set the inode flags (FS_IOC_SETFLAGS); passes an int, as the kernel reads.",
)

fioclex = _plain("fioclex", "FIOCLEX", "Set close-on-exec on the descriptor (FIOCLEX).")
fionclex = _plain("fionclex", "FIONCLEX", "Clear close-on-exec on the descriptor (FIONCLEX).")
tiocexcl = _plain("tiocexcl", "TIOCEXCL", "Refuse further opens of the terminal (TIOCEXCL).")
tiocnxcl = _plain("tiocnxcl", "TIOCNXCL", "Allow opens of the terminal again (TIOCNXCL).")
tiocnotty = _plain("tiocnotty", "TIOCNOTTY", "Give up the controlling terminal ``fd`` (TIOCNOTTY).")
tiocsctty = _plain(
    "tiocsctty",
    "TIOCSCTTY",
    "Make the terminal the caller's controlling terminal (TIOCSCTTY), without stealing it "
    "from another session.",
)


def blkgetsize64(fd: FileDescriptorLike) -> int:
    """The block device's size in bytes (BLKGETSIZE64), the u64 the kernel writes."""
    size = call("blkgetsize64", _cf_blkgetsize64, _fd(fd))
    if size == _U64_FAILED and _ffi.errno:
        raise oserror()
    return size


_cf_blkgetsize64 = _helper("blkgetsize64", "BLKGETSIZE64")


class Winsize(NamedTuple):
    """A ``struct winsize``: a terminal's size."""

    rows: int
    cols: int
    xpixel: int
    ypixel: int


_cf_get_winsize = _lib.cf_get_winsize
_unpack_winsize = struct.Struct("<4H").unpack
_new_tuple = tuple.__new__


def get_winsize(fd: FileDescriptorLike) -> Winsize:
    """The terminal's size (TIOCGWINSZ)."""
    number = fd if isinstance(fd, int) and fd >= 0 else fileno(fd)
    try:
        packed: int = _cf_get_winsize(number)
    except OverflowError as exc:
        raise refused(exc, "get_winsize", ("fd", "int", number)) from None
    if packed == _U64_FAILED and _ffi.errno:
        raise oserror()
    # The C helper packs ws_row into the low 16 bits, ws_ypixel into the high 16.
    return _new_tuple(Winsize, _unpack_winsize(packed.to_bytes(8, "little")))


def set_winsize(fd: FileDescriptorLike, size: Winsize) -> None:
    """Set the terminal's size (TIOCSWINSZ); the foreground process group gets SIGWINCH."""
    rows, cols, xpixel, ypixel = size
    call(
        "set_winsize",
        _lib.cf_set_winsize,
        _fd(fd),
        ("rows", "unsigned short", rows),
        ("cols", "unsigned short", cols),
        ("xpixel", "unsigned short", xpixel),
        ("ypixel", "unsigned short", ypixel),
    )


_cf_ficlone = _helper("ficlone", "FICLONE")
_cf_ficlonerange = _helper("ficlonerange", "FICLONERANGE")


def ficlone(dst: FileDescriptorLike, src: FileDescriptorLike) -> None:
    """Make ``dst`` share all of ``src``'s data blocks (FICLONE, a reflink copy).

    Only filesystems with reflinks (btrfs, XFS, ...) do it; others answer EOPNOTSUPP,
    EXDEV (different filesystems) or EINVAL.
    """
    call("ficlone", _cf_ficlone, _fd(dst, "dst"), _fd(src, "src"))


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
        _fd(dst, "dst"),
        _fd(src, "src"),
        ("src_offset", "uint64_t", src_offset),
        ("length", "uint64_t", length),
        ("dst_offset", "uint64_t", dst_offset),
    )


# --------------------------------------------------------------------------- generic calls

LIMIT = (1 << _IOC_SIZEBITS) - 1
"""The largest argument the generic calls allocate: the most a request can encode
(2**_IOC_SIZEBITS - 1 bytes); a larger ``ctype`` or ``size`` is ValueError before any
allocation."""

GUARD = 1 << _IOC_SIZEBITS
"""Bytes of guard after an argument whose size the caller vouched for (``size=``)."""

# A pattern no kernel writes by accident: a permutation of the 256 byte values (167 is
# odd), repeated; built from 256 values, not 16384, for the import cost.
_GUARD_BYTES = bytes((i * 167 + 0x5A) & 0xFF for i in range(256)) * (GUARD // 256)


class OverrunError(RuntimeError):
    """The kernel wrote past an argument whose size the caller vouched for.

    The write landed in cfcntl's guard, inside cfcntl's own allocation, so the heap is
    sound; the vouched size was wrong.
    """

    def __init__(self, function: str, request: int, size: int, past: int) -> None:
        super().__init__(
            f"{function}(): request {request:#x} wrote at least {past} bytes past the "
            f"{size}-byte argument vouched for (size={size}): the kernel uses at least "
            f"{size + past} bytes; nothing outside cfcntl's buffer was touched"
        )
        self.request = request
        self.size = size
        self.past = past


def _plan(function: str, request: int, ctype: str, size: object) -> tuple[str, int, bool, bool]:
    """How to pass a ``ctype`` for ``request``: the cffi type of its address ("int *",
    "char(*)[16]"...), its size, whether it is an integer, and whether the caller vouched
    for the size (an unknown legacy request, whose argument gets a guard).

    Refuses, before anything is allocated, a request :data:`KNOWN` says takes no pointer
    or refuses, and a ``ctype`` the kernel would not use: a size
    other than the one the request encodes or, for a legacy request without size bits,
    the one :data:`KNOWN` gives; an unknown legacy request unless ``size`` vouches for
    the ctype's size."""
    nbytes = ioc.size_of(ctype)
    kind = _ffi.typeof(ctype).kind
    if kind not in ("primitive", "struct", "union", "array"):
        raise ValueError(f"{function}(): {ctype!r} is a {kind} type, not data to pass")
    scalar = kind == "primitive"
    if scalar and not isinstance(_ffi.new(f"{ctype} *")[0], int):
        raise ValueError(f"{function}(): {ctype!r} is not an integer type")
    if size is not None:
        size = as_int(function, "size", size)
        if not 0 < size <= LIMIT:
            raise ValueError(f"{function}(): size={size} is not between 1 and {LIMIT}")
    expected = ioc.decode(request).size
    known = _by_number().get(request)
    guarded = False
    if known is not None and known.direction in ("refused", "none", "value"):
        raise ValueError(f"{function}(): {_no_pointer(known)}")
    if expected:
        about = ""
    elif known is not None:
        assert known.kernel_ctype is not None
        try:
            expected = ioc.size_of(known.kernel_ctype)
        except ValueError:
            raise ValueError(
                f"{function}(): {known.name} takes a {known.kernel_ctype}, which the "
                "headers cfcntl was built with do not define"
            ) from None
        about = f" ({known.name}: {known.kernel_ctype}{', ' + known.note if known.note else ''})"
    elif size is None:
        raise ValueError(
            f"{function}(): request {request:#x} encodes no argument size and is not in "
            f"cfcntl.ioctls.KNOWN; pass size=N to vouch that the kernel uses N bytes "
            f"(the argument then carries a {GUARD}-byte guard, checked after the call)"
        )
    else:
        expected, guarded, about = size, True, " (vouched for with size=)"
    if size is not None and size != expected:
        raise ValueError(
            f"{function}(): size={size}, but request {request:#x} takes {expected} bytes{about}"
        )
    if expected != nbytes:
        raise ValueError(
            f"{function}(): request {request:#x} takes a {expected}-byte argument, "
            f"{ctype!r} is {nbytes} bytes{about}"
        )
    return _ffi.getctype(ctype, "*"), nbytes, scalar, guarded


_TYPED_BY_VALUE = {"FICLONE": "ficlone(dst, src)", "TIOCSCTTY": "tiocsctty(fd)"}


def _no_pointer(known: Known) -> str:
    """Why the pointer calls refuse ``known`` (a request the kernel takes no pointer for,
    or one cfcntl refuses), and which call to use instead."""
    if known.direction == "refused":
        return f"cfcntl refuses {known.name}: {known.note}"
    if known.direction == "none":
        return f"{known.name} takes no argument: use ioctls.none(fd, {known.name})"
    typed = _TYPED_BY_VALUE.get(known.name)
    return (
        f"{known.name} takes {'an' if known.kernel_ctype == 'int' else 'a'} "
        f"{known.kernel_ctype} by value, not a pointer ({known.note}): use "
        f"ioctls.by_value(fd, {known.name}, value)" + (f" or ioctls.{typed}" if typed else "")
    )


def _misfit(function: str, ctype: str, value: object, exc: Exception) -> Exception:
    """cffi's refusal of ``value`` for ``ctype`` as TypeError, OverflowError (an integer
    out of range) or ValueError (a missing field, too many items), naming the argument."""
    kind = type(exc) if isinstance(exc, (TypeError, OverflowError)) else ValueError
    return kind(f"{function}(): value={value!r} does not fit {ctype!r}: {exc}")


def _call(
    function: str, fd: FileDescriptorLike, request: int, ctype: str, value: object, size: object
) -> tuple[int, Any]:
    """Issue ``request`` with a ``ctype`` holding ``value`` (zeroed for :func:`read`, which
    passes None): ioctl's result, and what the argument holds afterwards (an int, or a
    cdata owning its memory)."""
    if value is None and function != "read":  # cffi would quietly pass a zero
        raise TypeError(f"{function}(): value must be given, not None (read() passes a zero)")
    request = as_int(function, "request", request)
    pointer, nbytes, scalar, guarded = _plan(function, request, ctype, size)
    descriptor = _fd(fd)
    array = _ffi.typeof(ctype).kind == "array"
    if guarded:
        raw = _ffi.new("char[]", nbytes + GUARD)
        _ffi.memmove(raw + nbytes, _GUARD_BYTES, GUARD)
    else:  # what the caller gets back must own its memory: for an array, the array
        raw = _ffi.new(ctype if array else pointer)
    arg = _ffi.cast(pointer, raw) if guarded or array else raw
    if value is not None:
        try:  # an integer as the stdlib takes it: cffi would truncate a Decimal (__int__)
            arg[0] = as_int(function, "value", value) if scalar else value
        except (TypeError, OverflowError, ValueError, KeyError, IndexError) as exc:
            raise _misfit(function, ctype, value, exc) from None

    def issue(fd: int, request: int) -> int:
        result: int = _lib.cf_ioctl_ptr(fd, request, raw)
        return result

    try:
        result = call(function, issue, descriptor, ("request", "unsigned int", request))
    finally:
        if guarded:
            _check_guard(function, request, nbytes, _ffi.buffer(raw, nbytes + GUARD))
    if scalar:
        return result, arg[0]
    if guarded:  # an owned copy, not a view into the guarded buffer
        owned = _ffi.new(ctype if array else pointer)
        _ffi.memmove(owned, raw, nbytes)
        return result, owned
    return result, raw


def _check_guard(function: str, request: int, size: int, buffer: Any) -> None:
    """OverrunError if the kernel changed the guard after ``size`` bytes of ``buffer``."""
    written = bytes(buffer[size:])
    if written != _GUARD_BYTES:
        past = max(i for i in range(GUARD) if written[i] != _GUARD_BYTES[i]) + 1
        raise OverrunError(function, request, size, past)


def read(fd: FileDescriptorLike, request: int, ctype: str, *, size: int | None = None) -> Any:
    """Issue ``request`` with a zeroed ``ctype`` for the kernel to fill; what it wrote.

    An int for an integer ``ctype``; for a struct, a new ``ctype *`` cdata owning the
    struct (its fields as attributes); for an array, a new ``ctype`` cdata owning the
    array (its items by index, ``ffi.buffer`` for its bytes).  Either owns its memory,
    valid for as long as it is referenced, never a view into cfcntl's buffer.  ``size``
    vouches for the argument's size of a legacy request cfcntl does not know (see
    :data:`GUARD`).  A request the kernel takes no pointer for is ValueError (see
    :func:`none`, :func:`by_value`).
    """
    return _call("read", fd, request, ctype, None, size)[1]


def write(
    fd: FileDescriptorLike, request: int, ctype: str, value: Any, *, size: int | None = None
) -> int:
    """Issue ``request`` with ``value`` as a ``ctype`` for the kernel to read; ioctl's result.

    ``value`` is an int for an integer ``ctype``; for a struct or array, whatever
    ``ffi.new`` takes (a dict of fields, a sequence, or a struct of that type); None is
    TypeError.  The kernel reads it through a pointer: a request that takes its int by
    value (:func:`by_value`) or none (:func:`none`) is ValueError.
    """
    return _call("write", fd, request, ctype, value, size)[0]


def readwrite(
    fd: FileDescriptorLike, request: int, ctype: str, value: Any, *, size: int | None = None
) -> Any:
    """As :func:`write`, then what the kernel wrote back, as :func:`read` returns it (an
    int, or a cdata owning its memory)."""
    return _call("readwrite", fd, request, ctype, value, size)[1]


def none(fd: FileDescriptorLike, request: int) -> int:
    """Issue ``request`` with no argument (a zero); ioctl's result.

    A request that encodes an argument size, or that :data:`KNOWN` says takes a
    pointer, is refused: it needs :func:`read` or :func:`write`.
    """
    request = as_int("none", "request", request)
    size = ioc.decode(request).size
    if size:
        raise ValueError(f"none(): request {request:#x} encodes a {size}-byte argument")
    known = _by_number().get(request)
    if known is not None and known.direction not in ("none", "value"):
        raise ValueError(
            f"none(): {known.name} takes a pointer ({known.kernel_ctype or known.note}): "
            "use read() or write()"
        )
    return call("none", _lib.cf_ioctl_none, _fd(fd), ("request", "unsigned int", request))


_ULONG_MASK = (1 << 8 * _ffi.sizeof("unsigned long")) - 1


def by_value(fd: FileDescriptorLike, request: int, value: int) -> int:
    """Issue ``request`` with ``value`` itself as ioctl's argument, not a pointer to it;
    ioctl's result (``TIOCGPTPEER``: a new descriptor).

    Only for the requests :data:`KNOWN` says the kernel takes a number by value
    (``TCSBRK``, ``TIOCSIG``, ``FICLONE``'s source descriptor...); ``value`` must fit
    the kernel's type there.  Any other request is ValueError: for a pointer request the
    kernel would take the number as an address and write there.
    """
    request = as_int("by_value", "request", request)
    known = _by_number().get(request)
    if known is None:
        raise ValueError(
            f"by_value(): request {request:#x} is not in cfcntl.ioctls.KNOWN, which says "
            "where the kernel takes a number by value"
        )
    if known.direction != "value":
        how = {
            "none": "takes no argument: use none()",
            "refused": f"is refused: {known.note}",
        }.get(known.direction, f"takes a pointer to {known.kernel_ctype}: use {known.direction}()")
        raise ValueError(f"by_value(): {known.name} {how}")
    assert known.kernel_ctype is not None
    number = as_int("by_value", "value", value)
    error = misfit("by_value", ("value", known.kernel_ctype, number))
    if error is not None:
        raise error
    return call(
        "by_value",
        _lib.cf_ioctl_value,
        _fd(fd),
        ("request", "unsigned int", request),
        ("value", "unsigned long", number & _ULONG_MASK),  # the kernel's unsigned long
    )


# --------------------------------------------------------------------------- the registry

if TYPE_CHECKING:
    Direction = Literal["read", "write", "readwrite", "none", "value", "refused"]


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


STRUCTS = ("struct winsize", "struct file_clone_range")
"""The C structs the typed ioctl helpers pass, declared to the compiler with ``...;``."""

_INT_TRAP = "the header encodes a long; the kernel reads and writes an int"
_SIZED: tuple[tuple[str, Direction, str, str | None, str], ...] = (
    ("TIOCGPTN", "read", "unsigned int", "unsigned int", ""),
    ("TIOCSPTLCK", "write", "int", "int", ""),
    ("FS_IOC_GETFLAGS", "read", "long", "int", _INT_TRAP),
    ("FS_IOC_SETFLAGS", "write", "long", "int", _INT_TRAP),
    ("FS_IOC_GETVERSION", "read", "long", "int", _INT_TRAP),
    ("FICLONE", "value", "int", "int", "the source descriptor"),
    ("FICLONERANGE", "write", "struct file_clone_range", "struct file_clone_range", ""),
    ("BLKGETSIZE64", "read", "size_t", "uint64_t", "size_t in the header; the kernel writes a u64"),
    ("FS_IOC_SETVERSION", "write", "long", "int", _INT_TRAP),
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
"""The sized requests cfcntl knows: the typed helpers', and every one of the build's
headers whose header misleads: a type the kernel does not use, an int the kernel takes
by value, or an argument longer than the size the header encodes (refused)."""

REQUESTS: dict[str, int]
"""Every ioctl request macro the build's headers define, valued by the compiler."""

KNOWN: dict[str, Known]
"""The requests cfcntl knows that the build's headers define, by name: the typed
helpers' sized requests, and every request without size bits (``_requests.py``)."""

_BY_NUMBER: dict[int, Known] = {}


def _by_number() -> dict[int, Known]:
    """:data:`KNOWN` by request number (the first name of a number wins)."""
    if not _BY_NUMBER:
        _load()
    return _BY_NUMBER


def _load() -> None:
    """Build :data:`REQUESTS` and :data:`KNOWN` (on first use: they would add about a
    third of a millisecond to ``import cfcntl``)."""
    from ._requests import SIZELESS

    names = _ffi.string(_lib.cf_request_names()).decode().split()
    requests = dict(zip(names, _ffi.unpack(_lib.cf_request_values(), len(names)), strict=True))
    known = {
        name: _new_tuple(Known, (name, requests[name], *row))
        for name, *row in _SIZED
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
