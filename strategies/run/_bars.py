"""Bars from CSV files: the demo set under ``data/`` and anything recorded the same way.

A file may be gzip-compressed (``AAPL.csv.gz``, read with the standard library's ``gzip``): a
year of 1-minute bars is large, and compressed CSV keeps it in a repository.

Intraday files have the header ``symbol,start,open,high,low,close,volume`` (columns in any order;
``volume`` may be left out, ``trade_count`` and ``vwap`` may be added). ``start`` is when the bar
opened, an RFC 3339 time with its UTC offset (``2012-01-03T14:30:00Z``). Daily files have the header
``date,open,high,low,close`` (``volume`` may be added; ``DailyBar`` does not keep it).

Prices are parsed from their text with ``Decimal``, never through a float. A bad row raises
``DataError``, one line naming the file, the line and the column::

    data/intraday_5min/AAPL.csv: line 7, column high: not a decimal number: '409.4x'

A file is read whole, then column by column (``_columns``: the standard library's C loops, no
Python per row but the ``Bar`` itself); a file that reader cannot vouch for, or a mistake in
one, is read again row by row here, which names the line and column.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from itertools import islice
from operator import attrgetter, eq
from pathlib import Path
from typing import Final, TypeVar
from zoneinfo import ZoneInfo

from brokers import Bar
from strategies._exceptions import DataError
from strategies._memory import collector_paused
from strategies.run._columns import bars_by_column, split_header
from strategies.signals._protocol import DailyBar

__all__ = ["NEW_YORK", "daily_from_intraday", "load_bars", "load_daily"]

#: The default timezone of ``daily_from_intraday``: US equities' session dates.
NEW_YORK: Final = ZoneInfo("America/New_York")

_INTRADAY_REQUIRED: Final = ("symbol", "start", "open", "high", "low", "close")
_INTRADAY_OPTIONAL: Final = ("volume", "trade_count", "vwap")
_DAILY_REQUIRED: Final = ("date", "open", "high", "low", "close")
_DAILY_OPTIONAL: Final = ("volume",)
_NUMBER: Final = re.compile(r"[0-9]+(\.[0-9]+)?")
_INTEGER: Final = re.compile(r"[0-9]+")

_T = TypeVar("_T")
_BAR_ORDER: Final = attrgetter("start", "symbol")


class _Row:
    """One data row of a CSV file, its values looked up by column name."""

    __slots__ = ("_values", "file", "line")

    def __init__(self, file: str, line: int, values: Mapping[str, str]) -> None:
        self.file = file
        self.line = line
        self._values = values

    def error(self, column: str | None, problem: str) -> DataError:
        return DataError(self.file, problem, line=self.line, column=column)

    def text(self, column: str) -> str | None:
        """The cell of ``column`` (``None`` when the file has no such column); never empty."""
        value = self._values.get(column)
        if value is None:
            return None
        if not value.strip():
            raise self.error(column, "empty")
        return value

    def required(self, column: str) -> str:
        value = self.text(column)
        assert value is not None  # the header check guarantees the column
        return value

    def parse(self, column: str, parser: Callable[[str], _T], what: str) -> _T:
        text = self.required(column)
        try:
            return parser(text)
        except ValueError:
            raise self.error(column, f"not {what}: {text!r}") from None

    def decimal(self, column: str) -> Decimal:
        return self.parse(column, _decimal, "a decimal number")

    def optional_decimal(self, column: str) -> Decimal | None:
        return None if self.text(column) is None else self.decimal(column)

    def integer(self, column: str) -> int | None:
        return None if self.text(column) is None else self.parse(column, _integer, "an integer")

    def check_prices(self, open_: Decimal, high: Decimal, low: Decimal, close: Decimal) -> None:
        """``low <= open, close <= high``, else an error naming the first column at fault."""
        if low > high:
            raise self.error("low", f"low {low} is above high {high}")
        for column, price in (("open", open_), ("close", close)):
            if not low <= price <= high:
                raise self.error(column, f"{column} {price} is outside [low {low}, high {high}]")


def _decimal(text: str) -> Decimal:
    if not _NUMBER.fullmatch(text):
        raise ValueError(text)
    return Decimal(text)


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ValueError(text)
    return int(text)


def _start(text: str) -> datetime:
    if "T" not in text and " " not in text:
        raise ValueError(text)  # a date alone is not a bar's start
    value = datetime.fromisoformat(text)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(text)
    return value.astimezone(UTC)


def _rows(
    path: Path, required: Sequence[str], optional: Sequence[str], text: str | None = None
) -> Iterator[_Row]:
    """The data rows of one CSV file (its ``text``, when already read), after checking its
    header."""
    file = str(path)
    if text is None:
        text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(file, f"empty file, expected the header {','.join(required)}")
        columns = [name.strip() for name in header]
        _check_header(file, columns, required, optional)
        for fields in reader:
            line = reader.line_num
            if not fields:
                continue  # a blank line
            if len(fields) > len(columns):
                raise DataError(
                    file, f"{len(fields)} values, the header has {len(columns)}", line=line
                )
            if len(fields) < len(columns):
                raise DataError(file, "missing", line=line, column=columns[len(fields)])
            yield _Row(file, line, dict(zip(columns, fields, strict=True)))
    except csv.Error as exc:
        raise DataError(file, f"not valid CSV: {exc}", line=reader.line_num) from None


def _is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".csv.gz")


def _read_text(path: Path) -> str:
    """``path`` as UTF-8 text (a leading BOM skipped), decompressed when it ends in ``.gz``."""
    file = str(path)
    try:
        data = path.read_bytes()
        if _is_gzip(path):
            data = gzip.decompress(data)
        return data.decode("utf-8-sig")
    except gzip.BadGzipFile:  # an OSError, but not a reading failure: the bytes are wrong
        raise DataError(file, "not a gzip file") from None
    except (EOFError, zlib.error):
        raise DataError(file, "not a complete gzip file") from None
    except OSError as exc:
        raise DataError(file, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DataError(file, "not UTF-8 text") from None


def _check_header(
    file: str, columns: Sequence[str], required: Sequence[str], optional: Sequence[str]
) -> None:
    expected = f"expected {','.join(required)} (optional: {','.join(optional)})"
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise DataError(file, "appears twice in the header", line=1, column=name)
        if name not in required and name not in optional:
            raise DataError(file, f"unknown column, {expected}", line=1, column=name or "''")
        seen.add(name)
    for name in required:
        if name not in seen:
            raise DataError(file, f"missing from the header, {expected}", line=1, column=name)


def _csv_files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    files = sorted(
        p for p in path.iterdir() if (p.suffix.lower() == ".csv" or _is_gzip(p)) and p.is_file()
    )
    if not files:
        raise DataError(str(path), "no .csv files in this directory")
    return files


def load_bars(
    path: str | os.PathLike[str],
    *,
    symbols: Collection[str] | None = None,
    dates: tuple[date, date] | None = None,
) -> list[Bar]:
    """The bars of a CSV file, or of every ``*.csv`` and ``*.csv.gz`` file in a directory, sorted
    by start, then symbol.

    Two bars of one symbol with the same start are an error, across files too. ``symbols`` and
    ``dates`` (first and last, inclusive, by the date each start is written with) keep only those
    bars; the other rows are skipped unparsed.
    """
    with collector_paused():
        return _load_bars(path, symbols, dates)


def _load_bars(
    path: str | os.PathLike[str], symbols: Collection[str] | None, dates: tuple[date, date] | None
) -> list[Bar]:
    texts = [(file, _read_text(file)) for file in _csv_files(Path(path))]
    days = None if dates is None else (dates[0].isoformat(), dates[1].isoformat())
    bars: list[Bar] = []
    for file, text in texts:
        found = _by_column(file, text, symbols, days)
        if found is None:
            return _load_by_row(texts, symbols, days)
        bars += found
    bars.sort(key=_BAR_ORDER)
    # Sorted, a second bar of a symbol at one start (in a file or across files) is next to the
    # first: one pass of comparisons, not a set of every bar's hashed start.
    order = list(map(_BAR_ORDER, bars))
    if any(map(eq, order, islice(order, 1, None))):
        return _load_by_row(texts, symbols, days)  # the careful reader names both lines
    return bars


def _by_column(
    file: Path, text: str, symbols: Collection[str] | None, days: tuple[str, str] | None
) -> list[Bar] | None:
    split = split_header(text)
    if split is None:
        return None
    columns, lines = split
    _check_header(str(file), columns, _INTRADAY_REQUIRED, _INTRADAY_OPTIONAL)
    return bars_by_column(lines, columns, symbols=symbols, dates=days)


def _load_by_row(
    texts: Sequence[tuple[Path, str]],
    symbols: Collection[str] | None,
    days: tuple[str, str] | None,
) -> list[Bar]:
    """``load_bars`` one row at a time: slower, and the reader that names a mistake's line."""
    bars: list[Bar] = []
    where: dict[tuple[str, datetime], str] = {}
    wanted = None if symbols is None else set(symbols)
    since, until = (None, None) if days is None else days
    for file, text in texts:
        for row in _rows(file, _INTRADAY_REQUIRED, _INTRADAY_OPTIONAL, text):
            symbol = row.required("symbol").strip()
            if wanted is not None and symbol not in wanted:
                continue
            if since is not None and until is not None:
                day = row.required("start").strip()[:10]  # RFC 3339 starts with the date
                if not since <= day <= until:
                    continue
            start = row.parse("start", _start, "an RFC 3339 time with a UTC offset")
            open_, high = row.decimal("open"), row.decimal("high")
            low, close = row.decimal("low"), row.decimal("close")
            row.check_prices(open_, high, low, close)
            first = where.get((symbol, start))
            if first is not None:
                raise row.error(
                    "start", f"a second {symbol} bar at {start:%Y-%m-%dT%H:%M:%SZ} (first: {first})"
                )
            where[symbol, start] = f"{row.file} line {row.line}"
            bars.append(
                Bar(
                    symbol=symbol,
                    start=start,
                    open=open_,
                    high=high,
                    low=low,
                    close=close,
                    volume=row.optional_decimal("volume") or Decimal(0),
                    trade_count=row.integer("trade_count") or 0,
                    vwap=row.optional_decimal("vwap"),
                )
            )
    bars.sort(key=_BAR_ORDER)
    return bars


