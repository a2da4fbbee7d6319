"""The column reader (``strategies.run._columns``) takes a file only when it gives exactly what
the row-by-row reader gives; anything else goes to the row reader, errors and all."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies._exceptions import DataError
from strategies.run import _bars, _columns, load_bars

ROOT = Path(__file__).resolve().parents[2]
HEADER = "symbol,start,open,high,low,close,volume"
ROW = "IBM,2012-01-03T14:{m:02d}:00Z,10.5,11,9.25,10,{v}"


def _by_row(path: Path, symbols=None, dates=None):
    """The row reader's answer (the bars, or its one-line error)."""
    days = None if dates is None else (dates[0].isoformat(), dates[1].isoformat())
    texts = [(file, _bars._read_text(file)) for file in _bars._csv_files(path)]
    try:
        return _bars._load_by_row(texts, symbols, days)
    except DataError as exc:
        return str(exc)


def _loaded(path: Path, symbols=None, dates=None):
    try:
        return load_bars(path, symbols=symbols, dates=dates)
    except DataError as exc:
        return str(exc)


def _exact(bars):
    """Bars with the spelling of every value (Decimal("1.50") is not Decimal("1.5") in a file)."""
    if isinstance(bars, str):
        return bars
    return [(repr(b), str(b.volume), b.start.tzinfo) for b in bars]


class TestTheDemoData:
    @pytest.mark.parametrize("folder", ["intraday_5min", "intraday_1min"])
    def test_the_demo_files_read_by_column_as_by_row(self, folder):
        """Every demo file is taken by the column reader, and gives the row reader's bars."""
        data = ROOT / "data" / folder
        dates = (date(2012, 11, 1), date(2012, 11, 30))
        for file in _bars._csv_files(data):
            columns, lines = _columns.split_header(_bars._read_text(file))
            found = _columns.bars_by_column(lines, columns, symbols=None, dates=None)
            assert found is not None, file.name
        assert _exact(_loaded(data, ["AAPL", "FB"], dates)) == _exact(_by_row(data, ["AAPL", "FB"], dates))


# A cell is a canonical value or one of the spellings only the row reader may judge.
_CELLS = {
    "price": ["10", "10.5", "10.50", "010", ".5", "5.", "1e1", "-1", "NaN", "", " 10", "1.2.3", "9"],
    "volume": ["0", "100", "0.0", "00", "1.5", "x", ""],
    "start": [
        "2012-01-03T14:30:00Z",
        "2012-01-03 14:30:00Z",
        "2012-01-03T09:30:00-05:00",
        "2012-01-03T14:30:00",
        "2012-01-03",
        " 2012-01-03T14:30:00Z",
        "2012-13-03T14:30:00Z",
    ],
    "symbol": ["IBM", "MSFT", " IBM", "", "I B M"],
}


_KINDS = ("symbol", "start", "price", "price", "price", "price", "volume")  # the header's


@st.composite
def _files(draw):
    """A small bar file: mostly good rows, some with one odd cell, an odd line or a duplicate."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    rows = [ROW.format(m=m, v=rng.choice(["0", "100"])) for m in range(draw(st.integers(0, 6)))]
    for _ in range(draw(st.integers(0, 2))):
        if not rows:
            break
        i = rng.randrange(len(rows))
        cells = rows[i].split(",")
        column = rng.randrange(len(cells) + 2)
        if column == len(cells):
            rows[i] = rows[i] + ",7"  # one value too many
        elif column == len(cells) + 1:
            rows.insert(i, rng.choice(["", rows[i], '"IBM",x', "IBM\r"]))  # blank, twice, quoted
        else:
            # A row made one cell too long in an earlier round has a cell past the header's.
            kind = _KINDS[column] if column < len(_KINDS) else "volume"
            cells[column] = rng.choice(_CELLS[kind])
            rows[i] = ",".join(cells)
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return ending.join([HEADER, *rows]) + ending


class TestEitherReaderGivesTheSameAnswer:
    @settings(max_examples=300, deadline=None)
    @given(text=_files(), keep=st.sampled_from([None, ["IBM"], ["MSFT"]]))
    def test_a_file_loads_as_the_row_reader_reads_it(self, tmp_path_factory, text, keep):
        """Whatever the file holds, load_bars answers as the row reader does, byte for byte:
        the same bars with the same spellings, or the same one-line error."""
        path = tmp_path_factory.mktemp("bars") / "x.csv"
        path.write_bytes(text.encode("utf-8"))
        dates = (date(2012, 1, 3), date(2012, 1, 3)) if keep else None
        assert _exact(_loaded(path, keep, dates)) == _exact(_by_row(path, keep, dates))

    def test_an_odd_spelling_goes_to_the_row_reader(self):
        """A price of -1 is the row reader's to refuse (naming its line): the column reader
        leaves the file to it."""
        assert _columns.bars_by_column(
            [ROW.format(m=30, v="0").replace("10.5", "-1")], HEADER.split(","), symbols=None, dates=None
        ) is None


def test_a_price_spelled_alike_is_one_decimal_shared_by_the_bars(tmp_path):
    """The column reader parses each distinct price text once: bars that quote it hold the same
    object (a minute year's 1.57 million prices are 37,310 texts: half its bars' memory), and
    the same text spelled otherwise ("10" beside "10.0") stays its own value."""
    rows = [
        "IBM,2012-01-03T14:30:00Z,10.5,11,9.25,10,100",
        "IBM,2012-01-03T14:31:00Z,10,11,10,10.5,100",
        "IBM,2012-01-03T14:32:00Z,10.0,11,10.0,10.5,100",
    ]
    (tmp_path / "IBM.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    first, second, third = load_bars(tmp_path)
    assert second.open is first.close
    assert second.close is first.open
    assert second.high is first.high
    assert third.high is first.high
    assert str(third.open) == "10.0"
    assert str(second.open) == "10"
    assert _exact([first, second, third]) == _exact(_by_row(tmp_path))
