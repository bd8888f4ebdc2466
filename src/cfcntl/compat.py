"""Drop-in for the stdlib ``fcntl`` module: ``import cfcntl.compat as fcntl``.

The same public names as the running interpreter's ``fcntl`` (its constants, valued by
the compiler reading cfcntl's build headers, and ``fcntl``, ``ioctl``, ``flock``,
``lockf``), with the same behaviour for every input: argument parsing, the copy through
a 1024-byte buffer, results, exceptions and their messages, audit events, and EINTR
retried after running signal handlers (PEP 475).  It follows CPython's
``Modules/fcntlmodule.c`` of the interpreter it runs on; where CPython versions differ,
each branch says which version it is for.  Nothing here calls the stdlib module.
"""

import ctypes as _ctypes
import operator as _operator
import sys as _sys
from collections.abc import Callable as _Callable
from errno import EINTR as _EINTR

from . import constants as _constants
from ._cfcntl import ffi as _ffi, lib as _lib
from ._syscall import oserror as _oserror

# The names CPython's fcntl module exports on Linux when the headers define them, by the
# version that added them (3.10 is the oldest cfcntl supports).
_NAMES_BY_VERSION: tuple[tuple[tuple[int, int], tuple[str, ...]], ...] = (
    (
        (3, 10),
        (
            "LOCK_SH", "LOCK_EX", "LOCK_NB", "LOCK_UN", "LOCK_MAND", "LOCK_READ",
            "LOCK_WRITE", "LOCK_RW", "F_DUPFD", "F_DUPFD_CLOEXEC", "F_GETFD", "F_SETFD",
            "F_GETFL", "F_SETFL", "F_GETLK", "F_SETLK", "F_SETLKW", "F_OFD_GETLK",
            "F_OFD_SETLK", "F_OFD_SETLKW", "F_GETOWN", "F_SETOWN", "F_GETSIG", "F_SETSIG",
            "F_RDLCK", "F_WRLCK", "F_UNLCK", "F_GETLK64", "F_SETLK64", "F_SETLKW64",
            "FASYNC", "F_SETLEASE", "F_GETLEASE", "F_NOTIFY", "F_EXLCK", "F_SHLCK",
            "F_SETPIPE_SZ", "F_GETPIPE_SZ", "FD_CLOEXEC", "DN_ACCESS", "DN_MODIFY",
            "DN_CREATE", "DN_DELETE", "DN_RENAME", "DN_ATTRIB", "DN_MULTISHOT",
            "F_ADD_SEALS", "F_GET_SEALS", "F_SEAL_SEAL", "F_SEAL_SHRINK", "F_SEAL_GROW",
            "F_SEAL_WRITE",
        ),
    ),
    ((3, 12), ("FICLONE", "FICLONERANGE")),
    (
        (3, 13),
        (
            "F_GETOWN_EX", "F_SETOWN_EX", "F_OWNER_TID", "F_OWNER_PID", "F_OWNER_PGRP",
            "F_GET_RW_HINT", "F_SET_RW_HINT", "F_GET_FILE_RW_HINT", "F_SET_FILE_RW_HINT",
            "RWH_WRITE_LIFE_NOT_SET", "RWH_WRITE_LIFE_NONE", "RWH_WRITE_LIFE_SHORT",
            "RWH_WRITE_LIFE_MEDIUM", "RWH_WRITE_LIFE_LONG", "RWH_WRITE_LIFE_EXTREME",
            "F_SEAL_FUTURE_WRITE",
        ),
    ),
    ((3, 14), ("F_DUPFD_QUERY",)),
)  # fmt: skip

globals().update(
    (name, getattr(_constants, name))
    for version, names in _NAMES_BY_VERSION
    if _sys.version_info >= version
    for name in names
    if name in _constants.NAMES and _constants.has(name)
)

# 3.12 widened ioctl's request from C unsigned int to unsigned long (both masked, not
# range-checked); 3.14 lifted the 1024-byte limit, guards the copy against an overrun,
# retries ioctl on EINTR and tries an int argument before a buffer.
_PY312 = _sys.version_info >= (3, 12)
_PY314 = _sys.version_info >= (3, 14)

