"""``NamedTuple`` class syntax without importing :mod:`typing`.

``import typing`` alone costs about 6 ms here, more than the rest of ``import cfcntl``;
the package's modules take ``typing.NamedTuple`` for the type checker and this base at
run time.  It does what ``typing.NamedTuple`` does for the classes cfcntl writes: the
annotated names are the fields (in order, with their defaults), and the other names in
the class body (docstring, methods, properties) go onto the ``collections.namedtuple``.
Every module that uses it has ``from __future__ import annotations``, so the class body
keeps its annotations in ``__annotations__`` on every interpreter.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable

_namedtuple: Callable[..., type] = namedtuple
_SKIPPED = frozenset({"__module__", "__qualname__", "__annotations__"})


class _Maker(type):
    def __new__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, object]) -> type:
        if not bases:
            return super().__new__(cls, name, bases, namespace)
        annotations = namespace.get("__annotations__", {})
        assert isinstance(annotations, dict)
        fields = tuple(annotations)
        made = _namedtuple(
            name,
            fields,
            defaults=[namespace[f] for f in fields if f in namespace],
            module=str(namespace["__module__"]),
        )
        for key, value in namespace.items():
            if key not in _SKIPPED and key not in fields:
                setattr(made, key, value)
        made.__qualname__ = str(namespace["__qualname__"])
        made.__annotations__ = dict(annotations)
        return made


class NamedTuple(metaclass=_Maker):
    """The base to write ``class Name(NamedTuple): field: type`` with."""
