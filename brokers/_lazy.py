"""A package's public names imported on first use (PEP 562's module ``__getattr__``).

A package lists where each name lives; importing the package imports none of them, so a
command pays only for what it touches (``tickstate replay`` loads no network library). A name,
once loaded, is kept as a plain attribute of the package: later lookups cost nothing.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping

__all__ = ["lazy_names"]


def lazy_names(
    package: str, where: Mapping[str, str], public: Iterable[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose names ``where`` places in
    their modules; ``public`` are its ``__all__``."""
    names = frozenset(public)

    def load(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value: object = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def listing() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | names)

    return load, listing
