"""Constant values against an independent C program and against the stdlib fcntl module."""

from __future__ import annotations

import fcntl
from collections.abc import Callable

import cfcntl


def test_values_match_a_c_program(run_c: Callable[[str], str]) -> None:
    """Every constant cfcntl exports has the value a C program compiled here prints."""
    present = [n for n in cfcntl.NAMES if cfcntl.has(n)]
    prints = "\n".join(f'printf("{n} %lld\\n", (long long)({n}));' for n in present)
    source = (
        "#define _GNU_SOURCE\n#include <fcntl.h>\n#include <stdio.h>\n#include <sys/file.h>\n"
        "#include <sys/ioctl.h>\n#include <linux/fs.h>\n#include <linux/sockios.h>\n"
        "#include <linux/fiemap.h>\n#include <linux/loop.h>\n"
        "int main(void) {\n" + prints + "\nreturn 0;\n}\n"
    )
    c_values = dict(line.split() for line in run_c(source).splitlines())
    assert {n: getattr(cfcntl, n) for n in present} == {n: int(v) for n, v in c_values.items()}


def test_absent_names_are_absent() -> None:
    """A name the headers lacked has no fallback value anywhere in the package."""
    for name in cfcntl.NAMES:
        if not cfcntl.has(name):
            assert not hasattr(cfcntl, name)
            assert not hasattr(cfcntl.constants, name)


def test_stdlib_names_are_exported_with_the_stdlibs_values() -> None:
    """Every stdlib fcntl constant cfcntl looks for has the same value, compared as the
    C int the stdlib stores (it reads DN_MULTISHOT, 0x80000000, into a signed int)."""
    shared = [n for n in cfcntl.NAMES if hasattr(fcntl, n)]
    assert {"F_GETLK", "F_SETFL", "LOCK_EX", "DN_MULTISHOT"} <= set(shared)
    for name in shared:
        ours = getattr(cfcntl, name)
        theirs = getattr(fcntl, name)
        assert ours & 0xFFFFFFFF == theirs & 0xFFFFFFFF, name


def test_every_fcntl_module_constant_is_looked_for() -> None:
    """cfcntl looks for every constant the running stdlib fcntl module exports, except the
    ioctl-only ones (FICLONE, FICLONERANGE) that belong to the ioctl layer."""
    stdlib = {n for n in dir(fcntl) if n.isupper() and not n.startswith(("FICLONE", "I_"))}
    assert stdlib - set(cfcntl.NAMES) == set()
