"""The data fingerprint: the SHA-256 of one line a bar, as its docstring and the module say."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from brokers import Bar
from strategies.run._facts import data_fingerprint

NEW_YORK = ZoneInfo("America/New_York")


def _bar(symbol: str, start: datetime, close: str, volume: str = "100") -> Bar:
    price = Decimal(close)
    return Bar(symbol=symbol, start=start, open=price, high=price + 1, low=price - 1,
               close=price, volume=Decimal(volume))


def _plain(bars: list[Bar]) -> str:
    """The definition, one bar at a time: every start formatted, every value its str()."""
    lines = "".join(
        f"{b.symbol},{b.start.isoformat()},{b.open!s},{b.high!s},{b.low!s},{b.close!s},{b.volume!s}\n"
        for b in sorted(bars, key=lambda b: (b.start, b.symbol))
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def test_the_fingerprint_is_its_definition_whatever_the_timezones_and_order():
    """Moments shared by several symbols, one written in New York time beside UTC (the same
    instant, another spelling), out of order, odd spellings of numbers: the fingerprint
    formats each start as written, once a moment or not."""
    opened = datetime(2012, 11, 26, 14, 30, tzinfo=UTC)
    bars = [
        _bar("B", opened + timedelta(minutes=5), "20.50"),
        _bar("A", opened, "10.00", "1E+2"),
        _bar("B", opened, "20.00"),
        _bar("C", opened.astimezone(NEW_YORK), "30.0", "0"),
        _bar("A", opened + timedelta(minutes=5), "10.25"),
        _bar("D", opened, "-0.5"),
    ]
    assert data_fingerprint(bars) == _plain(bars)
    assert data_fingerprint(bars[::-1]) == _plain(bars)