_audit = _sys.audit
# PyNumber_Index: an int, or TypeError ("'float' object cannot be interpreted as an integer")
_index: _Callable[[object], int] = _operator.index  # type: ignore[assignment]
_cf_fcntl = _lib.cf_fcntl
_fcntl0 = _lib.cf_compat_fcntl0
_fcntl_copy = _lib.cf_compat_fcntl_copy
_fcntl_in = _lib.cf_compat_fcntl_in
_unpack = _ffi.unpack
_ioctl_int = _lib.cf_compat_ioctl_int
_ioctl_ptr = _lib.cf_compat_ioctl_ptr
_ioctl_copy = _lib.cf_compat_ioctl_copy
_from_buffer = _ffi.from_buffer
_release = _ffi.release
_CHARS = _ffi.typeof("char[]")

_BUFSZ: int = _lib.CF_COMPAT_BUFSZ
_INT_BITS = 8 * _ffi.sizeof("int")
_INT_MIN, _INT_MAX = -(1 << (_INT_BITS - 1)), (1 << (_INT_BITS - 1)) - 1
_UINT_MASK = (1 << _INT_BITS) - 1
_LONG_BITS = 8 * _ffi.sizeof("long")
_LONG_MIN, _LONG_MAX = -(1 << (_LONG_BITS - 1)), (1 << (_LONG_BITS - 1)) - 1
_LLONG_MIN, _LLONG_MAX = -(1 << 63), (1 << 63) - 1
_SHORT_MASK = (1 << (8 * _ffi.sizeof("short"))) - 1
_U32 = (1 << 32) - 1
_REQUEST_MASK = (1 << (_LONG_BITS if _PY312 else _INT_BITS)) - 1

_F_SETLK: int = _constants.F_SETLK
_F_SETLKW: int = _constants.F_SETLKW
_F_RDLCK: int = _constants.F_RDLCK
_F_WRLCK: int = _constants.F_WRLCK
_F_UNLCK: int = _constants.F_UNLCK
_LOCK_SH: int = _constants.LOCK_SH
_LOCK_EX: int = _constants.LOCK_EX
_LOCK_NB: int = _constants.LOCK_NB
_LOCK_UN: int = _constants.LOCK_UN


class _Omitted:
    """An argument the caller left out (C's NULL): audited as None."""


_NULL: object = _Omitted()

# PyType_GetSlot(type, Py_bf_releasebuffer), called with the GIL held.
_get_slot = _ctypes.PYFUNCTYPE(_ctypes.c_void_p, _ctypes.py_object, _ctypes.c_int)(
    ("PyType_GetSlot", _ctypes.pythonapi)
)
_BF_RELEASEBUFFER = 2


_RELEASES: dict[type, bool] = {}


def _releases_buffers(kind: type) -> bool:
    """Whether ``kind`` has a ``bf_releasebuffer`` slot; a type's slots never change, so
    the answer is kept (for the first 256 types asked about)."""
    known = _RELEASES.get(kind)
    if known is None:
        known = bool(_get_slot(kind, _BF_RELEASEBUFFER))
        if len(_RELEASES) < 256:
            _RELEASES[kind] = known
    return known


def _arity(name: str, required: int, given: tuple[object, ...]) -> None:
    """The TypeError CPython's argument clinic raises when a required argument is
    missing.  (Too many, or keywords, are Python's own TypeError.)"""
    count = next((i for i, value in enumerate(given) if value is _NULL), len(given))
    if count < required:
        least = "" if name == "flock" else "at least "
        raise TypeError(f"{name} expected {least}{required} arguments, got {count}")


def _c_int(value: object) -> int:
    """``value`` as a C int, as ``_PyLong_AsInt`` converts it."""
    number = _index(value)
    if not _INT_MIN <= number <= _INT_MAX:
        raise OverflowError("Python int too large to convert to C int")
    return number


def _c_long(value: object) -> int:
    """``value`` as a C long (``PyLong_AsLong``; ``PyLong_AsLongLong`` for an int)."""
    number = _index(value)
    low, high = (_LLONG_MIN, _LLONG_MAX) if isinstance(value, int) else (_LONG_MIN, _LONG_MAX)
    if not low <= number <= high:
        raise OverflowError("Python int too large to convert to C long")
    return number


