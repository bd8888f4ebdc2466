"""cfcntl.ioctls' terminal and serial-line calls (issue 14): termios and termios2 on ptys
against the stdlib's termios module and exact formats from the compiler's layout; modem
lines, serial_struct, rs485 and the counters on /dev/ttyS0 READ-MOSTLY (it is the
kernel's console: a setting is changed only to be restored exactly, no byte written)."""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import termios
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cfcntl import ioctls
from cfcntl._cfcntl import ffi, lib
from cfcntl.layout import struct_layout

SERIAL = "/dev/ttyS0"


@pytest.fixture
def serial() -> Iterator[int]:
    """/dev/ttyS0 open without becoming the controlling terminal and without blocking on
    the carrier; skipped where there is no such UART or it cannot be opened."""
    if os.geteuid() != 0:
        pytest.skip("needs root (/dev/ttyS0)")
    try:
        fd = os.open(SERIAL, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as exc:
        pytest.skip(f"no usable {SERIAL}: {exc}")
    try:
        ioctls.tiocgserial(fd)
    except OSError as exc:
        os.close(fd)
        pytest.skip(f"{SERIAL} is not a serial port here: {exc}")
    yield fd
    os.close(fd)


def exact(name: str, data: bytes) -> dict[str, object]:
    """The fields of struct ``name`` unpacked from ``data`` with the compiler's format
    (a char array such as c_cc is one ``Ns`` item)."""
    layout = struct_layout(name)
    return dict(
        zip((f.name for f in layout.fields), struct.unpack(layout.format, data), strict=True)
    )


def stdlib_struct(fd: int, request: str, name: str) -> dict[str, object]:
    size = ffi.sizeof(name)
    return exact(name, fcntl.ioctl(fd, ioctls.REQUESTS[request], bytes(size)))


# --------------------------------------------------------------------------- termios


def test_tcgets_agrees_with_the_stdlib_termios(pty: tuple[int, int]) -> None:
    _, slave = pty
    attrs = ioctls.tcgets(slave)
    iflag, oflag, cflag, lflag, _, _, cc = termios.tcgetattr(slave)
    cibaud = getattr(termios, "CIBAUD", 0)  # powerpc's termios module has none
    if cibaud and attrs.cflag & cibaud == 0:
        # The kernel's CIBAUD 0 means "input at the output speed"; glibc 2.42 and later
        # (Debian sid) report that speed there instead, shifted into CIBAUD.
        shift = (cibaud & -cibaud).bit_length() - 1
        assert cflag & cibaud in (0, (attrs.cflag & termios.CBAUD) << shift)
        cflag &= ~cibaud
    assert (attrs.iflag, attrs.oflag, attrs.cflag, attrs.lflag) == (iflag, oflag, cflag, lflag)
    assert len(attrs.cc) == lib.NCCS
    for index in (termios.VINTR, termios.VQUIT, termios.VERASE, termios.VKILL, termios.VEOF):
        assert attrs.cc[index : index + 1] == cc[index]
    raw = stdlib_struct(slave, "TCGETS", "struct termios")
    assert raw["c_lflag"] == attrs.lflag and raw["c_cc"] == attrs.cc


def test_tcsets_is_seen_by_the_stdlib(pty: tuple[int, int]) -> None:
    _, slave = pty
    attrs = ioctls.tcgets(slave)
    cc = bytearray(attrs.cc)
    cc[termios.VINTR] = 7
    for when in ("now", "drain", "flush"):
        changed = attrs._replace(lflag=attrs.lflag & ~termios.ECHO, cc=bytes(cc))
        ioctls.tcsets(slave, changed, when)
        seen = termios.tcgetattr(slave)
        assert seen[3] == changed.lflag and seen[6][termios.VINTR] == b"\x07"
        ioctls.tcsets(slave, attrs, when)
        assert termios.tcgetattr(slave)[3] == attrs.lflag


def test_termios2_speeds_and_any_baud_rate(
    pty: tuple[int, int], tty_ioctls_emulated: Callable[..., None]
) -> None:
    _, slave = pty
    if not lib.CF_TERMIOS2:  # powerpc: no TCGETS2 to ask an emulator about
        with pytest.raises(NotImplementedError, match="TCGETS2"):
            ioctls.tcgets2(slave)
        with pytest.raises(NotImplementedError, match="TCGETS2"):
            ioctls.set_baud_rate(slave, 250000)
        return
    tty_ioctls_emulated("TCGETS2")
    attrs = ioctls.tcgets2(slave)
    base = ioctls.tcgets(slave)
    assert attrs[:6] == tuple(base)
    raw = stdlib_struct(slave, "TCGETS2", "struct termios2")
    assert (raw["c_ispeed"], raw["c_ospeed"]) == (attrs.ispeed, attrs.ospeed)
    ioctls.set_baud_rate(slave, 250000)
    after = ioctls.tcgets2(slave)
    assert (after.ispeed, after.ospeed) == (250000, 250000)
    assert termios.tcgetattr(slave)[2] == after.cflag != attrs.cflag  # BOTHER in CBAUD
    ioctls.tcsets2(slave, attrs)
    assert ioctls.tcgets2(slave) == attrs


def test_termios_refusals(pty: tuple[int, int], regular: int) -> None:
    _, slave = pty
    attrs = ioctls.tcgets(slave)
    with pytest.raises(ValueError, match="NCCS"):
        ioctls.tcsets(slave, attrs._replace(cc=b"\0"))
    with pytest.raises(ValueError, match="tcflag_t"):
        ioctls.tcsets(slave, attrs._replace(lflag=-1))
    with pytest.raises(ValueError, match="when"):
        ioctls.tcsets(slave, attrs, "later")  # type: ignore[arg-type]
    for rate in (0, -9600, 1 << 40, 9600.5):
        with pytest.raises(ValueError, match="rate"):
            ioctls.set_baud_rate(slave, rate)  # type: ignore[arg-type]
    with pytest.raises(OSError) as exc:
        ioctls.tcgets(regular)
    assert exc.value.errno == errno.ENOTTY


def test_termios_exact_layout_from_the_compiler(run_c: Callable[[str], str]) -> None:
    out = run_c(
        "#include <stdio.h>\n#include <stddef.h>\n#include <asm/termbits.h>\n"
        'int main(void) { printf("%zu %zu %d\\n", sizeof(struct termios), '
        "offsetof(struct termios, c_cc), NCCS); return 0; }\n"
    )
    size, offset, nccs = map(int, out.split())
    layout = struct_layout("struct termios")
    assert layout.size == size == struct.calcsize(layout.format)
    assert {f.name: f.offset for f in layout.fields}["c_cc"] == offset
    assert nccs == lib.NCCS


# --------------------------------------------------------------------------- modem lines, break


def test_modem_lines_on_a_pty_are_enotty(pty: tuple[int, int]) -> None:
    _, slave = pty
    with pytest.raises(OSError) as exc:
        ioctls.tiocmget(slave)
    assert exc.value.errno == errno.ENOTTY


def test_break_on_and_off(
    pty: tuple[int, int], regular: int, tty_ioctls_emulated: Callable[..., None]
) -> None:
    """A pty has no break control, so the kernel accepts and ignores it; a file is ENOTTY."""
    tty_ioctls_emulated("TIOCSBRK", "TIOCCBRK")
    _, slave = pty
    ioctls.tiocsbrk(slave)
    ioctls.tioccbrk(slave)
    for call in (ioctls.tiocsbrk, ioctls.tioccbrk):
        with pytest.raises(OSError) as exc:
            call(regular)
        assert exc.value.errno == errno.ENOTTY


# qemu-user passes TIOCMGET's int through untranslated: under qemu-mips64el the host's
# TIOCM_* bits (x86's DSR 0x100) are read with the guest's (mips's DSR is 0x400).
TIOCMGET_PROGRAM = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
int main(void) {
    static const struct { const char *name; int bit; } lines[] = {
        {"RTS", TIOCM_RTS}, {"DTR", TIOCM_DTR}, {"CTS", TIOCM_CTS}, {"DSR", TIOCM_DSR},
        {"CD", TIOCM_CAR},
    };
    char text[4096], state[256] = "";
    int up, fd = open("/dev/ttyS0", O_RDWR | O_NOCTTY | O_NONBLOCK);
    FILE *driver = fopen("/proc/tty/driver/serial", "r");
    if (fd < 0 || !driver || ioctl(fd, TIOCMGET, &up) != 0) return 2;
    size_t n = fread(text, 1, sizeof text - 1, driver);
    text[n] = 0;
    char *line = strchr(text, '\n'), *end = line ? strchr(line + 1, '\n') : NULL;
    if (!end) return 2;
    *end = 0;
    char *last = strrchr(line + 1, ' ');
    snprintf(state, sizeof state, "|%s|", last ? last + 1 : "");
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "|%s|", lines[i].name);
        if ((strstr(state, name) != NULL) != ((up & lines[i].bit) != 0)) {
            printf("%s %s in 0x%x, the driver says %s\n", lines[i].name,
                   up & lines[i].bit ? "set" : "clear", up, state);
            return 3;
        }
    }
    return 0;
}
"""


def test_modem_lines_of_the_uart(serial: int, misemulated: Callable[..., None]) -> None:
    misemulated("TIOCMGET", TIOCMGET_PROGRAM)
    lines = ioctls.tiocmget(serial)
    assert isinstance(lines, ioctls.ModemLines)
    buf = fcntl.ioctl(serial, ioctls.REQUESTS["TIOCMGET"], struct.pack("i", 0))
    assert struct.unpack("i", buf)[0] == int(lines)
    state = Path("/proc/tty/driver/serial").read_text().splitlines()[1].split()[-1]
    # the driver's own view of the lines that are up (RTS|CTS|DTR|DSR|CD)
    for name, bit in (
        ("RTS", "RTS"),
        ("DTR", "DTR"),
        ("CTS", "CTS"),
        ("DSR", "DSR"),
        ("CD", "CAR"),
    ):
        assert (name in state.split("|")) == (ioctls.ModemLines[bit] in lines)


def test_modem_lines_set_and_restored(serial: int) -> None:
    """TIOCMBIC/TIOCMBIS/TIOCMSET on RTS, restored exactly."""
    before = ioctls.tiocmget(serial)
    rts = ioctls.ModemLines.RTS
    try:
        ioctls.tiocmbic(serial, rts)
        assert rts not in ioctls.tiocmget(serial)
        ioctls.tiocmbis(serial, rts)
        assert rts in ioctls.tiocmget(serial)
        ioctls.tiocmset(serial, before & ~rts)
        assert rts not in ioctls.tiocmget(serial)
    finally:
        ioctls.tiocmset(serial, before)
    assert ioctls.tiocmget(serial) == before


# --------------------------------------------------------------------------- serial_struct


# qemu-user 7.2 copies back only the first int of TIOCGSERIAL's struct (qemu-arm-static):
# what else the buffer held before the call stays there.
TIOCGSERIAL_PROGRAM = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/serial.h>
int main(void) {
    struct serial_struct zeros, ones;
    memset(&zeros, 0, sizeof zeros);
    memset(&ones, 0xff, sizeof ones);
    int fd = open("/dev/ttyS0", O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || ioctl(fd, TIOCGSERIAL, &zeros) != 0 || ioctl(fd, TIOCGSERIAL, &ones) != 0)
        return 2;
    if (memcmp(&zeros, &ones, sizeof zeros) == 0) return 0;
    printf("port 0x%x after a zeroed buffer, 0x%x after 0xff bytes\n", zeros.port, ones.port);
    return 3;
}
"""


