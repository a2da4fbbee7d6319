"""Shared fixtures: plugins registered for one test, on top of the installed entry points."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import metadata

import pytest

from strategies.signals import ENTRY_POINT_GROUP, _registry

Register = Callable[[str, str], None]


def _forget() -> None:
    _registry._entry_points.cache_clear()
    _registry.signal_kind.cache_clear()


@pytest.fixture
def register_signal(monkeypatch: pytest.MonkeyPatch) -> Iterator[Register]:
    """``register_signal(name, "module:Target")`` adds an entry point to ``tickstate.signals``
    for this test, as another installed distribution would; the built-ins stay registered."""
    installed = metadata.entry_points
    added: list[metadata.EntryPoint] = []

    def entry_points(**select: str) -> metadata.EntryPoints:
        found = installed(**select)
        extra = [e for e in added if select.get("group") in (None, e.group)]
        return metadata.EntryPoints([*found, *extra])

    def register(name: str, target: str) -> None:
        added.append(metadata.EntryPoint(name=name, value=target, group=ENTRY_POINT_GROUP))
        _forget()

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    _forget()
    yield register
    monkeypatch.undo()
    _forget()
