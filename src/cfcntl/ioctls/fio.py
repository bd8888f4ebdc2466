"""Requests any file answers (``<sys/ioctl.h>``): bytes waiting, non-blocking and async
mode, close-on-exec.  Every one is a pattern row (see ``_pattern.py``)."""

from __future__ import annotations

from .._cfcntl import lib as _lib
from ._pattern import int_getter, int_setter, no_argument

fionread = int_getter(
    _lib.cf_fionread, "FIONREAD", "int", "Bytes waiting to be read (FIONREAD; SIOCINQ on sockets)."
)
fionbio = int_setter(
    _lib.cf_fionbio, "FIONBIO", "int", "on", "Set (non-zero) or clear O_NONBLOCK (FIONBIO)."
)
fioasync = int_setter(
    _lib.cf_fioasync, "FIOASYNC", "int", "on", "Set (non-zero) or clear O_ASYNC (FIOASYNC)."
)
fioclex = no_argument(_lib.cf_fioclex, "FIOCLEX", "Set close-on-exec on the descriptor (FIOCLEX).")
fionclex = no_argument(
    _lib.cf_fionclex, "FIONCLEX", "Clear close-on-exec on the descriptor (FIONCLEX)."
)
