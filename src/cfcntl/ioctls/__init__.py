"""Typed ioctl(2): one function per request that returns or takes Python values, generic
size-checked calls for the rest, and a registry of the requests cfcntl knows.

One module per family of requests (``fio``, ``tty``, ``fs``, ``block``), each beside its
C in ``src/cfcntl/_c/``: a request that follows a pattern (an int the kernel writes or
reads, no argument, a struct the kernel reads) is one row there (``_pattern.py``), from
which the build makes the C helper; the others have a hand-written helper.  Each helper
has a fixed signature, passes the kernel an argument of the type the kernel really uses
and returns the value as a scalar, so a call allocates nothing.  The generic calls
(:func:`read`, :func:`write`, :func:`readwrite`, :func:`none`, :func:`by_value`:
``generic.py``) take a request number and a C type name, and refuse a type whose size
differs from the size the request encodes, or for a request without size bits from the
type :data:`KNOWN` gives it, before any syscall; an unknown request without size bits
needs ``size=``, and its argument then carries a guard.
"""

from __future__ import annotations

from . import registry as _registry

# Each family's functions, so that a new row needs no line here.
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
from .registry import STRUCTS as STRUCTS, Known as Known, _by_number as _by_number
from .tty import *

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .registry import KNOWN as KNOWN, REQUESTS as REQUESTS


def __getattr__(name: str) -> object:
    """:data:`REQUESTS` and :data:`KNOWN` (``registry.py``), built on first use: they would
    add about a third of a millisecond to ``import cfcntl``."""
    if name in ("REQUESTS", "KNOWN"):
        return getattr(_registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
