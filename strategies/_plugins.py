"""Third-party signals register by name in the entry-point group ``tickstate.signals``.

A distribution declares, in its ``pyproject.toml``::

    [project.entry-points."tickstate.signals"]
    gap_fade = "my_package.signals:GapFade"

and a strategy file may then say ``kind = "gap_fade"``. The object the entry point names may
expose ``Params``, a pydantic model of its parameters: the signal table (without ``kind``) is
validated by it. Without ``Params`` the parameters pass through as a plain table. Built-in names
cannot be taken over by a plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from typing import Any

from pydantic import BaseModel

__all__ = ["BUILTIN_SIGNALS", "ENTRY_POINT_GROUP", "SignalPlugin", "load_signal", "signal_names"]

ENTRY_POINT_GROUP = "tickstate.signals"
BUILTIN_SIGNALS = ("eighty_twenty", "opening_range_breakout")


@dataclass(frozen=True, slots=True)
class SignalPlugin:
    """A registered signal: its name, the loaded object and its parameter model, if any."""

    name: str
    target: Any
    params_model: type[BaseModel] | None


def _entry_points() -> dict[str, list[metadata.EntryPoint]]:
    found: dict[str, list[metadata.EntryPoint]] = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in BUILTIN_SIGNALS:
            found.setdefault(entry.name, []).append(entry)
    return found


def signal_names() -> tuple[str, ...]:
    """The names of the registered plugin signals, sorted (built-ins excluded)."""
    return tuple(sorted(_entry_points()))


def load_signal(name: str) -> SignalPlugin:
    """Load the plugin signal registered as ``name``.

    Raises ``LookupError`` when no plugin (or more than one) has that name, ``ImportError`` (or
    whatever the plugin raises) when it cannot be loaded, ``TypeError`` when its ``Params`` is not
    a pydantic model. The messages are one line, ready to show.
    """
    entries = _entry_points().get(name, [])
    if not entries:
        known = ", ".join((*BUILTIN_SIGNALS, *signal_names()))
        raise LookupError(f'unknown signal "{name}"; expected one of: {known}')
    if len(entries) > 1:
        targets = ", ".join(sorted(entry.value for entry in entries))
        raise LookupError(f'signal "{name}" is registered more than once ({targets})')
    target = entries[0].load()
    params = getattr(target, "Params", None)
    if params is not None and not (isinstance(params, type) and issubclass(params, BaseModel)):
        raise TypeError(f'signal "{name}": its Params is not a pydantic model')
    return SignalPlugin(name=name, target=target, params_model=params)
