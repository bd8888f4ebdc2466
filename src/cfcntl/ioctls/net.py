"""Network interfaces (``<net/if.h>``, ``<linux/sockios.h>``): the ``struct ifreq``
requests on any socket of the interface's network namespace (index, name, flags, MTU,
IPv4 address, netmask and broadcast address, hardware address, transmit queue length),
the interface list (SIOCGIFCONF) and a socket's receive timestamp (SIOCGSTAMP), all by
hand (``src/cfcntl/_c/net.c``: the ifreq stays in C, Python passes and gets scalars)."""

from __future__ import annotations

import os

from .._cfcntl import ffi as _ffi, lib as _lib
from .._syscall import FAILED, FileDescriptorLike, call, failure, fileno, retried

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from collections.abc import Callable
    from ipaddress import IPv4Address
    from typing import NamedTuple

    from ._flags import InterfaceFlags
    from ._pattern import Entry
else:
    from .._record import NamedTuple

_IFNAMSIZ: int = _lib.IFNAMSIZ


_CHECKED: dict[str | bytes, bytes] = {}
"""The names :func:`ifname` has checked, encoded: an int getter's hot path looks its name
up here rather than encode and check it again.  siocgifmtu(fd, "lo") took 3535 ns
without it, 2180 with it, the stdlib's hand-packed ifreq 3031 and the bare C helper 1973
(medians of 7 interleaved rounds, one process)."""


def ifname(function: str, name: str | bytes) -> bytes:
    """``name`` as the bytes of an interface name: ValueError unless it is 1 to
    IFNAMSIZ - 1 bytes without a NUL or a slash (the kernel's rule), before any call."""
    raw = _CHECKED.get(name) if type(name) in (str, bytes) else None
    if raw is not None:
        return raw
    raw = os.fsencode(name)
    if not 0 < len(raw) < _IFNAMSIZ or b"\0" in raw or b"/" in raw:
        raise ValueError(
            f"{function}(): an interface name is 1 to {_IFNAMSIZ - 1} bytes (IFNAMSIZ - 1) "
            f"without NUL or '/', not {name!r}"
        )
    if type(name) in (str, bytes):
        if len(_CHECKED) >= 1024:  # names come and go (veth, tun): keep the cache small
            _CHECKED.clear()
        _CHECKED[name] = raw
    return raw


def _ipv4(function: str, address: object) -> bytes:
    """The 4 bytes of an IPv4 address given as an ``IPv4Address`` or a string;
    ValueError for another family or a malformed one."""
    import ipaddress

    try:
        parsed = ipaddress.ip_address(address)  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"{function}(): {address!r} is not an IP address") from None
    if parsed.version != 4:
        raise ValueError(f"{function}(): {address!r} is not an IPv4 address (AF_INET)")
    return parsed.packed


def _int_getter(
    helper: Callable[[int, bytes], int], doc: str
) -> Callable[[FileDescriptorLike, str | bytes], int]:
    """``name(fd, ifname)``: an int field of the ifreq its helper's request answers."""
    function = helper.__name__[3:]

    def get(fd: FileDescriptorLike, name: str | bytes) -> int:
        raw = _CHECKED.get(name) if type(name) is str else None
        if raw is None:
            raw = ifname(function, name)
        try:  # the hot path: fd straight to the helper, converted only if cffi refuses it
            if type(fd) is not int:
                raise TypeError
            value: int = helper(fd, raw)
        except (TypeError, OverflowError):
            value = retried(function, helper, fd, tail=(raw,))
        if value <= FAILED:
            raise failure(fd, value)
        return value

    get.__name__ = get.__qualname__ = function
    get.__doc__ = doc
    return get


def _int_setter(
    helper: Callable[[int, bytes, int], int], argument: str, doc: str
) -> Callable[[FileDescriptorLike, str | bytes, int], None]:
    """``name(fd, ifname, value)``: set an int field of the ifreq its helper's request passes."""
    function = helper.__name__[3:]

    def put(fd: FileDescriptorLike, name: str | bytes, value: int) -> None:
        raw = ifname(function, name)
        call(
            function,
            helper,
            ("fd", "int", fileno(fd)),
            ("name", "char *", raw),
            (argument, "int", value),
        )

    put.__name__ = put.__qualname__ = function
    put.__doc__ = doc
    return put


