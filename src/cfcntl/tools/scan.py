"""``python -m cfcntl scan PATH...``: find wrong ``fcntl.fcntl``/``fcntl.ioctl`` calls in
Python files without importing or running them (:mod:`ast`).

Names are resolved the way the code binds them (``import fcntl as f``, ``from termios
import TIOCGWINSZ``, a module constant, a local assigned once); where the scan cannot
tell what a name holds, it says nothing.  What the kernel reads or writes comes from
:mod:`cfcntl.tools.abi`: this build's compiler for the running ABI, the shipped table
for the others.  One code per kind of finding (:data:`CODES`); ``# noqa`` and
``# noqa: CFCnnn`` on the reported line silence it.
"""

from __future__ import annotations

import array
import ast
import fcntl
import json
import re
import struct
import sys
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from .. import constants
from ..ioctls import registry
from . import abi

CODES = {
    "CFC001": "a buffer whose size differs from what the kernel reads or writes",
    "CFC002": "the answer unpacked with a format of the wrong size",
    "CFC003": "a hard-coded number where a command or request name belongs",
    "CFC004": "a buffer right on this ABI and wrong on others (native sizes or alignment, "
    "or a fixed size)",
    "CFC005": "an int passed where the kernel takes a pointer",
    "CFC006": "a buffer passed where the kernel takes a number by value",
}
"""The finding codes; stable: a code keeps its meaning."""


class Finding(NamedTuple):
    """One finding, flake8-style."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


_CALLS = {
    "fcntl.fcntl": "fcntl",
    "fcntl.ioctl": "ioctl",
    "cfcntl.compat.fcntl": "fcntl",
    "cfcntl.compat.ioctl": "ioctl",
}
_CONSTANT_MODULES = ("fcntl", "termios", "cfcntl", "cfcntl.compat", "cfcntl.constants")
_ARRAY_CODES = "bBhHiIlLqQfd"
"""The array typecodes the scan sizes (``u``, ``w``: wide characters, left out)."""
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z0-9,\s]+))?", re.IGNORECASE)


class _Buffer(NamedTuple):
    """A buffer whose size the scan knows."""

    size: int
    """Its size on this ABI."""
    fmt: str | None
    """The struct format whose size it is, for the other ABIs (``@Nl`` for an array);
    None for a fixed size."""
    kind: str
    """"struct", "array" or "fixed"."""
    items: int
    text: str


_IMPORTED = ast.Name(id="")
"""What a scope holds for a name bound once, by an import (resolved by the imports)."""


class _Scope:
    """The names one function (or the module) assigns: a single value, or None where
    the name is bound more than once or otherwise (a loop, a parameter, a tuple)."""

    def __init__(self, body: list[ast.stmt], params: list[str]) -> None:
        self.names: dict[str, ast.expr | None] = dict.fromkeys(params)
        for node in _walk_scope(body):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._bind(target, node.value)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                self._bind(node.target, node.value)
            elif isinstance(node, ast.AugAssign | ast.For | ast.AsyncFor):
                self._bind(node.target, None)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                self._bind(node.optional_vars, None)
            elif isinstance(node, ast.NamedExpr):
                self._bind(node.target, None)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.names[node.name] = None
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self._bind(ast.Name(id=local), _IMPORTED)

    def _bind(self, target: ast.expr, value: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            once = target.id not in self.names
            self.names[target.id] = value if once else None
        else:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    self.names[sub.id] = None


def _walk_scope(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of ``body`` outside nested functions and classes (their names aside)."""
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        todo.extend(ast.iter_child_nodes(node))


