"""Terminals, pseudo-terminals and serial lines (``<asm-generic/ioctls.h>``,
``<asm/termbits.h>``, ``<linux/serial.h>``): the pattern requests as rows (the window
size, modem lines, break, ``serial_struct``, ``serial_rs485``, the serial counters), by
hand (``src/cfcntl/_c/tty.c``) the window size read (the four fields packed in one u64)
and the kernel's own ``struct termios`` and ``termios2``, with any baud rate (BOTHER)."""

from __future__ import annotations

import struct

from .._cfcntl import ffi as _ffi, lib as _lib
from .._syscall import (
    U64_FAILED,
    FileDescriptorLike,
    c_range,
    call,
    fileno,
    missing,
    retried,
    u64_failure,
)
from ._pattern import int_getter, int_setter, no_argument, struct_getter, struct_setter

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from typing import Literal, NamedTuple, NoReturn

    from ._flags import ModemLines
    from ._pattern import Entry
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


# ------------------------------------------------------------------ modem lines and break


def tiocmget(fd: FileDescriptorLike) -> ModemLines:
    """The serial line's modem lines (TIOCMGET), as :class:`ModemLines` bits; a pty, which
    has none, answers ENOTTY."""
    from ._flags import ModemLines

    return ModemLines(call("tiocmget", _lib.cf_tiocmget, ("fd", "int", fileno(fd))))


tiocmset = int_setter(
    _lib.cf_tiocmset,
    "TIOCMSET",
    "int",
    "lines",
    "Set the modem lines to ``lines`` (TIOCMSET; the driver changes only DTR, RTS, OUT1, "
    "OUT2 and LOOP).",
)
tiocmbis = int_setter(
    _lib.cf_tiocmbis, "TIOCMBIS", "int", "lines", "Raise the modem lines ``lines`` (TIOCMBIS)."
)
tiocmbic = int_setter(
    _lib.cf_tiocmbic, "TIOCMBIC", "int", "lines", "Lower the modem lines ``lines`` (TIOCMBIC)."
)
tiocsbrk = no_argument(
    _lib.cf_tiocsbrk,
    "TIOCSBRK",
    "Start sending a break (TIOCSBRK); a driver without break control does nothing.",
)
tioccbrk = no_argument(_lib.cf_tioccbrk, "TIOCCBRK", "Stop sending a break (TIOCCBRK).")

# ------------------------------------------------------------------ serial ports


class Serial(NamedTuple):
    """A ``struct serial_struct``: a serial port's driver settings (its ``iomem_base``
    pointer left out)."""

    type: int
    """The UART, PORT_* (4 is a 16550A)."""
    line: int
    port: int
    irq: int
    flags: int
    """ASYNC_* bits (``<linux/tty_flags.h>``)."""
    xmit_fifo_size: int
    custom_divisor: int
    baud_base: int
    close_delay: int
    """Hundredths of a second."""
    io_type: int
    hub6: int
    closing_wait: int
    """Hundredths of a second; 0 waits for ever, 65535 not at all."""
    closing_wait2: int
    iomem_reg_shift: int
    port_high: int
    iomap_base: int


tiocgserial = struct_getter(
    _lib.cf_tiocgserial,
    "TIOCGSERIAL",
    "struct serial_struct",
    Serial,
    Serial._fields,
    "The serial port's settings (TIOCGSERIAL), as a Serial; ENOTTY on a terminal that is "
    "not a serial port.",
)
tiocsserial = struct_setter(
    _lib.cf_tiocsserial,
    "TIOCSSERIAL",
    "struct serial_struct",
    (
        ("type", "type", "int"),
        ("line", "line", "int"),
        ("port", "port", "unsigned int"),
        ("irq", "irq", "int"),
        ("flags", "flags", "int"),
        ("xmit_fifo_size", "xmit_fifo_size", "int"),
        ("custom_divisor", "custom_divisor", "int"),
        ("baud_base", "baud_base", "int"),
        ("close_delay", "close_delay", "unsigned short"),
        ("io_type", "io_type", "signed char"),
        ("hub6", "hub6", "int"),
        ("closing_wait", "closing_wait", "unsigned short"),
        ("closing_wait2", "closing_wait2", "unsigned short"),
        ("iomem_reg_shift", "iomem_reg_shift", "unsigned short"),
        ("port_high", "port_high", "unsigned int"),
        ("iomap_base", "iomap_base", "unsigned long"),
    ),
    "Set the serial port's settings (TIOCSSERIAL) from a Serial (iomem_base 0); changing "
    "more than the delays and the custom divisor needs CAP_SYS_ADMIN.",
)