def _signed(number: int, mask: int) -> int:
    """The C signed value of ``number``'s bits under ``mask``."""
    number &= mask
    return number - (mask + 1) if number > mask >> 1 else number


def _fileno(fd: object) -> int:
    """The descriptor of ``fd`` as ``PyObject_AsFileDescriptor`` finds it."""
    if isinstance(fd, int):
        number = _c_int(fd)
    else:
        method = getattr(fd, "fileno", None)
        if method is None:
            raise TypeError("argument must be an int, or have a fileno() method.")
        result = method()
        if not isinstance(result, int):
            raise TypeError("fileno() returned a non-integer")
        number = _c_int(result)
    if number < 0:
        raise ValueError(f"file descriptor cannot be a negative integer ({number})")
    return number


def _type_name(value: object) -> str:
    """``%T`` in a CPython 3.14 message: the fully qualified name of the type."""
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _contiguous(value: object) -> bytes:
    """The bytes of a C-contiguous buffer (``getbuffer`` with PyBUF_SIMPLE)."""
    view = memoryview(value)  # type: ignore[arg-type]
    if not view.c_contiguous:
        raise TypeError("a contiguous buffer is required")
    return view.tobytes()


def _read_only_buffer(value: object) -> bytes | None:
    """What ``PyArg_Parse(value, "s#")`` reads, or None where it refuses.

    A str is its UTF-8; any other object must export a contiguous buffer whose type has
    no ``bf_releasebuffer`` (bytes, ctypes data: not bytearray, array or memoryview).
    """
    if isinstance(value, str):
        try:
            return str.encode(value, "utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            return None
    if _releases_buffers(type(value)):
        return None
    try:
        return _contiguous(value)
    except Exception:  # PyArg_Parse's failure, cleared by the caller whatever it was
        return None


def _buffer(function: str, value: object) -> bytes | None:
    """What ``PyArg_Parse(value, "s*")`` reads (str as UTF-8, or any contiguous
    buffer), or None where it refuses.  Since 3.14 a refusal raises instead."""
    if not _PY314:
        try:
            return str.encode(value, "utf-8") if isinstance(value, str) else _contiguous(value)
        except Exception:  # PyArg_Parse's failure, cleared by the caller whatever it was
            return None
    if isinstance(value, str):  # 3.14
        return str.encode(value, "utf-8")
    try:
        memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{function}() argument 3 must be an integer, a bytes-like object, "
            f"or a string, not {_type_name(value)}"
        ) from None
    return _contiguous(value)


def _retry(call: object, *arguments: object) -> int:
    """After ``call`` returned -1: its OSError, or, while the errno is EINTR, call again.

    The interpreter has run any pending signal handler on the way back to Python; one
    that raised ends the call with its exception, as PyErr_CheckSignals does in C.
    """
    while _ffi.errno == _EINTR:
        result: int = call(*arguments)  # type: ignore[operator]
        if result != -1:
            return result
    raise _oserror()


def _call(call: object, *arguments: object) -> int:
    """``call``'s result, EINTR retried."""
    ret: int = call(*arguments)  # type: ignore[operator]
    return _retry(call, *arguments) if ret == -1 else ret


def _once(call: object, *arguments: object) -> int:
    """``call``'s result, or the OSError of its errno."""
    ret: int = call(*arguments)  # type: ignore[operator]
    if ret == -1:
        raise _oserror()
    return ret


def _copied(function: str, call: object, fd: int, code: int, data: bytes) -> bytes:
    """Run ``call`` on a copy of ``data`` as the stdlib does; the copy afterwards."""
    size = len(data)
    if size > _BUFSZ and not _PY314:
        raise ValueError(f"{function} string arg too long")
    scratch = _ffi.new(_CHARS, data)  # size + 1 bytes, the last one NUL
    if size <= _BUFSZ:
        ret: int = call(fd, code, scratch, size)  # type: ignore[operator]
        if ret == -1 and (function == "fcntl" or _PY314):
            ret = _retry(call, fd, code, scratch, size)
        elif ret == -1:
            raise _oserror()
        if _PY314 and _lib.cf_compat_overran():
            raise SystemError("buffer overflow")
    else:  # 3.14: the copy lives in the result's bytes, NUL-terminated
        pointer = _lib.cf_compat_fcntl_ptr if function == "fcntl" else _ioctl_ptr
        if pointer(fd, code, scratch) == -1:
            _retry(pointer, fd, code, scratch)
        if scratch[size] != b"\0":
            raise SystemError("buffer overflow")
    copy: bytes = _unpack(scratch, size)
    return copy


