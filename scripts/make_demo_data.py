#!/usr/bin/env python3
"""Regenerate tickstate's demo data set under ``data/``.

Real daily bars come from ``bokeh_sampledata/_data/stocks.csv.gz`` (Quandl WIKI prices, public
domain; the ``bokeh-sampledata`` package, BSD-3-Clause). The 5-minute intraday bars are
**synthetic**: each real day becomes a seeded Brownian bridge that starts at the day's open, touches
the day's high and low exactly (in an order chosen by a seeded coin), and ends at the day's close.

Usage (from the repository root, with ``bokeh-sampledata`` installed, e.g. by ``.[dev]``)::

    python scripts/make_demo_data.py

writes ``data/daily/{SYMBOL}.csv`` and ``data/intraday_5min/{SYMBOL}.csv``. The same seed, window
and symbols give byte-identical files: every day's path is drawn from its own generator, seeded
from ``(seed, symbol, date)``, and every price is computed in ``Decimal``. The random draws are
sums of ``random.random()`` values (no libm calls), so they are the same on every platform.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib.resources
import itertools
import math
import random
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from strategies._sessions import TradingCalendar

#: Defaults of the committed demo set (``data/README.md`` quotes them).
SEED = 8020
START = date(2012, 1, 1)
END = date(2012, 12, 31)
SYMBOLS = ("AAPL", "FB", "GOOG", "IBM", "MSFT")
OUT = Path(__file__).resolve().parent.parent / "data"

CALENDAR = "XNYS"
BAR = timedelta(minutes=5)
STEPS_PER_BAR = 10  # path points per bar (one every 30 seconds)
DAY_VOLATILITY = 0.6  # a day's random-walk standard deviation, in units of its range
TICK = Decimal("0.01")
ZONE = Decimal("0.20")  # the 80-20 zone, for the setup count

DAILY_HEADER = ("date", "open", "high", "low", "close", "volume")
INTRADAY_HEADER = ("symbol", "start", "open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class Day:
    """One real daily bar, prices rounded to the cent."""

    session: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


@dataclass(frozen=True, slots=True)
class FiveMinuteBar:
    """One synthetic intraday bar."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


def source_file() -> Path:
    """Where ``bokeh-sampledata`` keeps the daily stock prices."""
    try:
        root = importlib.resources.files("bokeh_sampledata")
    except ModuleNotFoundError:
        sys.exit("make_demo_data: bokeh-sampledata is not installed (pip install bokeh-sampledata)")
    return Path(str(root.joinpath("_data", "stocks.csv.gz")))


def cents(text: str) -> Decimal:
    """A price from the source, rounded half-even to the 0.01 tick."""
    return Decimal(text).quantize(TICK, rounding=ROUND_HALF_EVEN)


