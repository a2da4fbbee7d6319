"""Which signals exist: one registry, where the built-ins are registered exactly like plugins.

Every signal is an entry point of the group ``tickstate.signals``. tickstate's own distribution
declares its two built-ins in its ``pyproject.toml`` the way any other distribution declares a
signal of its own::

    [project.entry-points."tickstate.signals"]
    gap_fade = "my_package.signals:GapFade"

and a strategy file may then say ``kind = "gap_fade"``. The object an entry point names is
called as ``target(params, symbol)`` to build the signal of one symbol (the signal's class is the
usual target). It may carry:

- ``Params``: a pydantic model of the ``[signal]`` table without ``kind``. The table is
  validated by it (errors name ``signal.<key>``, with "did you mean"), ``tickstate schema``
  includes it, and the signal receives the validated model. Without ``Params`` the signal
  receives the table as written, a ``dict``.
- ``phases``: its ``PhaseTable``, drawn beside the lifecycle by ``tickstate diagram``.
- ``default_entry_cutoff``: the ``time`` an ``[entry_window]`` without ``end`` closes at.
- ``history_sessions``: how many sessions before today the signal reads from
  ``SessionContext.history``, an ``int`` or a function of its parameters; a live run fetches
  that many from the broker's historical data at start-up. Without it: one (D-1).

A name registered by two distributions is refused, and so is one that cannot be loaded: the
message is one line, ready to show.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from importlib import metadata
from typing import Any

from pydantic import BaseModel

from strategies.signals._phases import PhaseTable
from strategies.signals._protocol import Signal

__all__ = ["ENTRY_POINT_GROUP", "SignalKind", "signal_kind", "signal_names"]

ENTRY_POINT_GROUP = "tickstate.signals"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalKind:
    """One registered signal: its name, how to build it, and what it declares about itself."""

    name: str
    origin: str  # the entry point's value, e.g. ``strategies.signals._eighty_twenty:EightyTwenty``
    build: Callable[[Any, str], Signal]
    params: type[BaseModel] | None
    phases: PhaseTable[Any, Any] | None
    default_entry_cutoff: time | None
    history: int | Callable[[Any], int] = 1

    def history_sessions(self, params: Any) -> int:
        """How many earlier sessions a signal with ``params`` reads (its look-back)."""
        return self.history(params) if callable(self.history) else self.history

    def parse(self, table: Mapping[str, Any]) -> Any:
        """The parameters a signal of this kind is built with: ``Params`` validated, or the table.

        Raises pydantic's ``ValidationError`` for a table ``Params`` refuses.
        """
        if self.params is None:
            return dict(table)
        return self.params.model_validate(dict(table))


@functools.cache
def _entry_points() -> Mapping[str, tuple[metadata.EntryPoint, ...]]:
    found: dict[str, list[metadata.EntryPoint]] = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, []).append(entry)
    return {name: tuple(entries) for name, entries in found.items()}


def signal_names() -> tuple[str, ...]:
    """Every registered signal's name, sorted."""
    return tuple(sorted(_entry_points()))


@functools.cache
def signal_kind(name: str) -> SignalKind:
    """The signal registered as ``name``, loaded once.

    Raises ``LookupError`` when no distribution (or more than one) registers ``name``, and
    ``ImportError``/``TypeError`` (or whatever the plugin's import raises) when it cannot be
    loaded or does not declare itself as described above.
    """
    entries = _entry_points().get(name, ())
    if not entries:
        known = signal_names()
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            raise LookupError(f'unknown signal "{name}"; did you mean "{close[0]}"?')
        raise LookupError(f'unknown signal "{name}"; expected one of: {", ".join(known)}')
    if len({entry.value for entry in entries}) > 1:
        targets = ", ".join(sorted({entry.value for entry in entries}))
        raise LookupError(f'signal "{name}" is registered more than once ({targets})')
    target = entries[0].load()
    if not callable(target):
        raise TypeError(f'signal "{name}": {entries[0].value} is not callable')
    params = getattr(target, "Params", None)
    if params is not None and not (isinstance(params, type) and issubclass(params, BaseModel)):
        raise TypeError(f'signal "{name}": its Params is not a pydantic model')
    phases = getattr(target, "phases", None)
    if phases is not None and not isinstance(phases, PhaseTable):
        raise TypeError(f'signal "{name}": its phases is not a PhaseTable')
    cutoff = getattr(target, "default_entry_cutoff", None)
    if cutoff is not None and not isinstance(cutoff, time):
        raise TypeError(f'signal "{name}": its default_entry_cutoff is not a time')
    history = getattr(target, "history_sessions", 1)
    if not (callable(history) or (isinstance(history, int) and history >= 0)):
        raise TypeError(f'signal "{name}": its history_sessions is not a count or a function')
    return SignalKind(
        name=name,
        history=history,
        origin=entries[0].value,
        build=target,
        params=params,
        phases=phases,
        default_entry_cutoff=cutoff,
    )
