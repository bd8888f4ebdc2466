"""TUN/TAP devices (``<linux/if_tun.h>``): attaching a descriptor of ``/dev/net/tun`` to a
device with its flags (TUNSETIFF), reading them back (TUNGETIFF), persistence, owner and
group, by hand (``src/cfcntl/_c/tun.c``: TUNSETIFF's ifreq stays in C, the others take
their number by value); the supported features as a row."""

from __future__ import annotations

import os

from .._cfcntl import ffi as _ffi, lib as _lib
from .._syscall import FileDescriptorLike, call, fileno
from .net import ifname

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from ._flags import TunFlags
    from ._pattern import Entry

_IFNAMSIZ: int = _lib.IFNAMSIZ


def tungetfeatures(fd: FileDescriptorLike) -> TunFlags:
    """The TUNSETIFF flags the kernel supports (TUNGETFEATURES on a descriptor of
    /dev/net/tun), as :class:`TunFlags`."""
    from ._flags import TunFlags

    return TunFlags(call("tungetfeatures", _lib.cf_tungetfeatures, ("fd", "int", fileno(fd))))


_cf_tunsetiff = _lib.cf_tunsetiff
_cf_tungetiff = _lib.cf_tungetiff


def tunsetiff(fd: FileDescriptorLike, name: str | bytes, flags: int) -> str:
    """Attach ``fd``, a descriptor of /dev/net/tun, to the TUN or TAP device ``name``
    (TUNSETIFF), created in the namespace ``fd`` was opened in if it does not exist, with
    ``flags`` (TunFlags: TUN or TAP, NO_PI, MULTI_QUEUE...); the device's name, which the
    kernel picks for "" or a pattern with ``%d``.  ValueError for a name longer than
    IFNAMSIZ - 1 bytes."""
    number = fileno(fd)
    raw = os.fsencode(name) if name in ("", b"") else ifname("tunsetiff", name)
    answer = _ffi.new("char[]", _IFNAMSIZ)
    call(
        "tunsetiff",
        _cf_tunsetiff,
        ("fd", "int", number),
        ("name", "char *", raw),
        ("flags", "int", flags),
        ("answer", "char *", answer),
    )
    return os.fsdecode(_ffi.string(answer))


def open_tun(
    name: str | bytes = "", flags: int | None = None, path: str = "/dev/net/tun"
) -> tuple[int, str]:
    """Open ``path`` and attach it to the device ``name`` (:func:`tunsetiff`; by default a
    TUN device without packet information, TunFlags.TUN | NO_PI): (the descriptor, the
    device's name).  The descriptor is closed again if the attach fails."""
    if flags is None:
        flags = _lib.IFF_TUN | _lib.IFF_NO_PI
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        return fd, tunsetiff(fd, name, flags)
    except BaseException:
        os.close(fd)
        raise


def tungetiff(fd: FileDescriptorLike) -> tuple[str, TunFlags]:
    """The device ``fd`` is attached to and its flags (TUNGETIFF): (name, TunFlags);
    EBADFD before TUNSETIFF."""
    from ._flags import TunFlags

    answer = _ffi.new("char[]", _IFNAMSIZ)
    flags = call(
        "tungetiff", _cf_tungetiff, ("fd", "int", fileno(fd)), ("answer", "char *", answer)
    )
    return os.fsdecode(_ffi.string(answer)), TunFlags(flags)


_cf_tunsetpersist = _lib.cf_tunsetpersist
_cf_tunsetowner = _lib.cf_tunsetowner
_cf_tunsetgroup = _lib.cf_tunsetgroup


def tunsetpersist(fd: FileDescriptorLike, persist: bool) -> None:
    """Keep the device when its last descriptor closes (TUNSETPERSIST), or not."""
    call(
        "tunsetpersist",
        _cf_tunsetpersist,
        ("fd", "int", fileno(fd)),
        ("persist", "int", int(bool(persist))),
    )


def tunsetowner(fd: FileDescriptorLike, uid: int) -> None:
    """Let the user ``uid`` attach to the device (TUNSETOWNER); EINVAL for a uid the
    caller's user namespace does not map."""
    call("tunsetowner", _cf_tunsetowner, ("fd", "int", fileno(fd)), ("uid", "uid_t", uid))


def tunsetgroup(fd: FileDescriptorLike, gid: int) -> None:
    """Let the members of the group ``gid`` attach to the device (TUNSETGROUP)."""
    call("tunsetgroup", _cf_tunsetgroup, ("fd", "int", fileno(fd)), ("gid", "gid_t", gid))


HAND_WRITTEN: tuple[Entry, ...] = (
    ("TUNGETFEATURES", "read", "unsigned int", "unsigned int", ""),
    (
        "TUNSETIFF",
        "refused",
        "int",
        None,
        "the kernel reads a struct ifreq and writes its name back, past the int the header "
        "encodes: tunsetiff()",
    ),
    (
        "TUNGETIFF",
        "refused",
        "unsigned int",
        None,
        "the kernel writes a struct ifreq, past the unsigned int the header encodes: tungetiff()",
    ),
    ("TUNSETPERSIST", "value", "int", "int", "the flag itself, not a pointer to it"),
    ("TUNSETOWNER", "value", "int", "uid_t", "the uid itself, not a pointer to it"),
    ("TUNSETGROUP", "value", "int", "gid_t", "the gid itself, not a pointer to it"),
)
"""The hand-written helpers' requests, as registry entries (see ``tty.HAND_WRITTEN``)."""
