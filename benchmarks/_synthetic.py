"""Synthetic symbols for the scale benchmarks: one session of seeded 5-minute bars, in memory.

Nothing is shipped as a data file: the bars are built here, deterministically (the same
``seed`` gives the same bars, so the same trades), and fed to the engine through its in-memory
API (``replay_bars`` takes any time-ordered iterable of ``Bar``). Each symbol walks from a
price between $20 and $200 in whole cents, up to 30 cents a bar, with wicks up to 10 cents;
prices are shared ``Decimal`` objects (one per distinct cent) so a 50,000-symbol session stays
a few hundred megabytes of bars.

The strategy is the shipped opening-range breakout (``examples/opening_range.toml``) with the
instruments replaced, and an account sized for the desk: ``[costs] cash`` of $25,000 a symbol
(buying power at the default leverage of 4: $100,000 a symbol), so every symbol can trade.
That also turns on the engine's buying-power gate: each entry reads the account first.
"""

from __future__ import annotations

import random
import tomllib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from brokers import Bar
from strategies.spec import StrategySpec, validate_strategy

__all__ = ["SESSION", "opening_range_spec", "session_bars", "symbol_names"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "opening_range.toml"
#: A full session on XNYS (a Thursday): 09:30-16:00 New York, 14:30-21:00 UTC.
SESSION = date(2012, 11, 15)
_OPEN_UTC = datetime(2012, 11, 15, 14, 30, tzinfo=UTC)
_VOLUME = Decimal(1000)


def symbol_names(n: int) -> list[str]:
    """``n`` symbol names, sorted: ``S00000``, ``S00001``, ..."""
    return [f"S{i:05d}" for i in range(n)]


def opening_range_spec(
    symbols: list[str], cash_per_symbol: Decimal = Decimal(25_000)
) -> StrategySpec:
    """The shipped ORB strategy over ``symbols``, with an account sized for them."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)
    data["instruments"] = [{"symbol": s, "tick": "0.01"} for s in symbols]
    data["costs"] = {"cash": str(cash_per_symbol * len(symbols))}
    return validate_strategy(data, file=str(EXAMPLE), base_dir=EXAMPLE.parent)


def session_bars(
    symbols: list[str], *, moments: int | None = None, minutes: int = 5, seed: int = 20
) -> list[Bar]:
    """One session of ``minutes``-bars for every symbol, sorted by (start, symbol); only its
    first ``moments`` bar starts if given."""
    rng = random.Random(seed)
    cents: dict[int, Decimal] = {}

    def price(c: int) -> Decimal:
        found = cents.get(c)
        if found is None:
            found = cents[c] = Decimal(f"{c // 100}.{c % 100:02d}")
        return found

    count = 390 // minutes if moments is None else moments
    last = [rng.randrange(2_000, 20_000) for _ in symbols]
    bars: list[Bar] = []
    for k in range(count):
        start = _OPEN_UTC + timedelta(minutes=minutes * k)
        for i, symbol in enumerate(symbols):
            opened = last[i]
            closed = max(100, opened + rng.randint(-30, 30))
            high = max(opened, closed) + rng.randint(0, 10)
            low = min(opened, closed) - rng.randint(0, 10)
            bars.append(
                Bar(
                    symbol=symbol,
                    start=start,
                    open=price(opened),
                    high=price(high),
                    low=price(low),
                    close=price(closed),
                    volume=_VOLUME,
                )
            )
            last[i] = closed
    return bars
