"""Every Linux fcntl constant, valued by the C compiler reading the build's headers.

The bare annotations below are the list of names cfcntl looks for: the build
(``_build/probes.py``) reads them from this file, asks the compiler which the headers
define, and compiles only those into the extension.  A name the headers lacked is
absent from this module at run time (no fallback number); :func:`has` tells which is
which.
"""

import sys

from ._cfcntl import lib as _lib
from ._syscall import missing as _missing

# fcntl commands
F_DUPFD: int
F_DUPFD_CLOEXEC: int
F_GETFD: int
F_SETFD: int
F_GETFL: int
F_SETFL: int
F_GETLK: int
F_SETLK: int
F_SETLKW: int
F_GETLK64: int
F_SETLK64: int
F_SETLKW64: int
F_OFD_GETLK: int
F_OFD_SETLK: int
F_OFD_SETLKW: int
F_GETOWN: int
F_SETOWN: int
F_GETOWN_EX: int
F_SETOWN_EX: int
F_GETSIG: int
F_SETSIG: int
F_GETLEASE: int
F_SETLEASE: int
F_NOTIFY: int
F_GETPIPE_SZ: int
F_SETPIPE_SZ: int
F_ADD_SEALS: int
F_GET_SEALS: int
F_GET_RW_HINT: int
F_SET_RW_HINT: int
F_GET_FILE_RW_HINT: int
F_SET_FILE_RW_HINT: int
F_DUPFD_QUERY: int
F_CREATED_QUERY: int

# lock types (F_GETLK/F_SETLK) and lease types (F_SETLEASE)
F_RDLCK: int
F_WRLCK: int
F_UNLCK: int
F_EXLCK: int
F_SHLCK: int

# flock(2) operations, exported under the stdlib's names
LOCK_SH: int
LOCK_EX: int
LOCK_NB: int
LOCK_UN: int
LOCK_MAND: int
LOCK_READ: int
LOCK_WRITE: int
LOCK_RW: int

# descriptor flags (F_GETFD/F_SETFD)
FD_CLOEXEC: int

# access mode and status flags (F_GETFL/F_SETFL)
O_RDONLY: int
O_WRONLY: int
O_RDWR: int
O_ACCMODE: int
O_PATH: int
O_APPEND: int
O_ASYNC: int
FASYNC: int
O_DIRECT: int
O_DSYNC: int
O_SYNC: int
O_NOATIME: int
O_NONBLOCK: int
O_NDELAY: int

# file seals (F_ADD_SEALS/F_GET_SEALS)
F_SEAL_SEAL: int
F_SEAL_SHRINK: int
F_SEAL_GROW: int
F_SEAL_WRITE: int
F_SEAL_FUTURE_WRITE: int
F_SEAL_EXEC: int

# directory notification events (F_NOTIFY)
DN_ACCESS: int
DN_MODIFY: int
DN_CREATE: int
DN_DELETE: int
DN_RENAME: int
DN_ATTRIB: int
DN_MULTISHOT: int

# owner types (F_GETOWN_EX/F_SETOWN_EX)
F_OWNER_TID: int
F_OWNER_PID: int
F_OWNER_PGRP: int
F_OWNER_GID: int

# read/write life-time hints (F_GET_RW_HINT/F_SET_RW_HINT)
RWH_WRITE_LIFE_NOT_SET: int
RWH_WRITE_LIFE_NONE: int
RWH_WRITE_LIFE_SHORT: int
RWH_WRITE_LIFE_MEDIUM: int
RWH_WRITE_LIFE_LONG: int
RWH_WRITE_LIFE_EXTREME: int

# ioctl requests (cfcntl.ioctls): terminals and pseudo-terminals
TIOCGWINSZ: int
TIOCSWINSZ: int
TIOCOUTQ: int
TIOCGPGRP: int
TIOCSPGRP: int
TIOCGSID: int
TIOCGPTN: int
TIOCSPTLCK: int
TIOCGETD: int
TIOCEXCL: int
TIOCNXCL: int
TIOCNOTTY: int
TIOCSCTTY: int

# ioctl requests: any file, sockets
FIONREAD: int
FIONBIO: int
FIOASYNC: int
FIOCLEX: int
FIONCLEX: int
SIOCINQ: int
SIOCOUTQ: int

