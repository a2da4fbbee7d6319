"""Behaviour pinned by files recorded before a change: replays and journals of earlier code.

``tests/fixtures/replays/`` holds the ``trades.csv`` and ``summary.json`` that ``tickstate replay``
wrote for both examples over the whole demo year (the bar-level ``plain`` model, ``--model
plain`` since issue 16), ``tests/fixtures/replays-twin/`` those of November 2012 with the twin's
fill model (the default since); ``tests/fixtures/journals/`` holds journals
written by ``tickstate run`` of an earlier release. A change that alters a trade, a count, or the
way a journal rebuilds fails here: if it is meant, record the files again and say why.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from machines import Desk
from strategies.journal import Journal, read_latest
from strategies.run import (
    around_the_sessions,
    daily_history,
    load_bars,
    run_replay,
    split_sessions,
)
from strategies.spec import load_strategy

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
DATA = ROOT / "data" / "intraday_5min"
MINUTE_DATA = ROOT / "data" / "intraday_1min"  # the same prices, one bar a minute

REPLAYS = {
    "eighty_twenty": ROOT / "examples" / "eighty_twenty.toml",
    "opening_range": ROOT / "examples" / "opening_range.toml",
}
JOURNALS = {
    "s8020-2012-11-15.sqlite": FIXTURES / "journals" / "s8020.toml",
    "orb15-2012-11-15.sqlite": FIXTURES / "journals" / "orb15.toml",
}


@pytest.fixture(scope="module")
def bars():
    return load_bars(DATA)


class TestPinnedReplays:
    @pytest.mark.parametrize("name", sorted(REPLAYS))
    def test_replay_writes_the_recorded_files_byte_for_byte(self, name, bars, tmp_path):
        """A year of demo data replays to exactly the trades and summary recorded earlier."""
        spec = load_strategy(REPLAYS[name])
        result = run_replay(spec, bars, out_dir=tmp_path, model="plain")
        recorded = FIXTURES / "replays" / name
        assert result.trades_path.read_bytes() == (recorded / "trades.csv").read_bytes()
        assert result.summary_path.read_bytes() == (recorded / "summary.json").read_bytes()

    @pytest.mark.parametrize("name", sorted(REPLAYS))
    def test_one_minute_data_aggregated_replays_to_the_same_files(self, name, tmp_path):
        """The demo year's 1-minute bars, built into the strategy's 5-minute bars (aligned to the
        session open, regular hours only), give exactly the trades the 5-minute files give."""
        spec = load_strategy(REPLAYS[name])
        result = run_replay(spec, load_bars(MINUTE_DATA), out_dir=tmp_path, model="plain")
        recorded = FIXTURES / "replays" / name
        assert result.trades_path.read_bytes() == (recorded / "trades.csv").read_bytes()
        assert result.summary_path.read_bytes() == (recorded / "summary.json").read_bytes()


class TestEarlierJournals:
    @pytest.mark.parametrize("name", sorted(JOURNALS))
    def test_an_earlier_journal_rebuilds_to_its_last_recorded_state(self, name, tmp_path):
        """Every accepted outcome of an old journal replays to the same state, commands and
        snapshot, and each symbol ends as the journal last recorded it."""
        path = tmp_path / name
        shutil.copy(FIXTURES / "journals" / name, path)
        spec = load_strategy(JOURNALS[name])
        recorded = {(s.strategy, s.symbol): s.snapshot for s in read_latest(path)}
        with Journal(path) as journal:
            first = journal.first_trading_date(spec.name)
            assert first is not None
            desk = Desk(strategy=spec.name, trading_date=first, symbol_rules=spec.rules())
            journal.rebuild(desk)
        assert desk.symbols() == tuple(sorted(symbol for _, symbol in recorded))
        for snapshot in desk.snapshots():
            was = recorded[(spec.name, snapshot.symbol)]
            assert (snapshot.state, snapshot.position, snapshot.stop_price) == (
                was.state,
                was.position,
                was.stop_price,
            )
            assert snapshot.entries_today == was.entries_today


#: The month the twin's fill model is pinned on: sessions from 2012-11-01 (the early close of
#: 2012-11-23 and the Thanksgiving holiday included), their look-back from October.
TWIN_START, TWIN_SESSIONS = date(2012, 11, 1), 21


def twin_replay(name: str, out_dir: Path):
    """``tickstate replay CONFIG --data data/intraday_1min --start 2012-11-01 --days 21``."""
    spec = load_strategy(REPLAYS[name])
    bars = load_bars(MINUTE_DATA, symbols=spec.symbols, dates=(date(2012, 9, 20), date(2012, 12, 5)))
    earlier, live = split_sessions(bars, spec, TWIN_SESSIONS, TWIN_START)
    return run_replay(
        spec,
        around_the_sessions(spec, live),
        out_dir=out_dir,
        history=daily_history(spec, earlier),
    )


class TestPinnedTwinReplays:
    @pytest.mark.parametrize("name", sorted(REPLAYS))
    def test_a_month_replays_as_the_twin_fills_to_the_recorded_files(self, name, tmp_path):
        """November 2012 of the 1-minute data, replayed with the twin's fill model (the default
        since issue 16: minute bars matched, the collar, seeded partial fills, asynchronous
        cancels), gives exactly the trades and summary recorded then."""
        result = twin_replay(name, tmp_path)
        recorded = FIXTURES / "replays-twin" / name
        assert result.trades_path.read_bytes() == (recorded / "trades.csv").read_bytes()
        assert result.summary_path.read_bytes() == (recorded / "summary.json").read_bytes()
