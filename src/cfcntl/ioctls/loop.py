"""Loop devices (``<linux/loop.h>``): /dev/loop-control's requests, attaching a backing
file with LOOP_CONFIGURE or LOOP_SET_FD, the ``struct loop_info64`` status, by hand
(``src/cfcntl/_c/loop.c``); LOOP_CLR_FD and LOOP_SET_CAPACITY as rows; and
:class:`LoopDevice`, an attached device that is always detached."""

from __future__ import annotations

import errno
import os

from .._cfcntl import ffi as _ffi, lib as _lib
from .._syscall import FileDescriptorLike, call, fileno, needs
from ._pattern import no_argument

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from types import TracebackType
    from typing import NamedTuple, Self
else:
    from .._record import NamedTuple

CONTROL = "/dev/loop-control"
"""The device that hands out loop devices (LOOP_CTL_*)."""

loop_clr_fd = no_argument(
    _lib.cf_loop_clr_fd,
    "LOOP_CLR_FD",
    "Detach the loop device's backing file (LOOP_CLR_FD); while the device is open "
    "elsewhere the kernel detaches it at the last close.",
)
loop_set_capacity = no_argument(
    _lib.cf_loop_set_capacity,
    "LOOP_SET_CAPACITY",
    "Make the loop device's size follow its backing file's new size (LOOP_SET_CAPACITY).",
)

_cf_get_free = needs("LOOP_CTL_GET_FREE", _lib.cf_loop_ctl_get_free)
_cf_add = needs("LOOP_CTL_ADD", _lib.cf_loop_ctl_add)
_cf_remove = needs("LOOP_CTL_REMOVE", _lib.cf_loop_ctl_remove)
_cf_configure = needs("LOOP_CONFIGURE", _lib.cf_loop_configure)
_cf_set_fd = needs("LOOP_SET_FD", _lib.cf_loop_set_fd)
_cf_get_status64 = needs("LOOP_GET_STATUS64", _lib.cf_loop_get_status64)
_cf_set_status64 = needs("LOOP_SET_STATUS64", _lib.cf_loop_set_status64)
_cf_set_block_size = needs("LOOP_SET_BLOCK_SIZE", _lib.cf_loop_set_block_size)
_cf_set_direct_io = needs("LOOP_SET_DIRECT_IO", _lib.cf_loop_set_direct_io)

_NAME_SIZE: int = _lib.LO_NAME_SIZE
"""The room of lo_file_name, its NUL included (the compiler's LO_NAME_SIZE; read from
the struct's layout it would cost the import 25 us, building the struct's type)."""


def _file_name(function: str, name: str | bytes) -> bytes:
    """``name`` as the NUL-free bytes lo_file_name holds (str as the filesystem encodes
    paths); ValueError if it does not fit with its NUL."""
    raw = os.fsencode(name) if isinstance(name, str) else name
    if not isinstance(raw, bytes):
        raise TypeError(f"{function}(): file_name must be str or bytes, not {type(name).__name__}")
    if b"\0" in raw:
        raise ValueError(f"{function}(): file_name contains a NUL byte")
    if len(raw) >= _NAME_SIZE:
        raise ValueError(
            f"{function}(): file_name is {len(raw)} bytes; lo_file_name holds "
            f"{_NAME_SIZE - 1} and its NUL"
        )
    return raw


def loop_ctl_get_free(control: FileDescriptorLike) -> int:
    """The number N of a free /dev/loopN, made if none is free (LOOP_CTL_GET_FREE on
    /dev/loop-control)."""
    return call("loop_ctl_get_free", _cf_get_free, ("control", "int", fileno(control)))


def loop_ctl_add(control: FileDescriptorLike, number: int) -> int:
    """Make /dev/loop``number`` (LOOP_CTL_ADD); EEXIST if it exists.  Returns ``number``."""
    return call(
        "loop_ctl_add", _cf_add, ("control", "int", fileno(control)), ("number", "int", number)
    )