def read_daily(
    source: Path, symbols: Iterable[str], start: date, end: date
) -> dict[str, list[Day]]:
    """The real daily bars of ``symbols`` from ``start`` to ``end`` (both included), by date."""
    wanted = set(symbols)
    days: dict[str, list[Day]] = {symbol: [] for symbol in sorted(wanted)}
    with gzip.open(source, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            session = date.fromisoformat(row["Date"])
            if row["Ticker"] not in wanted or not start <= session <= end:
                continue
            days[row["Ticker"]].append(
                Day(
                    session=session,
                    open=cents(row["Open"]),
                    high=cents(row["High"]),
                    low=cents(row["Low"]),
                    close=cents(row["Close"]),
                    volume=int(Decimal(row["Volume"])),
                )
            )
    for symbol, series in days.items():
        if not series:
            sys.exit(f"make_demo_data: no {symbol} bars from {start} to {end} in {source}")
        series.sort(key=lambda day: day.session)
    return days


def setups(days: Sequence[Day], zone: Decimal = ZONE) -> tuple[int, int]:
    """80-20 setup days (long, short) that have a next session in ``days`` to trade them on."""
    long = short = 0
    for day in days[:-1]:
        span = day.high - day.low
        if span <= 0:
            continue
        opened, closed = day.open - day.low, day.close - day.low
        if opened >= (1 - zone) * span and closed <= zone * span:
            long += 1
        if opened <= zone * span and closed >= (1 - zone) * span:
            short += 1
    return long, short


def _normal(rng: random.Random) -> float:
    """A near-standard-normal draw (Irwin-Hall: twelve uniforms), the same on every platform."""
    return sum(rng.random() for _ in range(12)) - 6.0


def _bridge(rng: random.Random, steps: int, step_sd: float) -> list[Decimal]:
    """A Brownian bridge of ``steps`` steps: ``steps + 1`` points, zero at both ends."""
    walk = [0.0]
    for _ in range(steps):
        walk.append(walk[-1] + step_sd * _normal(rng))
    end = walk[-1]
    return [Decimal(f"{value - end * k / steps:.6f}") for k, value in enumerate(walk)]


def _fold(price: Decimal, low: Decimal, high: Decimal) -> Decimal:
    """``price`` reflected at ``low`` and ``high`` until it lies between them."""
    span = high - low
    if span == 0:
        return low
    offset = (price - low) % (2 * span)
    if offset < 0:
        offset += 2 * span
    if offset > span:
        offset = 2 * span - offset
    return low + offset


def _path(rng: random.Random, day: Day, steps: int) -> list[Decimal]:
    """``steps + 1`` prices: open → first extreme → second extreme → close, on the 0.01 tick."""
    span = day.high - day.low
    if span == 0:
        return [day.open] * (steps + 1)
    # The nearer the open lies to the high, the likelier the high came first.
    high_first = rng.random() < float((day.open - day.low) / span)
    first, second = (day.high, day.low) if high_first else (day.low, day.high)
    t1, t2 = sorted(rng.sample(range(1, steps), 2))
    step_sd = DAY_VOLATILITY / math.sqrt(steps)
    path: list[Decimal] = []
    anchors = ((0, day.open), (t1, first), (t2, second), (steps, day.close))
    for (ta, a), (tb, b) in itertools.pairwise(anchors):
        noise = _bridge(rng, tb - ta, step_sd)
        for k in range(0 if ta == 0 else 1, tb - ta + 1):
            price = a + (b - a) * k / (tb - ta) + span * noise[k]
            path.append(_fold(price, day.low, day.high).quantize(TICK, rounding=ROUND_HALF_EVEN))
    return path


def _split_volume(rng: random.Random, volume: int, bars: int) -> list[int]:
    """``volume`` shared among ``bars`` bars: U-shaped over the day, jittered, summing exactly."""
    weights = []
    for i in range(bars):
        u = 2 * i / (bars - 1) - 1 if bars > 1 else 0.0
        weights.append(int((1 + 2 * u * u) * (0.5 + rng.random()) * 1_000_000))
    total = sum(weights)
    shares = [volume * w // total for w in weights]
    remainders = sorted(range(bars), key=lambda i: (-(volume * weights[i] % total), i))
    for i in remainders[: volume - sum(shares)]:
        shares[i] += 1
    return shares


def synthesize(
    symbol: str, day: Day, opens_at: datetime, closes_at: datetime, seed: int
) -> list[FiveMinuteBar]:
    """The 5-minute bars of one real day, from a Brownian bridge through its O, H, L and C."""
    count = (closes_at - opens_at) // BAR
    rng = random.Random(f"{seed}:{symbol}:{day.session.isoformat()}")
    path = _path(rng, day, count * STEPS_PER_BAR)
    volumes = _split_volume(rng, day.volume, count)
    start = opens_at.astimezone(UTC)
    bars = []
    for i in range(count):
        # Bar i holds points (i*M, (i+1)*M]; the first bar also holds point 0, the day's open.
        first = i * STEPS_PER_BAR + (0 if i == 0 else 1)
        points = path[first : (i + 1) * STEPS_PER_BAR + 1]
        bars.append(
            FiveMinuteBar(
                start=start + i * BAR,
                open=points[0],
                high=max(points),
                low=min(points),
                close=points[-1],
                volume=volumes[i],
            )
        )
    return bars


def write_daily(path: Path, days: Iterable[Day]) -> None:
    """``data/daily/{SYMBOL}.csv``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(DAILY_HEADER)
        for day in days:
            writer.writerow(
                (day.session.isoformat(), day.open, day.high, day.low, day.close, day.volume)
            )


def write_intraday(path: Path, symbol: str, bars: Iterable[FiveMinuteBar]) -> None:
    """``data/intraday_5min/{SYMBOL}.csv``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(INTRADAY_HEADER)
        for bar in bars:
            start = bar.start.strftime("%Y-%m-%dT%H:%M:%SZ")
            writer.writerow((symbol, start, bar.open, bar.high, bar.low, bar.close, bar.volume))


def generate(
    out: Path,
    *,
    seed: int = SEED,
    start: date = START,
    end: date = END,
    symbols: Sequence[str] = SYMBOLS,
    source: Path | None = None,
) -> dict[str, tuple[int, int]]:
    """Write the demo set of ``symbols`` into ``out``; its 80-20 setups (long, short) by symbol."""
    calendar = TradingCalendar.for_name(CALENDAR)
    found = read_daily(source or source_file(), symbols, start, end)
    counts = {}
    for symbol, days in found.items():
        bars: list[FiveMinuteBar] = []
        for day in days:
            if not calendar.is_session(day.session):
                sys.exit(f"make_demo_data: {symbol} {day.session} is not a {CALENDAR} session")
            opens_at, closes_at = calendar.open_at(day.session), calendar.close_at(day.session)
            bars.extend(synthesize(symbol, day, opens_at, closes_at, seed))
        write_daily(out / "daily" / f"{symbol}.csv", days)
        write_intraday(out / "intraday_5min" / f"{symbol}.csv", symbol, bars)
        counts[symbol] = setups(days)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: regenerate the demo set and print its 80-20 setup counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT, help="output directory (default: data/)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"default {SEED}")
    parser.add_argument("--start", type=date.fromisoformat, default=START, help=f"default {START}")
    parser.add_argument("--end", type=date.fromisoformat, default=END, help=f"default {END}")
    parser.add_argument("--symbols", default=",".join(SYMBOLS), help=f"default {','.join(SYMBOLS)}")
    args = parser.parse_args(argv)
    symbols = tuple(s.strip().upper() for s in args.symbols.split(",") if s.strip())
    source = source_file()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    counts = generate(
        args.out, seed=args.seed, start=args.start, end=args.end, symbols=symbols, source=source
    )
    print(f"source {source.name} sha256 {digest}")
    print(f"seed {args.seed}, window {args.start} to {args.end}, written to {args.out}")
    print("| symbol | long setups | short setups |")
    print("|---|---:|---:|")
    for symbol, (long, short) in counts.items():
        print(f"| {symbol} | {long} | {short} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