@pytest.fixture
def serial_struct_emulated(misemulated: Callable[..., None]) -> None:
    """Skip under an emulator that does not copy TIOCGSERIAL's answer back whole."""
    misemulated("TIOCGSERIAL", TIOCGSERIAL_PROGRAM)


def test_serial_struct_agrees_with_sysfs_and_the_stdlib(
    serial: int, serial_struct_emulated: None
) -> None:
    info = ioctls.tiocgserial(serial)
    sysfs = Path("/sys/class/tty", os.path.basename(SERIAL))
    assert info.type == int((sysfs / "type").read_text())
    assert info.line == int((sysfs / "line").read_text())
    assert info.port == int((sysfs / "port").read_text(), 16)
    assert info.irq == int((sysfs / "irq").read_text())
    assert info.flags == int((sysfs / "flags").read_text(), 16)
    assert info.xmit_fifo_size == int((sysfs / "xmit_fifo_size").read_text())
    assert info.baud_base * 16 == int((sysfs / "uartclk").read_text())
    assert info.close_delay == int((sysfs / "close_delay").read_text())
    assert info.closing_wait == int((sysfs / "closing_wait").read_text())
    assert info.io_type == int((sysfs / "io_type").read_text())
    raw = stdlib_struct(serial, "TIOCGSERIAL", "struct serial_struct")
    assert all(raw[field] == getattr(info, field) for field in ("type", "port", "irq", "baud_base"))


