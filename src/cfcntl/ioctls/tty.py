"""Terminals and pseudo-terminals (``<asm-generic/ioctls.h>``): the pattern requests as
rows (setting the window size too), reading the window size by hand
(``src/cfcntl/_c/tty.c``: the four fields packed in one u64)."""

from __future__ import annotations

import struct

from .._cfcntl import lib as _lib
from .._syscall import (
    U64_FAILED,
    FileDescriptorLike,
    retried,
    u64_failure,
)
from ._pattern import int_getter, int_setter, no_argument, struct_setter

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from typing import NamedTuple
else:
    from .._record import NamedTuple

tiocoutq = int_getter(
    _lib.cf_tiocoutq,
    "TIOCOUTQ",
    "int",
    "Bytes written but not yet sent (TIOCOUTQ; SIOCOUTQ on sockets).",
)
tiocgpgrp = int_getter(
    _lib.cf_tiocgpgrp, "TIOCGPGRP", "pid_t", "The terminal's foreground process group (TIOCGPGRP)."
)
tiocgsid = int_getter(
    _lib.cf_tiocgsid,
    "TIOCGSID",
    "pid_t",
    "The session the terminal controls (TIOCGSID); ENOTTY if none.",
)
tiocgptn = int_getter(
    _lib.cf_tiocgptn,
    "TIOCGPTN",
    "unsigned int",
    "The number N of the pseudo-terminal /dev/pts/N, asked of its master.",
)
tiocgetd = int_getter(
    _lib.cf_tiocgetd, "TIOCGETD", "int", "The terminal's line discipline (TIOCGETD)."
)
tiocsptlck = int_setter(
    _lib.cf_tiocsptlck,
    "TIOCSPTLCK",
    "int",
    "lock",
    "Lock (non-zero) or unlock the slave of a pseudo-terminal master (TIOCSPTLCK).",
)
tiocspgrp = int_setter(
    _lib.cf_tiocspgrp,
    "TIOCSPGRP",
    "pid_t",
    "pgrp",
    "Make ``pgrp`` the terminal's foreground process group (TIOCSPGRP).",
)
tiocexcl = no_argument(
    _lib.cf_tiocexcl, "TIOCEXCL", "Refuse further opens of the terminal (TIOCEXCL)."
)
tiocgexcl = int_getter(
    _lib.cf_tiocgexcl, "TIOCGEXCL", "int", "Whether opens of the terminal are refused (TIOCGEXCL)."
)
tiocnxcl = no_argument(
    _lib.cf_tiocnxcl, "TIOCNXCL", "Allow opens of the terminal again (TIOCNXCL)."
)
tiocnotty = no_argument(
    _lib.cf_tiocnotty, "TIOCNOTTY", "Give up the controlling terminal ``fd`` (TIOCNOTTY)."
)
tiocsctty = no_argument(
    _lib.cf_tiocsctty,
    "TIOCSCTTY",
    "Make the terminal the caller's controlling terminal (TIOCSCTTY), without stealing it "
    "from another session.",
)


class Winsize(NamedTuple):
    """A ``struct winsize``: a terminal's size."""

    rows: int
    cols: int
    xpixel: int
    ypixel: int


_cf_get_winsize = _lib.cf_get_winsize
_unpack_winsize = struct.Struct("<4H").unpack
# Winsize(*fields) runs _record's Python __new__: 380 ns, tuple.__new__ 100 (measured
# A/B, interleaved medians), which keeps get_winsize above its 1.2x target.
_new_tuple = tuple.__new__


def get_winsize(fd: FileDescriptorLike) -> Winsize:
    """The terminal's size (TIOCGWINSZ)."""
    try:  # the hot path: fd straight to the helper, converted only if cffi refuses it
        if type(fd) is not int:  # cffi would truncate a Decimal through __int__
            raise TypeError
        packed: int = _cf_get_winsize(fd)
    except (TypeError, OverflowError):
        packed = retried("get_winsize", _cf_get_winsize, fd)
    if packed == U64_FAILED and (error := u64_failure(fd)):
        raise error
    # The C helper packs ws_row into the low 16 bits, ws_ypixel into the high 16.
    return _new_tuple(Winsize, _unpack_winsize(packed.to_bytes(8, "little")))


set_winsize = struct_setter(
    _lib.cf_set_winsize,
    "TIOCSWINSZ",
    "struct winsize",
    (
        ("rows", "ws_row", "unsigned short"),
        ("cols", "ws_col", "unsigned short"),
        ("xpixel", "ws_xpixel", "unsigned short"),
        ("ypixel", "ws_ypixel", "unsigned short"),
    ),
    "Set the terminal's size (TIOCSWINSZ) from a Winsize; the foreground process group "
    "gets SIGWINCH.",
)
