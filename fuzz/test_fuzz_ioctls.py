"""The generic ioctl calls (``cfcntl.ioctls.read/write/readwrite/none``) with random
requests, C type names and values.

Invariants:

- a request, ctype or value cfcntl cannot pass safely is refused before the syscall
  (tried on a closed descriptor, so a call that reaches the kernel shows as EBADF):
  a ctype whose size the request contradicts, larger than any request can encode
  (2**_IOC_SIZEBITS - 1 bytes), or for a sizeless request cfcntl does not know; a
  by-value or no-argument request given a pointer; a value its ctype cannot hold;
- only the promised exceptions (never KeyError, IndexError, MemoryError...);
- no write outside cfcntl's buffer: the child runs under the debug allocator, which
  aborts at the first freed block whose guard bytes changed; an allocation larger than
  the children's memory cap is MemoryError, which no invariant accepts;
- on real descriptors, a getter the kernel answers gives the kernel's answer: the
  bytes the stdlib's ``ioctl`` into a 1024-byte buffer sees written, no more (an answer
  larger than the ctype is a cut answer) and no different.

Requests reach real descriptors only from an allow-list of ones that are harmless
whatever the argument (the children run as whoever runs the tests, often root: a random
request could freeze a filesystem or redirect the console).
"""

from __future__ import annotations

import dataclasses
import fcntl as stdlib
import random
from typing import Any

from _harness import (
    Batch,
    Case,
    Violation,
    describe,
    expect_raise,
    outcome,
    promised,
    run_batch,
    short,
)
from _inputs import (
    BOUNDARIES,
    BY_VALUE,
    GETTERS,
    HARMLESS,
    SHOWN,
    Number,
    any_number,
    number,
    scratch,
)

import cfcntl
from cfcntl import ioc, ioctls
from cfcntl._cfcntl import ffi

SIZE_MAX = (1 << cfcntl._IOC_SIZEBITS) - 1

CTYPES = (
    "char", "uint8_t", "short", "unsigned short", "int", "unsigned int", "long",
    "unsigned long", "int64_t", "uint64_t", "pid_t", "size_t", "float", "double",
    "struct winsize", "struct file_clone_range", "struct flock", "int *", "char *",
    "int[4]", "char[1]", "char[8]", "char[36]", "char[44]", "char[60]", "char[1024]",
    "uint8_t[16383]", "char[16384]", "char[0]", "int[]", "void", "nope", "int[", "",
)  # fmt: skip
HUGE = ("char[100000000]", "char[1000000000]", "char[1000000000000]")
"""Sizes no request can need: 100 MB, 1 GB (past the children's memory cap), 1 TB."""
ODD_CTYPES: tuple[Any, ...] = (None, 4, b"int", ["int"])


def _known_by_number() -> dict[int, ioctls.Known]:
    return {known.request: known for known in ioctls.KNOWN.values()}


KNOWN = _known_by_number()


@dataclasses.dataclass
class Call:
    op: str
    fd_kind: str  # a scratch kind, "closed", or "literal"
    fd_literal: Any
    request: Number
    ctype: Any
    value: Any
    value_number: Number | None

    def __str__(self) -> str:
        fd = self.fd_literal if self.fd_kind == "literal" else self.fd_kind
        request = f"{self.request.obj!r}"
        if self.request.form == "int" and self.request.value >= 0:
            names = [n for n, r in {**HARMLESS, **BY_VALUE}.items() if r == self.request.value]
            request = f"{self.request.value:#x}" + (f" ({names[0]})" if names else "")
        args = [str(fd), request]
        if self.op != "none":
            args.append(repr(self.ctype))
        if self.op in ("write", "readwrite"):
            args.append(short(self.value))
        return f"ioctls.{self.op}({', '.join(args)})"


def _request(rng: random.Random) -> tuple[Number, bool]:
    """A request and whether it may go to a real descriptor."""
    roll = rng.random()
    if roll < 0.45:
        name = rng.choice(sorted(HARMLESS))
        return number(HARMLESS[name], "int"), True
    if roll < 0.55:
        return number(
            rng.choice(sorted(known.request for known in ioctls.KNOWN.values())), "int"
        ), False
    if roll < 0.6:
        return number(rng.choice(sorted(BY_VALUE.values())), "int"), False
    if roll < 0.8:
        size = rng.choice([0, 1, 4, 8, 36, 60, SIZE_MAX, rng.randrange(SIZE_MAX)])
        fields = rng.randrange(4), rng.randrange(256), rng.randrange(256), size
        return number(ioc.IOC(*fields), "int"), False
    if roll < 0.9:
        return any_number(rng, rng.choice(BOUNDARIES), refuse=0.3), False
    return any_number(rng, rng.randrange(1 << 32), refuse=0.3), False