def loop_ctl_remove(control: FileDescriptorLike, number: int) -> None:
    """Remove /dev/loop``number`` (LOOP_CTL_REMOVE); EBUSY while it is attached or open.
    (Older kernels answered the number, newer ones 0: nothing is returned.)"""
    call(
        "loop_ctl_remove",
        _cf_remove,
        ("control", "int", fileno(control)),
        ("number", "int", number),
    )


def loop_configure(
    fd: FileDescriptorLike,
    backing: FileDescriptorLike,
    *,
    offset: int = 0,
    sizelimit: int = 0,
    flags: int = 0,
    block_size: int = 0,
    file_name: str | bytes = b"",
) -> None:
    """Attach ``backing`` to the loop device ``fd`` in one step (LOOP_CONFIGURE, Linux
    5.8), with the ``struct loop_config`` built from the arguments: the data from byte
    ``offset``, at most ``sizelimit`` bytes (0: to the end), LO_FLAGS_* ``flags``
    (LO_FLAGS_READ_ONLY, LO_FLAGS_AUTOCLEAR, LO_FLAGS_PARTSCAN, LO_FLAGS_DIRECT_IO), a
    logical ``block_size`` (0: 512) and the name shown in the status.  EBUSY if the
    device is attached already."""
    name = _file_name("loop_configure", file_name)
    call(
        "loop_configure",
        _cf_configure,
        ("fd", "int", fileno(fd)),
        ("backing", "int", fileno(backing)),
        ("offset", "uint64_t", offset),
        ("sizelimit", "uint64_t", sizelimit),
        ("flags", "uint32_t", flags),
        ("block_size", "uint32_t", block_size),
        ("file_name", "char *", name),
    )


def loop_set_fd(fd: FileDescriptorLike, backing: FileDescriptorLike) -> None:
    """Attach ``backing`` to the loop device ``fd`` with the defaults (LOOP_SET_FD;
    read-only if ``backing`` was opened so); set the rest with :func:`loop_set_status64`."""
    call("loop_set_fd", _cf_set_fd, ("fd", "int", fileno(fd)), ("backing", "int", fileno(backing)))


class LoopInfo(NamedTuple):
    """A ``struct loop_info64``: an attached loop device's status."""

    device: int
    """st_dev of the backing file (read-only)."""
    inode: int
    """st_ino of the backing file (read-only)."""
    rdevice: int
    """st_rdev of the backing file (read-only)."""
    offset: int
    """Where the device's data begins in the backing file, in bytes."""
    sizelimit: int
    """The device's size limit in bytes; 0 for the rest of the backing file."""
    number: int
    """N, as in /dev/loopN (read-only)."""
    flags: int
    """LO_FLAGS_* bits."""
    file_name: str
    """The backing file's name as given when attached (lo_file_name, at most
    LO_NAME_SIZE - 1 bytes: the kernel keeps a longer path cut), decoded as the
    filesystem encodes paths."""


def loop_get_status64(fd: FileDescriptorLike) -> LoopInfo:
    """The attached loop device's status (LOOP_GET_STATUS64), as a LoopInfo; ENXIO if
    nothing is attached."""
    answer = _ffi.new("struct loop_info64 *")
    call(
        "loop_get_status64",
        _cf_get_status64,
        ("fd", "int", fileno(fd)),
        ("answer", "struct loop_info64 *", answer),
    )
    return LoopInfo(
        answer.lo_device,
        answer.lo_inode,
        answer.lo_rdevice,
        answer.lo_offset,
        answer.lo_sizelimit,
        answer.lo_number,
        answer.lo_flags,
        os.fsdecode(_ffi.string(answer.lo_file_name)),
    )