def _imports(tree: ast.Module) -> dict[str, str | None]:
    """Each imported local name's dotted origin (``f`` -> ``fcntl``, ``TIOCGWINSZ`` ->
    ``termios.TIOCGWINSZ``); None for a name imported two ways."""
    found: dict[str, str | None] = {}

    def bind(name: str, origin: str) -> None:
        found[name] = origin if found.get(name, origin) == origin else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bind(alias.asname, alias.name)
                else:
                    top = alias.name.split(".")[0]
                    bind(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name != "*":
                    bind(alias.asname or alias.name, f"{node.module}.{alias.name}")
    return found


class _Module:
    """One file's analysis."""

    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.tree = ast.parse(source, path)
        self.lines = source.splitlines()
        self.imports = _imports(self.tree)
        self.module = _Scope(self.tree.body, [])
        self.parents: dict[ast.AST, ast.AST] = {}
        self.scopes: dict[ast.AST, _Scope] = {}
        self.found: list[Finding] = []

    # -- names ------------------------------------------------------------------------

    def scope_of(self, node: ast.AST) -> ast.AST | None:
        """The function enclosing ``node``; None at module level."""
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return node
        return None

    def local(self, fn: ast.AST | None) -> _Scope | None:
        if fn is None:
            return None
        if fn not in self.scopes:
            assert isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            args = fn.args
            params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            params += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
            body: list[ast.stmt] = fn.body if isinstance(fn.body, list) else [ast.Expr(fn.body)]
            self.scopes[fn] = _Scope(body, params)
        return self.scopes[fn]

    def value(self, node: ast.expr, at: ast.AST) -> ast.expr | None:
        """What a Name holds, followed through single assignments (the function's, then
        the module's); other nodes as they are; None when the name is bound otherwise."""
        fn = self.scope_of(at)
        for _ in range(8):
            if not isinstance(node, ast.Name):
                return node
            scope = self.local(fn)
            if scope is not None and node.id in scope.names:
                held = scope.names[node.id]
            elif node.id in self.module.names:
                held, fn = self.module.names[node.id], None
            else:
                return node  # an import, a builtin, or unknown
            if held is None:
                return None
            if held is _IMPORTED:
                return node
            node = held
        return None

    def qualname(self, node: ast.expr, at: ast.AST) -> str | None:
        """The dotted origin of a name or attribute (``fcntl.ioctl``), as imported."""
        node_v = self.value(node, at) if isinstance(node, ast.Name) else node
        if isinstance(node_v, ast.Name):
            if node_v.id in self.imports:
                return self.imports[node_v.id]
            if node_v.id in ("bytes", "bytearray"):
                return f"builtins.{node_v.id}"
            return None
        if isinstance(node_v, ast.Attribute):
            base = self.qualname(node_v.value, at)
            return None if base is None else f"{base}.{node_v.attr}"
        return None

    def integer(self, node: ast.expr, at: ast.AST) -> int | None:
        """An int made of literals only (through constants); None otherwise."""
        held = self.value(node, at)
        if isinstance(held, ast.Constant) and type(held.value) is int:
            return held.value
        if isinstance(held, ast.UnaryOp) and isinstance(held.op, ast.USub):
            inner = self.integer(held.operand, at)
            return None if inner is None else -inner
        if isinstance(held, ast.BinOp):
            left, right = self.integer(held.left, at), self.integer(held.right, at)
            if left is None or right is None:
                return None
            ops = {ast.BitOr: int.__or__, ast.Add: int.__add__, ast.LShift: int.__lshift__}
            op = ops.get(type(held.op))
            return None if op is None or (right > 64 and op is int.__lshift__) else op(left, right)
        return None

    def string(self, node: ast.expr, at: ast.AST) -> str | None:
        held = self.value(node, at)
        if isinstance(held, ast.Constant) and isinstance(held.value, str | bytes):
            text = held.value
            return text.decode("latin-1") if isinstance(text, bytes) else text
        return None

    # -- what the call passes ---------------------------------------------------------

    def request(self, node: ast.expr, at: ast.AST) -> tuple[str | None, int] | None:
        """(name, value on this ABI) for a named constant, (None, value) for a number;
        None when the scan cannot tell."""
        origin = self.qualname(node, at)
        if origin is not None:
            module, _, name = origin.rpartition(".")
            if module in _CONSTANT_MODULES:
                value = _named_value(name)
                return None if value is None else (name, value)
            return None
        number = self.integer(node, at)
        return None if number is None else (None, number)

    def struct_format(self, call: ast.Call, at: ast.AST, method: str) -> str | None:
        """FMT of ``struct.<method>(FMT, ...)`` or ``struct.Struct(FMT).<method>(...)``
        (the Struct maybe held by a name)."""
        func = call.func
        origin = self.qualname(func, at)
        if origin == f"struct.{method}" and call.args:
            return self.string(call.args[0], at)
        if isinstance(func, ast.Attribute) and func.attr == method:
            maker = self.value(func.value, at)
            if (
                isinstance(maker, ast.Call)
                and self.qualname(maker.func, at) == "struct.Struct"
                and maker.args
            ):
                return self.string(maker.args[0], at)
        return None

    def buffer(self, node: ast.expr, at: ast.AST) -> _Buffer | None:
        """The buffer ``node`` makes, when its size can be known."""
        held = self.value(node, at)
        if isinstance(held, ast.Constant) and isinstance(held.value, bytes | str):
            raw = held.value.encode() if isinstance(held.value, str) else held.value
            return _Buffer(len(raw), None, "fixed", 0, f"a {len(raw)}-byte literal")
        if isinstance(held, ast.BinOp) and isinstance(held.op, ast.Mult):
            for one, other in ((held.left, held.right), (held.right, held.left)):
                part = self.value(one, at)
                count = self.integer(other, at)
                if isinstance(part, ast.Constant) and isinstance(part.value, bytes | str) and count:
                    raw = part.value.encode() if isinstance(part.value, str) else part.value
                    size = len(raw) * count
                    return _Buffer(size, None, "fixed", 0, f"a {size}-byte bytes")
            return None
        if not isinstance(held, ast.Call):
            return None
        origin = self.qualname(held.func, at)
        if origin in ("builtins.bytes", "builtins.bytearray") and len(held.args) == 1:
            count = self.integer(held.args[0], at)
            if count is not None:
                return _Buffer(count, None, "fixed", 0, f"{origin[9:]}({count})")
            inner = self.buffer(held.args[0], at)
            return inner if inner is not None and inner.kind == "fixed" else None
        if origin == "array.array" and len(held.args) == 2:
            code = self.string(held.args[0], at)
            items = self.items(held.args[1], at)
            if code is not None and len(code) == 1 and code in _ARRAY_CODES and items is not None:
                size = array.array(code).itemsize * items
                return _Buffer(size, f"@{items}{code}", "array", items, f"array({code!r})")
            return None
        fmt = self.struct_format(held, at, "pack")
        if fmt is not None:
            try:
                return _Buffer(struct.calcsize(fmt), fmt, "struct", 0, f"struct.pack({fmt!r})")
            except struct.error:
                return None
        return None

    def items(self, node: ast.expr, at: ast.AST) -> int | None:
        """How many items a list or tuple literal (or ``[x] * n``) holds."""
        held = self.value(node, at)
        if isinstance(held, ast.List | ast.Tuple):
            return len(held.elts)
        if isinstance(held, ast.BinOp) and isinstance(held.op, ast.Mult):
            for one, other in ((held.left, held.right), (held.right, held.left)):
                inner, count = self.items(one, at), self.integer(other, at)
                if inner is not None and count is not None:
                    return inner * count
        return None

    # -- the checks -------------------------------------------------------------------

    def report(self, node: ast.AST, code: str, message: str) -> None:
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1
        text = self.lines[line - 1] if line <= len(self.lines) else ""
        noqa = _NOQA.search(text)
        if noqa and (not noqa["codes"] or code in re.split(r"[,\s]+", noqa["codes"].upper())):
            return
        self.found.append(Finding(self.path, line, col, code, message))

    def run(self) -> list[Finding]:
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                stdlib = _CALLS.get(self.qualname(node.func, node) or "")
                if stdlib is not None and len(node.args) >= 2 and not node.keywords:
                    self.call(node, stdlib)
        return sorted(self.found, key=lambda f: (f.line, f.col, f.code))

    def call(self, call: ast.Call, stdlib: str) -> None:
        """Every check of one ``fcntl.fcntl``/``fcntl.ioctl`` call."""
        found = self.request(call.args[1], call)
        if found is None:
            return
        name, value = found
        needs = abi.fcntl_needs() if stdlib == "fcntl" else None
        need = needs.get(value) if needs is not None else abi.ioctl_need(value)
        if name is None:
            self.hard_coded(call, stdlib, value, need)
            if need is None or need.name.startswith("_IOC("):
                return
        elif need is None:
            return
        elif stdlib == "ioctl" and name in registry.REQUESTS:
            need = need._replace(name=name)
        if need.direction in ("none", "refused"):
            return
        arg = call.args[2] if len(call.args) > 2 else None
        if need.direction == "value":
            buffer = None if arg is None else self.buffer(arg, call)
            if arg is not None and buffer is not None:
                self.report(
                    arg,
                    "CFC006",
                    f"{ast.unparse(arg)} is a buffer for {need.name}, which takes a number "
                    "by value: the kernel gets the address of the stdlib's copy; pass the "
                    "number",
                )
            return
        if arg is None or self.integer(arg, call) is not None:
            shown = "no argument (0)" if arg is None else f"the int {ast.unparse(arg)}"
            self.report(
                arg or call,
                "CFC005",
                f"{shown} for {need.name}, which takes a pointer to "
                f"{need.ctype or f'{need.size} bytes'}: the kernel takes the number as an "
                f"address (EFAULT); pass {abi.recipe(need)}",
            )
            return
        buffer = self.buffer(arg, call)
        if buffer is not None:
            self.sized(arg, need, buffer)
        self.unpacked(call, need)

    def hard_coded(self, call: ast.Call, stdlib: str, value: int, need: abi.Need | None) -> None:
        """CFC003: the number where a name belongs, which name it is, where it is wrong."""
        commands = stdlib == "fcntl"
        names = abi.value_names(value, commands)
        here = abi.running()
        mine = [need.name] if need is not None and not need.name.startswith("_IOC(") else []
        mine += [n for n in names.get(here or "", []) if n not in mine]
        node = call.args[1]
        shown = (
            f"{value:#x}" if isinstance(node, ast.Constant) else f"{ast.unparse(node)} = {value:#x}"
        )
        if mine:
            primary = mine[0]
            wrong = abi.wrong_on(primary, value)
            also = f" (also {', '.join(mine[1:])})" if mine[1:] else ""
            absent = abi.absent_on(primary)
            where = f"wrong on {', '.join(wrong)}" if wrong else ""
            if absent:
                where += f"{'; ' if wrong else ''}not defined on {', '.join(absent)}"
            where = where or "the same on every ABI in the table"
            self.report(
                node,
                "CFC003",
                f"{shown} is {primary}{also} on {here or 'this ABI'}, {where}: "
                f"use {_spelling(primary)}",
            )
        elif names:
            listed = "; ".join(f"{', '.join(n)} on {a}" for a, n in names.items())
            self.report(
                node,
                "CFC003",
                f"{shown} is {listed}, and no name on {here or 'this ABI'}: use the name",
            )

    def sized(self, arg: ast.expr, need: abi.Need, buffer: _Buffer) -> None:
        """CFC001 (wrong here) and CFC004 (right here, wrong on other ABIs)."""
        here = abi.running()
        others = []
        for name in abi.table():
            if name == here:
                continue
            theirs = _abi_need_size(need, name)
            size = _abi_buffer_size(buffer, name)
            if theirs is not None and size is not None and _wrong(buffer, size, theirs):
                others.append(f"{name} ({size} for {theirs})")
        fix = abi.recipe(need)
        text = ast.unparse(arg)
        if isinstance(arg, ast.Name):
            text = f"{text} = {buffer.text}"
        elif len(text) > 50:
            text = buffer.text
        if _wrong(buffer, buffer.size, need.size):
            also = f"; also wrong on {', '.join(others)}" if others else ""
            if len(others) == len(abi.table()) - 1:
                also = "; wrong on every other ABI in the table too"
            self.report(
                arg,
                "CFC001",
                f"{text} is {buffer.size} bytes for {need.name}, whose kernel "
                f"{_verb(need)} {need.ctype or 'the size bits'}: {need.size} bytes here "
                f"({here or 'this ABI'}){also}; {_effect(need, buffer)}; use {fix}",
            )
        elif others:
            native = " (native sizes and alignment)" if buffer.fmt and _native(buffer.fmt) else ""
            self.report(
                arg,
                "CFC004",
                f"{text}{native} is right for {need.name} here ({here or 'this ABI'}) "
                f"but breaks on {', '.join(others)}; use {fix}",
            )

    def unpacked(self, call: ast.Call, need: abi.Need) -> None:
        """CFC002: ``struct.unpack`` of the answer with a format of another size."""
        parent = self.parents.get(call)
        targets: list[ast.Call] = []
        if isinstance(parent, ast.Call) and call in parent.args[1:2]:
            targets.append(parent)
        elif (
            isinstance(parent, ast.Assign)
            and len(parent.targets) == 1
            and isinstance(parent.targets[0], ast.Name)
        ):
            held = parent.targets[0].id
            fn = self.scope_of(call)
            scope = self.local(fn) or self.module
            if fn is None:
                body: list[ast.stmt] | None = self.tree.body
            else:
                body = fn.body if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) else None
            if body is None or scope.names.get(held) is not parent.value:
                return
            targets += [
                n
                for n in _walk_scope(body)
                if isinstance(n, ast.Call)
                and len(n.args) >= 1
                and isinstance(n.args[-1], ast.Name)
                and n.args[-1].id == held
            ]
        for target in targets:
            for method in ("unpack", "unpack_from"):
                fmt = self.struct_format(target, target, method)
                if fmt is None:
                    continue
                try:
                    size = struct.calcsize(fmt)
                except struct.error:
                    continue
                if size != need.size and (method == "unpack" or size > need.size):
                    self.report(
                        target,
                        "CFC002",
                        f"the answer for {need.name} unpacked with {fmt!r} ({size} bytes); "
                        f"the kernel {_verb(need)} {need.ctype or 'the size bits'}: "
                        f"{need.size} bytes; use {abi.recipe(need)}",
                    )