def _value(rng: random.Random, ctype: Any) -> tuple[Any, Number | None]:
    """A value for ``ctype``, and the Number it is if it is an int argument."""
    kind = _kind(ctype)
    roll = rng.random()
    if kind == "int" and roll < 0.8:
        num = any_number(
            rng, rng.choice(BOUNDARIES) if rng.random() < 0.5 else rng.randint(-5, 300)
        )
        return num.obj, num if num.form != "none" else None  # None: cffi's zero
    if kind == "struct" and roll < 0.8:
        fields = [name for name, _ in ffi.typeof(ctype).fields]
        chosen = {
            name: rng.choice((0, 1, 24, 80, -1, 2**64, 2**15))
            for name in fields
            if rng.random() < 0.7
        }
        if rng.random() < 0.3:
            chosen[rng.choice(("nope", "ws_row ", "", "l_type"))] = 1
        return chosen, None
    if kind == "array" and roll < 0.8:
        length = ffi.typeof(ctype).length or 4
        size = rng.choice((0, 1, length - 1, length, length + 1, 2 * length + 3))
        if ffi.typeof(ctype).item.cname == "char":
            return bytes(rng.randrange(256) for _ in range(max(0, min(size, 4096)))), None
        return [rng.choice((0, 1, -1, 2**40)) for _ in range(max(0, min(size, 4096)))], None
    return rng.choice((None, 0, 1, b"abc", "abc", [1, 2], {"x": 1}, 1.5, object())), None


def _kind(ctype: Any) -> str:
    """ "int", "float", "struct", "array", "pointer"..., or "bad" for no sized C type."""
    if not isinstance(ctype, str):
        return "bad"
    try:
        t = ffi.typeof(ctype)
    except (ffi.error, TypeError, ValueError):
        return "bad"
    try:
        ffi.sizeof(t)
    except ffi.error:
        return "bad"  # void, an open array: no size to pass
    if t.kind == "primitive":
        return "int" if isinstance(ffi.new(f"{ctype} *")[0], int) else "float"
    return t.kind


def make(rng: random.Random, index: int, ctx: Any) -> Case:
    op = rng.choice(("read", "read", "write", "readwrite", "none"))
    request, harmless = _request(rng)
    if harmless and rng.random() < 0.8:
        fd_kind = rng.choice(
            ("file", "dir", "pipe_r", "pipe_w", "socket", "pty_master", "pty_slave", "memfd")
        )
    elif rng.random() < 0.8:
        fd_kind = "closed"
    else:
        fd_kind = "literal"
    fd_literal = rng.choice((-1, 2**31, 2**64, None, 1.5, "3")) if fd_kind == "literal" else None
    roll = rng.random()
    if roll < 0.01:
        ctype: Any = rng.choice(HUGE)
    elif roll < 0.05:
        ctype = rng.choice(ODD_CTYPES)
    elif roll < 0.35 and request.form == "int":
        ctype = _matching_ctype(rng, request.value)
    else:
        ctype = rng.choice(CTYPES)
    value, value_number = _value(rng, ctype)
    call = Call(op, fd_kind, fd_literal, request, ctype, value, value_number)
    return Case(str(call), lambda: check(call))


def _matching_ctype(rng: random.Random, request: int) -> str:
    """A ctype of the size the request needs, as far as cfcntl or the kernel says."""
    if not 0 <= request < 1 << 32:
        return "int"
    size = ioc.decode(request).size
    known = KNOWN.get(request)
    if not size and known is not None and known.kernel_ctype:
        return known.kernel_ctype
    if not size:
        return rng.choice(("int", "char[36]", "char[60]", "struct winsize", "uint64_t"))
    exact = [c for c in CTYPES if _kind(c) != "bad" and ffi.sizeof(c) == size]
    return rng.choice(exact) if exact else f"char[{size}]"


Refusal = tuple[tuple[type[BaseException], ...], str, str]
"""(the exceptions it calls for, its category, which argument)."""


