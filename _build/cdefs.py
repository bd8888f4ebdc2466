"""The cdef, read from the C headers, and the C helpers made from the pattern rows.

A family's header ``src/cfcntl/_c/NAME.h`` is valid C.  Its cdef is the text of its
``/* cdef-only: ... */`` comment (what only cffi reads: structs with ``...;``,
``typedef int... T;``, ``#define NAME ...``) and the declarations between its
``/* cdef: begin */`` and ``/* cdef: end */`` comments, comments dropped.

A family's Python module ``src/cfcntl/ioctls/NAME.py`` may hold pattern rows
(``src/cfcntl/ioctls/_pattern.py``), module-level assignments read here with ``ast``::

    tiocoutq = int_getter(_lib.cf_tiocoutq, "TIOCOUTQ", "int", "...")

Each becomes a C helper with ``#line`` directives naming the row, so that a compiler
error in it points at the row's file and line.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

_ONLY = re.compile(r"/\* cdef-only:\n(.*?)\*/", re.S)
_DECLARED = re.compile(r"/\* cdef: begin \*/\n(.*?)/\* cdef: end \*/", re.S)
_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def header_cdef(path: Path) -> str:
    """The cdef of the header at ``path``: its cdef-only text, then its declarations."""
    text = path.read_text(encoding="utf-8")
    parts = _ONLY.findall(text) + [_COMMENT.sub("", block) for block in _DECLARED.findall(text)]
    lines = [line for part in parts for line in part.splitlines() if line.strip()]
    return "".join(f"{line}\n" for line in lines)


#: The pattern constructors of ``_pattern.py``, with the position of their C type
#: argument (None: the request takes no argument).
PATTERNS = {
    "int_getter": 2,
    "int_setter": 2,
    "no_argument": None,
    "struct_getter": 2,
    "struct_setter": 2,
}
FIELDS = 3
"""The position of struct_setter's fields: ((name, struct field, C type), ...)."""


@dataclass(frozen=True)
class Row:
    """One pattern row: ``helper`` (``cf_...``) issues ``request`` with a ``ctype``."""

    pattern: str
    helper: str
    request: str
    ctype: str | None
    fields: tuple[tuple[str, str, str], ...]
    """struct_setter's (argument, struct field, C type), in order; () for the others."""
    path: str
    """The row's file as compiler messages name it."""
    line: int

    def source(self) -> str:
        """The C helper, each line marked as the row's; a stand-in without the request."""
        if self.pattern == "int_getter":
            signature = f"static int64_t {self.helper}(int fd)"
            body = [
                f"    {self.ctype} value = 0;",
                f"    return ioctl(fd, {self.request}, &value) == -1 ? cf_fail(errno) "
                ": (int64_t)value;",
            ]
            unused = ["fd"]
        elif self.pattern == "int_setter":
            signature = f"static int64_t {self.helper}(int fd, {self.ctype} value)"
            body = [f"    return cf_result(ioctl(fd, {self.request}, &value));"]
            unused = ["fd", "value"]
        elif self.pattern == "struct_getter":
            signature = f"static int64_t {self.helper}(int fd, {self.ctype} *answer)"
            body = [f"    return cf_result(ioctl(fd, {self.request}, answer));"]
            unused = ["fd", "answer"]
        elif self.pattern == "struct_setter":
            parameters = "".join(f", {c} {name}" for name, _, c in self.fields)
            signature = f"static int64_t {self.helper}(int fd{parameters})"
            body = [
                f"    {self.ctype} arg;",
                "    memset(&arg, 0, sizeof arg);",
                *(f"    arg.{field} = {name};" for name, field, _ in self.fields),
                f"    return cf_result(ioctl(fd, {self.request}, &arg));",
            ]
            unused = ["fd", *(name for name, _, _ in self.fields)]
        else:
            signature = f"static int64_t {self.helper}(int fd)"
            body = [f"    return cf_result(ioctl(fd, {self.request}, (unsigned long)0));"]
            unused = ["fd"]
        lines = [
            signature,
            "{",
            f"#ifdef {self.request}",
            *body,
            "#else",
            *(f"    (void){name};" for name in unused),
            "    return cf_fail(ENOTTY);",
            "#endif",
            "}",
        ]
        mark = f'#line {self.line} "{self.path}"\n'
        return "".join(f"{mark}{line}\n" for line in lines)

    def cdef(self) -> str:
        """The helper's declaration for cffi."""
        argument = {
            "int_setter": f", {self.ctype} value",
            "struct_getter": f", {self.ctype} *answer",
        }.get(self.pattern, "")
        argument += "".join(f", {c} {name}" for name, _, c in self.fields)
        return f"int64_t {self.helper}(int fd{argument});\n"


def rows(path: Path, shown: str | None = None) -> list[Row]:
    """The pattern rows of the module at ``path`` (named ``shown`` in messages), in order.
    A call of a pattern that does not name its helper as ``_lib.cf_...`` and its request
    and C type as string literals stops the build, naming the line."""
    shown = str(path) if shown is None else shown
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=shown)
    found = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Assign) else None
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in PATTERNS
        ):
            continue
        where = f"{shown}:{node.lineno}"
        helper, request = call.args[:2]
        at = PATTERNS[call.func.id]
        ctype = call.args[at] if at is not None else None
        if not (
            isinstance(helper, ast.Attribute)
            and isinstance(helper.value, ast.Name)
            and helper.value.id == "_lib"
            and helper.attr.startswith("cf_")
        ):
            raise RuntimeError(f"{where}: a pattern row names its C helper as _lib.cf_NAME")
        if not (isinstance(request, ast.Constant) and isinstance(request.value, str)):
            raise RuntimeError(f"{where}: a pattern row's request is a string literal")
        text = None
        if ctype is not None:
            if not (isinstance(ctype, ast.Constant) and isinstance(ctype.value, str)):
                raise RuntimeError(f"{where}: a pattern row's C type is a string literal")
            text = ctype.value
        fields: tuple[tuple[str, str, str], ...] = ()
        if call.func.id == "struct_setter":
            try:
                fields = tuple(tuple(field) for field in ast.literal_eval(call.args[FIELDS]))
            except ValueError:
                raise RuntimeError(f"{where}: a struct row's fields are a literal") from None
        found.append(
            Row(
                call.func.id,
                helper.attr,
                request.value,
                text,
                fields,
                shown,
                node.lineno,
            )
        )
    return found