def fcntl(fd: object = _NULL, cmd: object = _NULL, arg: object = _NULL, /) -> int | bytes:
    """Perform the operation ``cmd`` on file descriptor ``fd``, as ``fcntl.fcntl``.

    ``arg`` is an int (the result is fcntl's int), or a str or bytes-like object of at
    most 1024 bytes, copied for the kernel (the result is the copy afterwards, as bytes).
    """
    # The hot path: plain ints below 2**30 (one CPython digit, the fastest to compare) are
    # in range for a C int; anything else takes the checks of the slow path.
    if (
        type(fd) is int
        and type(cmd) is int
        and 0 <= fd < 0x40000000
        and -0x40000000 < cmd < 0x40000000
    ):
        if arg is _NULL:
            _audit("fcntl.fcntl", fd, cmd, None)
            ret: int = _fcntl0(fd, cmd)
            if ret == -1:
                return _retry(_fcntl0, fd, cmd)
            return ret
    else:
        _arity("fcntl", 2, (fd, cmd))
        fd, cmd = _fileno(fd), _c_int(cmd)
        if arg is _NULL:
            _audit("fcntl.fcntl", fd, cmd, None)
            return _call(_fcntl0, fd, cmd)
    _audit("fcntl.fcntl", fd, cmd, arg)
    if type(arg) is int and -0x40000000 < arg < 0x40000000:
        return _call(_cf_fcntl, fd, cmd, arg)
    if _PY314 and hasattr(type(arg), "__index__"):  # 3.14: an int before a buffer
        return _call(_cf_fcntl, fd, cmd, _signed(_index(arg), _UINT_MASK))
    if type(arg) is bytes and len(arg) <= _BUFSZ:  # the struct.pack path, inlined
        size = len(arg)
        if _fcntl_in(fd, cmd, arg, size) == -1:
            _retry(_fcntl_in, fd, cmd, arg, size)
        if _PY314 and _lib.cf_compat_overran():
            raise SystemError("buffer overflow")
        copy: bytes = _unpack(_lib.cf_compat_out(), size)
        return copy
    data = _buffer("fcntl", arg) if _PY314 else _read_only_buffer(arg)
    if data is not None:
        return _copied("fcntl", _fcntl_copy, fd, cmd, data)
    # "I": a C unsigned int, the bits kept whatever the size, passed on as an int
    return _call(_cf_fcntl, fd, cmd, _signed(_index(arg), _UINT_MASK))


def _ioctl_arg(arg: object) -> int:
    """``PyArg_Parse(arg, "i")``: a C int, with its own overflow messages."""
    number = _index(arg)
    if not _LONG_MIN <= number <= _LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    if number > _INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if number < _INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return number