def refusals(call: Call) -> list[Refusal]:
    """What cfcntl must refuse in ``call`` before any syscall, by the issue's rules:
    any of them may be the one it names."""
    out: list[Refusal] = []
    if call.fd_kind == "literal":
        fd = call.fd_literal
        if not isinstance(fd, int):
            out.append(((TypeError,), "a bad descriptor", repr(fd)))
        elif fd < 0:
            out.append(((ValueError,), "a bad descriptor", repr(fd)))
        else:
            out.append(((OverflowError, ValueError), "a bad descriptor", repr(fd)))
    request = call.request
    size: int | None = None
    if request.refused:
        out.append(((TypeError,), f"{SHOWN[request.form]} taken as a request", "request"))
    elif not 0 <= request.value < 1 << 32:
        out.append(((ValueError, OverflowError), "a request beyond 32 bits", hex(request.value)))
    else:
        size = ioc.decode(request.value).size
    if call.op == "none":
        if size:
            out.append(
                ((ValueError,), "a request with an argument size given none", hex(request.value))
            )
        return out
    kind = _kind(call.ctype)
    if kind == "bad":
        out.append(((TypeError, ValueError), "not a sized C type", repr(call.ctype)))
    elif kind not in ("int", "float", "struct", "union", "array"):
        out.append(((ValueError,), "a ctype that is not data", repr(call.ctype)))
    elif ffi.sizeof(call.ctype) > SIZE_MAX:
        ctype_size = ffi.sizeof(call.ctype)
        out.append(
            (
                (ValueError,),
                "a ctype larger than any request",
                f"{call.ctype!r}: {ctype_size} bytes",
            )
        )
    elif size is not None:
        out.extend(_size_refusals(request.value, size, call.ctype))
    if call.op != "read" and call.value_number is not None and kind == "int":
        num = call.value_number
        if num.refused:
            out.append(((TypeError,), f"{SHOWN[num.form]} taken as an int", "value"))
        elif not fits_ctype(num.value, call.ctype):
            out.append(
                (
                    (OverflowError, ValueError),
                    "a value beyond its C type",
                    f"{num.value} in {call.ctype}",
                )
            )
    return out


def _size_refusals(request: int, size: int, ctype: str) -> list[Refusal]:
    ctype_size = ffi.sizeof(ctype)
    known = KNOWN.get(request)
    if known is not None and known.direction == "value":
        return [((ValueError,), f"a by-value request ({known.name}) given a pointer", repr(ctype))]
    if size:
        if ctype_size != size:
            return [
                ((ValueError,), "a ctype the request's size contradicts", f"{size} vs {ctype_size}")
            ]
        return []
    if known is None:
        return [((ValueError,), "a sizeless request cfcntl does not know", hex(request))]
    if known.kernel_ctype and ffi.sizeof(known.kernel_ctype) != ctype_size:
        return [
            (
                (ValueError,),
                "a ctype the registry's kernel type contradicts",
                f"{known.name}: {known.kernel_ctype}",
            )
        ]
    return []


def fits_ctype(value: int, ctype: str) -> bool:
    bits = 8 * ffi.sizeof(ctype)
    signed = int(ffi.cast(ctype, -1)) < 0
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return low <= value <= high


def check(call: Call) -> None:
    with scratch(".") as fds:
        fd = fds.get(call.fd_kind, 9999) if call.fd_kind != "literal" else call.fd_literal
        function = getattr(ioctls, call.op)
        args = (fd, call.request.obj) if call.op == "none" else (fd, call.request.obj, call.ctype)
        if call.op in ("write", "readwrite"):
            args += (call.value,)
        owned: list[bool] = []
        got = outcome(lambda: _plain(function(*args), owned))
        if owned == [False]:
            raise Violation(
                "a struct or array returned without its memory (freed when the call returned)",
                f"{_show(got)}: not an owning cdata",
            )
        if got[0] == "raise" and isinstance(got[1], TypeError):
            if call.request.form == "index" and "request" in str(got[1]):
                raise Violation("__index__ refused", describe(got[1]))
            if call.value_number and call.value_number.form == "index" and "Index(" in str(got[1]):
                raise Violation("__index__ refused", describe(got[1]))
        refused, optional = refusals(call), _may_refuse(call)
        if optional and got[0] == "raise" and isinstance(got[1], ValueError):
            return  # a refusal cfcntl may make, and did
        if refused:
            # which refusal cfcntl names first is its choice; a lone one has its own type
            exact = len(refused) == 1 and not _unmodelled(call) and not optional
            types = refused[0][0] if exact else (TypeError, ValueError, OverflowError)
            category = " and ".join(sorted({r[1] for r in refused}))
            detail = ", ".join(r[2] for r in refused)
            expect_raise(got, types, category, detail)
            return
        if got[0] == "raise" and not isinstance(got[1], OSError):
            promised(got[1])  # a value its ctype cannot hold (the model leaves these to cffi)
            # a TypeError about the value (a dict for an int, say) is no refusal of an
            # __index__ request: only one that names the request is
            if (
                call.request.form == "index"
                and isinstance(got[1], TypeError)
                and "request" in str(got[1])
            ):
                raise Violation("__index__ refused", describe(got[1]))
            return
        if got[0] == "raise":
            promised(got[1])
        if call.fd_kind in fds and call.op in ("read", "readwrite"):
            _same_as_the_kernel(call, fd, got)


