"""The demo data set: its synthetic 1-minute bars exist only for minutes with prints (pre- and
post-market too), their regular session and the 5-minute bars aggregated from it summarise
exactly to the real daily bars on the XNYS session grid, and all regenerate byte for byte."""

import csv
import gzip
import importlib.util
import re
import sys
import zlib
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from strategies._sessions import TradingCalendar
from strategies.run import daily_from_intraday, load_bars, load_daily

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
SYMBOLS = ("AAPL", "FB", "GOOG", "IBM", "MSFT")
NYSE = TradingCalendar.for_name("XNYS")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_data", ROOT / "scripts" / "make_demo_data.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


demo = _script()


def _by_symbol(bars):
    found = defaultdict(list)
    for bar in bars:
        found[bar.symbol].append(bar)
    return found


@pytest.fixture(scope="module")
def intraday():
    return _by_symbol(load_bars(DATA / "intraday_5min"))


@pytest.fixture(scope="module", params=SYMBOLS)
def minutes(request):
    """(symbol, its 1-minute bars): one symbol's file at a time (a year of them is large)."""
    return request.param, load_bars(DATA / "intraday_1min" / f"{request.param}.csv.gz")


def _day(bar):
    return bar.start.astimezone(NYSE.timezone).date()


def _regular(bars):
    """The bars that start inside their day's regular session (early closes at 13:00)."""
    return [b for b in bars if NYSE.open_at(_day(b)) <= b.start < NYSE.close_at(_day(b))]


def _volumes(symbol):
    with (DATA / "daily" / f"{symbol}.csv").open(encoding="utf-8") as handle:
        return {date.fromisoformat(row["date"]): int(row["volume"]) for row in csv.DictReader(handle)}


def test_the_committed_set_has_its_five_symbols():
    assert sorted(p.stem for p in (DATA / "daily").glob("*.csv")) == sorted(SYMBOLS)
    assert sorted(p.stem for p in (DATA / "intraday_5min").glob("*.csv")) == sorted(SYMBOLS)
    names = sorted(p.name for p in (DATA / "intraday_1min").iterdir())
    assert names == [f"{symbol}.csv.gz" for symbol in sorted(SYMBOLS)]


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_5_minute_bars_summarise_exactly_to_the_real_daily_bars(intraday, symbol):
    daily = load_daily(DATA / "daily" / f"{symbol}.csv")
    assert len(daily) >= 150
    assert daily_from_intraday(intraday[symbol]) == daily


def test_the_regular_minutes_summarise_exactly_to_the_real_daily_bars(minutes):
    """The 1-minute bars of the regular session give the real day (extended hours left out)."""
    symbol, bars = minutes
    assert daily_from_intraday(_regular(bars)) == load_daily(DATA / "daily" / f"{symbol}.csv")


def test_the_5_minute_bars_are_the_regular_minutes_aggregated(intraday, minutes):
    """Each 5-minute bar is the 1-minute bars of its bucket (aligned to the open), and a bucket
    without any 1-minute bar has none."""
    symbol, bars = minutes
    per_day = defaultdict(list)
    for bar in bars:
        per_day[_day(bar)].append(
            demo.IntradayBar(bar.start, bar.open, bar.high, bar.low, bar.close, int(bar.volume))
        )
    expected = []
    for day, day_bars in sorted(per_day.items()):
        expected.extend(demo.aggregate(day_bars, NYSE.open_at(day), NYSE.close_at(day)))
    got = [
        demo.IntradayBar(b.start, b.open, b.high, b.low, b.close, int(b.volume))
        for b in intraday[symbol]
    ]
    assert got == expected


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_5_minute_bars_sit_on_the_regular_session_grid(intraday, symbol):
    """Aligned to the open, first at the open and last before the close; a few buckets empty."""
    per_day = defaultdict(list)
    for bar in intraday[symbol]:
        per_day[_day(bar)].append(bar.start)
    volumes = _volumes(symbol)
    assert sorted(per_day) == sorted(volumes)
    missing = 0
    for day, starts in per_day.items():
        opens, closes = NYSE.open_at(day).astimezone(UTC), NYSE.close_at(day).astimezone(UTC)
        count = (closes - opens) // timedelta(minutes=5)
        grid = [opens + i * timedelta(minutes=5) for i in range(count)]
        assert set(starts) <= set(grid)
        assert starts == sorted(starts)
        assert (starts[0], starts[-1]) == (grid[0], grid[-1])
        missing += count - len(starts)
        if symbol != "FB" and day in (date(2012, 7, 3), date(2012, 11, 23), date(2012, 12, 24)):
            assert count == 42  # the early closes at 13:00
    assert 0 < missing < len(per_day) * 2  # a quiet bucket now and then, never many
    summed = Counter()
    for bar in intraday[symbol]:
        summed[_day(bar)] += bar.volume
    assert summed == {day: Decimal(v) for day, v in volumes.items()}


