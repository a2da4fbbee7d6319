"""Bar files: exact Decimal round trip, one-line errors naming file/line/column, daily aggregation."""

import gzip
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from brokers import Bar
from strategies._exceptions import DataError, StrategyError
from strategies.run import daily_from_intraday, load_bars, load_daily
from strategies.signals import DailyBar

HEADER = "symbol,start,open,high,low,close,volume\n"
NY = ZoneInfo("America/New_York")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _bar(symbol: str, start: datetime, o: str, h: str, lo: str, c: str, v: str = "0") -> Bar:
    return Bar(
        symbol=symbol,
        start=start,
        open=Decimal(o),
        high=Decimal(h),
        low=Decimal(lo),
        close=Decimal(c),
        volume=Decimal(v),
    )


# --- load_bars ----------------------------------------------------------------------------------


def test_load_bars_round_trip_keeps_exact_decimals(tmp_path):
    file = _write(
        tmp_path / "x.csv",
        HEADER
        + "AAPL,2012-01-03T14:35:00Z,0.1,0.30,0.1,0.2,100\n"
        + "AAPL,2012-01-03T14:30:00Z,409.40,409.53,409.28,409.49,236657\n",
    )
    bars = load_bars(file)
    assert bars == [
        _bar("AAPL", datetime(2012, 1, 3, 14, 30, tzinfo=UTC), "409.40", "409.53", "409.28", "409.49", "236657"),
        _bar("AAPL", datetime(2012, 1, 3, 14, 35, tzinfo=UTC), "0.1", "0.30", "0.1", "0.2", "100"),
    ]
    # Parsed from the text, never through a float: 0.1 + 0.2 is exactly 0.3, digits are kept.
    assert bars[1].open + bars[1].close == Decimal("0.3")
    assert str(bars[0].open) == "409.40"
    assert all(isinstance(b.high, Decimal) and b.start.tzinfo is UTC for b in bars)


def test_load_bars_accepts_an_offset_and_normalises_to_utc(tmp_path):
    file = _write(tmp_path / "x.csv", HEADER + "IBM,2012-01-03T09:30:00-05:00,1,2,1,2,5\n")
    (bar,) = load_bars(file)
    assert bar.start == datetime(2012, 1, 3, 14, 30, tzinfo=UTC)
    assert bar.start.tzinfo is UTC


def test_load_bars_columns_in_any_order_and_optional_ones(tmp_path):
    file = _write(
        tmp_path / "x.csv",
        "close,low,high,open,start,symbol,vwap,trade_count\n"
        "2,1,3,1.5,2012-01-03T14:30:00Z,MSFT,1.75,12\n",
    )
    (bar,) = load_bars(file)
    assert (bar.open, bar.high, bar.low, bar.close) == (Decimal("1.5"), 3, 1, 2)
    assert bar.volume == 0
    assert bar.vwap == Decimal("1.75")
    assert bar.trade_count == 12


def test_load_bars_of_a_directory_sorted_by_start_then_symbol(tmp_path):
    _write(
        tmp_path / "b.csv",
        HEADER + "MSFT,2012-01-03T14:35:00Z,1,1,1,1,1\nMSFT,2012-01-03T14:30:00Z,1,1,1,1,1\n",
    )
    _write(tmp_path / "a.csv", HEADER + "AAPL,2012-01-03T14:35:00Z,2,2,2,2,2\n")
    _write(tmp_path / "notes.txt", "not a bar file\n")
    bars = load_bars(tmp_path)
    assert [(b.start.minute, b.symbol) for b in bars] == [(30, "MSFT"), (35, "AAPL"), (35, "MSFT")]


def test_load_bars_skips_blank_lines_and_a_bom(tmp_path):
    file = tmp_path / "x.csv"
    file.write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + b"\nIBM,2012-01-03T14:30:00Z,1,1,1,1,1\n\n")
    assert len(load_bars(file)) == 1


