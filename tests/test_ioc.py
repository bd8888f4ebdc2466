"""cfcntl.ioc: the _IO/_IOR/_IOW/_IOWR encoders against the header macros, and decode."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, strategies as st

import cfcntl
from cfcntl import ioc
from cfcntl._cfcntl import ffi

#: Header macros and the encoder call that must reproduce each (from <linux/fs.h> and
#: <asm-generic/ioctls.h>).
MACROS = {
    "TIOCGPTN": lambda: ioc.IOR("T", 0x30, "unsigned int"),
    "TIOCSPTLCK": lambda: ioc.IOW("T", 0x31, "int"),
    "FS_IOC_GETFLAGS": lambda: ioc.IOR("f", 1, "long"),
    "FS_IOC_SETFLAGS": lambda: ioc.IOW("f", 2, "long"),
    "FS_IOC_GETVERSION": lambda: ioc.IOR("v", 1, "long"),
    "FICLONE": lambda: ioc.IOW(0x94, 9, "int"),
    "FICLONERANGE": lambda: ioc.IOW(0x94, 13, "struct file_clone_range"),
    "BLKGETSIZE64": lambda: ioc.IOR(0x12, 114, "size_t"),
    "BLKSSZGET": lambda: ioc.IO(0x12, 104),
}


def test_encoders_reproduce_the_header_macros(run_c: Callable[[str], str]) -> None:
    """Each encoder call gives the macro's value, as the package has it and as an
    independent C program prints it, _IOWR and the _IOC_* layout included."""
    exprs = {name: name for name in MACROS}
    exprs["IOWR_T_7_winsize"] = "_IOWR('T', 7, struct winsize)"
    exprs.update({name: name for name in dir(cfcntl) if name.startswith("_IOC_")})
    prints = "\n".join(
        f'printf("{n} %llu\\n", (unsigned long long)({e}));' for n, e in exprs.items()
    )
    source = (
        "#include <stdio.h>\n#include <sys/ioctl.h>\n#include <linux/fs.h>\n"
        "int main(void) {\n" + prints + "\nreturn 0;\n}\n"
    )
    c_values = {
        name: int(value) for name, value in (ln.split() for ln in run_c(source).splitlines())
    }
    for name, encode in MACROS.items():
        assert encode() == getattr(cfcntl, name) == c_values[name], name
    assert ioc.IOWR("T", 7, "struct winsize") == c_values["IOWR_T_7_winsize"]
    assert len(c_values) - len(MACROS) - 1 == 11
    for name, value in c_values.items():
        if name.startswith("_IOC_"):
            assert getattr(ioc, name) == getattr(cfcntl, name) == value, name


def test_decode_names_the_fields() -> None:
    """FS_IOC_GETFLAGS: read, 'f', 1, and the size of a long (the header's type)."""
    assert ioc.decode(cfcntl.FS_IOC_GETFLAGS) == ioc.Request(
        ioc.READ, ord("f"), 1, ffi.sizeof("long")
    )
    got = ioc.decode(cfcntl.FICLONERANGE)
    assert (got.dir, got.type, got.nr, got.size) == (ioc.WRITE, 0x94, 13, 32)
    # a legacy number (0x540C; 0x740D on mips): no size, and no direction bits, which is
    # _IOC_NONE except where that is 1 (powerpc, mips), so it looks like _IO elsewhere
    legacy = cfcntl.TIOCEXCL
    assert ioc.decode(legacy) == (0, legacy >> 8, legacy & 0xFF, 0)
    assert (ioc.IO(legacy >> 8, legacy & 0xFF) == legacy) == (ioc.NONE == 0)
    assert ioc.decode(ioc.IOWR("x", 255, "struct winsize")).dir == ioc.READ | ioc.WRITE


DIR_MAX = (1 << ioc._IOC_DIRBITS) - 1


@given(
    dir=st.integers(0, DIR_MAX),
    type=st.integers(0, (1 << ioc._IOC_TYPEBITS) - 1),
    nr=st.integers(0, (1 << ioc._IOC_NRBITS) - 1),
    size=st.integers(0, (1 << ioc._IOC_SIZEBITS) - 1),
)
def test_decode_inverts_encode(dir: int, type: int, nr: int, size: int) -> None:
    request = ioc.IOC(dir, type, nr, size)
    assert 0 <= request < 1 << 32
    assert ioc.decode(request) == (dir, type, nr, size)


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: ioc.IO(256, 0), ValueError, "type 256 does not fit in 8 bits"),
        (lambda: ioc.IO(-1, 0), ValueError, "type -1"),
        (lambda: ioc.IO("TT", 0), ValueError, "one character"),
        (lambda: ioc.IO("", 0), ValueError, "one character"),
        (lambda: ioc.IO("\u20ac", 0), ValueError, "type 8364"),
        (lambda: ioc.IO("T", 256), ValueError, "number 256"),
        (lambda: ioc.IO("T", -1), ValueError, "number -1"),
        (lambda: ioc.IO("T", 1.0), TypeError, "number must be an int"),
        (lambda: ioc.IO(b"T", 1), TypeError, "type must be an int"),
        (lambda: ioc.IOC(DIR_MAX + 1, 0, 0, 0), ValueError, "direction"),
        (
            lambda: ioc.IOR("T", 1, f"char[{1 << ioc._IOC_SIZEBITS}]"),
            ValueError,
            f"size {1 << ioc._IOC_SIZEBITS} does not fit in {ioc._IOC_SIZEBITS}",  # 13: powerpc
        ),
        (lambda: ioc.IOR("T", 1, "struct nope"), ValueError, "unknown C type 'struct nope'"),
        (lambda: ioc.IOR("T", 1, "void"), ValueError, "unknown C type 'void'"),
        (lambda: ioc.IOR("T", 1, 4), TypeError, "C type name"),
        (lambda: ioc.decode(1 << 32), ValueError, "request 4294967296 does not fit in 32"),
        (lambda: ioc.decode(-1), ValueError, "request -1"),
        (lambda: ioc.decode("0x5413"), TypeError, "request must be an int"),
    ],
)
def test_out_of_range_fields_are_refused_not_masked(
    call: Callable[[], object], exc: type[Exception], message: str
) -> None:
    with pytest.raises(exc, match=message.replace("[", r"\[")):
        call()
