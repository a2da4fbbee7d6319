"""Logging configured once: a run's id and market time on every line, several streams at once,
and a square-off that finds a symbol flat kept out of the info log."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import structlog

from brokers import ManualClock
from machines import EntryLeg, EntrySignalled, Side, SquareOffReached, SymbolMachine
from strategies.observe import MarketTime, configure_logging, log_outcome

AT = datetime(2012, 11, 15, 14, 40, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


class TestRunStamp:
    def test_every_line_has_the_run_id_and_the_market_time_of_the_runs_clock(self):
        """Before the run has a clock market_ts is null; then it is the clock's time in the
        exchange's zone, read when the line is written, from any thread."""
        stream = io.StringIO()
        market_time = MarketTime()
        configure_logging(renderer="json", stream=stream, run_id="r-1", market_time=market_time)
        log = structlog.get_logger("t")
        log.info("before_clock")
        clock = ManualClock(AT)
        market_time.follow(clock, NEW_YORK)
        log.info("at_the_open")
        clock.set(datetime(2012, 11, 15, 15, 0, tzinfo=UTC))
        thread = threading.Thread(target=lambda: log.warning("from_a_stream"), name="s")
        thread.start()
        thread.join(5)
        first, second, third = _lines(stream)
        assert [line["run_id"] for line in (first, second, third)] == ["r-1"] * 3
        assert first["market_ts"] is None
        assert second["market_ts"] == "2012-11-15T09:40:00-05:00"
        assert (third["market_ts"], third["thread"]) == ("2012-11-15T10:00:00-05:00", "s")

    def test_lines_go_to_every_stream_and_secrets_are_masked(self):
        """With streams, each line is written whole to each (a run's file and stdout)."""
        one, two = io.StringIO(), io.StringIO()
        configure_logging(renderer="json", streams=(one, two), run_id="r-2")
        structlog.get_logger("t").info("hello", webhook_url="https://h/T0KEN", n=1)
        assert one.getvalue() == two.getvalue()
        (line,) = _lines(one)
        assert (line["event"], line["n"], line["run_id"]) == ("hello", 1, "r-2")
        assert line["webhook_url"] == "***"


class TestSquareOffNoise:
    def test_a_square_off_that_finds_a_symbol_flat_is_logged_at_debug(self):
        """flat -> flat with nothing to send: debug (hidden at info); one with a working entry
        to cancel stays an info transition."""
        stream = io.StringIO()
        configure_logging(renderer="json", stream=stream, level="INFO")
        flat = SymbolMachine(strategy="s", symbol="IBM", trading_date=date(2012, 11, 15))
        log_outcome(flat.fire(SquareOffReached(at=AT)))
        busy = SymbolMachine(strategy="s", symbol="AAPL", trading_date=date(2012, 11, 15))
        leg = EntryLeg(side=Side.BUY, entry_price=Decimal("101.00"), initial_stop=Decimal("99"))
        log_outcome(busy.fire(EntrySignalled(at=AT, qty=Decimal(10), legs=(leg,))))
        log_outcome(busy.fire(SquareOffReached(at=AT)))
        logged = [(line["symbol"], line["trigger"]) for line in _lines(stream)]
        assert logged == [("AAPL", "entry_signal"), ("AAPL", "square_off")]
        debug = io.StringIO()
        configure_logging(renderer="json", stream=debug, level="DEBUG")
        again = SymbolMachine(strategy="s", symbol="IBM", trading_date=date(2012, 11, 15))
        log_outcome(again.fire(SquareOffReached(at=AT)))
        (line,) = _lines(debug)
        assert (line["level"], line["trigger"]) == ("debug", "square_off")


def test_a_replay_stamps_its_own_market_time(tmp_path):
    """``tickstate replay``'s log lines carry the replay's clock (both fill models), ending at
    the last session's data, in the exchange's zone."""
    from strategies.run import run_replay
    from tests.strategies.replaying import eighty_twenty_two_days

    spec, bars = eighty_twenty_two_days()
    for model in ("twin", "plain"):
        market_time = MarketTime()
        assert market_time() is None
        run_replay(spec, bars, out_dir=tmp_path / model, model=model, market_time=market_time)
        stamp = market_time()
        assert stamp is not None
        assert stamp.startswith("2012-11-15T")
        assert stamp.endswith("-05:00")