def test_data_error_is_a_strategy_error(tmp_path):
    file = _write(tmp_path / "x.csv", HEADER + "IBM,2012-01-03T14:30:00Z,1,x,1,1,1\n")
    with pytest.raises(StrategyError) as caught:
        load_bars(file)
    assert isinstance(caught.value, DataError)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.line, caught.value.column) == (2, "high")


GOOD = "IBM,2012-01-03T14:30:00Z,10,11,9,10.5,100\n"

MALFORMED_BARS = [
    ("", "{f}: empty file, expected the header symbol,start,open,high,low,close"),
    (
        "symbol,start,open,high,low,volume\n",
        "{f}: line 1, column close: missing from the header, expected "
        "symbol,start,open,high,low,close (optional: volume,trade_count,vwap)",
    ),
    (
        "symbol,start,open,high,low,close,price\n",
        "{f}: line 1, column price: unknown column, expected "
        "symbol,start,open,high,low,close (optional: volume,trade_count,vwap)",
    ),
    ("symbol,start,open,open,high,low,close\n", "{f}: line 1, column open: appears twice in the header"),
    (HEADER + GOOD + "IBM,2012-01-03T14:35:00Z,10,1O,9,10,1\n", "{f}: line 3, column high: not a decimal number: '1O'"),
    (HEADER + "IBM,2012-01-03T14:30:00Z,10,11,9,10.5,1e3\n", "{f}: line 2, column volume: not a decimal number: '1e3'"),
    (HEADER + "IBM,2012-01-03T14:30:00Z,NaN,11,9,10,1\n", "{f}: line 2, column open: not a decimal number: 'NaN'"),
    (HEADER + "IBM,2012-01-03T14:30:00Z,-1,11,9,10,1\n", "{f}: line 2, column open: not a decimal number: '-1'"),
    (HEADER + "IBM,2012-01-03T14:30:00Z,10,11,9,,1\n", "{f}: line 2, column close: empty"),
    (HEADER + " ,2012-01-03T14:30:00Z,10,11,9,10,1\n", "{f}: line 2, column symbol: empty"),
    (HEADER + "IBM,2012-01-03T14:30:00Z,10,11,9\n", "{f}: line 2, column close: missing"),
    (HEADER + "IBM,2012-01-03T14:30:00Z,10,11,9,10,1,7\n", "{f}: line 2: 8 values, the header has 7"),
    (
        HEADER + "IBM,2012-01-03T14:30:00,10,11,9,10,1\n",
        "{f}: line 2, column start: not an RFC 3339 time with a UTC offset: '2012-01-03T14:30:00'",
    ),
    (
        HEADER + "IBM,2012-01-03,10,11,9,10,1\n",
        "{f}: line 2, column start: not an RFC 3339 time with a UTC offset: '2012-01-03'",
    ),
    (
        HEADER + "IBM,2012-13-03T14:30:00Z,10,11,9,10,1\n",
        "{f}: line 2, column start: not an RFC 3339 time with a UTC offset: '2012-13-03T14:30:00Z'",
    ),
    (HEADER + "IBM,2012-01-03T14:30:00Z,10,9,11,10,1\n", "{f}: line 2, column low: low 11 is above high 9"),
    (HEADER + "IBM,2012-01-03T14:30:00Z,12,11,9,10,1\n", "{f}: line 2, column open: open 12 is outside [low 9, high 11]"),
    (HEADER + "IBM,2012-01-03T14:30:00Z,10,11,9,8.99,1\n", "{f}: line 2, column close: close 8.99 is outside [low 9, high 11]"),
    (
        HEADER + GOOD + "IBM,2012-01-03T09:30:00-05:00,10,11,9,10,1\n",
        "{f}: line 3, column start: a second IBM bar at 2012-01-03T14:30:00Z (first: {f} line 2)",
    ),
    (HEADER + 'IBM,"2012-01-03T14:30:00Z,10,11,9,10,1\n', "{f}: line 2: not valid CSV: unexpected end of data"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED_BARS)
def test_malformed_bar_file_gives_one_exact_line(tmp_path, text, message):
    file = _write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError) as caught:
        load_bars(file)
    assert str(caught.value) == message.format(f=file)
    assert "\n" not in str(caught.value)


