#!/usr/bin/env python3
"""Regenerate tickstate's demo data set under ``data/``.

Real daily bars come from ``bokeh_sampledata/_data/stocks.csv.gz`` (Quandl WIKI prices, public
domain; the ``bokeh-sampledata`` package, BSD-3-Clause). The intraday bars are **synthetic**:
each real day becomes a seeded Brownian bridge that starts at the day's open, touches the day's
high and low exactly (in an order chosen by a seeded coin), and ends at the day's close. A
1-minute bar exists only for a minute with a (synthetic) print, as on Alpaca's feed: most
minutes of the regular session have one, fewer at midday, few before the open and after the
close. The 5-minute bars are those 1-minute bars of the regular session, aggregated.

Usage (from the repository root, with ``bokeh-sampledata`` installed, e.g. by ``.[dev]``)::

    python scripts/make_demo_data.py

writes ``data/daily/{SYMBOL}.csv``, ``data/intraday_1min/{SYMBOL}.csv.gz`` and
``data/intraday_5min/{SYMBOL}.csv``. The same seed, window and symbols give byte-identical files:
every day's path is drawn from its own generator, seeded from ``(seed, symbol, date)``, every
price is computed in ``Decimal``, the random draws are sums of ``random.random()`` values (no
libm calls, so the same on every platform), and the gzip stream carries no time and no name.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib.resources
import io
import itertools
import math
import random
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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
MINUTE = timedelta(minutes=1)
BAR = timedelta(minutes=5)  # the aggregated files' bar
STEPS_PER_MINUTE = 2  # path points per minute (one every 30 seconds): each a possible print
DAY_VOLATILITY = 0.6  # a day's random-walk standard deviation, in units of its range
EXTENDED_VOLATILITY = 0.15  # the same for the whole pre-market or post-market stretch
PRE_MARKET_OPENS = time(4, 0)  # extended hours: 04:00 to the open, the close to 4 hours later
POST_MARKET = timedelta(hours=4)
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
class IntradayBar:
    """One synthetic intraday bar (1-minute, or 5 minutes aggregated)."""

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


# --- the price path ------------------------------------------------------------------------


def _normal(rng: random.Random) -> float:
    """A near-standard-normal draw (Irwin-Hall: twelve uniforms), the same on every platform."""
    return sum(rng.random() for _ in range(12)) - 6.0


def _walk(rng: random.Random, steps: int, step_sd: float) -> list[float]:
    """A random walk of ``steps`` steps from zero: ``steps + 1`` points."""
    walk = [0.0]
    for _ in range(steps):
        walk.append(walk[-1] + step_sd * _normal(rng))
    return walk


def _bridge(rng: random.Random, steps: int, step_sd: float) -> list[Decimal]:
    """A Brownian bridge of ``steps`` steps: ``steps + 1`` points, zero at both ends."""
    walk = _walk(rng, steps, step_sd)
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


def _cent(price: Decimal) -> Decimal:
    return price.quantize(TICK, rounding=ROUND_HALF_EVEN)


def _path(rng: random.Random, day: Day, steps: int) -> tuple[list[Decimal], int, int]:
    """``steps + 1`` prices: open → first extreme → second extreme → close, on the 0.01 tick;
    and the steps at which the path touches the high and the low."""
    span = day.high - day.low
    if span == 0:
        return [day.open] * (steps + 1), 0, 0
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
            path.append(_cent(_fold(price, day.low, day.high)))
    return path, (t1 if high_first else t2), (t2 if high_first else t1)


def _extended_path(
    rng: random.Random, start: Decimal, end: Decimal | None, steps: int, scale: Decimal
) -> list[Decimal]:
    """``steps + 1`` prices outside the regular session: a bridge from ``start`` to ``end`` (the
    pre-market, into the open), or a free walk from ``start`` (the post-market). Not held inside
    the day's range: extended-hours prints may lie beyond it. Never below one tick."""
    step_sd = EXTENDED_VOLATILITY / math.sqrt(steps)
    if end is None:
        noise = [Decimal(f"{value:.6f}") for value in _walk(rng, steps, step_sd)]
        end = start
    else:
        noise = _bridge(rng, steps, step_sd)
    prices = []
    for k in range(steps + 1):
        price = start + (end - start) * k / steps + scale * noise[k]
        prices.append(_cent(abs(price - TICK) + TICK))  # reflected at one tick
    return prices


