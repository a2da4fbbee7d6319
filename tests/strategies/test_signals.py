"""build_signal: a validated [signal] table becomes the signal of one symbol."""

from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from typing import Any

from pydantic import BaseModel, ConfigDict

from strategies._eighty_twenty import EightyTwenty
from strategies._opening_range import OpeningRange
from strategies._signals import build_signal
from strategies._spec_signals import EightyTwentySignal, OpeningRangeSignal, PluginSignal


class _GapFadeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gap_pct: Decimal


@dataclass
class GapFade:
    """A fake third-party signal: a SignalFactory (params, symbol) with its own Params."""

    Params = _GapFadeParams
    params: Any
    symbol: str


def _register(monkeypatch, name: str, target: str) -> None:
    entry = metadata.EntryPoint(name=name, value=target, group="tickstate.signals")

    def entry_points(*, group: str) -> metadata.EntryPoints:
        return metadata.EntryPoints(e for e in (entry,) if e.group == group)

    monkeypatch.setattr(metadata, "entry_points", entry_points)


class TestBuildSignal:
    def test_eighty_twenty_parameters_build_the_eighty_twenty_signal(self):
        """EightyTwentySignal → EightyTwenty for the symbol, with those parameters."""
        params = EightyTwentySignal(trigger_ticks=5)
        signal = build_signal(params, "AAPL")
        assert isinstance(signal, EightyTwenty)
        assert (signal.params, signal.symbol) == (params, "AAPL")

    def test_opening_range_parameters_build_the_opening_range_signal(self):
        """OpeningRangeSignal → OpeningRange."""
        signal = build_signal(OpeningRangeSignal(or_minutes=30), "INFY")
        assert isinstance(signal, OpeningRange)
        assert (signal.params.or_minutes, signal.symbol) == (30, "INFY")

    def test_plugin_factory_gets_its_validated_parameters(self, monkeypatch):
        """A registered plugin is called as factory(params, symbol), params as its Params parsed."""
        _register(monkeypatch, "gap_fade", f"{__name__}:GapFade")
        spec = PluginSignal.model_validate({"kind": "gap_fade", "gap_pct": "1.5"})
        signal = build_signal(spec, "MSFT")
        assert signal == GapFade(params={"gap_pct": Decimal("1.5")}, symbol="MSFT")