def test_not_utf8_and_missing_file_and_empty_directory(tmp_path):
    file = tmp_path / "latin.csv"
    file.write_bytes(HEADER.encode() + "IBM,2012-01-03T14:30:00Z,1,1,1,1,1 \xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.csv: not UTF-8 text$"):
        load_bars(file)
    with pytest.raises(DataError) as caught:
        load_bars(tmp_path / "absent.csv")
    assert str(caught.value) == f"{tmp_path / 'absent.csv'}: cannot read: No such file or directory"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError) as caught:
        load_bars(empty)
    assert str(caught.value) == f"{empty}: no .csv files in this directory"


def test_a_duplicate_across_two_files_names_both(tmp_path):
    _write(tmp_path / "a.csv", HEADER + GOOD)
    _write(tmp_path / "b.csv", HEADER + GOOD)
    with pytest.raises(DataError) as caught:
        load_bars(tmp_path)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert str(caught.value) == (
        f"{b}: line 2, column start: a second IBM bar at 2012-01-03T14:30:00Z (first: {a} line 2)"
    )


def _gzip(path, text):
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
        packed.write(text.encode("utf-8"))
    return path


def test_a_gzip_file_reads_like_its_text(tmp_path):
    """A ``.csv.gz`` file gives the bars its text gives; a directory reads both kinds together."""
    (tmp_path / "plain").mkdir()
    plain = _write(tmp_path / "plain" / "IBM.csv", HEADER + GOOD)
    packed = _gzip(tmp_path / "IBM.csv.gz", HEADER + GOOD)
    assert load_bars(packed) == load_bars(plain)
    _write(tmp_path / "MSFT.csv", HEADER + GOOD.replace("IBM", "MSFT"))
    assert [b.symbol for b in load_bars(tmp_path)] == ["IBM", "MSFT"]


def test_a_malformed_row_in_a_gzip_file_names_its_line(tmp_path):
    """The one-line errors are those of plain files, naming the ``.csv.gz`` file."""
    file = _gzip(tmp_path / "bad.csv.gz", HEADER + GOOD + "IBM,2012-01-03T14:35:00Z,10,1O,9,10,1\n")
    with pytest.raises(DataError) as caught:
        load_bars(file)
    assert str(caught.value) == f"{file}: line 3, column high: not a decimal number: '1O'"


def test_a_broken_gzip_file_is_one_line(tmp_path):
    """Bytes that are not gzip, and a gzip stream cut short, each end in one line."""
    fake = tmp_path / "fake.csv.gz"
    fake.write_bytes((HEADER + GOOD).encode())
    with pytest.raises(DataError) as caught:
        load_bars(fake)
    assert str(caught.value) == f"{fake}: not a gzip file"
    whole = _gzip(tmp_path / "whole.csv.gz", HEADER + GOOD).read_bytes()
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError) as caught:
        load_bars(cut)
    assert str(caught.value) == f"{cut}: not a complete gzip file"


# --- load_daily ---------------------------------------------------------------------------------

DAILY = "date,open,high,low,close,volume\n"


def test_load_daily_round_trip_sorted_by_date(tmp_path):
    file = _write(
        tmp_path / "AAPL.csv",
        DAILY + "2012-01-04,410.00,414.68,409.28,413.44,9286500\n2012-01-03,409.40,412.50,409.00,411.23,10793600\n",
    )
    assert load_daily(file) == [
        DailyBar(session=date(2012, 1, 3), open=Decimal("409.40"), high=Decimal("412.50"), low=Decimal("409.00"), close=Decimal("411.23")),
        DailyBar(session=date(2012, 1, 4), open=Decimal("410.00"), high=Decimal("414.68"), low=Decimal("409.28"), close=Decimal("413.44")),
    ]
    no_volume = _write(tmp_path / "b.csv", "date,open,high,low,close\n2012-01-03,1,2,1,2\n")
    assert [d.session for d in load_daily(no_volume)] == [date(2012, 1, 3)]