def loop_set_status64(
    fd: FileDescriptorLike,
    *,
    offset: int = 0,
    sizelimit: int = 0,
    flags: int = 0,
    file_name: str | bytes = b"",
) -> None:
    """Set the attached loop device's offset, size limit, flags and name
    (LOOP_SET_STATUS64); the kernel changes only LO_FLAGS_AUTOCLEAR and
    LO_FLAGS_PARTSCAN of the flags.  Pass what :func:`loop_get_status64` gave to keep a
    field as it is: every field is written."""
    name = _file_name("loop_set_status64", file_name)
    call(
        "loop_set_status64",
        _cf_set_status64,
        ("fd", "int", fileno(fd)),
        ("offset", "uint64_t", offset),
        ("sizelimit", "uint64_t", sizelimit),
        ("flags", "uint32_t", flags),
        ("file_name", "char *", name),
    )


def loop_set_block_size(fd: FileDescriptorLike, size: int) -> None:
    """Set the loop device's logical block size, a power of two from 512 to the page size
    (LOOP_SET_BLOCK_SIZE, by value)."""
    call(
        "loop_set_block_size",
        _cf_set_block_size,
        ("fd", "int", fileno(fd)),
        ("size", "unsigned long", size),
    )


def loop_set_direct_io(fd: FileDescriptorLike, on: bool) -> None:
    """Read and write the backing file with O_DIRECT or not (LOOP_SET_DIRECT_IO, by
    value); EINVAL when the backing file's filesystem cannot."""
    call(
        "loop_set_direct_io",
        _cf_set_direct_io,
        ("fd", "int", fileno(fd)),
        ("on", "unsigned long", 1 if on else 0),
    )


_ATTEMPTS = 16
"""How many free devices LoopDevice tries when others take them first (EBUSY)."""


class LoopDevice:
    """A free loop device attached to a backing file (a path or a descriptor) with
    :func:`loop_configure`, detached (LOOP_CLR_FD) and closed when the ``with`` block
    ends, whatever happens in it.  A device another process takes between
    LOOP_CTL_GET_FREE and the attach (EBUSY) is given up for the next free one, up to
    16 times.

    ``path``, ``number`` and ``fd`` (the open device) are set while attached.
    """

    def __init__(
        self,
        backing: str | os.PathLike[str] | FileDescriptorLike,
        *,
        read_only: bool = False,
        offset: int = 0,
        sizelimit: int = 0,
        flags: int = 0,
        block_size: int = 0,
    ) -> None:
        self.backing = backing
        self.read_only = read_only
        self.options = {"offset": offset, "sizelimit": sizelimit, "block_size": block_size}
        self.flags = flags | (_lib.LO_FLAGS_READ_ONLY if read_only else 0)
        self.fd = -1
        self.number = -1
        self.path = ""

    def __enter__(self) -> Self:
        mode = os.O_RDONLY if self.read_only else os.O_RDWR
        if isinstance(self.backing, (str, os.PathLike)):
            name = os.path.abspath(self.backing)  # as losetup and sysfs show it
            backing = os.open(name, mode | os.O_CLOEXEC)
        else:
            name, backing = "", fileno(self.backing)
        try:
            self._attach(backing, os.fsencode(name)[: _NAME_SIZE - 1], mode)
        finally:
            if isinstance(self.backing, (str, os.PathLike)):
                os.close(backing)
        return self

    def _attach(self, backing: int, name: bytes, mode: int) -> None:
        control = os.open(CONTROL, os.O_RDWR | os.O_CLOEXEC)
        try:
            for attempt in range(_ATTEMPTS):
                number = loop_ctl_get_free(control)
                fd = os.open(f"/dev/loop{number}", mode | os.O_CLOEXEC)
                try:
                    loop_configure(fd, backing, flags=self.flags, file_name=name, **self.options)
                except OSError as exc:
                    os.close(fd)
                    if exc.errno == errno.EBUSY and attempt < _ATTEMPTS - 1:
                        continue  # taken meanwhile: the next free one
                    raise
                break
        finally:
            os.close(control)
        self.fd, self.number, self.path = fd, number, f"/dev/loop{number}"

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        fd, self.fd = self.fd, -1
        try:
            loop_clr_fd(fd)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: detached already (loop_clr_fd in the block)
                raise
        finally:
            os.close(fd)
