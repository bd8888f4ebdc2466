"""Typed ioctl(2): one function per request that returns or takes Python values, generic
size-checked calls for the rest, and a registry of the requests cfcntl knows.

One module per family of requests (``fio``, ``tty``, ``fs``, ``block``, ``loop``), each beside its
C in ``src/cfcntl/_c/``: a request that follows a pattern (an int the kernel writes or
reads, no argument, a struct the kernel writes or reads) is one row there (``_pattern.py``), from
which the build makes the C helper; the others have a hand-written helper.  Each helper
has a fixed signature, passes the kernel an argument of the type the kernel really uses
and returns the value as a scalar, so a call allocates nothing.  The generic calls
(:func:`read`, :func:`write`, :func:`readwrite`, :func:`none`, :func:`by_value`:
``generic.py``) take a request number and a C type name, and refuse a type whose size
differs from the size the request encodes, or for a request without size bits from the
type :data:`KNOWN` gives it, before any syscall; an unknown request without size bits
needs ``size=``, and its argument then carries a guard.
"""

from . import block, fio, fs, loop, net, tty, tun

FAMILIES = (fio, tty, fs, block, loop, net, tun)
"""The family modules, whose functions and records this package exports."""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._flags import (
        InterfaceFlags as InterfaceFlags,
        ModemLines as ModemLines,
        TunFlags as TunFlags,
    )
    from .block import *
    from .fio import *
    from .fs import *
    from .generic import (
        GUARD as GUARD,
        LIMIT as LIMIT,
        OverrunError as OverrunError,
        by_value as by_value,
        none as none,
        read as read,
        readwrite as readwrite,
        write as write,
    )
    from .loop import *
    from .net import *
    from .registry import (
        KNOWN as KNOWN,
        REQUESTS as REQUESTS,
        STRUCTS as STRUCTS,
        Known as Known,
        _by_number as _by_number,
    )
    from .tty import *
    from .tun import *

# Each family's functions and records (what was made in it, not what it imports), so
# that a new row needs no line here.
for _family in FAMILIES:
    globals().update(
        (name, value)
        for name, value in vars(_family).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == _family.__name__
    )
del _family

_LATER = {
    **dict.fromkeys(
        ("GUARD", "LIMIT", "OverrunError", "by_value", "none", "read", "readwrite", "write"),
        "generic",
    ),
    **dict.fromkeys(("KNOWN", "REQUESTS", "STRUCTS", "Known", "_by_number"), "registry"),
    # issue 14, devices-a: the families' IntFlag classes (enum loads collections)
    **dict.fromkeys(("ModemLines", "InterfaceFlags", "TunFlags"), "_flags"),
}
"""The names of the generic calls and the registry, loaded on first use: the two modules
would add about 0.3 ms to ``import cfcntl`` (and :data:`KNOWN`, :data:`REQUESTS` a third
of a millisecond more, built on first use)."""


def __getattr__(name: str) -> object:
    """A name of ``generic.py`` or ``registry.py``, importing it the first time."""
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if module == "_flags":
        from . import _flags as source
    else:
        from . import generic, registry

        source = generic if module == "generic" else registry
    value = getattr(source, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LATER})
