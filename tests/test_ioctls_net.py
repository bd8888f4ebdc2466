"""cfcntl.ioctls' network interface calls (issue 14), only inside a private network
namespace (the ``netns`` fixture), against /sys/class/net and ``ip -j`` there."""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import struct
import time
from typing import Any

import pytest

from cfcntl import ioctls
from cfcntl._cfcntl import ffi, lib


def sysfs(netns: Any, name: str, attribute: str) -> str:
    return str(netns.run("cat", f"/sys/class/net/{name}/{attribute}")).strip()


@pytest.fixture
def veth(netns: Any) -> tuple[Any, int]:
    """A veth pair va/vb inside the namespace; (netns, an AF_INET socket of it)."""
    netns.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
    return netns, netns.socket()


def test_index_name_mtu_txqlen_flags_agree_with_sysfs(veth: tuple[Any, int]) -> None:
    netns, sock = veth
    for name in ("lo", "va", "vb"):
        index = ioctls.siocgifindex(sock, name)
        assert index == int(sysfs(netns, name, "ifindex"))
        assert ioctls.siocgifname(sock, index) == name
        assert ioctls.siocgifmtu(sock, name) == int(sysfs(netns, name, "mtu"))
        assert ioctls.siocgiftxqlen(sock, name) == int(sysfs(netns, name, "tx_queue_len"))
        flags = ioctls.siocgifflags(sock, name)
        assert isinstance(flags, ioctls.InterfaceFlags)
        # sysfs shows dev->flags; SIOCGIFFLAGS adds RUNNING from the operational state
        running = ioctls.InterfaceFlags.RUNNING
        assert int(flags & ~running) == int(sysfs(netns, name, "flags"), 16) & 0xFFFF & ~running
    assert ioctls.InterfaceFlags.LOOPBACK in ioctls.siocgifflags(sock, "lo")
    assert ioctls.InterfaceFlags.UP not in ioctls.siocgifflags(sock, "va")


def test_the_same_ifreq_through_the_stdlib(veth: tuple[Any, int]) -> None:
    """SIOCGIFMTU by hand with the compiler's sizeof(struct ifreq) agrees."""
    import fcntl

    _, sock = veth
    size = ffi.sizeof("struct ifreq")
    arg = struct.pack(f"{lib.IFNAMSIZ}s", b"va").ljust(size, b"\0")
    out = fcntl.ioctl(sock, ioctls.REQUESTS["SIOCGIFMTU"], arg)
    assert len(out) == size
    mtu = struct.unpack_from("i", out, lib.IFNAMSIZ)[0]
    assert mtu == ioctls.siocgifmtu(sock, "va")


def test_setters_agree_with_sysfs_and_ip(veth: tuple[Any, int]) -> None:
    netns, sock = veth
    ioctls.siocsifmtu(sock, "va", 1400)
    assert sysfs(netns, "va", "mtu") == "1400"
    ioctls.siocsiftxqlen(sock, "va", 321)
    assert sysfs(netns, "va", "tx_queue_len") == "321"
    flags = ioctls.siocgifflags(sock, "va")
    ioctls.siocsifflags(sock, "va", flags | ioctls.InterfaceFlags.UP)
    assert ioctls.InterfaceFlags.UP in ioctls.siocgifflags(sock, "va")
    link = json.loads(netns.ip("-j", "link", "show", "va"))[0]
    assert "UP" in link["flags"] and link["mtu"] == 1400 and link["txqlen"] == 321
    mac = bytes.fromhex("02aabbccddee")
    ioctls.siocsifhwaddr(sock, "va", mac)
    assert sysfs(netns, "va", "address") == "02:aa:bb:cc:dd:ee"


def test_hardware_address(veth: tuple[Any, int]) -> None:
    netns, sock = veth
    hw = ioctls.siocgifhwaddr(sock, "vb")
    assert hw.family == int(sysfs(netns, "vb", "type")) == lib.ARPHRD_ETHER
    assert hw.address == bytes.fromhex(sysfs(netns, "vb", "address").replace(":", ""))
    assert ioctls.siocgifhwaddr(sock, "lo").family == lib.ARPHRD_LOOPBACK


