"""The demo data set: its synthetic intraday bars summarise exactly to the real daily bars, sit on
the XNYS session grid, and regenerate byte for byte from the seed."""

import csv
import importlib.util
import re
import sys
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
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


@pytest.fixture(scope="module")
def intraday():
    bars = load_bars(DATA / "intraday_5min")
    by_symbol = defaultdict(list)
    for bar in bars:
        by_symbol[bar.symbol].append(bar)
    return by_symbol


def test_the_committed_set_has_its_five_symbols():
    assert sorted(p.stem for p in (DATA / "daily").glob("*.csv")) == sorted(SYMBOLS)
    assert sorted(p.stem for p in (DATA / "intraday_5min").glob("*.csv")) == sorted(SYMBOLS)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_intraday_summarises_exactly_to_the_real_daily_bars(intraday, symbol):
    daily = load_daily(DATA / "daily" / f"{symbol}.csv")
    assert len(daily) >= 150
    assert daily_from_intraday(intraday[symbol]) == daily


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_intraday_bars_sit_on_the_regular_session_grid(intraday, symbol):
    per_day = defaultdict(list)
    for bar in intraday[symbol]:
        per_day[bar.start.astimezone(NYSE.timezone).date()].append(bar.start)
    volumes = {}
    with (DATA / "daily" / f"{symbol}.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            volumes[date.fromisoformat(row["date"])] = int(row["volume"])
    assert sorted(per_day) == sorted(volumes)
    lengths = Counter()
    for day, starts in per_day.items():
        opens, closes = NYSE.open_at(day), NYSE.close_at(day)
        count = (closes - opens) // timedelta(minutes=5)
        assert starts == [opens.astimezone(UTC) + i * timedelta(minutes=5) for i in range(count)]
        lengths[len(starts)] += 1
    assert set(lengths) <= {78, 42}
    if symbol != "FB":
        assert lengths[42] == 3  # 2012-07-03, 2012-11-23, 2012-12-24 close at 13:00
    # The bar volumes add up to the real daily volume.
    summed = Counter()
    for bar in intraday[symbol]:
        summed[bar.start.astimezone(NYSE.timezone).date()] += bar.volume
    assert summed == {day: Decimal(v) for day, v in volumes.items()}


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_files_are_plain_cent_prices_and_utc_z_times(symbol):
    daily = (DATA / "daily" / f"{symbol}.csv").read_text(encoding="utf-8").splitlines()
    assert daily[0] == "date,open,high,low,close,volume"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d(,\d+\.\d\d){4},\d+", line) for line in daily[1:])
    intra = (DATA / "intraday_5min" / f"{symbol}.csv").read_text(encoding="utf-8").splitlines()
    assert intra[0] == "symbol,start,open,high,low,close,volume"
    pattern = re.compile(rf"{symbol},\d{{4}}-\d\d-\d\dT\d\d:[0-5][05]:00Z(,\d+\.\d\d){{4}},\d+")
    assert all(pattern.fullmatch(line) for line in intra[1:])


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


def _day(o, h, lo, c, v=1_000_000):
    return demo.Day(
        session=date(2012, 1, 3), open=Decimal(o), high=Decimal(h), low=Decimal(lo), close=Decimal(c), volume=v
    )


@pytest.mark.parametrize(
    "day",
    [
        _day("100.00", "101.00", "99.00", "100.50"),
        _day("101.00", "101.00", "99.00", "99.00"),  # an 80-20 long setup at the edges
        _day("99.00", "101.00", "99.00", "101.00"),
        _day("50.00", "50.01", "49.99", "50.00", v=7),
        _day("10.00", "10.00", "10.00", "10.00", v=0),  # no range at all
    ],
    ids=["plain", "open-high-close-low", "open-low-close-high", "tiny", "unchanged"],
)
@pytest.mark.parametrize("seed", [1, 8020])
def test_a_synthetic_day_goes_through_the_real_ohlc(day, seed):
    bars = demo.synthesize("X", day, OPENS, CLOSES, seed)
    assert len(bars) == 78
    assert bars[0].open == day.open
    assert bars[-1].close == day.close
    assert max(b.high for b in bars) == day.high
    assert min(b.low for b in bars) == day.low
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert all(p == p.quantize(Decimal("0.01")) for p in (bar.open, bar.high, bar.low, bar.close))
    assert sum(b.volume for b in bars) == day.volume
    assert bars == demo.synthesize("X", day, OPENS, CLOSES, seed)


def test_the_seed_changes_the_path_not_the_summary():
    day = _day("100.00", "101.00", "99.00", "100.50")
    one = demo.synthesize("X", day, OPENS, CLOSES, 1)
    two = demo.synthesize("X", day, OPENS, CLOSES, 2)
    assert [b.close for b in one] != [b.close for b in two]
    assert (one[0].open, one[-1].close) == (two[0].open, two[-1].close)


def test_regenerating_fb_gives_byte_identical_files(tmp_path):
    pytest.importorskip("bokeh_sampledata", reason="bokeh-sampledata (the dev extra) holds the source")
    counts = demo.generate(tmp_path, symbols=("FB",))
    assert counts == {"FB": (26, 9)}
    for part in ("daily", "intraday_5min"):
        assert (tmp_path / part / "FB.csv").read_bytes() == (DATA / part / "FB.csv").read_bytes(), part