def _named_value(name: str) -> int | None:
    """A constant's value on this ABI: the headers' (cfcntl), else the stdlib's."""
    if name in registry.REQUESTS:
        return registry.REQUESTS[name]
    for module in (constants, termios, fcntl):
        value = getattr(module, name, None)
        if type(value) is int:
            return value
    return None


def _spelling(name: str) -> str:
    for module in (termios, fcntl):
        if hasattr(module, name):
            return f"{module.__name__}.{name}"
    return f'cfcntl.ioctls.REQUESTS["{name}"]'


def _verb(need: abi.Need) -> str:
    return "reads" if need.direction == "write" else "writes"


def _native(fmt: str) -> bool:
    """Whether ``fmt`` uses native sizes and alignment (no ``=``, ``<``, ``>``, ``!``)."""
    return not fmt or fmt[0] not in "=<>!"


def _effect(need: abi.Need, buffer: _Buffer) -> str:
    if buffer.size > need.size:
        return (
            f"the kernel uses only its first {need.size} bytes: as a wider integer it is "
            "wrong on big-endian CPUs"
        )
    if need.direction == "write":
        return "the kernel reads past it"
    return "Python 3.11-3.13 cut the answer, 3.14+ raises SystemError"


def _wrong(buffer: _Buffer, size: int, needed: int) -> bool:
    """Whether a buffer of ``size`` bytes (made as ``buffer`` is) is wrong for ``needed``:
    any other size for a struct format; shorter, or one wider item, for an array; shorter
    for a fixed size (a larger buffer is room to spare)."""
    if buffer.kind == "struct":
        return size != needed
    if buffer.kind == "array" and buffer.items == 1:
        return size != needed
    return size < needed