class Rs485(NamedTuple):
    """A ``struct serial_rs485``'s settings: SER_RS485_* flags and the RTS delays (ms)."""

    flags: int
    delay_rts_before_send: int
    delay_rts_after_send: int


tiocgrs485 = struct_getter(
    _lib.cf_tiocgrs485,
    "TIOCGRS485",
    "struct serial_rs485",
    Rs485,
    Rs485._fields,
    "The port's RS-485 settings (TIOCGRS485), as an Rs485.",
)
tiocsrs485 = struct_setter(
    _lib.cf_tiocsrs485,
    "TIOCSRS485",
    "struct serial_rs485",
    (
        ("flags", "flags", "uint32_t"),
        ("delay_rts_before_send", "delay_rts_before_send", "uint32_t"),
        ("delay_rts_after_send", "delay_rts_after_send", "uint32_t"),
    ),
    "Set the port's RS-485 settings (TIOCSRS485) from an Rs485; ENOTTY where the driver "
    "has no RS-485 mode.",
)


class Counters(NamedTuple):
    """A ``struct serial_icounter_struct``: the port's interrupt counters since boot."""

    cts: int
    dsr: int
    rng: int
    dcd: int
    rx: int
    tx: int
    frame: int
    overrun: int
    parity: int
    brk: int
    buf_overrun: int


tiocgicount = struct_getter(
    _lib.cf_tiocgicount,
    "TIOCGICOUNT",
    "struct serial_icounter_struct",
    Counters,
    Counters._fields,
    "The serial port's counters (TIOCGICOUNT): line changes, bytes, errors, as Counters.",
)

# ------------------------------------------------------------------ termios and termios2


class Termios(NamedTuple):
    """The kernel's ``struct termios`` (``<asm/termbits.h>``), not glibc's: its flags,
    line discipline and NCCS control characters."""

    iflag: int
    oflag: int
    cflag: int
    lflag: int
    line: int
    cc: bytes
    """The control characters, indexed by VINTR, VMIN... (``termios.VMIN``)."""


class Termios2(NamedTuple):
    """The kernel's ``struct termios2``: a Termios with the speeds in baud."""

    iflag: int
    oflag: int
    cflag: int
    lflag: int
    line: int
    cc: bytes
    ispeed: int
    ospeed: int


_WHEN = {"now": 0, "drain": 1, "flush": 2}

if TYPE_CHECKING:
    When = Literal["now", "drain", "flush"]


def _when(function: str, when: str) -> int:
    try:
        return _WHEN[when]
    except (KeyError, TypeError):
        raise ValueError(
            f"{function}(): when must be 'now', 'drain' or 'flush', not {when!r}"
        ) from None


def _fill(function: str, answer: object, attrs: Termios | Termios2) -> None:
    """Copy ``attrs`` into a new termios/termios2 ``answer``, each value checked first."""
    cc = attrs.cc
    if not isinstance(cc, (bytes, bytearray)) or len(cc) != _lib.NCCS:
        raise ValueError(f"{function}(): cc must be {_lib.NCCS} bytes (NCCS), not {cc!r}")
    high = c_range("tcflag_t")[1]
    for field in ("iflag", "oflag", "cflag", "lflag"):
        value = getattr(attrs, field)
        if not isinstance(value, int) or not 0 <= value <= high:
            raise ValueError(f"{function}(): {field}={value!r} is not a tcflag_t")
        setattr(answer, f"c_{field}", value)
    if not isinstance(attrs.line, int) or not 0 <= attrs.line <= c_range("cc_t")[1]:
        raise ValueError(f"{function}(): line={attrs.line!r} is not a cc_t")
    answer.c_line = attrs.line  # type: ignore[attr-defined]
    _ffi.memmove(answer.c_cc, bytes(cc), len(cc))  # type: ignore[attr-defined]


_cf_tcgets2 = _lib.cf_tcgets2
_cf_tcsets2 = _lib.cf_tcsets2
_cf_set_baud_rate = _lib.cf_set_baud_rate
if not _lib.CF_TERMIOS2:  # powerpc: no termios2, no TCGETS2

    def _no_termios2(*_: object) -> NoReturn:
        raise missing("TCGETS2")

    _cf_tcgets2 = _cf_tcsets2 = _cf_set_baud_rate = _no_termios2