MALFORMED_DAILY = [
    (DAILY + "2012-01-03,1,2,1,2,5\n2012-01-03,1,2,1,2,5\n", "{f}: line 3, column date: a second bar for 2012-01-03 (first on line 2)"),
    (DAILY + "20120103,1,2,1,2,5\n", "{f}: line 2, column date: not a date (YYYY-MM-DD): '20120103'"),
    (DAILY + "2012-02-30,1,2,1,2,5\n", "{f}: line 2, column date: not a date (YYYY-MM-DD): '2012-02-30'"),
    (DAILY + "2012-01-03,1,2,1,2,lots\n", "{f}: line 2, column volume: not a decimal number: 'lots'"),
    (DAILY + "2012-01-03,1,2,1,2.5,5\n", "{f}: line 2, column close: close 2.5 is outside [low 1, high 2]"),
    (
        "symbol,start,open,high,low,close,volume\n",
        "{f}: line 1, column symbol: unknown column, expected date,open,high,low,close (optional: volume)",
    ),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED_DAILY)
def test_malformed_daily_file_gives_one_exact_line(tmp_path, text, message):
    file = _write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError) as caught:
        load_daily(file)
    assert str(caught.value) == message.format(f=file)


def test_load_daily_refuses_a_directory(tmp_path):
    with pytest.raises(DataError) as caught:
        load_daily(tmp_path)
    assert str(caught.value) == f"{tmp_path}: a directory; daily bars are read one symbol's file at a time"


# --- daily_from_intraday ------------------------------------------------------------------------


def _ny(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=NY).astimezone(UTC)


def test_daily_from_intraday_groups_by_new_york_date():
    d1, d2 = date(2013, 3, 8), date(2013, 3, 11)  # a Friday, and the Monday after DST starts
    bars = [
        _bar("X", _ny(d2, 9, 30), "20", "21", "19.5", "20.5"),
        _bar("X", _ny(d1, 15, 55), "10.5", "10.9", "10.1", "10.2"),
        _bar("X", _ny(d1, 9, 30), "10", "11", "10", "10.5"),
        _bar("X", _ny(d2, 15, 55), "20.5", "22", "20", "21.75"),
    ]
    assert daily_from_intraday(bars) == [
        DailyBar(session=d1, open=Decimal(10), high=Decimal(11), low=Decimal("10"), close=Decimal("10.2")),
        DailyBar(session=d2, open=Decimal(20), high=Decimal(22), low=Decimal("19.5"), close=Decimal("21.75")),
    ]
    assert daily_from_intraday([]) == []


def test_daily_from_intraday_takes_a_timezone_and_hours():
    # 20:00 New York is already the next day in Kolkata.
    late = _bar("X", datetime(2012, 1, 3, 1, 0, tzinfo=UTC), "1", "2", "1", "2")  # 20:00 NY, Jan 2
    early = _bar("X", datetime(2012, 1, 3, 14, 30, tzinfo=UTC), "3", "4", "3", "4")  # 09:30 NY
    assert [d.session for d in daily_from_intraday([late, early])] == [date(2012, 1, 2), date(2012, 1, 3)]
    kolkata = daily_from_intraday([late, early], ZoneInfo("Asia/Kolkata"))
    assert [(d.session, d.open, d.close) for d in kolkata] == [(date(2012, 1, 3), Decimal(1), Decimal(4))]
    regular = daily_from_intraday([late, early], hours=(time(9, 30), time(16, 0)))
    assert [(d.session, d.open) for d in regular] == [(date(2012, 1, 3), Decimal(3))]


def test_daily_from_intraday_refuses_mixed_symbols():
    start = datetime(2012, 1, 3, 14, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"^bars of several symbols \(A, B\): aggregate one at a time$"):
        daily_from_intraday([_bar("A", start, "1", "1", "1", "1"), _bar("B", start, "1", "1", "1", "1")])