def ioctl(
    fd: object = _NULL,
    request: object = _NULL,
    arg: object = _NULL,
    mutate_flag: object = True,
    /,
) -> int | bytes:
    """Perform the operation ``request`` on file descriptor ``fd``, as ``fcntl.ioctl``.

    ``arg`` is an int; or a mutable buffer, which with ``mutate_flag`` true the kernel
    changes in place (the result is ioctl's int); or a str or bytes-like object of at
    most 1024 bytes, copied for the kernel (the result is the copy afterwards, as bytes).
    """
    if not (
        type(fd) is int and type(request) is int and 0 <= fd < 0x40000000 and 0 <= request <= _U32
    ):
        _arity("ioctl", 2, (fd, request))
        fd, request = _fileno(fd), _index(request) & _REQUEST_MASK
    mutate = mutate_flag if mutate_flag is True or mutate_flag is False else bool(mutate_flag)
    if arg is _NULL:
        _audit("fcntl.ioctl", fd, request, None)
        return _ioctl_call(_ioctl_int, fd, request, 0)
    _audit("fcntl.ioctl", fd, request, arg)
    if type(arg) is int and -0x40000000 < arg < 0x40000000:
        return _ioctl_call(_ioctl_int, fd, request, arg)
    if _PY314 and hasattr(type(arg), "__index__"):  # 3.14: an int before a buffer
        return _ioctl_call(_ioctl_int, fd, request, _ioctl_arg(arg))
    if mutate and not (_PY314 and isinstance(arg, (bytes, str))):
        if _PY314:
            _buffer("ioctl", arg)  # 3.14: neither int, str nor buffer is TypeError first
        # "w*": the object's own writable buffer, up to 1024 bytes through a copy that
        # goes back even on failure, beyond that in place
        try:
            pointer = _from_buffer(_CHARS, arg, True)
        except Exception as exc:
            if _PY314 and not isinstance(exc, BufferError):  # 3.14: only BufferError falls
                raise
        else:
            size = len(pointer)
            if size <= _BUFSZ:
                ret: int = _ioctl_copy(fd, request, pointer, size)
                if _PY314:
                    return _ioctl_checked(_ioctl_copy, pointer, ret, fd, request, pointer, size)
            else:
                ret = _ioctl_ptr(fd, request, pointer)
                if _PY314:
                    return _ioctl_checked(_ioctl_ptr, pointer, ret, fd, request, pointer)
            if ret == -1:
                _release(pointer)
                raise _oserror()
            return ret
    data = _buffer("ioctl", arg)
    if data is not None:
        return _copied("ioctl", _ioctl_copy, fd, request, data)  # type: ignore[arg-type]
    return _ioctl_call(_ioctl_int, fd, request, _ioctl_arg(arg))


def _ioctl_checked(call: object, pointer: object, ret: int, *arguments: object) -> int:
    """3.14's end of a call on a writable buffer: EINTR retried, the overrun check."""
    try:
        if ret == -1:
            ret = _retry(call, *arguments)
        if call is _ioctl_copy and _lib.cf_compat_overran():
            raise SystemError("buffer overflow")
        return ret
    finally:
        _release(pointer)


def _ioctl_call(call: object, *arguments: object) -> int:
    """An ioctl call's int result; EINTR is retried only since 3.14."""
    return _call(call, *arguments) if _PY314 else _once(call, *arguments)


def flock(fd: object = _NULL, operation: object = _NULL, /) -> None:
    """Apply or remove the flock(2) lock ``operation`` on ``fd``, as ``fcntl.flock``."""
    _arity("flock", 2, (fd, operation))
    number, code = _fileno(fd), _c_int(operation)
    _audit("fcntl.flock", number, code)
    _call(_lib.cf_compat_flock, number, code)


def lockf(
    fd: object = _NULL,
    cmd: object = _NULL,
    len: object = _NULL,
    start: object = _NULL,
    whence: object = _NULL,
    /,
) -> None:
    """Lock or unlock ``len`` bytes from ``start`` relative to ``whence`` with an fcntl(2)
    record lock, as ``fcntl.lockf``: ``cmd`` is LOCK_UN, or LOCK_SH or LOCK_EX, either
    optionally with LOCK_NB (then the lock is F_SETLK, else the waiting F_SETLKW)."""
    _arity("lockf", 2, (fd, cmd))
    number, code = _fileno(fd), _c_int(cmd)
    origin = 0 if whence is _NULL else _c_int(whence)
    _audit(
        "fcntl.lockf",
        number,
        code,
        None if len is _NULL else len,
        None if start is _NULL else start,
        origin,
    )
    if code == _LOCK_UN:
        kind = _F_UNLCK
    elif code & _LOCK_SH:
        kind = _F_RDLCK
    elif code & _LOCK_EX:
        kind = _F_WRLCK
    else:
        raise ValueError("unrecognized lockf argument")
    offset = 0 if start is _NULL else _c_long(start)
    length = 0 if len is _NULL else _c_long(len)
    arguments = (
        number,
        _F_SETLK if code & _LOCK_NB else _F_SETLKW,
        kind,
        _signed(origin, _SHORT_MASK),  # l_whence is a short: C keeps the low bits
        offset,
        length,
    )
    _call(_lib.cf_setlk, *arguments)
