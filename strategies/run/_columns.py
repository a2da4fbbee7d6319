"""Bar files read a column at a time: the whole text split and checked by the standard library's
C loops, with no Python code run per row until each kept row becomes a ``Bar``.

This is the fast path of ``load_bars`` for files as tickstate and the demo data write them
(unquoted cells, ``\\n`` or ``\\r\\n`` line ends, canonical numbers). It either returns exactly
what the row-by-row reader (``_bars``) returns for the same text, or ``None`` — a file it cannot
vouch for, a bad row — and ``load_bars`` then reads the row-by-row way, which names the line
and column of any mistake. A second bar of a symbol at one start is the one mistake left to
``load_bars``, which looks for it among every file's bars at once. A value is taken only when
it is its own canonical spelling (``str(Decimal(text)) == text``, ``str(int(text)) == text``),
which implies the row-by-row reader's patterns; anything else (``007``, ``.5``, a space) goes
the careful way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import compress, repeat
from operator import and_, attrgetter, itemgetter, methodcaller
from typing import Final

from brokers import Bar

__all__ = ["bars_by_column", "split_header"]

_DIGITS: Final = frozenset("0123456789\n")  # and the separator of a joined column
_NUMBER_CHARS: Final = _DIGITS | {"."}
_ZERO: Final = Decimal(0)
_TO_UTC: Final = methodcaller("astimezone", UTC)
_DAY: Final = itemgetter(slice(0, 10))  # an RFC 3339 start begins with its date
_TZINFO: Final = attrgetter("tzinfo")


def split_header(text: str) -> tuple[list[str], list[str]] | None:
    """The header's column names and the data lines of a file's ``text``, or ``None`` when the
    text needs the csv module's rules (quoted cells, a lone ``\r``) or the careful reader's
    message (an empty file, a blank first line)."""
    text = text.replace("\r\n", "\n")
    if '"' in text or "\r" in text:
        return None
    lines = text.split("\n")
    if not lines[0]:
        return None
    return [name.strip() for name in lines[0].split(",")], lines[1:]


def bars_by_column(
    lines: list[str],
    columns: Sequence[str],
    *,
    symbols: Collection[str] | None,
    dates: tuple[str, str] | None,
) -> list[Bar] | None:
    """The bars of a file's data ``lines`` under the header ``columns`` (already checked), only
    those of ``symbols`` and of ``dates`` (first and last ISO dates, inclusive); ``None`` when
    this reader cannot vouch for them (the row-by-row reader then reads the file)."""
    rows = list(filter(None, lines))  # blank lines are no rows, as for the csv module
    width = len(columns)
    if not rows:
        return []
    if set(map(str.count, rows, repeat(","))) != {width - 1}:
        return None  # a row of another width: the careful reader names it
    cells = ",".join(rows).split(",")
    column = {name: cells[i::width] for i, name in enumerate(columns)}
    names, starts = column["symbol"], column["start"]
    if "" in names or list(map(str.strip, names)) != names:
        return None  # the careful reader strips symbols and starts before it filters
    if list(map(str.strip, starts)) != starts:
        return None
    keep = _kept(names, starts, symbols, dates)
    if keep is not None:
        column = {name: list(compress(values, keep)) for name, values in column.items()}
    return _bars(column)


def _kept(
    names: list[str],
    starts: list[str],
    symbols: Collection[str] | None,
    dates: tuple[str, str] | None,
) -> list[bool] | None:
    """Which rows ``symbols`` and ``dates`` keep (``None``: all of them); the others are never
    parsed, as the row-by-row reader never parses them."""
    masks: list[list[bool]] = []
    if symbols is not None:
        masks.append(list(map(set(symbols).__contains__, names)))
    if dates is not None:
        days = list(map(_DAY, starts))
        since, until = dates
        masks.append(list(map(and_, map(since.__le__, days), map(until.__ge__, days))))
    if not masks:
        return None
    return masks[0] if len(masks) == 1 else list(map(and_, *masks))


def _bars(column: dict[str, list[str]]) -> list[Bar] | None:
    """The kept rows as bars, or ``None`` at the first value the careful reader must judge."""
    if not column["start"]:
        return []
    starts = _starts(column["start"])
    prices = _prices([column[name] for name in ("open", "high", "low", "close")])
    if starts is None or prices is None:
        return None
    opens, highs, lows, closes = prices
    count = len(starts)
    volumes: Sequence[Decimal] = [_ZERO] * count
    if "volume" in column:
        texts = column["volume"]
        found = _decimals(texts)
        # The careful reader turns every zero into Decimal(0): only "0" itself spells it so.
        if found is None or found.count(_ZERO) != texts.count("0"):
            return None
        volumes = found
    trade_counts: Sequence[int] = [0] * count
    if "trade_count" in column:
        counted = _integers(column["trade_count"])
        if counted is None:
            return None
        trade_counts = counted
    vwaps: Sequence[Decimal | None] = [None] * count
    if "vwap" in column:
        averaged = _decimals(column["vwap"])
        if averaged is None:
            return None
        vwaps = averaged
    symbols = column["symbol"]
    # A second bar of a symbol at one start is ``load_bars``' to find, across its files at once.
    try:  # a Bar checks its own prices (low <= open, close <= high), as the careful reader does
        return list(
            map(_bar, symbols, starts, opens, highs, lows, closes, volumes, trade_counts, vwaps)
        )
    except ValueError:
        return None


def _bar(
    symbol: str,
    start: datetime,
    open_: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
    trade_count: int,
    vwap: Decimal | None,
) -> Bar:
    return Bar(
        symbol=symbol,
        start=start,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        trade_count=trade_count,
        vwap=vwap,
    )


def _decimals(texts: list[str]) -> list[Decimal] | None:
    """Each text as a ``Decimal``, when every one is the careful reader's number (``_numbers``)."""
    if not _numbers(texts):
        return None
    try:
        return list(map(Decimal, texts))
    except InvalidOperation:  # "1.2.3": two points
        return None