# --- which minutes print -------------------------------------------------------------------


def _regular_print_chance(i: int, minutes: int) -> float:
    """A regular-session minute trades almost surely near the open and the close, about every
    other minute at midday."""
    u = 2 * i / (minutes - 1) - 1 if minutes > 1 else 0.0
    return 0.55 + 0.4 * u * u


def _pre_market_print_chance(i: int, minutes: int) -> float:
    """Rare prints from 04:00, more of them in the last half hour before the open."""
    x = i / (minutes - 1) if minutes > 1 else 1.0
    return 0.03 + 0.5 * x**4


def _post_market_print_chance(i: int, minutes: int) -> float:
    """Many prints just after the close, rare ones towards the end of the post-market."""
    x = i / (minutes - 1) if minutes > 1 else 0.0
    return 0.03 + 0.5 * (1 - x) ** 4


def _split_volume(rng: random.Random, volume: int, positions: Sequence[float]) -> list[int]:
    """``volume`` shared among bars at ``positions`` (-1 the open, 1 the close): U-shaped over the
    day, jittered, summing exactly; at least one share a bar when there is enough to go round."""
    weights = [int((1 + 2 * u * u) * (0.5 + rng.random()) * 1_000_000) for u in positions]
    bars = len(weights)
    floor = 1 if volume >= bars else 0
    rest = volume - floor * bars
    total = sum(weights) or 1
    shares = [floor + rest * w // total for w in weights]
    remainders = sorted(range(bars), key=lambda i: (-(rest * weights[i] % total), i))
    for i in remainders[: volume - sum(shares)]:
        shares[i] += 1
    return shares


def _minute_bars(
    start: datetime, prices: Sequence[Decimal], printed: Sequence[bool], volumes: Sequence[int]
) -> list[IntradayBar]:
    """One bar per printed minute; minute ``i`` holds points ``(i*S, (i+1)*S]`` of ``prices``
    (minute 0 also point 0), ``S`` the steps per minute."""
    bars = []
    volume = iter(volumes)
    for i, prints in enumerate(printed):
        if not prints:
            continue
        first = i * STEPS_PER_MINUTE + (0 if i == 0 else 1)
        points = prices[first : (i + 1) * STEPS_PER_MINUTE + 1]
        bars.append(
            IntradayBar(
                start=start + i * MINUTE,
                open=points[0],
                high=max(points),
                low=min(points),
                close=points[-1],
                volume=next(volume),
            )
        )
    return bars


def synthesize(
    symbol: str,
    day: Day,
    opens_at: datetime,
    closes_at: datetime,
    seed: int,
    previous_close: Decimal | None = None,
) -> list[IntradayBar]:
    """The 1-minute bars of one real day: the regular session, a Brownian bridge through its O,
    H, L and C, and (when ``previous_close`` is known) the pre-market from it into the open, and
    the post-market. Only minutes with a print have a bar; the minutes of the open, the high,
    the low and the close always do, so the regular session's bars summarise to ``day``."""
    rng = random.Random(f"{seed}:{symbol}:{day.session.isoformat()}")
    opens_utc, closes_utc = opens_at.astimezone(UTC), closes_at.astimezone(UTC)
    minutes = (closes_at - opens_at) // MINUTE
    prices, at_high, at_low = _path(rng, day, minutes * STEPS_PER_MINUTE)
    forced = {0, minutes - 1, max(at_high - 1, 0) // STEPS_PER_MINUTE}
    forced.add(max(at_low - 1, 0) // STEPS_PER_MINUTE)
    printed = [
        i in forced or rng.random() < _regular_print_chance(i, minutes) for i in range(minutes)
    ]
    positions = [2 * i / max(minutes - 1, 1) - 1 for i in range(minutes) if printed[i]]
    regular = _minute_bars(opens_utc, prices, printed, _split_volume(rng, day.volume, positions))

    span = max(day.high - day.low, TICK)
    before: list[IntradayBar] = []
    if previous_close is not None:
        pre_opens = datetime.combine(day.session, PRE_MARKET_OPENS, tzinfo=opens_at.tzinfo)
        count = (opens_at - pre_opens) // MINUTE
        path = _extended_path(rng, previous_close, day.open, count * STEPS_PER_MINUTE, span)
        printed = [rng.random() < _pre_market_print_chance(i, count) for i in range(count)]
        before = _minute_bars(pre_opens.astimezone(UTC), path, printed, _thin(rng, day, printed))
    count = POST_MARKET // MINUTE
    path = _extended_path(rng, day.close, None, count * STEPS_PER_MINUTE, span)
    printed = [rng.random() < _post_market_print_chance(i, count) for i in range(count)]
    after = _minute_bars(closes_utc, path, printed, _thin(rng, day, printed))
    return [*before, *regular, *after]


def _thin(rng: random.Random, day: Day, printed: Sequence[bool]) -> list[int]:
    """Extended-hours volumes: thin (a few hundredths of a percent of the day's per bar), and not
    part of the real daily volume, which is the regular session's."""
    return [max(1, day.volume * rng.randint(5, 60) // 100_000) for p in printed if p]


def aggregate(
    bars: Iterable[IntradayBar], opens_at: datetime, closes_at: datetime, size: timedelta = BAR
) -> list[IntradayBar]:
    """``size`` bars of the regular session ``[opens_at, closes_at)`` from 1-minute ``bars``,
    aligned to the open; a bucket with no 1-minute bar has no bar."""
    buckets: dict[datetime, list[IntradayBar]] = {}
    opens_utc, closes_utc = opens_at.astimezone(UTC), closes_at.astimezone(UTC)
    for bar in bars:
        if opens_utc <= bar.start < closes_utc:
            start = opens_utc + (bar.start - opens_utc) // size * size
            buckets.setdefault(start, []).append(bar)
    return [
        IntradayBar(
            start=start,
            open=group[0].open,
            high=max(b.high for b in group),
            low=min(b.low for b in group),
            close=group[-1].close,
            volume=sum(b.volume for b in group),
        )
        for start, group in sorted(buckets.items())
    ]


# --- files ---------------------------------------------------------------------------------


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


def intraday_text(symbol: str, bars: Iterable[IntradayBar]) -> str:
    """The CSV text of one symbol's intraday bars."""
    handle = io.StringIO(newline="")
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(INTRADAY_HEADER)
    for bar in bars:
        start = bar.start.strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow((symbol, start, bar.open, bar.high, bar.low, bar.close, bar.volume))
    return handle.getvalue()


def write_intraday(path: Path, symbol: str, bars: Iterable[IntradayBar]) -> None:
    """``data/intraday_5min/{SYMBOL}.csv``, or gzip-compressed when ``path`` ends in ``.gz``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = intraday_text(symbol, bars).encode("utf-8")
    if path.suffix == ".gz":
        # No file name and no time in the header: the same bars give the same bytes.
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as packed,
        ):
            packed.write(data)
    else:
        path.write_bytes(data)


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
        minutes: list[IntradayBar] = []
        fives: list[IntradayBar] = []
        previous: Day | None = None
        for day in days:
            if not calendar.is_session(day.session):
                sys.exit(f"make_demo_data: {symbol} {day.session} is not a {CALENDAR} session")
            opens_at, closes_at = calendar.open_at(day.session), calendar.close_at(day.session)
            close = previous.close if previous is not None else None
            today = synthesize(symbol, day, opens_at, closes_at, seed, close)
            minutes.extend(today)
            fives.extend(aggregate(today, opens_at, closes_at))
            previous = day
        write_daily(out / "daily" / f"{symbol}.csv", days)
        write_intraday(out / "intraday_1min" / f"{symbol}.csv.gz", symbol, minutes)
        write_intraday(out / "intraday_5min" / f"{symbol}.csv", symbol, fives)
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
