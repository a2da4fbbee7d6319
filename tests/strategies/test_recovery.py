"""Recovery judges before it acts: a command journaled but never sent is sent on restart only
while its moment lasts; otherwise it is recorded as skipped and the machine told.

Each test journals an outcome without running its commands (a crash between the journal and
the send), rebuilds a fresh engine from the journal at a later clock, and settles what is
pending against the paper broker.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from brokers import ManualClock, PaperBroker
from machines import (
    US_EQUITY_TICK,
    Desk,
    EntryLeg,
    EntrySignalled,
    OrderAccepted,
    OrderFilled,
    Rules,
    Side,
    State,
)
from strategies.engine import Engine, SessionPlan
from strategies.journal import Journal
from strategies.run import settle_pending
from tests.strategies.replaying import US

D = Decimal
DAY = date(2013, 3, 4)
NEXT = date(2013, 3, 5)
STEP = timedelta(minutes=5)
RULES = Rules(max_attempts=1, entry_window=(time(9, 30), time(14, 30)), timezone=US.timezone.key)
PLAN = SessionPlan(
    session=US,
    entry_cutoff=time(14, 30),
    square_off=time(15, 15),
    bar_interval=STEP,
    qty=D(100),
    tick_of=lambda symbol: US_EQUITY_TICK,
)
ENTRY = "t-AAPL-20130304-1-buy"
STOP = "t-AAPL-20130304-1-stop"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=US.timezone)


def _desk() -> Desk:
    return Desk(strategy="t", trading_date=DAY, rules=RULES)


def _crash_after_journaling(path: Path, *, filled: bool = False) -> None:
    """An entry decided (and, with ``filled``, filled — its stop decided) and journaled, and
    the process gone before the last outcome's commands were sent."""
    with Journal(path) as journal:
        journal.begin_run(strategy="t", trading_date=DAY)
        desk = _desk()
        leg = EntryLeg(side=Side.BUY, entry_price=D("101.00"), initial_stop=D("99.00"))
        at = local(DAY, 10)
        journal.record(desk.fire("AAPL", EntrySignalled(at=at, qty=D(100), legs=(leg,))))
        if filled:
            # the entry was sent (its result journaled), then filled; the stop never sent
            journal.record_result(1, _command(path, 1), "sent")
            journal.record(desk.fire("AAPL", OrderAccepted(client_order_id=ENTRY, at=at)))
            fill = OrderFilled(
                client_order_id=ENTRY, at=at, filled_qty=D(100), avg_fill_price=D("101.00")
            )
            journal.record(desk.fire("AAPL", fill))


def _command(path: Path, seq: int):
    from strategies.journal import decode_command

    with closing(sqlite3.connect(path)) as db:
        (commands,) = db.execute(
            "SELECT commands FROM transitions WHERE seq = ?", (seq,)
        ).fetchone()
    return decode_command(json.loads(commands)[0])


def _restart(path: Path, now: datetime) -> tuple[Engine, PaperBroker, list[tuple[str, str, str]]]:
    clock = ManualClock(now)
    paper = PaperBroker(clock=clock)
    with Journal(path, clock=clock) as journal:
        engine = Engine(
            desk=_desk(), signals={}, broker=paper, clock=clock, plan=PLAN, journal=journal
        )
        paper.subscribe(engine.on_trade_update)
        pending = journal.rebuild(engine.desk, observe=engine.book_fill)
        journal.begin_run(strategy="t", trading_date=now.date())
        settle_pending(pending, engine, paper, journal)
        engine.drain()
    with closing(sqlite3.connect(path)) as db:
        results = db.execute(
            "SELECT client_order_id, result, detail FROM command_results ORDER BY seq"
        ).fetchall()
    return engine, paper, results


class TestEntries:
    @pytest.mark.parametrize(
        ("now", "why"),
        [
            (local(NEXT, 9, 35), "other_trading_date"),
            (local(DAY, 14, 45), "past_entry_cutoff"),
            (local(DAY, 15, 30), "past_square_off"),
        ],
        ids=["next-morning", "after-cutoff", "after-square-off"],
    )
    def test_an_entry_whose_moment_passed_is_skipped_and_the_machine_told(self, tmp_path, now, why):
        """Never send the past: the entry is not sent, its result is ``skipped`` with the
        reason, and the machine, told it never worked, is flat with its books coherent."""
        path = tmp_path / "j.sqlite"
        _crash_after_journaling(path)
        engine, paper, results = _restart(path, now)
        assert paper.engine.all_orders() == []
        assert (ENTRY, "skipped", why) in results
        snapshot = engine.desk.machine("AAPL").snapshot()
        assert snapshot.state is State.FLAT
        assert snapshot.working_orders == ()
        assert engine.incidents.count("command_skipped", "AAPL") == 1

    def test_an_entry_still_in_its_window_is_sent_with_the_same_id(self, tmp_path):
        """Restarted the same morning, inside the entry window: sent again under its id."""
        path = tmp_path / "j.sqlite"
        _crash_after_journaling(path)
        _engine, paper, results = _restart(path, local(DAY, 10, 5))
        assert [o.client_order_id for o in paper.engine.all_orders()] == [ENTRY]
        assert (ENTRY, "sent", "resent after restart") in results


class TestProtection:
    def test_a_stop_for_a_position_still_held_is_never_too_late(self, tmp_path):
        """The stop of a filled entry, journaled and never sent, is sent on restart even the
        next morning: it protects a position that is still there."""
        path = tmp_path / "j.sqlite"
        _crash_after_journaling(path, filled=True)
        engine, paper, results = _restart(path, local(NEXT, 9, 35))
        assert STOP in {o.client_order_id for o in paper.engine.all_orders()}
        assert (STOP, "sent", "resent after restart") in results
        # the restart counted the journaled fill into the books: the trade is open at 101
        assert engine.recorder.trades == []
        assert engine.desk.machine("AAPL").snapshot().position == 100
