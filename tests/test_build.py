"""The build logic in build_ffi.py: which constants the compiler is asked for and finds."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

import cfcntl
from cfcntl._cfcntl import lib

BUILD_FFI = Path(__file__).resolve().parents[1] / "build_ffi.py"


@pytest.fixture(scope="module")
def build_ffi() -> ModuleType:
    """build_ffi.py from the checkout, loaded as a module (it probes the compiler once)."""
    spec = importlib.util.spec_from_file_location("build_ffi", BUILD_FFI)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_constant_names_are_the_packages(build_ffi: ModuleType) -> None:
    """The build reads its list of names from the package's constants.py annotations."""
    assert build_ffi.constant_names() == list(cfcntl.NAMES)
    assert "F_GETLK" in cfcntl.NAMES and "NAMES" not in cfcntl.NAMES


def test_probe_keeps_defined_names_and_drops_the_rest(build_ffi: ModuleType) -> None:
    """Undefined names are dropped, defined ones kept in order, whatever their position."""
    names = ["CF_NOT_A_CONSTANT_A", "F_GETFL", "F_SETFL", "CF_NOT_A_CONSTANT_B", "O_NONBLOCK"]
    assert build_ffi.defined_constants(names) == ["F_GETFL", "F_SETFL", "O_NONBLOCK"]
    assert build_ffi.defined_constants([]) == []


def test_probe_reads_the_preamble(build_ffi: ModuleType) -> None:
    """A name is found exactly when the preamble's headers define it."""
    preamble = build_ffi.PREAMBLE + "#define CF_TEST_ONLY (1 << 3)\nenum { CF_TEST_ENUM = 7 };\n"
    names = ["CF_TEST_ONLY", "CF_TEST_ENUM", "CF_TEST_MISSING"]
    assert build_ffi.defined_constants(names, preamble) == ["CF_TEST_ONLY", "CF_TEST_ENUM"]


def test_installed_module_has_exactly_what_the_headers_define(build_ffi: ModuleType) -> None:
    """The compiled module holds the names the probe finds here and none of the others,
    and the package exports exactly those."""
    found = set(build_ffi.defined_constants(cfcntl.NAMES))
    for name in cfcntl.NAMES:
        assert hasattr(lib, name) == (name in found) == cfcntl.has(name) == hasattr(cfcntl, name)


def test_missing_compiler_is_a_clear_error(
    build_ffi: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compiler that cannot compile the headers stops the build with its own message."""
    monkeypatch.setenv("CC", "cc -DCF_BREAK_THE_BUILD -include /nonexistent/header.h")
    with pytest.raises(RuntimeError, match="cannot compile the headers"):
        build_ffi.defined_constants(["F_GETFL"])


def test_cdef_declares_each_found_constant_for_the_compiler(build_ffi: ModuleType) -> None:
    """Values are left to the compiler: every constant is declared as '#define NAME ...'."""
    ffi = build_ffi.make_ffibuilder(["F_GETFL", "F_SETFL"])
    module_name, source, *_ = ffi._assigned_source
    assert module_name == "cfcntl._cfcntl"
    assert "#include <fcntl.h>" in source
    cdef = "".join(ffi._cdefsources)
    assert "#define F_GETFL ...\n" in cdef and "#define F_SETFL ...\n" in cdef
    assert "struct flock {" in cdef and "...; };" in cdef


def test_every_sizeless_request_of_the_headers_is_classified(build_ffi: ModuleType) -> None:
    """The headers' sizeless requests (TCGETS, FIGETBSZ, SIOCGPGRP...) each have a row in
    _requests.py, and the installed module holds every request the build found."""
    requests = build_ffi.request_macros()
    assert {"TCGETS", "FIGETBSZ", "SIOCGIFCONF", "FS_IOC_GETFLAGS"} <= set(requests)
    assert build_ffi.unclassified(requests) == []
    assert sorted(cfcntl.ioctls.REQUESTS) == requests


def test_an_unclassified_sizeless_request_is_found(build_ffi: ModuleType) -> None:
    """A sizeless request the table lacks is reported, whether it is a legacy number in
    the ioctls.h family or made with _IO anywhere; a sized one is not."""
    preamble = (
        build_ffi.PREAMBLE
        + "#define CF_TEST_LEGACY (TCGETS + 0x99)\n#define CF_TEST_IO _IO('T', 0x99)\n"
        + "#define CF_TEST_SIZED _IOR('T', 0x99, int)\n#define CF_TEST_FLAG 4\n"
    )
    requests = build_ffi.request_macros(preamble)
    assert {"CF_TEST_LEGACY", "CF_TEST_IO", "CF_TEST_SIZED"} <= set(requests)
    assert "CF_TEST_FLAG" not in requests
    assert build_ffi.unclassified(requests, preamble) == ["CF_TEST_IO", "CF_TEST_LEGACY"]