siocgifindex = _int_getter(
    _lib.cf_siocgifindex, "The interface's index (SIOCGIFINDEX); ENODEV if none."
)
siocgifmtu = _int_getter(_lib.cf_siocgifmtu, "The interface's MTU (SIOCGIFMTU).")
siocgiftxqlen = _int_getter(
    _lib.cf_siocgiftxqlen,
    "The interface's transmit queue length, in packets (SIOCGIFTXQLEN).",
)
siocsifmtu = _int_setter(_lib.cf_siocsifmtu, "mtu", "Set the interface's MTU (SIOCSIFMTU).")
siocsiftxqlen = _int_setter(
    _lib.cf_siocsiftxqlen,
    "qlen",
    "Set the interface's transmit queue length (SIOCSIFTXQLEN).",
)
siocsifflags = _int_setter(
    _lib.cf_siocsifflags,
    "flags",
    "Set the interface's flags (SIOCSIFFLAGS): InterfaceFlags.UP brings it up; the kernel "
    "keeps the bits only it sets (RUNNING...).",
)


def siocgifflags(fd: FileDescriptorLike, name: str | bytes) -> InterfaceFlags:
    """The interface's flags (SIOCGIFFLAGS), as :class:`InterfaceFlags` (the 16 bits of
    ``ifr_flags``; LOWER_UP and above are netlink's)."""
    from ._flags import InterfaceFlags

    raw = ifname("siocgifflags", name)
    return InterfaceFlags(
        call(
            "siocgifflags", _lib.cf_siocgifflags, ("fd", "int", fileno(fd)), ("name", "char *", raw)
        )
    )


_cf_siocgifname = _lib.cf_siocgifname


def siocgifname(fd: FileDescriptorLike, index: int) -> str:
    """The name of the interface numbered ``index`` (SIOCGIFNAME); ENODEV if none."""
    answer = _ffi.new("char[]", _IFNAMSIZ)
    call(
        "siocgifname",
        _cf_siocgifname,
        ("fd", "int", fileno(fd)),
        ("index", "int", index),
        ("answer", "char *", answer),
    )
    return os.fsdecode(_ffi.string(answer))


def _address_getter(
    helper: Callable[[int, bytes, object], int], doc: str
) -> Callable[[FileDescriptorLike, str | bytes], IPv4Address]:
    function = helper.__name__[3:]

    def get(fd: FileDescriptorLike, name: str | bytes) -> IPv4Address:
        import ipaddress

        raw = ifname(function, name)
        answer = _ffi.new("uint8_t[4]")
        call(
            function,
            helper,
            ("fd", "int", fileno(fd)),
            ("name", "char *", raw),
            ("answer", "uint8_t *", answer),
        )
        return ipaddress.IPv4Address(bytes(answer))

    get.__name__ = get.__qualname__ = function
    get.__doc__ = doc
    return get


def _address_setter(
    helper: Callable[[int, bytes, bytes], int], doc: str
) -> Callable[[FileDescriptorLike, str | bytes, IPv4Address | str], None]:
    function = helper.__name__[3:]

    def put(fd: FileDescriptorLike, name: str | bytes, address: IPv4Address | str) -> None:
        raw = ifname(function, name)
        packed = _ipv4(function, address)
        call(
            function,
            helper,
            ("fd", "int", fileno(fd)),
            ("name", "char *", raw),
            ("address", "uint8_t *", packed),
        )

    put.__name__ = put.__qualname__ = function
    put.__doc__ = doc
    return put


