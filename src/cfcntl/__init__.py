"""cfcntl: Linux fcntl(2) through a cffi API-mode module built from the system headers.

Every struct layout, size and constant comes from the C compiler reading the headers
at build time.  One typed function per fcntl command, named after the command in lower
case; every constant under the stdlib's name.
"""

from . import ioc as ioc, ioctls as ioctls
from ._syscall import (
    FileDescriptorLike as FileDescriptorLike,
    HasFileno as HasFileno,
)
from .commands import (
    OwnerEx as OwnerEx,
    add_seals as add_seals,
    created_query as created_query,
    dupfd as dupfd,
    dupfd_cloexec as dupfd_cloexec,
    dupfd_query as dupfd_query,
    get_file_rw_hint as get_file_rw_hint,
    get_rw_hint as get_rw_hint,
    get_seals as get_seals,
    getfd as getfd,
    getfl as getfl,
    getlease as getlease,
    getown as getown,
    getown_ex as getown_ex,
    getpipe_sz as getpipe_sz,
    getsig as getsig,
    notify as notify,
    set_file_rw_hint as set_file_rw_hint,
    set_rw_hint as set_rw_hint,
    setfd as setfd,
    setfl as setfl,
    setlease as setlease,
    setown as setown,
    setown_ex as setown_ex,
    setpipe_sz as setpipe_sz,
    setsig as setsig,
)
from .constants import *  # every constant the headers define
from .constants import (
    _IOC_DIRBITS as _IOC_DIRBITS,  # the ioctl encoding (cfcntl.ioc), which * skips
    _IOC_DIRSHIFT as _IOC_DIRSHIFT,
    _IOC_NONE as _IOC_NONE,
    _IOC_NRBITS as _IOC_NRBITS,
    _IOC_NRSHIFT as _IOC_NRSHIFT,
    _IOC_READ as _IOC_READ,
    _IOC_SIZEBITS as _IOC_SIZEBITS,
    _IOC_SIZESHIFT as _IOC_SIZESHIFT,
    _IOC_TYPEBITS as _IOC_TYPEBITS,
    _IOC_TYPESHIFT as _IOC_TYPESHIFT,
    _IOC_WRITE as _IOC_WRITE,
    NAMES as NAMES,
    has as has,
    require as require,
)
from .holders import (
    Holder as Holder,
    file_locks as file_locks,
)
from .layout import (
    Field as Field,
    StructLayout as StructLayout,
    layout as layout,
)
from .locks import (
    Flock as Flock,
    getlk as getlk,
    setlk as setlk,
    setlkw as setlkw,
)
from .manager import Lock as Lock

# -- issue 15: the cross-process Semaphore; AsyncLock loads asyncio, so on first use --
from .semaphore import Semaphore as Semaphore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .asynclock import AsyncLock as AsyncLock


def __getattr__(name: str) -> object:
    """``cfcntl.AsyncLock``, imported on first use (``import cfcntl`` loads no asyncio)."""
    if name == "AsyncLock":
        from .asynclock import AsyncLock

        return AsyncLock
    raise AttributeError(f"module 'cfcntl' has no attribute {name!r}")


__version__ = "0.1.0"
"""The release, as in pyproject.toml (a test checks they agree; importlib.metadata would
cost more than the rest of ``import cfcntl``)."""
