"""Typed ioctl(2): one function per request that returns or takes Python values, generic
size-checked calls for the rest, and a registry of the requests cfcntl knows.

The typed helpers call one fixed-signature C helper per request, which passes the kernel
an argument of the type the kernel really uses and returns the value as a scalar, so a
call allocates nothing.  The generic calls (:func:`read`, :func:`write`,
:func:`readwrite`, :func:`none`) take a request number and a C type name, and refuse a
type whose size differs from the size the request encodes before any syscall.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from . import ioc
from ._cfcntl import ffi as _ffi, lib as _lib
from ._syscall import Argument, FileDescriptorLike, call, fileno, oserror, refused
from .constants import has, require

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
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


def _argument(function: str, request: int, ctype: str, value: Any = None) -> tuple[Any, bool]:
    """An owned ``ctype`` holding ``value`` (zeroed for None) for ``request``, and whether
    it is an integer.

    Refused unless its size is the one the request encodes, or for a legacy request in
    :data:`KNOWN`, the size of the type the kernel uses.
    """
    size = ioc.size_of(ctype)
    kind = _ffi.typeof(ctype).kind
    if kind not in ("primitive", "struct", "union", "array"):
        raise ValueError(f"{function}(): {ctype!r} is a {kind} type, not data to pass")
    scalar = kind == "primitive"
    if scalar and not isinstance(_ffi.new(f"{ctype} *")[0], int):
        raise ValueError(f"{function}(): {ctype!r} is not an integer type")
    expected = ioc.decode(request).size
    known = _BY_NUMBER.get(request)
    if not expected and known is not None and known.kernel_ctype is not None:
        expected = ioc.size_of(known.kernel_ctype)
    if expected and expected != size:
        about = f" ({known.name}: {known.note or known.kernel_ctype})" if known else ""
        raise ValueError(
            f"{function}(): request {request:#x} takes a {expected}-byte argument, "
            f"{ctype!r} is {size} bytes{about}"
        )
    try:
        return _ffi.new(f"{ctype} *" if kind != "array" else ctype, value), scalar
    except (TypeError, OverflowError, ValueError, KeyError, IndexError) as exc:
        raise type(exc)(f"{function}(): {value!r} does not fit {ctype!r}: {exc}") from None


def _call(function: str, fd: FileDescriptorLike, request: int, arg: Any) -> int:
    def with_arg(number: int, request: int) -> int:
        result: int = _lib.cf_ioctl_ptr(number, request, arg)
        return result

    return call(function, with_arg, _fd(fd), ("request", "unsigned int", request))


def read(fd: FileDescriptorLike, request: int, ctype: str) -> Any:
    """Issue ``request`` with a zeroed ``ctype`` for the kernel to fill; what it wrote.

    An int for an integer ``ctype``, else the owned ``ctype`` (a struct's fields as
    attributes, an array's items by index).
    """
    arg, scalar = _argument("read", request, ctype)
    _call("read", fd, request, arg)
    return arg[0] if scalar else arg


def write(fd: FileDescriptorLike, request: int, ctype: str, value: Any) -> int:
    """Issue ``request`` with ``value`` as a ``ctype`` for the kernel to read; ioctl's result.

    ``value`` is an int for an integer ``ctype``; for a struct or array, whatever
    ``ffi.new`` takes (a dict of fields, a sequence, or a struct of that type).
    """
    return _call("write", fd, request, _argument("write", request, ctype, value)[0])


def readwrite(fd: FileDescriptorLike, request: int, ctype: str, value: Any) -> Any:
    """As :func:`write`, then what the kernel wrote back, as :func:`read` returns it."""
    arg, scalar = _argument("readwrite", request, ctype, value)
    _call("readwrite", fd, request, arg)
    return arg[0] if scalar else arg


def none(fd: FileDescriptorLike, request: int) -> int:
    """Issue ``request`` with no argument (a zero); ioctl's result.

    A request that encodes an argument size is refused: it needs :func:`read` or
    :func:`write`.
    """
    size = ioc.decode(request).size
    if size:
        raise ValueError(f"none(): request {request:#x} encodes a {size}-byte argument")
    return call("none", _lib.cf_ioctl_none, _fd(fd), ("request", "unsigned int", request))


# --------------------------------------------------------------------------- the registry

if TYPE_CHECKING:
    Direction = Literal["read", "write", "none", "value"]


class Known(NamedTuple):
    """A request cfcntl knows, with the types the header and the kernel give its argument."""

    name: str
    request: int
    direction: Direction
    """"read": the kernel writes the argument; "write": it reads it; "none": no argument;
    "value": an int passed by value, not through a pointer."""
    header_ctype: str | None
    """The type the header's ``_IOR``/``_IOW`` encodes; None for a legacy number."""
    kernel_ctype: str | None
    """The type the kernel actually reads or writes; None when there is no argument."""
    note: str


STRUCTS = ("struct winsize", "struct file_clone_range")
"""The C structs the ioctl helpers pass, declared to the compiler with ``...;``."""

_INT_TRAP = "the header encodes a long; the kernel reads and writes an int"
_REQUESTS: tuple[tuple[str, Direction, str | None, str | None, str], ...] = (
    ("FIONREAD", "read", None, "int", "legacy number; the same request as SIOCINQ"),
    ("SIOCINQ", "read", None, "int", "FIONREAD for sockets"),
    ("TIOCOUTQ", "read", None, "int", "legacy number; the same request as SIOCOUTQ"),
    ("SIOCOUTQ", "read", None, "int", "TIOCOUTQ for sockets"),
    ("TIOCGPGRP", "read", None, "pid_t", ""),
    ("TIOCSPGRP", "write", None, "pid_t", ""),
    ("TIOCGSID", "read", None, "pid_t", ""),
    ("TIOCGPTN", "read", "unsigned int", "unsigned int", ""),
    ("TIOCSPTLCK", "write", "int", "int", ""),
    ("TIOCGETD", "read", None, "int", ""),
    ("TIOCGWINSZ", "read", None, "struct winsize", ""),
    ("TIOCSWINSZ", "write", None, "struct winsize", ""),
    ("TIOCEXCL", "none", None, None, ""),
    ("TIOCNXCL", "none", None, None, ""),
    ("TIOCNOTTY", "none", None, None, ""),
    ("TIOCSCTTY", "value", None, "int", "1 steals the terminal from another session (root)"),
    ("FIONBIO", "write", None, "int", ""),
    ("FIOASYNC", "write", None, "int", ""),
    ("FIOCLEX", "none", None, None, ""),
    ("FIONCLEX", "none", None, None, ""),
    ("FS_IOC_GETFLAGS", "read", "long", "int", _INT_TRAP),
    ("FS_IOC_SETFLAGS", "write", "long", "int", _INT_TRAP),
    ("FS_IOC_GETVERSION", "read", "long", "int", _INT_TRAP),
    ("FICLONE", "value", "int", "int", "the source descriptor by value, not through a pointer"),
    ("FICLONERANGE", "write", "struct file_clone_range", "struct file_clone_range", ""),
    ("BLKSSZGET", "read", None, "int", "legacy _IO number, though the kernel writes an int"),
    ("BLKGETSIZE64", "read", "size_t", "uint64_t", "size_t in the header; the kernel writes a u64"),
)

KNOWN: dict[str, Known] = {
    name: Known(name, require(name), direction, header, kernel, note)
    for name, direction, header, kernel, note in _REQUESTS
    if has(name)
}
"""The requests cfcntl knows that the build's headers define, by name."""

_BY_NUMBER = {known.request: known for known in KNOWN.values()}