def test_serial_struct_set_and_restored(serial: int, serial_struct_emulated: None) -> None:
    """close_delay changed (it counts only at the last close) and put back exactly."""
    before = ioctls.tiocgserial(serial)
    try:
        ioctls.tiocsserial(serial, before._replace(close_delay=before.close_delay + 1))
        assert ioctls.tiocgserial(serial).close_delay == before.close_delay + 1
    finally:
        ioctls.tiocsserial(serial, before)
    assert ioctls.tiocgserial(serial) == before


def test_rs485_and_counters(serial: int, tty_ioctls_emulated: Callable[..., None]) -> None:
    tty_ioctls_emulated("TIOCGRS485", "TIOCGICOUNT")
    rs485 = ioctls.tiocgrs485(serial)
    raw = stdlib_struct(serial, "TIOCGRS485", "struct serial_rs485")
    assert raw["flags"] == rs485.flags
    try:  # a driver without an RS-485 mode answers ENOTTY; one with it keeps the setting
        ioctls.tiocsrs485(serial, rs485)
    except OSError as exc:
        assert exc.errno == errno.ENOTTY
    assert ioctls.tiocgrs485(serial) == rs485

    def proc_tx() -> int:
        line = Path("/proc/tty/driver/serial").read_text().splitlines()[1]
        return int(next(w for w in line.split() if w.startswith("tx:"))[3:])

    low = proc_tx()
    counters = ioctls.tiocgicount(serial)
    high = proc_tx()
    assert low <= counters.tx <= high  # the console writes on: between the two reads
    raw = stdlib_struct(serial, "TIOCGICOUNT", "struct serial_icounter_struct")
    assert counters.rx == raw["rx"] and isinstance(raw["tx"], int) and raw["tx"] >= counters.tx


def test_serial_calls_on_a_pty_are_enotty(
    pty: tuple[int, int], tty_ioctls_emulated: Callable[..., None]
) -> None:
    tty_ioctls_emulated("TIOCGRS485", "TIOCGICOUNT")
    _, slave = pty
    for call in (ioctls.tiocgserial, ioctls.tiocgicount, ioctls.tiocgrs485):
        with pytest.raises(OSError) as exc:
            call(slave)
        assert exc.value.errno == errno.ENOTTY
