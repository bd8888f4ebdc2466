"""cfcntl: Linux fcntl(2) through a cffi API-mode module built from the system headers.

Every struct layout, size and constant comes from the C compiler reading the headers
at build time.  One typed function per fcntl command, named after the command in lower
case; every constant under the stdlib's name.
"""

from importlib.metadata import version as _version

from ._syscall import (
    FileDescriptorLike as FileDescriptorLike,
)
from ._syscall import (
    HasFileno as HasFileno,
)
from .commands import (
    OwnerEx as OwnerEx,
)
from .commands import (
    add_seals as add_seals,
)
from .commands import (
    created_query as created_query,
)
from .commands import (
    dupfd as dupfd,
)
from .commands import (
    dupfd_cloexec as dupfd_cloexec,
)
from .commands import (
    dupfd_query as dupfd_query,
)
from .commands import (
    get_file_rw_hint as get_file_rw_hint,
)
from .commands import (
    get_rw_hint as get_rw_hint,
)
from .commands import (
    get_seals as get_seals,
)
from .commands import (
    getfd as getfd,
)
from .commands import (
    getfl as getfl,
)
from .commands import (
    getlease as getlease,
)
from .commands import (
    getown as getown,
)
from .commands import (
    getown_ex as getown_ex,
)
from .commands import (
    getpipe_sz as getpipe_sz,
)
from .commands import (
    getsig as getsig,
)
from .commands import (
    notify as notify,
)
from .commands import (
    set_file_rw_hint as set_file_rw_hint,
)
from .commands import (
    set_rw_hint as set_rw_hint,
)
from .commands import (
    setfd as setfd,
)
from .commands import (
    setfl as setfl,
)
from .commands import (
    setlease as setlease,
)
from .commands import (
    setown as setown,
)
from .commands import (
    setown_ex as setown_ex,
)
from .commands import (
    setpipe_sz as setpipe_sz,
)
from .commands import (
    setsig as setsig,
)
from .constants import *  # every constant the headers define
from .constants import (
    NAMES as NAMES,
)
from .constants import (
    has as has,
)
from .constants import (
    require as require,
)
from .layout import (
    Field as Field,
)
from .layout import (
    Format as Format,
)
from .layout import (
    StructLayout as StructLayout,
)
from .layout import (
    layout as layout,
)
from .locks import (
    Flock as Flock,
)
from .locks import (
    getlk as getlk,
)
from .locks import (
    setlk as setlk,
)
from .locks import (
    setlkw as setlkw,
)

__version__ = _version("cfcntl")
