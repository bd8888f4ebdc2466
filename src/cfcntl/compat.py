"""Drop-in for the stdlib ``fcntl`` module: ``import cfcntl.compat as fcntl``.

The same public names as the running interpreter's ``fcntl`` (its constants, valued by
the compiler reading cfcntl's build headers, and ``fcntl``, ``ioctl``, ``flock``,
``lockf``), with the same behaviour for every input: argument parsing, the copy through
a 1024-byte buffer, results, exceptions and their messages, audit events, and EINTR
retried after running signal handlers (PEP 475).  It follows CPython's
``Modules/fcntlmodule.c`` of the interpreter it runs on, and on PyPy PyPy's own
``pypy/module/fcntl/interp_fcntl.py``; where versions differ, each branch says which
version brought the behaviour.  Nothing here calls the stdlib module.

The four functions are bound methods of this module, as the stdlib's builtins are
bound to theirs: a method does not bind again, so ``class C: lock = compat.flock`` gives
``C().lock is compat.flock``, called with the caller's arguments only.
"""

import operator as _operator
import sys as _sys
from errno import EINTR as _EINTR

from . import constants as _constants
from ._cfcntl import ffi as _ffi, lib as _lib
from ._syscall import FAILED as _FAILED, c_range as _c_range, failure as _failure

_PYPY = _sys.implementation.name == "pypy"
_MODULE = _sys.modules[__name__]

# -- names ----------------------------------------------------------------------------