def test_1_minute_bars_exist_only_for_minutes_with_prints(minutes):
    """Minute bars from 04:00 to 4 hours after the close, sparse (more so at midday and outside
    the session); the regular session's volumes add up to the real daily volume."""
    symbol, bars = minutes
    starts = [b.start for b in bars]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)
    assert all(s.second == 0 and s.microsecond == 0 for s in starts)
    days = defaultdict(lambda: Counter())
    summed = Counter()
    regular_by_minute = Counter()
    for bar in bars:
        day = _day(bar)
        opens, closes = NYSE.open_at(day), NYSE.close_at(day)
        local = bar.start.astimezone(NYSE.timezone)
        assert local.time() >= time(4, 0)
        assert bar.start < closes + timedelta(hours=4)
        part = "pre" if bar.start < opens else "post" if bar.start >= closes else "regular"
        days[day][part] += 1
        if part == "regular":
            summed[day] += bar.volume
            regular_by_minute[(bar.start - opens) // timedelta(minutes=1)] += 1
    assert summed == {day: Decimal(v) for day, v in _volumes(symbol).items()}
    sessions = len(days)
    assert sum(1 for d in days.values() if d["pre"]) >= sessions - 1  # not before the first day
    assert all(d["post"] for d in days.values())
    for d in days.values():
        assert d["pre"] < 330 / 2
        assert d["post"] < 240 / 2
        assert d["regular"] < 390  # some regular minutes without a print
    # At the open and the close nearly every minute prints; at midday about every other one.
    assert regular_by_minute[0] == sessions
    assert regular_by_minute[180] < 0.8 * sessions < regular_by_minute[2]


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_files_are_plain_cent_prices_and_utc_z_times(symbol):
    daily = (DATA / "daily" / f"{symbol}.csv").read_text(encoding="utf-8").splitlines()
    assert daily[0] == "date,open,high,low,close,volume"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d(,\d+\.\d\d){4},\d+", line) for line in daily[1:])
    intra = (DATA / "intraday_5min" / f"{symbol}.csv").read_text(encoding="utf-8").splitlines()
    assert intra[0] == "symbol,start,open,high,low,close,volume"
    pattern = re.compile(rf"{symbol},\d{{4}}-\d\d-\d\dT\d\d:[0-5][05]:00Z(,\d+\.\d\d){{4}},\d+")
    assert all(pattern.fullmatch(line) for line in intra[1:])
    packed = (DATA / "intraday_1min" / f"{symbol}.csv.gz").read_bytes()
    assert packed[:4] == b"\x1f\x8b\x08\x00"  # gzip, deflate, no flags (so no file name)
    assert packed[4:8] == b"\x00\x00\x00\x00"  # no modification time
    lines = gzip.decompress(packed).decode("utf-8").splitlines()
    assert lines[0] == "symbol,start,open,high,low,close,volume"
    pattern = re.compile(rf"{symbol},\d{{4}}-\d\d-\d\dT\d\d:\d\d:00Z(,\d+\.\d\d){{4}},\d+")
    assert all(pattern.fullmatch(line) for line in lines[1:])


def test_readme_setup_table_matches_the_daily_files():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    table = dict(
        (symbol, (int(long), int(short)))
        for symbol, long, short in re.findall(r"^\| (\w+) \| (\d+) \| (\d+) \|$", readme, flags=re.M)
    )
    counted = {}
    for symbol in SYMBOLS:
        with (DATA / "daily" / f"{symbol}.csv").open(encoding="utf-8") as handle:
            rows = [
                demo.Day(
                    session=date.fromisoformat(r["date"]),
                    open=Decimal(r["open"]),
                    high=Decimal(r["high"]),
                    low=Decimal(r["low"]),
                    close=Decimal(r["close"]),
                    volume=int(r["volume"]),
                )
                for r in csv.DictReader(handle)
            ]
        counted[symbol] = demo.setups(rows)
    assert table == counted
    assert f"seed **{demo.SEED}**" in readme
    assert f"window **{demo.START} to {demo.END}**" in readme


# --- the generator on hand-built days -----------------------------------------------------------

OPENS = datetime(2012, 1, 3, 9, 30, tzinfo=NYSE.timezone)
CLOSES = datetime(2012, 1, 3, 16, 0, tzinfo=NYSE.timezone)


def _day_bar(o, h, lo, c, v=1_000_000):
    return demo.Day(
        session=date(2012, 1, 3), open=Decimal(o), high=Decimal(h), low=Decimal(lo), close=Decimal(c), volume=v
    )


def _regular_of(bars, opens=OPENS, closes=CLOSES):
    return [b for b in bars if opens <= b.start < closes]


@pytest.mark.parametrize(
    "day",
    [
        _day_bar("100.00", "101.00", "99.00", "100.50"),
        _day_bar("101.00", "101.00", "99.00", "99.00"),  # an 80-20 long setup at the edges
        _day_bar("99.00", "101.00", "99.00", "101.00"),
        _day_bar("50.00", "50.01", "49.99", "50.00", v=7),
        _day_bar("10.00", "10.00", "10.00", "10.00", v=0),  # no range at all
    ],
    ids=["plain", "open-high-close-low", "open-low-close-high", "tiny", "unchanged"],
)
@pytest.mark.parametrize("seed", [1, 8020])
def test_a_synthetic_day_goes_through_the_real_ohlc(day, seed):
    """The regular session's minutes reach the real open, high, low and close; minutes without
    a print have no bar; extended hours come before and after; the same seed, the same bars."""
    bars = demo.synthesize("X", day, OPENS, CLOSES, seed, previous_close=Decimal("100.00"))
    regular = _regular_of(bars)
    assert 0 < len(regular) < 390
    assert regular[0].start == OPENS
    assert regular[-1].start == CLOSES - timedelta(minutes=1)
    assert regular[0].open == day.open
    assert regular[-1].close == day.close
    assert max(b.high for b in regular) == day.high
    assert min(b.low for b in regular) == day.low
    assert bars[0].start < OPENS
    assert bars[-1].start >= CLOSES
    for bar in bars:
        assert bar.start.second == 0
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert all(p == p.quantize(Decimal("0.01")) and p > 0 for p in (bar.open, bar.high, bar.low, bar.close))
    assert sum(b.volume for b in regular) == day.volume
    assert bars == demo.synthesize("X", day, OPENS, CLOSES, seed, previous_close=Decimal("100.00"))
    fives = demo.aggregate(bars, OPENS, CLOSES)
    assert 0 < len(fives) <= 78
    assert (fives[0].open, fives[-1].close) == (day.open, day.close)
    assert sum(b.volume for b in fives) == day.volume


def test_without_a_previous_close_there_is_no_pre_market():
    """The first day of a file has no pre-market: there is no close to start it from."""
    bars = demo.synthesize("X", _day_bar("100.00", "101.00", "99.00", "100.50"), OPENS, CLOSES, 1)
    assert bars[0].start == OPENS


def test_aggregation_keeps_only_buckets_with_a_minute_and_the_regular_session():
    """A 5-minute bar summarises its minutes; empty buckets and extended hours have none."""
    D = Decimal

    def minute(offset, o, h, lo, c, v):
        return demo.IntradayBar(OPENS + timedelta(minutes=offset), D(o), D(h), D(lo), D(c), v)

    bars = [
        minute(-1, "9", "9", "9", "9", 5),  # 09:29, pre-market
        minute(0, "10", "11", "10", "11", 1),
        minute(3, "11", "12", "9", "10", 2),
        minute(11, "10", "10", "10", "10", 3),  # 09:41; nothing from 09:35 to 09:39
        minute(390, "12", "12", "12", "12", 4),  # 16:00, post-market
    ]
    assert demo.aggregate(bars, OPENS, CLOSES) == [
        demo.IntradayBar(OPENS, D(10), D(12), D(9), D(10), 3),
        demo.IntradayBar(OPENS + timedelta(minutes=10), D(10), D(10), D(10), D(10), 3),
    ]


def test_the_seed_changes_the_path_not_the_summary():
    day = _day_bar("100.00", "101.00", "99.00", "100.50")
    one = _regular_of(demo.synthesize("X", day, OPENS, CLOSES, 1))
    two = _regular_of(demo.synthesize("X", day, OPENS, CLOSES, 2))
    assert [b.close for b in one] != [b.close for b in two]
    assert (one[0].open, one[-1].close) == (two[0].open, two[-1].close)


def test_regenerating_fb_gives_byte_identical_files(tmp_path):
    """The script writes the committed FB files again: the same text, and (with the reference
    zlib, whose deflate output the committed file holds) the same compressed bytes."""
    pytest.importorskip("bokeh_sampledata", reason="bokeh-sampledata (the dev extra) holds the source")
    counts = demo.generate(tmp_path, symbols=("FB",))
    assert counts == {"FB": (26, 9)}
    for part in ("daily/FB.csv", "intraday_5min/FB.csv"):
        assert (tmp_path / part).read_bytes() == (DATA / part).read_bytes(), part
    made = (tmp_path / "intraday_1min" / "FB.csv.gz").read_bytes()
    committed = (DATA / "intraday_1min" / "FB.csv.gz").read_bytes()
    assert gzip.decompress(made) == gzip.decompress(committed)
    if "ng" not in zlib.ZLIB_RUNTIME_VERSION:  # zlib-ng deflates the same text differently
        assert made == committed
