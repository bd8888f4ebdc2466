"""cfcntl.ioc's encoders and decoder against the C compiler's ``_IOC`` macros.

Each child compiles one small C program (its session's oracle) that answers, line by
line, what ``_IOC``, ``_IOR``/``_IOW``/``_IOWR`` (for a table of C types) and
``_IOC_DIR``/``_TYPE``/``_NR``/``_SIZE`` give, and prints the value of every request
constant cfcntl knows.  Each case asks the same of ``cfcntl.ioc``: fields in range must
give the compiler's number; a field too wide for its bits, a number that is not a
request, a type of the wrong size, must be ValueError (C masks nothing either: it mixes
the bits, which is why cfcntl refuses); a number type other than int, TypeError.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shlex
import subprocess
from pathlib import Path
from typing import Any

from _harness import Batch, Case, Violation, describe, expect_raise, outcome, run_batch
from _inputs import REFUSED, SHOWN, any_number

import cfcntl
from cfcntl import ioc, ioctls

BITS = {
    "dir": cfcntl._IOC_DIRBITS,
    "type": cfcntl._IOC_TYPEBITS,
    "nr": cfcntl._IOC_NRBITS,
    "size": cfcntl._IOC_SIZEBITS,
}
CTYPES = (
    "char", "short", "int", "unsigned int", "long", "unsigned long", "int64_t",
    "uint64_t", "size_t", "struct winsize", "struct file_clone_range", "int[4]",
    "char[36]", "char[16383]",
)  # fmt: skip
"""C types both sides know; sizes within _IOC_SIZEBITS."""
TOO_BIG = ("char[16384]", "char[1000000]")
NOT_TYPES: tuple[Any, ...] = ("nope", "", "int[", "void", None, 4)


def _source() -> str:
    typedefs, cases = [], []
    for index, ctype in enumerate(CTYPES):
        base, bracket, length = ctype.partition("[")
        typedefs.append(f"typedef {base} t{index}{bracket}{length};")
        cases.append(
            f"case {index}: v = op == 'R' ? _IOR(a, b, t{index}) : op == 'W' ?"
            f" _IOW(a, b, t{index}) : _IOWR(a, b, t{index}); break;"
        )
    constants = "\n".join(
        f'#ifdef {name}\nprintf("{name} %lu\\n", (unsigned long)({name}));\n#endif'
        for name in sorted(ioctls.KNOWN)
    )
    body = "\n".join(cases)
    return f"""
