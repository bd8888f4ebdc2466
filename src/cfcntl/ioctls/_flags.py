"""The IntFlag bit sets of the device families (modem lines, interface flags, TUN/TAP
flags), each bit's value from the compiler.

A module of its own, imported on first use: :mod:`enum` loads ``collections`` and
``functools``, which ``import cfcntl`` does not (``tests/test_imports.py``).  The family
modules and the package reach these classes through their module ``__getattr__``.
"""

from __future__ import annotations

from enum import IntFlag

from .._cfcntl import lib as _lib


class ModemLines(IntFlag):
    """A serial line's modem lines (TIOCM_*: TIOCMGET, TIOCMSET, TIOCMBIS, TIOCMBIC)."""

    LE = _lib.TIOCM_LE
    DTR = _lib.TIOCM_DTR
    RTS = _lib.TIOCM_RTS
    ST = _lib.TIOCM_ST
    SR = _lib.TIOCM_SR
    CTS = _lib.TIOCM_CTS
    CAR = _lib.TIOCM_CAR
    RNG = _lib.TIOCM_RNG
    DSR = _lib.TIOCM_DSR


class InterfaceFlags(IntFlag):
    """A network interface's flags (IFF_* of ``<net/if.h>``: SIOCGIFFLAGS, SIOCSIFFLAGS)."""

    UP = _lib.IFF_UP
    BROADCAST = _lib.IFF_BROADCAST
    DEBUG = _lib.IFF_DEBUG
    LOOPBACK = _lib.IFF_LOOPBACK
    POINTOPOINT = _lib.IFF_POINTOPOINT
    NOTRAILERS = _lib.IFF_NOTRAILERS
    RUNNING = _lib.IFF_RUNNING
    NOARP = _lib.IFF_NOARP
    PROMISC = _lib.IFF_PROMISC
    ALLMULTI = _lib.IFF_ALLMULTI
    MASTER = _lib.IFF_MASTER
    SLAVE = _lib.IFF_SLAVE
    MULTICAST = _lib.IFF_MULTICAST
    PORTSEL = _lib.IFF_PORTSEL
    AUTOMEDIA = _lib.IFF_AUTOMEDIA
    DYNAMIC = _lib.IFF_DYNAMIC


class TunFlags(IntFlag):
    """A TUN/TAP device's flags (IFF_* of ``<linux/if_tun.h>``: TUNSETIFF, TUNGETIFF,
    TUNGETFEATURES)."""

    TUN = _lib.IFF_TUN
    TAP = _lib.IFF_TAP
    NO_PI = _lib.IFF_NO_PI
    ONE_QUEUE = _lib.IFF_ONE_QUEUE
    VNET_HDR = _lib.IFF_VNET_HDR
    TUN_EXCL = _lib.IFF_TUN_EXCL
    MULTI_QUEUE = _lib.IFF_MULTI_QUEUE
    ATTACH_QUEUE = _lib.IFF_ATTACH_QUEUE
    DETACH_QUEUE = _lib.IFF_DETACH_QUEUE
    PERSIST = _lib.IFF_PERSIST
    NOFILTER = _lib.IFF_NOFILTER


FLAGS = ("ModemLines", "InterfaceFlags", "TunFlags")
"""The classes, which the package exports on first use."""
