"""Which signal a strategy runs: a validated ``[signal]`` table becomes one signal per symbol.

Built-ins dispatch on their parameter model; a plugin's registered object is called as a
``SignalFactory`` — ``factory(params, symbol)`` — with its parameters as its own ``Params`` model
validated them (field → value), or the table as written when it has no ``Params``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strategies._eighty_twenty import EightyTwenty
from strategies._opening_range import OpeningRange
from strategies._plugins import load_signal
from strategies._signal import SymbolSignal
from strategies._spec_signals import EightyTwentySignal, OpeningRangeSignal, PluginSignal

__all__ = ["build_signal"]


def build_signal(
    spec_signal: EightyTwentySignal | OpeningRangeSignal | PluginSignal, symbol: str
) -> SymbolSignal:
    """The signal of ``symbol`` for a strategy's validated signal parameters."""
    if isinstance(spec_signal, EightyTwentySignal):
        return EightyTwenty(spec_signal, symbol)
    if isinstance(spec_signal, OpeningRangeSignal):
        return OpeningRange(spec_signal, symbol)
    plugin = load_signal(spec_signal.kind)
    if not callable(plugin.target):
        raise TypeError(f"signal {spec_signal.kind!r}: its entry point is not callable")
    parsed = spec_signal.parsed
    params: Mapping[str, Any] = dict(parsed) if parsed is not None else spec_signal.params
    signal: SymbolSignal = plugin.target(params, symbol)
    return signal
