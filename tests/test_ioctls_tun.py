"""cfcntl.ioctls' TUN/TAP calls (issue 14), in a private network namespace only (the
``netns`` fixture: /dev/net/tun is opened there, so the devices are made there and go
with it), against ``ip -d -j link`` there."""

from __future__ import annotations

import errno
import json
import os
from typing import Any

import pytest

from cfcntl import ioctls
from cfcntl._cfcntl import lib

OPEN = "import os\nfd = os.open('/dev/net/tun', os.O_RDWR)"


@pytest.fixture
def tun(netns: Any) -> Any:
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("needs /dev/net/tun")
    return netns


def link(netns: Any, name: str) -> dict[str, Any]:
    shown: list[dict[str, Any]] = json.loads(netns.ip("-d", "-j", "link", "show", name))
    return shown[0]


def test_features_before_any_device(tun: Any) -> None:
    fd = tun.fd(OPEN)
    features = ioctls.tungetfeatures(fd)
    assert isinstance(features, ioctls.TunFlags)
    flags = ioctls.TunFlags
    assert flags.TUN | flags.TAP | flags.NO_PI | flags.MULTI_QUEUE in features
    with pytest.raises(OSError) as exc:
        ioctls.tungetiff(fd)  # not attached yet
    assert exc.value.errno == errno.EBADFD


@pytest.mark.parametrize(
    ("flags", "kind", "pi", "multi_queue"),
    [
        ("TUN | NO_PI", "tun", False, False),
        ("TUN", "tun", True, False),
        ("TAP | NO_PI | MULTI_QUEUE", "tap", False, True),
    ],
)
def test_setiff_makes_the_device_ip_shows(
    tun: Any, flags: str, kind: str, pi: bool, multi_queue: bool
) -> None:
    bits = 0
    for word in flags.split(" | "):
        bits |= ioctls.TunFlags[word]
    fd = tun.fd(OPEN)
    name = ioctls.tunsetiff(fd, "cft%d", bits)
    assert name.startswith("cft")
    got_name, got_flags = ioctls.tungetiff(fd)
    assert got_name == name and got_flags & bits == bits
    info = link(tun, name)["linkinfo"]["info_data"]
    assert info["type"] == kind and info["pi"] == pi and info["multi_queue"] == multi_queue
    assert info["persist"] is False


def test_persist_owner_group(tun: Any) -> None:
    fd = tun.fd(OPEN)
    name = ioctls.tunsetiff(fd, "cfpersist", ioctls.TunFlags.TAP | ioctls.TunFlags.NO_PI)
    ioctls.tunsetowner(fd, 4242)
    ioctls.tunsetgroup(fd, 4343)
    ioctls.tunsetpersist(fd, True)
    info = link(tun, name)["linkinfo"]["info_data"]
    assert (info["persist"], info["user"], info["group"]) == (True, 4242, 4343)
    os.close(fd)
    tun.fds.remove(fd)
    assert link(tun, name)["ifname"] == name  # persistent: still there with no descriptor
    again = tun.fd(OPEN)
    ioctls.tunsetiff(again, name, ioctls.TunFlags.TAP | ioctls.TunFlags.NO_PI)
    ioctls.tunsetpersist(again, False)
    assert link(tun, name)["linkinfo"]["info_data"]["persist"] is False
    os.close(again)
    tun.fds.remove(again)
    assert tun.ip("-j", "link", "show").count(name) == 0  # gone with its last descriptor


def test_open_tun_in_the_namespace(tun: Any) -> None:
    """open_tun's descriptor, opened inside the namespace by a child and passed back."""
    fd = tun.fd("from cfcntl import ioctls\nfd, name = ioctls.open_tun('cfopen')")
    assert ioctls.tungetiff(fd) == ("cfopen", ioctls.TunFlags.TUN | ioctls.TunFlags.NO_PI)
    # a TUN device has no hardware address; its flags through the net family
    sock = tun.socket()
    assert ioctls.siocgifhwaddr(sock, "cfopen") == (lib.ARPHRD_NONE, b"")
    assert ioctls.InterfaceFlags.POINTOPOINT in ioctls.siocgifflags(sock, "cfopen")


def test_tun_refusals(regular: int) -> None:
    with pytest.raises(ValueError, match="IFNAMSIZ"):
        ioctls.tunsetiff(regular, "x" * lib.IFNAMSIZ, ioctls.TunFlags.TUN)
    with pytest.raises(OSError) as exc:
        ioctls.tunsetiff(regular, "cfx", ioctls.TunFlags.TUN)
    assert exc.value.errno == errno.ENOTTY
    with pytest.raises(OSError) as exc:
        ioctls.tungetfeatures(regular)
    assert exc.value.errno == errno.ENOTTY
    with pytest.raises(OSError) as exc:
        ioctls.open_tun("cfx", path=os.devnull)
    assert exc.value.errno == errno.ENOTTY