def test_ipv4_address_netmask_broadcast_and_the_list(veth: tuple[Any, int]) -> None:
    netns, sock = veth
    with pytest.raises(OSError) as exc:
        ioctls.siocgifaddr(sock, "va")  # no IPv4 address yet
    assert exc.value.errno == errno.EADDRNOTAVAIL
    netns.ip("addr", "add", "10.1.2.3/24", "brd", "10.1.2.255", "dev", "va")
    assert ioctls.siocgifaddr(sock, "va") == ipaddress.IPv4Address("10.1.2.3")
    assert ioctls.siocgifnetmask(sock, "va") == ipaddress.IPv4Address("255.255.255.0")
    assert ioctls.siocgifbrdaddr(sock, "va") == ipaddress.IPv4Address("10.1.2.255")
    ioctls.siocsifaddr(sock, "vb", "10.9.0.1")
    ioctls.siocsifnetmask(sock, "vb", ipaddress.IPv4Address("255.255.0.0"))
    ioctls.siocsifbrdaddr(sock, "vb", "10.9.255.255")
    info = json.loads(netns.ip("-j", "addr", "show", "vb"))[0]["addr_info"]
    inet = [a for a in info if a["family"] == "inet"]
    assert inet[0]["local"] == "10.9.0.1" and inet[0]["prefixlen"] == 16
    assert inet[0]["broadcast"] == "10.9.255.255"
    # SIOCGIFCONF lists the interfaces with an IPv4 address, as ip -j addr does
    expected = [
        (i["ifname"], ipaddress.IPv4Address(a["local"]))
        for i in json.loads(netns.ip("-j", "addr"))
        for a in i["addr_info"]
        if a["family"] == "inet"
    ]
    assert sorted(ioctls.siocgifconf(sock)) == sorted(expected)


def test_the_interface_list_grows_until_it_fits(veth: tuple[Any, int]) -> None:
    """More interfaces than the first guess of 8 entries: none is cut off."""
    netns, sock = veth
    for n in range(0, 12, 2):
        netns.ip("link", "add", f"d{n}", "type", "veth", "peer", "name", f"d{n + 1}")
    for n in range(12):
        netns.ip("addr", "add", f"10.5.{n}.1/24", "dev", f"d{n}")
    names = {name for name, _ in ioctls.siocgifconf(sock)}
    assert {f"d{n}" for n in range(12)} <= names


def test_receive_timestamp(netns: Any) -> None:
    """SIOCGSTAMP/SIOCGSTAMPNS: ENOENT before a packet, then a time between the send and
    the receive; the two agree."""
    fd = netns.socket()
    receiver = socket.socket(fileno=os.dup(fd))
    with receiver:
        receiver.bind(("127.0.0.1", 0))
        with pytest.raises(OSError) as exc:
            ioctls.siocgstamp(receiver)
        assert exc.value.errno == errno.ENOENT
        sender = socket.socket(fileno=os.dup(netns.socket()))
        with sender:
            before = time.time_ns()
            sender.sendto(b"x", receiver.getsockname())
            receiver.recv(1)
            after = time.time_ns()
        stamp = ioctls.siocgstamp(receiver)
        ns = ioctls.siocgstampns(receiver)
        assert before // 1000 - 1 <= stamp.seconds * 10**6 + stamp.microseconds <= after // 1000 + 1
        assert before <= ns.seconds * 10**9 + ns.nanoseconds <= after
        assert stamp.seconds == ns.seconds and stamp.microseconds == ns.nanoseconds // 1000


def test_bad_names_and_addresses_before_the_call(netns: Any) -> None:
    sock = netns.socket()
    for bad in ("", "x" * lib.IFNAMSIZ, "a\0b", "a/b"):
        with pytest.raises(ValueError, match="IFNAMSIZ"):
            ioctls.siocgifmtu(sock, bad)
    with pytest.raises(OSError) as exc:
        ioctls.siocgifmtu(sock, "x" * (lib.IFNAMSIZ - 1))
    assert exc.value.errno == errno.ENODEV
    with pytest.raises(TypeError):
        ioctls.siocgifmtu(sock, 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="IPv4"):
        ioctls.siocsifaddr(sock, "lo", "::1")
    with pytest.raises(ValueError, match="not an IP address"):
        ioctls.siocsifaddr(sock, "lo", "10.0.0.300")
    with pytest.raises(ValueError, match="ETH_ALEN"):
        ioctls.siocsifhwaddr(sock, "lo", b"\1\2\3")


def test_wrong_kind_of_descriptor(regular: int) -> None:
    with pytest.raises(OSError) as exc:
        ioctls.siocgifindex(regular, "lo")
    assert exc.value.errno == errno.ENOTTY
    with pytest.raises(ValueError):
        ioctls.siocgifmtu(-1, "lo")