#include <stdio.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/fiemap.h>
#include <linux/loop.h>
#include <asm/termbits.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
{chr(10).join(typedefs)}
int main(void) {{
    char op; unsigned long a, b, c, d, v = 0;
    {constants}
    printf("end\\n");
    fflush(stdout);
    while (scanf(" %c %lu %lu %lu %lu", &op, &a, &b, &c, &d) == 5) {{
        if (op == 'C') v = _IOC(a, b, c, d);
        else if (op == 'D') {{
            printf("%lu %lu %lu %lu\\n", (unsigned long)_IOC_DIR(a), (unsigned long)_IOC_TYPE(a),
                   (unsigned long)_IOC_NR(a), (unsigned long)_IOC_SIZE(a));
            fflush(stdout);
            continue;
        }} else switch (d) {{
{body}
        }}
        printf("%lu\\n", v);
        fflush(stdout);
    }}
    return 0;
}}
"""


@dataclasses.dataclass
class Oracle:
    process: subprocess.Popen[str]
    constants: dict[str, int]

    def ask(self, *words: Any) -> list[int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(" ".join(str(w) for w in words) + "\n")
        self.process.stdin.flush()
        return [int(x) for x in self.process.stdout.readline().split()]


def setup() -> Oracle:
    """Compile the C oracle (with $CC, as tests/conftest.py's run_c does) and start it."""
    source = Path("ioc_oracle.c")
    source.write_text(_source())
    cc = shlex.split(os.environ.get("CC", "cc"))
    subprocess.run([*cc, "-Wall", "-o", "ioc_oracle", str(source)], check=True)
    process = subprocess.Popen(
        ["./ioc_oracle"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    constants = {}
    for line in iter(process.stdout.readline, "end\n"):
        name, value = line.split()
        constants[name] = int(value)
    return Oracle(process, constants)


def _field(rng: random.Random, bits: int) -> int:
    roll = rng.random()
    if roll < 0.7:
        return rng.randrange(1 << bits)
    if roll < 0.85:
        return rng.choice((0, (1 << bits) - 1))
    return rng.choice((1 << bits, -1, (1 << bits) + 1, 1 << 40))


def make(rng: random.Random, index: int, ctx: Oracle) -> Case:
    names = sorted(ctx.constants)
    if index < len(names):
        name = names[index]
        return Case(f"ioctls.KNOWN[{name!r}].request == C's {name}", lambda: _constant(ctx, name))
    kind = rng.choice(("IOC", "IOC", "decode", "IOR", "IOW", "IOWR", "IO"))
    if kind == "decode":
        roll = rng.random()
        value = rng.randrange(1 << 32) if roll < 0.8 else rng.choice((-1, 1 << 32, 1 << 64))
        num = any_number(rng, value, refuse=0.1)
        return Case(f"ioc.decode({num.obj!r})", lambda: _decode(ctx, num))
    fields = {name: _field(rng, BITS[name]) for name in ("dir", "type", "nr", "size")}
    forms = {name: any_number(rng, value, refuse=0.1) for name, value in fields.items()}
    if kind == "IOC":
        text = "ioc.IOC({})".format(", ".join(repr(f.obj) for f in forms.values()))
        return Case(text, lambda: _ioc(ctx, forms))
    as_char = rng.random() < 0.3 and 32 <= fields["type"] < 127
    roll = rng.random()
    ctype: Any = rng.choice(CTYPES) if roll < 0.85 else rng.choice(TOO_BIG + NOT_TYPES)
    type_arg: Any = chr(fields["type"]) if as_char else forms["type"].obj
    if rng.random() < 0.03:
        type_arg = rng.choice(("", "TT", b"T"))
    args = (type_arg, forms["nr"].obj) if kind == "IO" else (type_arg, forms["nr"].obj, ctype)
    text = f"ioc.{kind}({', '.join(repr(a) for a in args)})"
    return Case(text, lambda: _encoder(ctx, kind, args, forms, ctype))


def _constant(ctx: Oracle, name: str) -> None:
    mine = ioctls.KNOWN[name].request
    if mine != ctx.constants[name]:
        raise Violation(
            "a request constant is not the compiler's",
            f"{name}: {mine:#x}, C {ctx.constants[name]:#x}",
        )


def _refusals(forms: dict[str, Any]) -> list[tuple[tuple[type[BaseException], ...], str]]:
    out = []
    for name, num in forms.items():
        if num.form in REFUSED:
            out.append(((TypeError,), f"{SHOWN[num.form]} as the {name} field"))
        elif not 0 <= num.value < 1 << BITS[name]:
            # an __index__ object may also be refused as such: no promise says which
            types = (ValueError, TypeError) if num.form == "index" else (ValueError,)
            out.append((types, f"a {name} field wider than {BITS[name]} bits"))
        elif num.form == "index":
            out.append(((TypeError,), "__index__"))  # taken or refused
    return out


def _expect(
    got: tuple[str, Any], refused: list[tuple[tuple[type[BaseException], ...], str]], detail: str
) -> bool:
    """Check a refusal; True if the call had to be refused (or, for __index__, was)."""
    if not refused:
        return False
    if all(why == "__index__" for _, why in refused) and got[0] == "ok":
        return False
    types = sum((t for t, _ in refused), ())
    category = (
        " and ".join(sorted({why for _, why in refused if why != "__index__"})) or "__index__"
    )
    expect_raise(got, types, category, detail)
    return True


def _ioc(ctx: Oracle, forms: dict[str, Any]) -> None:
    got = outcome(lambda: ioc.IOC(*(f.obj for f in forms.values())))
    values = {name: f.value for name, f in forms.items()}
    kind = forms["type"]
    if kind.form == "str":  # a type may be given as its character
        fields = {name: f for name, f in forms.items() if name != "type"}
        refused = _refusals(fields)
        if len(kind.obj) == 1:
            values["type"] = ord(kind.obj)
        else:
            refused.append(((TypeError, ValueError), "a type that is not one character"))
    else:
        refused = _refusals(forms)
    if _expect(got, refused, "IOC"):
        return
    _same(got, ctx.ask("C", *values.values()))


def _same(got: tuple[str, Any], c: list[int]) -> None:
    if got[0] == "raise":
        raise Violation("a valid request refused", describe(got[1]))
    mine = list(got[1]) if isinstance(got[1], tuple) else [got[1]]
    if mine != c:
        raise Violation("not the compiler's number", f"cfcntl {got[1]!r}, C {c}")


def _decode(ctx: Oracle, num: Any) -> None:
    got = outcome(lambda: ioc.decode(num.obj))
    refused = _refusals({"request": num}) if num.form != "int" else []
    if not 0 <= num.value < 1 << 32 and not refused:
        refused = [((ValueError,), "a number beyond 32 bits decoded")]
    if _expect(got, refused, "decode"):
        return
    _same(got, ctx.ask("D", num.value, 0, 0, 0))


BITS["request"] = 32


def _encoder(
    ctx: Oracle, kind: str, args: tuple[Any, ...], forms: dict[str, Any], ctype: Any
) -> None:
    got = outcome(lambda: getattr(ioc, kind)(*args))
    fields = {"type": forms["type"], "nr": forms["nr"]}
    if isinstance(args[0], str):
        fields.pop("type")
    refused = _refusals(fields)
    if isinstance(args[0], (str, bytes)) and (not isinstance(args[0], str) or len(args[0]) != 1):
        refused.append(((TypeError, ValueError), "a type that is not one character"))
    if kind != "IO":
        if not isinstance(ctype, str):
            refused.append(((TypeError,), "a ctype that is not a str"))
        elif ctype not in CTYPES:
            refused.append(((ValueError,), "a ctype of no size or too big for _IOC_SIZEBITS"))
    if _expect(got, refused, kind):
        return
    type_value = ord(args[0]) if isinstance(args[0], str) else forms["type"].value
    if kind == "IO":
        _same(got, ctx.ask("C", 0, type_value, forms["nr"].value, 0))
    else:
        op = {"IOR": "R", "IOW": "W", "IOWR": "B"}[kind]
        _same(got, ctx.ask(op, type_value, forms["nr"].value, 0, CTYPES.index(ctype)))


IOC = Batch("ioc", make, share=0.05, rate=13000, setup=setup)


def test_ioc_against_the_compiler() -> None:
    run_batch(__name__, IOC)