def load_daily(path: str | os.PathLike[str]) -> list[DailyBar]:
    """The daily bars of one symbol's CSV file (``date,open,high,low,close[,volume]``), by date."""
    file = Path(path)
    if file.is_dir():
        raise DataError(str(file), "a directory; daily bars are read one symbol's file at a time")
    days: dict[date, DailyBar] = {}
    lines: dict[date, int] = {}
    for row in _rows(file, _DAILY_REQUIRED, _DAILY_OPTIONAL):
        session = row.parse("date", _session_date, "a date (YYYY-MM-DD)")
        open_, high = row.decimal("open"), row.decimal("high")
        low, close = row.decimal("low"), row.decimal("close")
        row.check_prices(open_, high, low, close)
        row.optional_decimal("volume")
        if session in days:
            raise row.error("date", f"a second bar for {session} (first on line {lines[session]})")
        lines[session] = row.line
        days[session] = DailyBar(session=session, open=open_, high=high, low=low, close=close)
    return [days[session] for session in sorted(days)]


def _session_date(text: str) -> date:
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)


def daily_from_intraday(
    bars: Iterable[Bar], tz: tzinfo = NEW_YORK, *, hours: tuple[time, time] | None = None
) -> list[DailyBar]:
    """One ``DailyBar`` per session date of one symbol's intraday bars, oldest first.

    A bar belongs to the local date (in ``tz``) of its start. ``hours`` (local ``[open, close)``)
    keeps only bars starting in the regular session; by default every bar given counts. Open is
    the first bar's open, close the last bar's close, high and low the extremes of the day.
    """
    by_day: dict[date, list[Bar]] = {}
    symbols: set[str] = set()
    for bar in sorted(bars, key=lambda bar: bar.start):
        local = bar.start.astimezone(tz)
        if hours is not None and not hours[0] <= local.time() < hours[1]:
            continue
        symbols.add(bar.symbol)
        by_day.setdefault(local.date(), []).append(bar)
    if len(symbols) > 1:
        raise ValueError(
            f"bars of several symbols ({', '.join(sorted(symbols))}): aggregate one at a time"
        )
    return [
        DailyBar(
            session=session,
            open=day[0].open,
            high=max(bar.high for bar in day),
            low=min(bar.low for bar in day),
            close=day[-1].close,
        )
        for session, day in sorted(by_day.items())
    ]