siocgifaddr = _address_getter(
    _lib.cf_siocgifaddr,
    "The interface's (first) IPv4 address (SIOCGIFADDR, on an AF_INET socket), as an "
    "IPv4Address; EADDRNOTAVAIL if it has none.",
)
siocgifnetmask = _address_getter(
    _lib.cf_siocgifnetmask,
    "The netmask of the interface's IPv4 address (SIOCGIFNETMASK).",
)
siocgifbrdaddr = _address_getter(
    _lib.cf_siocgifbrdaddr,
    "The broadcast address of the interface's IPv4 address (SIOCGIFBRDADDR).",
)
siocsifaddr = _address_setter(
    _lib.cf_siocsifaddr,
    "Set the interface's IPv4 address (SIOCSIFADDR; the kernel derives a classful "
    "netmask, set it after); ValueError for another family.",
)
siocsifnetmask = _address_setter(
    _lib.cf_siocsifnetmask, "Set the netmask of its IPv4 address (SIOCSIFNETMASK)."
)
siocsifbrdaddr = _address_setter(
    _lib.cf_siocsifbrdaddr,
    "Set the broadcast address of its IPv4 address (SIOCSIFBRDADDR).",
)


class HardwareAddress(NamedTuple):
    """An interface's hardware address: its ARPHRD_* type and its bytes."""

    family: int
    """ARPHRD_ETHER (1) for Ethernet and veth, ARPHRD_LOOPBACK, ARPHRD_NONE (TUN)..."""
    address: bytes
    """ETH_ALEN bytes for Ethernet and loopback, none for ARPHRD_NONE, else all of
    sa_data (the kernel does not say how many count)."""


_SA_DATA: int = _lib.CF_SA_DATA
_cf_siocgifhwaddr = _lib.cf_siocgifhwaddr
_cf_siocsifhwaddr = _lib.cf_siocsifhwaddr


def siocgifhwaddr(fd: FileDescriptorLike, name: str | bytes) -> HardwareAddress:
    """The interface's hardware address (SIOCGIFHWADDR), as a HardwareAddress."""
    raw = ifname("siocgifhwaddr", name)
    answer = _ffi.new("uint8_t[]", _SA_DATA)
    family = call(
        "siocgifhwaddr",
        _cf_siocgifhwaddr,
        ("fd", "int", fileno(fd)),
        ("name", "char *", raw),
        ("answer", "uint8_t *", answer),
        ("size", "size_t", _SA_DATA),
    )
    data = bytes(answer)
    if family in (_lib.ARPHRD_ETHER, _lib.ARPHRD_LOOPBACK):
        data = data[: _lib.ETH_ALEN]
    elif family == _lib.ARPHRD_NONE:
        data = b""
    return HardwareAddress(family, data)


def siocsifhwaddr(fd: FileDescriptorLike, name: str | bytes, address: bytes) -> None:
    """Set an Ethernet interface's hardware address (SIOCSIFHWADDR, ARPHRD_ETHER) to
    ``address``, ETH_ALEN bytes (ValueError otherwise)."""
    raw = ifname("siocsifhwaddr", name)
    if not isinstance(address, bytes) or len(address) != _lib.ETH_ALEN:
        raise ValueError(
            f"siocsifhwaddr(): address must be {_lib.ETH_ALEN} bytes (ETH_ALEN), not {address!r}"
        )
    call(
        "siocsifhwaddr",
        _cf_siocsifhwaddr,
        ("fd", "int", fileno(fd)),
        ("name", "char *", raw),
        ("family", "int", _lib.ARPHRD_ETHER),
        ("address", "uint8_t *", address),
        ("size", "size_t", len(address)),
    )


_cf_siocgifconf = _lib.cf_siocgifconf


def siocgifconf(fd: FileDescriptorLike) -> list[tuple[str, IPv4Address]]:
    """Every interface of the socket's namespace with an IPv4 address, as (name,
    address) pairs (SIOCGIFCONF): an array of ``struct ifreq`` of the compiler's size,
    doubled until the kernel leaves room to spare, so no entry is cut off."""
    import ipaddress

    number = fileno(fd)
    count = 8
    while True:
        entries = _ffi.new("struct ifreq[]", count)
        filled = call(
            "siocgifconf",
            _cf_siocgifconf,
            ("fd", "int", number),
            ("entries", "struct ifreq *", entries),
            ("count", "int", count),
        )
        if filled < count:
            break
        count *= 2
    name = _ffi.new("char[]", _IFNAMSIZ)
    address = _ffi.new("uint8_t[4]")
    found = []
    for index in range(filled):
        _lib.cf_ifconf_entry(entries, index, name, address)
        found.append((os.fsdecode(_ffi.string(name)), ipaddress.IPv4Address(bytes(address))))
    return found