def tcgets(fd: FileDescriptorLike) -> Termios:
    """The terminal's attributes (TCGETS), from the kernel's ``struct termios``."""
    answer = _ffi.new("struct termios *")
    call(
        "tcgets", _lib.cf_tcgets, ("fd", "int", fileno(fd)), ("answer", "struct termios *", answer)
    )
    return Termios(
        answer.c_iflag,
        answer.c_oflag,
        answer.c_cflag,
        answer.c_lflag,
        answer.c_line,
        bytes(_ffi.buffer(answer.c_cc)),
    )


def tcsets(fd: FileDescriptorLike, attrs: Termios, when: When = "now") -> None:
    """Set the terminal's attributes (TCSETS; "drain": TCSETSW, after the output is sent;
    "flush": TCSETSF, and the unread input dropped)."""
    number = fileno(fd)
    index = _when("tcsets", when)
    value = _ffi.new("struct termios *")
    _fill("tcsets", value, attrs)
    call(
        "tcsets",
        _lib.cf_tcsets,
        ("fd", "int", number),
        ("when", "int", index),
        ("value", "struct termios *", value),
    )


def tcgets2(fd: FileDescriptorLike) -> Termios2:
    """The terminal's attributes with its speeds in baud (TCGETS2, ``struct termios2``);
    NotImplementedError where the CPU has no termios2 (powerpc)."""
    answer = _ffi.new("struct termios2 *")
    call("tcgets2", _cf_tcgets2, ("fd", "int", fileno(fd)), ("answer", "struct termios2 *", answer))
    return Termios2(
        answer.c_iflag,
        answer.c_oflag,
        answer.c_cflag,
        answer.c_lflag,
        answer.c_line,
        bytes(_ffi.buffer(answer.c_cc)),
        answer.c_ispeed,
        answer.c_ospeed,
    )


def tcsets2(fd: FileDescriptorLike, attrs: Termios2, when: When = "now") -> None:
    """Set the terminal's attributes and speeds (TCSETS2, TCSETSW2, TCSETSF2: ``when`` as
    for :func:`tcsets`); the speeds count only with BOTHER in cflag's CBAUD bits."""
    number = fileno(fd)
    index = _when("tcsets2", when)
    value = _ffi.new("struct termios2 *")
    _fill("tcsets2", value, attrs)
    high = c_range("speed_t")[1]
    for field in ("ispeed", "ospeed"):
        speed = getattr(attrs, field)
        if not isinstance(speed, int) or not 0 <= speed <= high:
            raise ValueError(f"tcsets2(): {field}={speed!r} is not a speed_t")
        setattr(value, f"c_{field}", speed)
    call(
        "tcsets2",
        _cf_tcsets2,
        ("fd", "int", number),
        ("when", "int", index),
        ("value", "struct termios2 *", value),
    )


def set_baud_rate(fd: FileDescriptorLike, rate: int) -> None:
    """Set the line's input and output speed to ``rate`` baud, any rate, not only a Bnnn
    one (TCGETS2, then TCSETS2 with BOTHER); a UART's driver picks the nearest divisor
    it can (``tcgets2`` reads back what it set).  ValueError for a rate that is not a
    positive ``speed_t``; NotImplementedError where the CPU has no termios2 (powerpc)."""
    number = fileno(fd)
    if type(rate) is not int or not 0 < rate <= c_range("speed_t")[1]:
        raise ValueError(f"set_baud_rate(): rate must be a positive speed_t, not {rate!r}")
    call("set_baud_rate", _cf_set_baud_rate, ("fd", "int", number), ("rate", "speed_t", rate))


HAND_WRITTEN: tuple[Entry, ...] = (
    ("TIOCMGET", "read", None, "int", ""),
    ("TCGETS", "read", None, "struct termios", ""),
    ("TCSETS", "write", None, "struct termios", ""),
    ("TCSETSW", "write", None, "struct termios", ""),
    ("TCSETSF", "write", None, "struct termios", ""),
    ("TCGETS2", "read", "struct termios2", "struct termios2", ""),
    ("TCSETS2", "write", "struct termios2", "struct termios2", ""),
    ("TCSETSW2", "write", "struct termios2", "struct termios2", ""),
    ("TCSETSF2", "write", "struct termios2", "struct termios2", ""),
)
"""The hand-written helpers' requests, as registry entries (request, direction, header's
C type, kernel's C type, note): the registry and the report read every family's."""
