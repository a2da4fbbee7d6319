"""Shared fixtures: plugins registered for one test, on top of the installed entry points; two
months of demo bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

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


@pytest.fixture(scope="module")
def two_months(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """AAPL and IBM demo bars (5-minute) from January and February 2012, as one CSV file."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path_factory.mktemp("data") / "bars.csv"
    lines = []
    for symbol in ("AAPL", "IBM"):
        rows = (root / "data" / "intraday_5min" / f"{symbol}.csv").read_text().splitlines()
        header, body = rows[0], rows[1:]
        lines += [row for row in body if ",2012-01-" in row or ",2012-02-" in row]
    out.write_text("\n".join([header, *lines]) + "\n")
    return out