class Timeval(NamedTuple):
    """A receive time: seconds and microseconds since the epoch."""

    seconds: int
    microseconds: int


class Timespec(NamedTuple):
    """A receive time: seconds and nanoseconds since the epoch."""

    seconds: int
    nanoseconds: int


_cf_siocgstamp = _lib.cf_siocgstamp
_cf_siocgstampns = _lib.cf_siocgstampns


def siocgstamp(fd: FileDescriptorLike) -> Timeval:
    """When the socket's last packet was received (SIOCGSTAMP), as a Timeval; ENOENT
    before the first.  The build's ``struct timeval`` and the request <linux/sockios.h>
    picks for its ``time_t`` (SIOCGSTAMP_NEW for a 64-bit time_t on a 32-bit CPU)."""
    answer = _ffi.new("int64_t[2]")
    call("siocgstamp", _cf_siocgstamp, ("fd", "int", fileno(fd)), ("answer", "int64_t *", answer))
    return Timeval(answer[0], answer[1])


def siocgstampns(fd: FileDescriptorLike) -> Timespec:
    """As :func:`siocgstamp` in nanoseconds (SIOCGSTAMPNS), as a Timespec."""
    answer = _ffi.new("int64_t[2]")
    call(
        "siocgstampns", _cf_siocgstampns, ("fd", "int", fileno(fd)), ("answer", "int64_t *", answer)
    )
    return Timespec(answer[0], answer[1])


_STAMP_HEADER = "long long[2]" if _lib.CF_STAMP_SIZED else None
"""What the header encodes for SIOCGSTAMP(NS): SIOCGSTAMP_NEW's long long[2] where
<linux/sockios.h> picks it, else nothing (SIOCGSTAMP_OLD is a legacy number)."""

HAND_WRITTEN: tuple[Entry, ...] = (
    ("SIOCGIFINDEX", "readwrite", None, "struct ifreq", "ifr_ifindex"),
    ("SIOCGIFNAME", "readwrite", None, "struct ifreq", "ifr_ifindex in, ifr_name out"),
    ("SIOCGIFFLAGS", "readwrite", None, "struct ifreq", "ifr_flags, a short"),
    ("SIOCSIFFLAGS", "write", None, "struct ifreq", "ifr_flags"),
    ("SIOCGIFMTU", "readwrite", None, "struct ifreq", "ifr_mtu"),
    ("SIOCSIFMTU", "write", None, "struct ifreq", "ifr_mtu"),
    ("SIOCGIFTXQLEN", "readwrite", None, "struct ifreq", "ifr_qlen"),
    ("SIOCSIFTXQLEN", "write", None, "struct ifreq", "ifr_qlen"),
    ("SIOCGIFADDR", "readwrite", None, "struct ifreq", "ifr_addr, a sockaddr_in"),
    ("SIOCSIFADDR", "write", None, "struct ifreq", "ifr_addr"),
    ("SIOCGIFNETMASK", "readwrite", None, "struct ifreq", "ifr_netmask"),
    ("SIOCSIFNETMASK", "write", None, "struct ifreq", "ifr_netmask"),
    ("SIOCGIFBRDADDR", "readwrite", None, "struct ifreq", "ifr_broadaddr"),
    ("SIOCSIFBRDADDR", "write", None, "struct ifreq", "ifr_broadaddr"),
    ("SIOCGIFHWADDR", "readwrite", None, "struct ifreq", "ifr_hwaddr"),
    ("SIOCSIFHWADDR", "write", None, "struct ifreq", "ifr_hwaddr"),
    ("SIOCGIFCONF", "refused", None, None, "siocgifconf(): the kernel writes through ifc_buf"),
    ("SIOCGSTAMP", "read", _STAMP_HEADER, "struct timeval", "the build's time_t"),
    ("SIOCGSTAMPNS", "read", _STAMP_HEADER, "struct timespec", "the build's time_t"),
)
"""The hand-written helpers' requests, as registry entries (see ``tty.HAND_WRITTEN``)."""
