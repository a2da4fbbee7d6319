"""Value classes: immutable by construction, validated when built, and cheap to build.

``@value`` makes a class a frozen, slotted, keyword-only dataclass — its fields, equality,
hash, repr, ``__match_args__`` and ``dataclasses.fields`` are the dataclass's, and assigning a
field raises ``FrozenInstanceError`` — and then builds it another way. A frozen dataclass's
``__init__`` stores every field through ``object.__setattr__`` to get past its own
``__setattr__`` (which raises): a global lookup, an attribute lookup and a call per field, about
twice the cost of the object's plain stores. ``@value`` gives the class a ``__new__`` that stores
the fields on a plain slotted twin of the same layout (ordinary attribute stores), gives the
object its class (``__class__`` assignment, allowed between classes whose slots are the same),
then runs ``__post_init__`` — the validation — as the dataclass would::

    >>> @value
    ... class Point:
    ...     x: int
    ...     y: int = 0
    >>> Point(x=1)
    Point(x=1, y=0)
    >>> Point(x=1).x = 2
    Traceback (most recent call last):
    dataclasses.FrozenInstanceError: cannot assign to field 'x'

Only plain defaults are supported (no ``default_factory``), which is all messages need. A
subclass is a ``@value`` class too (``OrderCancelled``): a plain one would have a ``__dict__``,
a layout the twin cannot take. Pickling and copying rebuild through the constructor, so a copy
is validated too.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, dataclass_transform

__all__ = ["value"]

T = TypeVar("T")


@dataclass_transform(
    kw_only_default=True, frozen_default=True, field_specifiers=(dataclasses.field,)
)
def value(cls: type[T]) -> type[T]:
    """``cls`` as a frozen, slotted, keyword-only dataclass built by a ``__new__`` of its own."""
    made: Any = dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)
    fields = [f for f in dataclasses.fields(made) if f.init]
    names = tuple(f.name for f in fields)
    if any(f.default_factory is not dataclasses.MISSING for f in fields):
        raise TypeError(f"{made.__name__}: @value fields take plain defaults only")
    twin = type(f"_{made.__name__}Building", (), {"__slots__": names})
    scope: dict[str, Any] = {"_twin": twin}
    params = []
    for f in fields:
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    stores = "".join(f"    self.{name} = {name}\n" for name in names)
    check = "    self.__post_init__()\n" if hasattr(made, "__post_init__") else ""
    source = (
        f"def __new__(cls, *, {', '.join(params)}):\n"
        "    self = _twin()\n"
        f"{stores}"
        "    self.__class__ = cls\n"
        f"{check}"
        "    return self\n"
    )
    exec(source, scope)  # the source is built above from field names only
    new = scope["__new__"]
    new.__qualname__ = f"{made.__qualname__}.__new__"
    made.__new__ = new
    del made.__init__  # object's: it ignores the keywords ``__new__`` took
    made.__reduce__ = _reducer(names)
    return made  # type: ignore[no-any-return]


def _reducer(names: tuple[str, ...]) -> Any:
    def __reduce__(self: Any) -> tuple[Any, ...]:
        return _rebuild, (type(self), tuple(getattr(self, name) for name in names))

    return __reduce__


def _rebuild(cls: type[T], values: tuple[Any, ...]) -> T:
    """Unpickle or copy a value: through its constructor, validated again."""
    names = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    return cls(**dict(zip(names, values, strict=True)))
