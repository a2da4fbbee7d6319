"""``Bar``: built by its own ``__new__`` (no frozen-dataclass ``__init__``), yet a frozen,
checked dataclass in every way a caller can see: fields, defaults, equality, hash, repr,
``dataclasses.replace``, copies and pickles (Ray's object store), each checked again."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from brokers import Bar

START = datetime(2012, 11, 26, 14, 30, tzinfo=UTC)


def _bar(**changes: object) -> Bar:
    fields: dict[str, object] = {
        "symbol": "AAPL",
        "start": START,
        "open": Decimal("10.00"),
        "high": Decimal("10.50"),
        "low": Decimal("9.75"),
        "close": Decimal("10.25"),
    }
    return Bar(**(fields | changes))  # type: ignore[arg-type]


class TestABarIsAFrozenCheckedDataclass:
    def test_its_fields_and_defaults_are_the_dataclasss(self):
        bar = _bar()
        names = [f.name for f in dataclasses.fields(Bar)]
        assert names == [
            "symbol", "start", "open", "high", "low", "close", "volume", "trade_count", "vwap"
        ]
        assert (bar.volume, bar.trade_count, bar.vwap) == (Decimal(0), 0, None)
        assert not hasattr(bar, "__dict__")

    def test_a_field_cannot_be_assigned(self):
        with pytest.raises(dataclasses.FrozenInstanceError):
            _bar().close = Decimal("11")  # type: ignore[misc]

    def test_equal_bars_are_equal_and_hash_alike(self):
        assert _bar() == _bar()
        assert hash(_bar()) == hash(_bar())
        assert _bar() != _bar(close=Decimal("10.50"))
        assert repr(_bar()).startswith("Bar(symbol='AAPL', start=datetime.datetime(2012")

    def test_its_fields_are_keywords_and_every_one_without_a_default_is_asked_for(self):
        with pytest.raises(TypeError, match=r"Bar\.__new__\(\) takes 1 positional"):
            Bar("AAPL", START)  # type: ignore[misc]
        with pytest.raises(TypeError, match="'close'"):
            Bar(symbol="AAPL", start=START, open=Decimal(1), high=Decimal(1), low=Decimal(1))  # type: ignore[call-arg]

    def test_it_is_checked_when_built(self):
        with pytest.raises(ValueError, match="timezone-aware"):
            _bar(start=datetime(2012, 11, 26, 14, 30))
        with pytest.raises(ValueError, match="outside"):
            _bar(close=Decimal("11"))

    @pytest.mark.parametrize(
        "again",
        [copy.copy, copy.deepcopy, lambda bar: pickle.loads(pickle.dumps(bar))],
        ids=["copy", "deepcopy", "pickle"],
    )
    def test_a_copy_is_the_same_bar(self, again):
        bar = _bar(volume=Decimal("100"), trade_count=3, vwap=Decimal("10.1"))
        assert again(bar) == bar
        assert type(again(bar)) is Bar

    def test_replace_builds_a_checked_bar(self):
        assert dataclasses.replace(_bar(), close=Decimal("10.50")).close == Decimal("10.50")
        with pytest.raises(ValueError, match="outside"):
            dataclasses.replace(_bar(), close=Decimal("12"))
