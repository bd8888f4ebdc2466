"""``NamedTuple`` class syntax without importing :mod:`typing` or :mod:`collections`.

``import typing`` alone costs 6 to 11 ms here (``-X importtime``, median of 11 fresh
processes, CPython 3.11) and ``collections.namedtuple`` 30 us per class, this base 8 (it
compiles a ``__new__`` with ``exec``), together more than the rest of ``import cfcntl``
(4 ms), whose target is an import under 5 ms.  The package's modules take
``typing.NamedTuple`` for the type checker and this base at run time.  It makes what
``typing.NamedTuple`` makes for the classes cfcntl writes: a tuple subclass whose
annotated names are the fields (in order, with their defaults) as read-only properties,
with ``_fields``, ``_field_defaults``, ``_make``, ``_replace``, ``_asdict``, the same
``repr`` and pickling; the other names of the class body (docstring, methods,
properties) go onto it.  Every module that uses it has ``from __future__ import
annotations``, so the class body keeps its annotations in ``__annotations__`` on every
interpreter.
"""

from __future__ import annotations

from operator import itemgetter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


class _Tuple(tuple):  # type: ignore[type-arg]
    """What every record shares."""

    __slots__ = ()
    _fields: tuple[str, ...]  # each record class sets both
    _field_defaults: dict[str, Any]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        fields = cls._fields
        if len(args) > len(fields):
            raise TypeError(
                f"{cls.__name__}() takes {len(fields)} positional arguments "
                f"but {len(args)} were given"
            )
        values = list(args)
        for name in fields[len(args) :]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in cls._field_defaults:
                values.append(cls._field_defaults[name])
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
        if kwargs:
            raise TypeError(
                f"{cls.__name__}() got an unexpected keyword argument {next(iter(kwargs))!r}"
            )
        return tuple.__new__(cls, values)

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Any:
        made = tuple.__new__(cls, iterable)
        if len(made) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(made)}")
        return made

    def _replace(self, **changes: Any) -> Any:
        made = self._make(
            [changes.pop(name, value) for name, value in zip(self._fields, self, strict=True)]
        )
        if changes:
            raise ValueError(f"Got unexpected field names: {list(changes)!r}")
        return made

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True)
        )
        return f"{type(self).__name__}({shown})"

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)


_SKIPPED = frozenset({"__annotations__"})


class _Maker(type):
    def __new__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
        if not bases:
            return super().__new__(cls, name, bases, namespace)
        annotations = dict(namespace.get("__annotations__", {}))
        fields = tuple(annotations)
        body = {k: v for k, v in namespace.items() if k not in _SKIPPED and k not in fields}
        body.update(
            __slots__=(),
            __annotations__=annotations,
            __match_args__=fields,
            _fields=fields,
            _field_defaults={f: namespace[f] for f in fields if f in namespace},
        )
        for i, field in enumerate(fields):
            body[field] = property(itemgetter(i), doc=f"Alias for field number {i}")
        return type(name, (_Tuple,), body)


class NamedTuple(metaclass=_Maker):
    """The base to write ``class Name(NamedTuple): field: type`` with."""