# The names every fcntl module here has (PyPy 7.3.19's whole list), then the rest of
# CPython 3.10's (PyPy has them from 8.0), then CPython's later additions by version.
_OLDEST = (
    "LOCK_SH", "LOCK_EX", "LOCK_NB", "LOCK_UN", "LOCK_MAND", "LOCK_READ", "LOCK_WRITE",
    "LOCK_RW", "F_DUPFD", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL", "F_GETLK",
    "F_SETLK", "F_SETLKW", "F_GETOWN", "F_SETOWN", "F_GETSIG", "F_SETSIG", "F_RDLCK",
    "F_WRLCK", "F_UNLCK", "F_GETLK64", "F_SETLK64", "F_SETLKW64", "F_SETLEASE",
    "F_GETLEASE", "F_NOTIFY", "F_EXLCK", "F_SHLCK", "FD_CLOEXEC", "DN_ACCESS", "DN_MODIFY",
    "DN_CREATE", "DN_DELETE", "DN_RENAME", "DN_ATTRIB", "DN_MULTISHOT",
)  # fmt: skip
_NAMES_BY_VERSION: tuple[tuple[tuple[int, int], tuple[str, ...]], ...] = (
    (
        (3, 10),
        (
            "F_DUPFD_CLOEXEC", "F_OFD_GETLK", "F_OFD_SETLK", "F_OFD_SETLKW", "FASYNC",
            "F_SETPIPE_SZ", "F_GETPIPE_SZ", "F_ADD_SEALS", "F_GET_SEALS", "F_SEAL_SEAL",
            "F_SEAL_SHRINK", "F_SEAL_GROW", "F_SEAL_WRITE",
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

if _PYPY:  # PyPy 8.0 has CPython 3.10's list; 7.3.19 only the oldest names
    _VERSION: tuple[int, ...] = tuple(_sys.pypy_version_info[:2])  # type: ignore[attr-defined]
    _NAMES = _OLDEST + (_NAMES_BY_VERSION[0][1] if _VERSION >= (8, 0) else ())
else:
    _NAMES = _OLDEST + tuple(
        name for version, names in _NAMES_BY_VERSION if _sys.version_info >= version
        for name in names
    )  # fmt: skip

# The stdlib's constants are C longs (PyModule_AddIntMacro): where long is 32 bits,
# DN_MULTISHOT (0x80000000, an unsigned int to the compiler) is -2147483648 there.
globals().update(
    (name, int(_ffi.cast("long", getattr(_constants, name))))
    for name in _NAMES
    if name in _constants.NAMES and _constants.has(name)
)

# -- what CPython versions changed ---------------------------------------------------

# 3.12 widened ioctl's request from C unsigned int to unsigned long (masked, never
# range-checked), but audited it with "I", so the event shows its low 32 bits until
# 3.14 audits it whole ("k").
_PY312 = _sys.version_info >= (3, 12)
# 3.14 (gh-132915): a guard after the copied argument, SystemError when the kernel
# wrote past it; an int (any __index__) tried before a buffer, anything else a
# TypeError of its own; "s*" failures raised, not cleared; ioctl retries EINTR; the
# request's own TypeError; "argument 3 is too long".
_PY314 = _sys.version_info >= (3, 14)
# 3.15: no 1024-byte limit (gh-95380), the overrun message says what to do (gh-144206),
# the fileno() message names the type, and out-of-range "I"/"k" integers warn.
_PY315 = _sys.version_info >= (3, 15)

_audit = _sys.audit
# PyNumber_Index: an int, or TypeError ("'float' object cannot be interpreted as an integer")
_index = _operator.index
_fcntl_int = _lib.cf_compat_fcntl_int
_fcntl0 = _lib.cf_compat_fcntl0
_fcntl_in = _lib.cf_compat_fcntl_in
_ioctl_in = _lib.cf_compat_ioctl_in
_ioctl_mutate = _lib.cf_compat_ioctl_mutate
_unpack = _ffi.unpack
_ioctl_int = _lib.cf_compat_ioctl_int
_ioctl_ptr = _lib.cf_compat_ioctl_ptr
_from_buffer = _ffi.from_buffer
_release = _ffi.release
_new = _ffi.new
_CHARS = _ffi.typeof("char[]")

_BUFSZ: int = _lib.CF_COMPAT_BUFSZ
_SCRATCH = _BUFSZ + _lib.CF_COMPAT_GUARDSZ
_COPY_BACK: int = _lib.CF_COMPAT_COPY_BACK
_OVERRUN: int = _lib.CF_COMPAT_OVERRUN  # the kernel wrote past the copy
_CHECK: int = _lib.CF_COMPAT_CHECK if _PY314 else 0
_INT_MIN, _INT_MAX = _c_range("int")
_UINT_MASK = _c_range("unsigned int")[1]
_LONG_MIN, _LONG_MAX = _c_range("long")
_LLONG_MIN, _LLONG_MAX = _c_range("long long")
_LARGEFILE = _ffi.sizeof("off_t") > _ffi.sizeof("long")
_SHORT_MASK = _c_range("unsigned short")[1]
_U32 = _c_range("uint32_t")[1]
_REQUEST_MASK = _c_range("unsigned long" if _PY312 else "unsigned int")[1]
_AUDITED_REQUEST = _c_range("unsigned long" if _PY314 else "unsigned int")[1]

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

# -- scratch buffers -----------------------------------------------------------------

# The copies the kernel reads and writes, each _SCRATCH bytes.  A call takes one with
# list.pop() and gives it back with list.append(), both atomic under the GIL; a signal
# handler (or a thread) that calls compat in between takes another, or a new one when
# the pool is empty, so no call ever reads an answer another call wrote.
_POOL = [_new(_CHARS, _SCRATCH) for _ in range(4)]
_take = _POOL.pop
_give = _POOL.append


def _scratch() -> object:
    """A scratch buffer of the pool's, or a new one when all are taken."""
    try:
        return _take()
    except IndexError:
        return _new(_CHARS, _SCRATCH)


# -- bf_releasebuffer ----------------------------------------------------------------

_RELEASES: dict[type, bool] = {}


def _releases_buffers(kind: type) -> bool:
    """Whether ``kind`` has a ``bf_releasebuffer`` slot (asked of PyType_GetSlot by
    address: ``id()`` of a type is its address on CPython); a type's slots never
    change, so the answer is kept (for the first 256 types asked about)."""
    known = _RELEASES.get(kind)
    if known is None:
        known = _lib.cf_compat_releases(id(kind)) == 1
        if len(_RELEASES) < 256:
            _RELEASES[kind] = known
    return known


# -- argument parsing ----------------------------------------------------------------


def _arity(name: str, required: int, given: tuple[object, ...]) -> None:
    """The TypeError CPython's argument clinic raises when a required argument is
    missing."""
    count = next((i for i, value in enumerate(given) if value is _NULL), len(given))
    if count < required:
        least = "" if name == "flock" else "at least "
        raise TypeError(f"{name} expected {least}{required} arguments, got {count}")


def _refuse(name: str, most: int, extra: tuple[object, ...], keywords: object) -> None:
    """The TypeError of a builtin called with keywords, or with too many arguments."""
    if keywords:
        raise TypeError(f"fcntl.{name}() takes no keyword arguments")
    at_most = "" if name == "flock" else "at most "
    raise TypeError(f"{name} expected {at_most}{most} arguments, got {most + len(extra)}")


def _c_int(value: object) -> int:
    """``value`` as a C int, as ``_PyLong_AsInt`` converts it."""
    number = _index(value)  # type: ignore[arg-type]
    if not _INT_MIN <= number <= _INT_MAX:
        raise OverflowError("Python int too large to convert to C int")
    return number


def _c_long(value: object) -> int:
    """``value`` as lockf's start or len: ``PyLong_AsLong``, but ``PyLong_AsLongLong``
    for an int where off_t is wider than long (pyconfig.h's HAVE_LARGEFILE_SUPPORT: the
    32-bit ABIs), each with its own overflow message."""
    number = _index(value)  # type: ignore[arg-type]
    if _LARGEFILE and isinstance(value, int):
        if not _LLONG_MIN <= number <= _LLONG_MAX:
            raise OverflowError("int too big to convert")
    elif not _LONG_MIN <= number <= _LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    return number


def _bits(value: object, mask: int) -> int:
    """``value``'s bits under ``mask`` (a C unsigned type's "I" or "k" conversion);
    3.15 warns when the value fits neither the signed nor the unsigned type."""
    number = _index(value)  # type: ignore[arg-type]
    if _PY315 and not -((mask + 1) >> 1) <= number <= mask:
        import warnings  # only on this rare path

        warnings.warn("integer value out of range", DeprecationWarning, stacklevel=3)
    return number & mask


def _signed(number: int, mask: int) -> int:
    """The C signed value of ``number``'s bits under ``mask``."""
    number &= mask
    return number - (mask + 1) if number > mask >> 1 else number


def _type_name(value: object) -> str:
    """``%T`` in a CPython 3.14 message: the fully qualified name of the type."""
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


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
            if _PY315:  # 3.15 names the type
                raise TypeError(
                    f"{_type_name(fd)}.fileno() must return an int, not {_type_name(result)}"
                )
            raise TypeError("fileno() returned a non-integer")
        number = _c_int(result)
    if number < 0:
        raise ValueError(f"file descriptor cannot be a negative integer ({number})")
    return number


def _contiguous(value: object) -> bytes:
    """The bytes of a C-contiguous buffer (``getbuffer`` with PyBUF_SIMPLE)."""
    view = memoryview(value)  # type: ignore[arg-type]
    if not view.c_contiguous:
        if _PY314:  # 3.14 raises the exporter's own error (memoryview's here)
            raise BufferError("memoryview: underlying buffer is not C-contiguous")
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


# -- the calls -----------------------------------------------------------------------


def _overflow(function: str, writable: bool = False) -> SystemError:
    """3.14's SystemError for a kernel that wrote past the argument."""
    if not _PY315:
        return SystemError("buffer overflow")
    what = "a writable buffer argument" if writable else "an argument"
    return SystemError(
        f"Possible stack corruption in {function}() due to buffer overflow. "
        f"Provide {what} of sufficient size as determined by the operation."
    )


def _settle(ret: int, retry: bool, call: object, *arguments: object) -> int:
    """After ``call`` returned ``ret`` < 0: a failure's EINTR retried when ``retry``
    (the interpreter has run any pending signal handler on the way back to Python; one
    that raised ends the call with its exception, as PyErr_CheckSignals does in C),
    then the OSError of its errno; a negative result (F_GETOWN's process group) or
    _OVERRUN as it is."""
    while retry and ret == _FAILED - _EINTR:
        ret = call(*arguments)  # type: ignore[operator]
    if _OVERRUN < ret <= _FAILED:
        raise _failure(arguments[0], ret)  # type: ignore[arg-type]  # the descriptor
    return ret


def _call(call: object, *arguments: object) -> int:
    """``call``'s result, EINTR retried."""
    ret: int = call(*arguments)  # type: ignore[operator]
    return _settle(ret, True, call, *arguments) if ret < 0 else ret


def _once(call: object, *arguments: object) -> int:
    """``call``'s result, or the OSError of its errno."""
    ret: int = call(*arguments)  # type: ignore[operator]
    return _settle(ret, False, call, *arguments) if ret < 0 else ret


def _copied(function: str, fd: int, code: int, data: bytes, retry: bool) -> bytes:
    """Run fcntl or ioctl on a copy of ``data`` as the stdlib does; the copy afterwards."""
    size = len(data)
    if size > _BUFSZ and not (_PY315 or _PYPY):
        message = "argument 3 is too long" if _PY314 else "string arg too long"
        raise ValueError(f"{function} {message}")
    call = _fcntl_in if function == "fcntl" else _ioctl_in
    scratch = _scratch() if size <= _BUFSZ else _new(_CHARS, size + _SCRATCH - _BUFSZ)
    ret: int = call(fd, code, data, size, scratch, _CHECK)
    if ret < 0 and _settle(ret, retry, call, fd, code, data, size, scratch, _CHECK) == _OVERRUN:
        raise _overflow(function)
    copy: bytes = _unpack(scratch, size)
    if size <= _BUFSZ:
        _give(scratch)
    return copy


def _fcntl(
    module: object,
    fd: object = _NULL,
    cmd: object = _NULL,
    arg: object = _NULL,
    /,
    *extra: object,
    **keywords: object,
) -> int | bytes:
    """Perform the operation ``cmd`` on file descriptor ``fd``, as ``fcntl.fcntl``.

    ``arg`` is an int (the result is fcntl's int), or a str or bytes-like object of at
    most 1024 bytes, copied for the kernel (the result is the copy afterwards, as bytes).
    """
    if extra or keywords:
        _refuse("fcntl", 3, extra, keywords)
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
            return _settle(ret, True, _fcntl0, fd, cmd) if ret < 0 else ret
    else:
        _arity("fcntl", 2, (fd, cmd))
        fd, cmd = _fileno(fd), _c_int(cmd)
        if arg is _NULL:
            _audit("fcntl.fcntl", fd, cmd, None)
            return _call(_fcntl0, fd, cmd)
    _audit("fcntl.fcntl", fd, cmd, arg)
    if type(arg) is int and -0x40000000 < arg < 0x40000000:
        return _call(_fcntl_int, fd, cmd, arg)
    if _PY314 and hasattr(type(arg), "__index__"):  # 3.14: an int before a buffer
        return _call(_fcntl_int, fd, cmd, _signed(_bits(arg, _UINT_MASK), _UINT_MASK))
    if type(arg) is bytes and len(arg) <= _BUFSZ:  # the struct.pack path, inlined
        size = len(arg)
        try:
            scratch = _take()
        except IndexError:
            scratch = _new(_CHARS, _SCRATCH)
        ret = _fcntl_in(fd, cmd, arg, size, scratch, _CHECK)
        if (
            ret < 0
            and _settle(ret, True, _fcntl_in, fd, cmd, arg, size, scratch, _CHECK) == _OVERRUN
        ):
            raise _overflow("fcntl")
        copy: bytes = _unpack(scratch, size)
        _give(scratch)
        return copy
    data = _buffer("fcntl", arg) if _PY314 else _read_only_buffer(arg)
    if data is not None:
        return _copied("fcntl", fd, cmd, data, True)
    # "I": a C unsigned int, the bits kept whatever the size, passed on as an int
    return _call(_fcntl_int, fd, cmd, _signed(_bits(arg, _UINT_MASK), _UINT_MASK))


def _ioctl_arg(arg: object) -> int:
    """``PyArg_Parse(arg, "i")``: a C int, with its own overflow messages."""
    number = _index(arg)  # type: ignore[arg-type]
    if not _LONG_MIN <= number <= _LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    if number > _INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if number < _INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return number


def _request(request: object) -> int:
    """ioctl's request: its bits as a C unsigned int, unsigned long from 3.12."""
    if _PY314 and not hasattr(type(request), "__index__"):  # 3.14's converter
        raise TypeError(f"ioctl() argument 2 must be int, not {type(request).__name__}")
    return _bits(request, _REQUEST_MASK)


def _ioctl(
    module: object,
    fd: object = _NULL,
    request: object = _NULL,
    arg: object = _NULL,
    mutate_flag: object = True,
    /,
    *extra: object,
    **keywords: object,
) -> int | bytes:
    """Perform the operation ``request`` on file descriptor ``fd``, as ``fcntl.ioctl``.

    ``arg`` is an int; or a mutable buffer, which with ``mutate_flag`` true the kernel
    changes in place (the result is ioctl's int); or a str or bytes-like object of at
    most 1024 bytes, copied for the kernel (the result is the copy afterwards, as bytes).
    """
    if extra or keywords:
        _refuse("ioctl", 4, extra, keywords)
    if not (
        type(fd) is int and type(request) is int and 0 <= fd < 0x40000000 and 0 <= request <= _U32
    ):
        _arity("ioctl", 2, (fd, request))
        fd, request = _fileno(fd), _request(request)
    mutate = mutate_flag if mutate_flag is True or mutate_flag is False else bool(mutate_flag)
    audited = request & _AUDITED_REQUEST
    if arg is _NULL:
        _audit("fcntl.ioctl", fd, audited, None)
        return _ioctl_call(_ioctl_int, fd, request, 0)
    _audit("fcntl.ioctl", fd, audited, arg)
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
            if size > _BUFSZ:
                try:
                    return _ioctl_call(_ioctl_ptr, fd, request, pointer)
                finally:
                    _release(pointer)
            ret: int = _ioctl_mutate(fd, request, pointer, size, _CHECK)
            if ret < 0:
                ret = _settle(ret, _PY314, _ioctl_mutate, fd, request, pointer, size, _CHECK)
                if ret == _OVERRUN:
                    raise _overflow("ioctl", writable=True)
            return ret
    data = _buffer("ioctl", arg)
    if data is not None:
        return _copied("ioctl", fd, request, data, _PY314)
    return _ioctl_call(_ioctl_int, fd, request, _ioctl_arg(arg))


def _ioctl_call(call: object, *arguments: object) -> int:
    """An ioctl call's int result; EINTR is retried only since 3.14."""
    return _call(call, *arguments) if _PY314 else _once(call, *arguments)


def _flock(
    module: object,
    fd: object = _NULL,
    operation: object = _NULL,
    /,
    *extra: object,
    **keywords: object,
) -> None:
    """Apply or remove the flock(2) lock ``operation`` on ``fd``, as ``fcntl.flock``."""
    if extra or keywords:
        _refuse("flock", 2, extra, keywords)
    _arity("flock", 2, (fd, operation))
    number, code = _fileno(fd), _c_int(operation)
    _audit("fcntl.flock", number, code)
    _call(_lib.cf_compat_flock, number, code)


def _lockf(
    module: object,
    fd: object = _NULL,
    cmd: object = _NULL,
    len: object = _NULL,
    start: object = _NULL,
    whence: object = _NULL,
    /,
    *extra: object,
    **keywords: object,
) -> None:
    """Lock or unlock ``len`` bytes from ``start`` relative to ``whence`` with an fcntl(2)
    record lock, as ``fcntl.lockf``: ``cmd`` is LOCK_UN, or LOCK_SH or LOCK_EX, either
    optionally with LOCK_NB (then the lock is F_SETLK, else the waiting F_SETLKW)."""
    if extra or keywords:
        _refuse("lockf", 5, extra, keywords)
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
    kind = _lock_type(code, "unrecognized lockf argument")
    offset = 0 if start is _NULL else _c_long(start)
    length = 0 if len is _NULL else _c_long(len)
    _setlk(number, code, kind, offset, length, origin)


def _lock_type(code: int, refusal: str) -> int:
    """The l_type lockf's ``code`` asks for: LOCK_UN, else LOCK_SH's bit, else LOCK_EX's."""
    if code == _LOCK_UN:
        return _F_UNLCK
    if code & _LOCK_SH:
        return _F_RDLCK
    if code & _LOCK_EX:
        return _F_WRLCK
    raise ValueError(refusal)


def _setlk(fd: int, code: int, kind: int, start: int, length: int, whence: int) -> None:
    """lockf's F_SETLK (LOCK_NB) or waiting F_SETLKW, EINTR retried."""
    command = _F_SETLK if code & _LOCK_NB else _F_SETLKW
    # l_whence is a short: C keeps the low bits
    _call(_lib.cf_compat_setlk, fd, command, kind, start, length, _signed(whence, _SHORT_MASK))


# -- PyPy ------------------------------------------------------------------------------

# PyPy's fcntl (pypy/module/fcntl/interp_fcntl.py, the same in 7.3.19 and 8.0.1) is not
# CPython's: keyword arguments with its own names, integers through space.int_w (any
# __index__ or __int__ but float, checked as a C long, then cut to a C int), "s#"
# taking str and every buffer, no audit events, no 1024-byte limit in fcntl, ioctl's
# request cut to 32 bits and its writable buffer copied whatever mutate_flag says.

_PYPY_NOT_INT = "expected integer, got {} object"


def _pypy_int(value: object) -> int:
    """``space.int_w``: an int, or any __index__ or __int__ but a float's, as a C long."""
    kind = type(value)
    if kind is not int:
        if isinstance(value, int):
            value = int(value)
        elif kind is not float and hasattr(kind, "__index__"):
            value = _index(value)  # type: ignore[arg-type]
        elif kind is not float and hasattr(kind, "__int__"):
            value = int(value)  # type: ignore[call-overload]
        else:
            raise TypeError(_PYPY_NOT_INT.format(kind.__name__))
    if not _LLONG_MIN <= value <= _LLONG_MAX:  # type: ignore[operator]
        raise OverflowError("int too large to convert to int")
    return value  # type: ignore[return-value]


def _pypy_fileno(fd: object) -> int:
    """``space.c_filedescriptor_w``: an int, or what ``fileno()`` returns, as a C int."""
    if isinstance(fd, int):
        number = fd
    else:
        method = getattr(fd, "fileno", None)
        if method is None:
            raise TypeError("argument must be an int, or have a fileno() method.")
        number = method()
        if not isinstance(number, int):
            raise TypeError("fileno() returned a non-integer")
    if not _LLONG_MIN <= number <= _LLONG_MAX:
        raise OverflowError("int too large to convert to int")
    if not _INT_MIN <= number <= _INT_MAX:
        raise OverflowError("expected a 32-bit integer")
    if number < 0:
        raise ValueError(f"file descriptor cannot be a negative integer ({number})")
    return number


def _pypy_buffer(value: object) -> bytes | None:
    """``space.getarg_w("s#")``: a str's UTF-8 (surrogates passed), any buffer's bytes;
    None for anything else."""
    if isinstance(value, str):
        return str.encode(value, "utf-8", "surrogatepass")
    try:
        view = memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        return None
    if not view.c_contiguous:
        raise BufferError("memoryview: underlying buffer is not C-contiguous")
    return view.tobytes()


def _given(values: tuple[object, ...], extra: tuple[object, ...]) -> tuple[object, ...]:
    """The positional arguments a call gave: ``values`` up to the first left out."""
    return tuple(v for v in values if v is not _NULL) + extra


def _pypy_arguments(
    name: str,
    parameters: tuple[str, ...],
    defaults: tuple[object, ...],
    given: tuple[object, ...],
    keywords: dict[str, object],
) -> list[object]:
    """The arguments as PyPy's gateway binds a builtin's: by position, then by keyword
    for the parameters left (a keyword for one already given is unexpected), then the
    defaults; its TypeErrors word by word."""
    most, least = len(parameters), len(parameters) - len(defaults)
    if len(given) > most:
        takes = f"{most}" if least == most else f"from {least} to {most}"
        raise TypeError(f"{name}() takes {takes} positional arguments but {len(given)} were given")
    bound = [*given, *(_NULL for _ in parameters[len(given) :])]
    for keyword, value in keywords.items():
        index = parameters.index(keyword) if keyword in parameters else -1
        if index < len(given):
            raise TypeError(f"{name}() got an unexpected keyword argument '{keyword}'")
        bound[index] = value
    missing = [
        f"'{p}'" for p, v in zip(parameters[:least], bound[:least], strict=True) if v is _NULL
    ]
    if missing:
        listed = (
            missing[0]
            if len(missing) == 1
            else " and ".join((", ".join(missing[:-1]), missing[-1]))
        )
        plural = "s" if len(missing) > 1 else ""
        raise TypeError(
            f"{name}() missing {len(missing)} required positional argument{plural}: {listed}"
        )
    bound[least:] = [d if v is _NULL else v for v, d in zip(bound[least:], defaults, strict=True)]
    return bound


def _pypy_fcntl(
    module: object,
    fd: object = _NULL,
    op: object = _NULL,
    arg: object = _NULL,
    /,
    *extra: object,
    **keywords: object,
) -> object:
    """PyPy's ``fcntl.fcntl(fd, op, arg=0)``."""
    if extra or keywords or op is _NULL:
        given = _given((fd, op, arg), extra)
        fd, op, arg = _pypy_arguments("fcntl", ("fd", "op", "arg"), (0,), given, keywords)
    elif arg is _NULL:
        arg = 0
    code = _signed(_pypy_int(op), _UINT_MASK)
    number = _pypy_fileno(fd)
    data = _pypy_buffer(arg)
    if data is not None:
        return _copied("fcntl", number, code, data, True)
    return _call(_fcntl_int, number, code, _signed(_pypy_int(arg), _UINT_MASK))


def _pypy_ioctl(
    module: object,
    fd: object = _NULL,
    request: object = _NULL,
    arg: object = _NULL,
    mutate_flag: object = _NULL,
    /,
    *extra: object,
    **keywords: object,
) -> object:
    """PyPy's ``fcntl.ioctl(fd, request, arg=0, mutate_flag=-1)``."""
    if extra or keywords or request is _NULL:
        given = _given((fd, request, arg, mutate_flag), extra)
        fd, request, arg, mutate_flag = _pypy_arguments(
            "ioctl", ("fd", "request", "arg", "mutate_flag"), (0, -1), given, keywords
        )
    else:
        arg = 0 if arg is _NULL else arg
        mutate_flag = -1 if mutate_flag is _NULL else mutate_flag
    mutate = _pypy_int(mutate_flag)
    number = _pypy_fileno(fd)
    kind = type(request)
    if kind is float or not (hasattr(kind, "__index__") or hasattr(kind, "__int__")):
        raise TypeError(_PYPY_NOT_INT.format(kind.__name__))
    code = int(request) & _U32  # type: ignore[call-overload]
    pointer = None
    if not isinstance(arg, (bytes, str)):
        try:
            view = memoryview(arg)  # type: ignore[arg-type]
        except TypeError:
            pass
        else:
            # A strided slice of one item is contiguous, but PyPy cannot hand it out as a
            # writable buffer (cffi: an internal SystemError; its fcntl: the copy below).
            strided = view.ndim == 1 and view.strides != (view.itemsize,)
            if not view.readonly and view.c_contiguous and not strided:
                pointer = _from_buffer(_CHARS, arg, True)
    if pointer is not None:
        try:
            return _pypy_mutated(number, code, pointer, mutate)
        finally:
            _release(pointer)
    if mutate != -1:
        raise TypeError(
            "ioctl requires a file or file descriptor, an integer and optionally an "
            "integer or buffer argument"
        )
    data = _pypy_buffer(arg)
    if data is not None:
        return _copied("ioctl", number, code, data, False)
    return _once(_ioctl_int, number, code, _signed(_pypy_int(arg), _UINT_MASK))


def _pypy_mutated(fd: int, request: int, pointer: object, mutate: int) -> int | bytes:
    """PyPy's ioctl on a writable buffer: always through a copy of at least 1024 bytes,
    which goes back into the buffer (the result: ioctl's int) unless ``mutate`` is 0
    (the result: the copy, as bytes)."""
    size = len(pointer)  # type: ignore[arg-type]
    scratch = _scratch() if size <= _BUFSZ else _new(_CHARS, size + _SCRATCH - _BUFSZ)
    flags = _COPY_BACK if mutate else 0
    ret = _once(_ioctl_in, fd, request, pointer, size, scratch, flags)
    copy: bytes = _unpack(scratch, size)
    if size <= _BUFSZ:
        _give(scratch)
    return ret if mutate else copy


def _pypy_flock(
    module: object, fd: object = _NULL, op: object = _NULL, /, *extra: object, **keywords: object
) -> None:
    """PyPy's ``fcntl.flock(fd, op)``."""
    if extra or keywords or op is _NULL:
        fd, op = _pypy_arguments("flock", ("fd", "op"), (), _given((fd, op), extra), keywords)
    code = _signed(_pypy_int(op), _UINT_MASK)
    _call(_lib.cf_compat_flock, _pypy_fileno(fd), code)


def _pypy_lockf(module: object, *given: object, **keywords: object) -> None:
    """PyPy's ``fcntl.lockf(fd, op, length=0, start=0, whence=0)``."""
    fd, *numbers = _pypy_arguments(
        "lockf", ("fd", "op", "length", "start", "whence"), (0, 0, 0), given, keywords
    )
    code, size, offset, origin = [_pypy_int(v) for v in numbers]
    number = _pypy_fileno(fd)
    kind = _lock_type(code, "unrecognized lock operation")
    _setlk(number, code, kind, offset, size, origin)


TYPE_CHECKING = False  # typing itself costs more to import than compat: see _record
if TYPE_CHECKING:  # the signatures the stdlib's typeshed stub gives

    def fcntl(fd: object, cmd: int, arg: object = 0, /) -> int | bytes: ...
    def ioctl(fd: object, request: int, arg: object = 0, mutate_flag: bool = True, /) -> object: ...
    def flock(fd: object, operation: int, /) -> None: ...
    def lockf(fd: object, cmd: int, len: int = 0, start: int = 0, whence: int = 0, /) -> None: ...

else:
    for _name, _implementation in zip(
        ("fcntl", "ioctl", "flock", "lockf"),
        (_pypy_fcntl, _pypy_ioctl, _pypy_flock, _pypy_lockf)
        if _PYPY
        else (_fcntl, _ioctl, _flock, _lockf),
        strict=True,
    ):
        _implementation.__name__ = _implementation.__qualname__ = _name  # for repr()
        globals()[_name] = _implementation.__get__(_MODULE)
    del _name, _implementation
del TYPE_CHECKING  # not one of the stdlib module's names