# ioctl requests: filesystems and block devices
FS_IOC_GETFLAGS: int
FS_IOC_SETFLAGS: int
FS_IOC_GETVERSION: int
FICLONE: int
FICLONERANGE: int
BLKSSZGET: int
BLKGETSIZE64: int

# ioctl requests and their flags: loop devices, block devices, filesystems (issue 14)
LOOP_SET_FD: int
LOOP_CLR_FD: int
LOOP_SET_STATUS64: int
LOOP_GET_STATUS64: int
LOOP_SET_CAPACITY: int
LOOP_SET_DIRECT_IO: int
LOOP_SET_BLOCK_SIZE: int
LOOP_CONFIGURE: int
LOOP_CTL_ADD: int
LOOP_CTL_REMOVE: int
LOOP_CTL_GET_FREE: int
LO_FLAGS_READ_ONLY: int
LO_FLAGS_AUTOCLEAR: int
LO_FLAGS_PARTSCAN: int
LO_FLAGS_DIRECT_IO: int
LO_NAME_SIZE: int
BLKDISCARD: int
BLKSECDISCARD: int
BLKZEROOUT: int
FIGETBSZ: int
FS_IOC_FIEMAP: int
FIEMAP_FLAG_SYNC: int
FIEMAP_FLAG_XATTR: int
FIEMAP_EXTENT_LAST: int
FIEMAP_EXTENT_UNKNOWN: int
FIEMAP_EXTENT_DELALLOC: int
FIEMAP_EXTENT_ENCODED: int
FIEMAP_EXTENT_DATA_ENCRYPTED: int
FIEMAP_EXTENT_NOT_ALIGNED: int
FIEMAP_EXTENT_DATA_INLINE: int
FIEMAP_EXTENT_DATA_TAIL: int
FIEMAP_EXTENT_UNWRITTEN: int
FIEMAP_EXTENT_MERGED: int
FIEMAP_EXTENT_SHARED: int
FIDEDUPERANGE: int
FILE_DEDUPE_RANGE_SAME: int
FILE_DEDUPE_RANGE_DIFFERS: int
FS_IOC_GETFSLABEL: int
FS_IOC_SETFSLABEL: int
FSLABEL_MAX: int
FITRIM: int
FS_XFLAG_IMMUTABLE: int
FS_XFLAG_APPEND: int
FS_XFLAG_SYNC: int
FS_XFLAG_NOATIME: int
FS_XFLAG_NODUMP: int
FS_XFLAG_EXTSIZE: int
FS_XFLAG_PROJINHERIT: int
FS_XFLAG_COWEXTSIZE: int

# ioctl request encoding (<asm/ioctl.h>), for cfcntl.ioc; the leading underscore keeps
# them out of ``from cfcntl.constants import *``
_IOC_NRBITS: int
_IOC_TYPEBITS: int
_IOC_SIZEBITS: int
_IOC_DIRBITS: int
_IOC_NRSHIFT: int
_IOC_TYPESHIFT: int
_IOC_SIZESHIFT: int
_IOC_DIRSHIFT: int
_IOC_NONE: int
_IOC_WRITE: int
_IOC_READ: int

#: Every name cfcntl looks for in the headers, in the order above.  Read through the
#: module object, which has them on every version: from 3.14 (PEP 649) they are no
#: longer bound to a global ``__annotations__`` while the module runs.
NAMES = tuple(name for name in sys.modules[__name__].__annotations__ if name.isupper())

_PRESENT: dict[str, int] = {name: getattr(_lib, name) for name in NAMES if hasattr(_lib, name)}
globals().update(_PRESENT)
_KNOWN = frozenset(NAMES)


def has(name: str) -> bool:
    """Whether the headers cfcntl was built with define the constant ``name``.

    Raises ValueError for a name cfcntl never looks for, so a typo is not
    mistaken for a missing constant.
    """
    if name not in _KNOWN:
        raise ValueError(f"cfcntl does not look for a constant named {name!r}")
    return name in _PRESENT


def require(name: str) -> int:
    """The value of ``name``; NotImplementedError when the build's headers lacked it."""
    try:
        return _PRESENT[name]
    except KeyError:
        has(name)  # ValueError for a name cfcntl never looks for
        raise _missing(name, name in _KNOWN) from None