def _abi_need_size(need: abi.Need, name: str) -> int | None:
    """The size the kernel reads or writes for ``need`` on ABI ``name``."""
    if need.ctype is None:
        return need.size  # the size bits: the same number on every ABI cannot say more
    return abi.kernel_size(need.ctype, name)


def _abi_buffer_size(buffer: _Buffer, name: str) -> int | None:
    if buffer.fmt is None:
        return buffer.size
    return abi.calcsize(buffer.fmt, name)


def files(paths: list[str]) -> Iterator[Path]:
    """The Python files under ``paths`` (hidden directories and __pycache__ skipped)."""
    for given in paths:
        top = Path(given)
        if top.is_dir():
            for path in sorted(top.rglob("*.py")):
                parts = path.relative_to(top).parts
                if not any(p.startswith(".") or p == "__pycache__" for p in parts[:-1]):
                    yield path
        else:
            yield top


def scan_source(path: str, source: str) -> list[Finding]:
    """The findings in one file's text."""
    return _Module(path, source).run()


def scan(paths: list[str]) -> list[Finding]:
    """The findings in every Python file under ``paths``; a file that cannot be read or
    parsed is named on stderr and skipped."""
    found = []
    for path in files(paths):
        try:
            found += scan_source(str(path), path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError) as exc:
            print(f"python -m cfcntl scan: {path}: {exc}", file=sys.stderr)
    return found


def main(paths: list[str], as_json: bool = False) -> int:
    """Print the findings; 1 if there were any."""
    found = scan(paths)
    if as_json:
        print(json.dumps([f._asdict() for f in found], indent=2))
    else:
        for finding in found:
            print(finding)
    return 1 if found else 0