def _may_refuse(call: Call) -> bool:
    """Whether cfcntl may refuse the call with ValueError though nothing requires it: a
    pointer for a request that takes none, no pointer for one that takes one, or a
    request its registry refuses outright (direction "refused")."""
    if call.request.form not in ("int", "intsub", "bool"):
        return False
    known = KNOWN.get(call.request.value)
    if known is None:
        return False
    if call.op == "none":
        return known.direction != "none"
    return known.direction in ("none", "refused")


def _unmodelled(call: Call) -> bool:
    """Whether the call has an argument whose conversion the model leaves to cffi (a
    struct or array value, a float ctype, an __index__ request)."""
    if call.request.form == "index":
        return True
    if call.op in ("write", "readwrite") and call.value_number is None:
        return True
    return _kind(call.ctype) == "float"


def _plain(result: Any, owned: list[bool]) -> Any:
    """An int as it is; a cdata as its bytes (read here, in the call, and then freed),
    or as its size when it is larger than any request can need.  Whether a cdata owns
    its memory (the docs promise an owned one) goes into ``owned``."""
    if isinstance(result, int):
        return result
    owned.append("owning" in repr(result))
    size = ffi.sizeof(result)
    return bytes(ffi.buffer(result)) if size <= SIZE_MAX else f"<{size} bytes>"


def _same_as_the_kernel(call: Call, fd: int, got: tuple[str, Any]) -> None:
    name = next((n for n, r in GETTERS.items() if r == call.request.value), None)
    if name is None:
        return
    seen = _kernel_writes(fd, call.request.value)
    if got[0] == "raise" or isinstance(seen, int):
        mine = getattr(got[1], "errno", "ok") if got[0] == "raise" else "ok"
        theirs = seen if isinstance(seen, int) else "ok"
        if mine != theirs:
            raise Violation(
                f"{name}: not the kernel's outcome",
                f"cfcntl {_show(got)}, the stdlib's call: errno {theirs}",
            )
        return
    size = ffi.sizeof(call.ctype)
    if len(seen) > size:
        raise Violation(
            "an answer larger than the ctype, returned cut",
            f"{name}: the kernel writes {len(seen)} bytes, {call.ctype!r} holds {size}",
        )
    mine_bytes = got[1] if isinstance(got[1], bytes) else _int_bytes(got[1], call.ctype)
    if mine_bytes[: len(seen)] != seen:
        raise Violation(
            f"{name}: not the kernel's answer",
            f"cfcntl {mine_bytes[: len(seen)].hex()}, kernel {seen.hex()}",
        )


def _int_bytes(value: int, ctype: str) -> bytes:
    return bytes(ffi.buffer(ffi.new(f"{ctype} *", value)))


def _kernel_writes(fd: int, request: int) -> bytes | int:
    """The bytes the kernel writes for ``request`` (through the stdlib, into 1024-byte
    buffers of two fill patterns), or its errno."""
    buffers = []
    for fill in (0xA5, 0x5A):
        buffer = bytearray([fill]) * 1024
        try:
            stdlib.ioctl(fd, request, buffer, True)
        except OSError as exc:
            return exc.errno or -1
        buffers.append(buffer)
    a, b = buffers  # where a shows its fill, b shows whether the kernel wrote it
    written = [i for i in range(1024) if a[i] != 0xA5 or b[i] != 0x5A]
    end = written[-1] + 1 if written else 0
    return bytes(a[:end])


def _show(got: tuple[str, Any]) -> str:
    return describe(got[1]) if got[0] == "raise" else repr(got[1])


IOCTLS = Batch("ioctls", make, share=0.25, rate=1800)


def test_generic_ioctls() -> None:
    run_batch(__name__, IOCTLS)