def _prices(columns: list[list[str]]) -> list[list[Decimal]] | None:
    """The price columns' texts as ``Decimal``s, one object for each distinct text: a price
    recurs across a file's bars and their four prices (the demo's minute year holds 1.57
    million prices of 37,310 texts), so each is parsed once and the bars share it (a
    ``Decimal`` is immutable). ``None`` when some text is not the careful reader's number."""
    if not all(map(_numbers, columns)):
        return None
    distinct = set().union(*columns)
    try:
        parsed = dict(zip(distinct, map(Decimal, distinct), strict=True))
    except InvalidOperation:  # "1.2.3": two points
        return None
    return [list(map(parsed.__getitem__, texts)) for texts in columns]


def _numbers(texts: list[str]) -> bool:
    """Whether every text is digits with at most one inner point (the careful reader's
    ``[0-9]+(\\.[0-9]+)?``, checked on the column joined into one string)."""
    joined = _joined(texts)
    if not _NUMBER_CHARS.issuperset(joined) or "\n\n" in joined:
        return False  # a sign, an exponent, a space, a letter (NaN), an empty cell
    return "\n." not in joined and ".\n" not in joined  # ".5" and "5." are not its numbers


def _integers(texts: list[str]) -> list[int] | None:
    """Each text as an ``int``, when every one is digits (the careful reader's ``[0-9]+``)."""
    joined = _joined(texts)
    if not _DIGITS.issuperset(joined) or "\n\n" in joined:
        return None
    return list(map(int, texts))


def _joined(texts: list[str]) -> str:
    """A column as one string, each cell between newlines, for checks made in one C pass."""
    return "\n" + "\n".join(texts) + "\n"


def _starts(texts: list[str]) -> list[datetime] | None:
    """Each start in UTC, when every one is an ISO time with a UTC offset (a date alone never
    parses with one, so the careful reader's "a date is no start" holds too)."""
    try:
        parsed = list(map(datetime.fromisoformat, texts))
    except ValueError:
        return None
    if None in map(_TZINFO, parsed):
        return None
    return list(map(_TO_UTC, parsed))
