"""Field lessons (``docs/field-lessons.md``) reproduced on the live runner.

Runner level: the real runner, adapter and journal against a ``SimExchange`` over loopback
sockets — in this process for whole-day replays, in a child process (``harness.Session``) where
the runner must die and restart on its journal. ``FIELD_LESSONS.md`` (beside this file) maps
every lesson 1-15 to the test that proves it, here or elsewhere.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from brokers import Order, OrderRequest, OrderSide, OrderType, SimExchange, SimFaults, TimeInForce
from machines import ClientOrderId, OrderRole, OrderTrack, Snapshot, State, TrackStatus
from machines import Side as MachineSide
from strategies.journal import read_latest
from strategies.run import LiveResult, LiveRunner, RunSettings, reconcile, run_live
from tests.live.harness import Session
from tests.live.support import (
    DAY,
    JournalView,
    audit,
    day_bars,
    positions_of,
    rest_client,
    spec_for,
)
from tests.live.test_crash import _run_until_killed

SPEED = 8000.0


@dataclass
class Day:
    result: LiveResult
    orders: list[Order]
    journal: JournalView
    runner: LiveRunner
    spec: object


def _replay(tmp: Path, *, faults: SimFaults, poll: float = 0.3, on_bar=None, **spec_kw) -> Day:
    """One whole session in this process: exchange replaying at ``SPEED``, runner, journal."""
    spec = spec_for(**spec_kw)
    bars, history = day_bars(spec)
    sim = SimExchange(
        bars, speed=SPEED, rate_limit=100_000, faults=faults, hold_until_subscribed=True
    ).start()
    runners: list[LiveRunner] = []
    try:
        result = run_live(
            spec,
            bars=bars,
            history=history,
            settings=RunSettings(poll_interval=poll, not_found_grace=2.0, shutdown_timeout=5.0),
            exchange=sim,
            journal_path=tmp / "journal.db",
            on_runner=runners.append,
            on_bar=(lambda bar: on_bar(sim, bar)) if on_bar else None,
        )
        sim.faults = SimFaults()
        orders = sim.orders()
        findings = audit(
            spec=spec,
            orders=orders,
            positions=positions_of(sim, spec.symbols),
            journal=JournalView.read(tmp / "journal.db"),
        )
        assert findings == [], "\n".join(findings)
    finally:
        sim.stop()
    return Day(result, orders, JournalView.read(tmp / "journal.db"), runners[0], spec)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    day = Session(tmp_path)
    try:
        yield day
    finally:
        day.close()


def _manual(session: Session, side: OrderSide, qty: int, client_order_id: str) -> None:
    """A market order someone else placed (not the strategy's: no ``s8020-`` prefix)."""
    rest = rest_client(session.sim)
    try:
        rest.submit_order(
            OrderRequest(
                symbol="GOOG",
                qty=Decimal(qty),
                side=side,
                type=OrderType.MARKET,
                time_in_force=TimeInForce.DAY,
                client_order_id=client_order_id,
            )
        )
    finally:
        rest.close()


def _feed_until_goog_is(session: Session, index: int, qty: int) -> int:
    """Feed bars with no runner until the exchange holds ``qty`` GOOG; the next bar's index."""
    while positions_of(session.sim, ["GOOG"])["GOOG"] != qty:
        session.feed(session.bars[index], acked=False)
        index += 1
    return index


def _journal_fills_match_exchange(session: Session) -> None:
    """No fill in the journal that the exchange did not make (nothing invented)."""
    by_id = {o.client_order_id: o.filled_qty for o in session.sim.orders()}
    for cid, qty in JournalView.read(session.journal).filled_by_journal().items():
        assert by_id.get(cid, Decimal(0)) == qty, (cid, qty, by_id.get(cid))


# --- 1-4: restarts -------------------------------------------------------------------------


def test_lesson01_restart_after_a_fill_never_invents_one(session):
    """Killed in a protected long; while it is down the position is closed by hand (our stop
    cancelled, the shares sold). On restart the books disagree: the runner halts GOOG — it does not insert a fill to
    make them agree, and places no new order for it."""
    next_bar = _run_until_killed(session, "after_send:PlaceStop")
    rest = rest_client(session.sim)
    try:  # by hand: cancel our stop, sell the shares
        rest.cancel_order(rest.get_order_by_client_id("s8020-GOOG-20121115-1-stop").id)
    finally:
        rest.close()
    # The cancel takes exchange time; until it lands the stop holds the shares (qty_available 0).
    session.sim.land_requests()
    _manual(session, OrderSide.SELL, 100, "manual-flatten")
    next_bar = _feed_until_goog_is(session, next_bar, 0)  # the hand-made sell fills
    before = {o.client_order_id for o in session.sim.orders()}
    session.start()
    for bar in session.bars[next_bar : next_bar + 6]:
        session.feed(bar)
    assert session.stop() == 0, session.log_text()
    goog = {s.symbol: s.snapshot for s in read_latest(session.journal)}["GOOG"]
    assert goog.state == State.HALTED, goog
    _journal_fills_match_exchange(session)
    new = {o.client_order_id for o in session.sim.orders() if o.symbol == "GOOG"} - before
    assert new == set(), new


def test_lesson02_fills_replayed_on_restart_are_counted_once(session):
    """Killed right after the entry's stop was sent; the restart rebuilds from the journal and
    the start-up reconciliation reports the same (already applied) fill again: it is applied
    once — one accepted entry fill, the journal's fills equal the exchange's."""
    next_bar = _run_until_killed(session, "after_send:PlaceStop")
    session.start()
    for bar in session.bars[next_bar:]:
        session.feed(bar)
    session.sim.close_session()
    assert session.stop() == 0, session.log_text()
    view = JournalView.read(session.journal)
    applied = Counter(
        t["event"]["client_order_id"]
        for t in view.transitions
        if t["kind"] == "accepted" and t["trigger"] == "entry_filled"
    )
    assert applied["s8020-GOOG-20121115-1-buy"] == 1
    _journal_fills_match_exchange(session)
    findings = audit(
        spec=session.spec,
        orders=session.sim.orders(),
        positions=positions_of(session.sim, session.spec.symbols),
        journal=view,
    )
    assert findings == []


def test_lesson03_start_up_works_from_the_brokers_current_positions(session):
    """A fresh journal, and the broker already holds 100 GOOG from before any history we have:
    the runner starts (it does not refuse), takes the broker's position as a fact, halts GOOG
    (it cannot know that position's stop) and trades AAPL normally."""
    _manual(session, OrderSide.BUY, 100, "opened-long-ago")
    next_bar = _feed_until_goog_is(session, 0, 100)  # fills at GOOG's first bar
    session.start()
    for bar in session.bars[next_bar:]:
        session.feed(bar)
    session.sim.close_session()
    assert session.stop() == 0, session.log_text()
    latest = {s.symbol: s.snapshot for s in read_latest(session.journal)}
    assert latest["GOOG"].state == State.HALTED, latest["GOOG"]
    assert latest["GOOG"].halt_reason
    ours = [o for o in session.sim.orders() if o.client_order_id.startswith("s8020-")]
    assert not [o for o in ours if o.symbol == "GOOG"]
    assert any(o.filled_qty for o in ours if o.client_order_id == "s8020-AAPL-20121115-1-buy")


# Lesson 4 (a position closed while offline does not reopen):
# tests/live/test_crash.py::test_position_closed_while_the_runner_was_dead_does_not_reopen


# --- 5, 9, 12, 14: whole days ---------------------------------------------------------------


def test_lesson05_stream_and_poller_report_the_same_fill_once(tmp_path):
    """The poller reconciles every 50 ms while the stream delivers (twice, sometimes before the
    REST answer): each fill reaches the books once — journal fills equal the exchange's, and
    the trades recorded equal what the exchange filled."""
    day = _replay(
        tmp_path,
        faults=SimFaults(duplicate=0.5, stream_before_response=True),
        poll=0.05,
    )
    assert day.result.reconciliations > 20
    traded = sum(t.qty for t in day.result.engine.recorder.trades) * 2
    assert traded == sum(o.filled_qty for o in day.orders) > 0
    counters = day.runner.trade_stream.counters
    assert counters.duplicates > 0
    assert counters.dropped_frames == 0  # duplicates are dropped as duplicates, not as errors


def test_lesson06_not_found_within_grace_is_not_evidence():
    """The runner's declared reconciliation: an order we just placed that the broker does not
    list yet is waited for (no event, no resend) until the grace period has passed; only then is
    its absence evidence: the machine is told the order never worked (``OrderRejected``,
    ``not_at_broker``) — the runner never places it again under its id on a guess."""
    now = datetime(2012, 11, 15, 15, 0, tzinfo=UTC)
    cid = "s8020-GOOG-20121115-1-buy"
    snapshot = Snapshot(
        strategy="s8020",
        symbol="GOOG",
        state=State.ENTRY_PENDING,
        trading_date=DAY,
        entries_today=1,
        max_attempts=2,
        position=Decimal(0),
        side=None,
        stop_price=None,
        desired_stop=None,
        working_orders=(
            OrderTrack(
                client_order_id=cid,
                role=OrderRole.ENTRY,
                side=MachineSide.BUY,
                qty=Decimal(100),
                stop_price=Decimal("650.50"),
                status=TrackStatus.SENT,
            ),
        ),
        halt_reason=None,
        exit_reason=None,
        done_for_day=False,
        last_trigger="entry_signal",
        transitions=1,
        races=0,
        anomalies=0,
    )

    def passed(seconds: float, missing: dict[str, datetime]):
        return reconcile(
            strategy="s8020",
            snapshots=[snapshot],
            orders={},
            positions={"GOOG": Decimal(0)},
            client_id_of=lambda _venue: None,
            now=now + timedelta(seconds=seconds),
            missing_since=missing,
            grace_seconds=10.0,
        )

    first = passed(0, {})
    assert first.events == []
    assert first.cancel_orphans == []
    assert first.missing == {cid: now}
    young = passed(9.9, first.missing)
    assert young.events == []
    old = passed(10.0, young.missing)
    assert [(type(e).__name__, e.reason) for _s, e in old.events] == [
        ("OrderRejected", "not_at_broker")
    ]
    assert old.lost == [("GOOG", cid)]
    assert old.cancel_orphans == []
    assert cid not in old.missing


def test_lesson09_a_reconnect_reconciles_and_catches_what_was_missed(tmp_path):
    """Every trade update is lost and the poller's own interval is longer than the day: the
    only reconciliations are the start-up one and those after each reconnect (the test drops the
    streams every 8 bars). The day still trades through: fills are learnt from the snapshots."""
    count = {"bars": 0}

    def drop_now_and_then(sim: SimExchange, bar) -> None:
        count["bars"] += 1
        if count["bars"] % 8 == 0:
            sim.drop_streams()

    day = _replay(tmp_path, faults=SimFaults(drop=1.0), poll=600.0, on_bar=drop_now_and_then)
    assert day.result.reconnects > 2
    assert day.result.reconciliations >= 2
    assert any(o.filled_qty for o in day.orders if _cid(o).side is MachineSide.BUY)
    assert day.runner.trade_stream.counters.delivered == 0  # nothing came over the stream


def _cid(order: Order) -> ClientOrderId:
    cid = ClientOrderId.parse(order.client_order_id)
    assert cid is not None, order.client_order_id
    return cid


def _role(order: Order) -> OrderRole:
    return _cid(order).role


def _attempt(order: Order) -> tuple[str, date, int]:
    cid = _cid(order)
    return cid.symbol, cid.trading_date, cid.attempt


def _is_stop(client_order_id: str) -> bool:
    cid = ClientOrderId.parse(client_order_id)
    return cid is not None and cid.role is OrderRole.STOP


def test_lesson12_stops_move_by_replace_never_cancel_then_create(tmp_path):
    """Trailing moves every stop through the exchange's replace: each stop order after an
    attempt's first replaces the one before, no stop is cancelled while its position is open,
    and the journal has no stop cancel other than at an exit."""
    day = _replay(tmp_path, faults=SimFaults())
    stops: dict[tuple[str, date, int], list[Order]] = {}
    for order in day.orders:
        if _role(order) is OrderRole.STOP:
            stops.setdefault(_attempt(order), []).append(order)
    assert any(len(chain) > 1 for chain in stops.values())  # it trailed
    for chain in stops.values():
        chain.sort(key=lambda o: o.created_at)
        for before, after in itertools.pairwise(chain):
            assert after.replaces == before.id
            assert before.status.value == "replaced"
    commands = [c for t in day.journal.transitions for c in t["commands"]]
    assert any(c["type"] == "ReplaceStop" for c in commands)
    assert not [
        c for c in commands if c["type"] == "CancelOrder" and _is_stop(c["client_order_id"])
    ]


def test_lesson14_partial_fills_and_entry_timeout_leave_a_stop_sized_to_the_position(tmp_path):
    """Fills come in parts and the entry window closes early (10:55), so entries time out
    partly filled: every stop is sized to what the entry filled, never to the order's qty, and
    the day ends flat."""
    day = _replay(tmp_path, faults=SimFaults(partial_fill=1.0), early_square_off=True)
    entries = {_attempt(o): o for o in day.orders if _role(o) is OrderRole.ENTRY}
    assert any(Decimal(0) < e.filled_qty < e.qty for e in entries.values())  # a partial entry
    for order in day.orders:
        if _role(order) is not OrderRole.STOP:
            continue
        entry = entries[_attempt(order)]
        assert order.qty <= entry.filled_qty, (order.client_order_id, order.qty)
    last_stops: dict[tuple[str, date, int], Order] = {}
    for order in sorted(day.orders, key=lambda o: o.created_at):
        if _role(order) is OrderRole.STOP:
            last_stops[_attempt(order)] = order
    for attempt, stop in last_stops.items():
        entry = entries[attempt]
        if entry.status.value in ("canceled", "expired", "filled"):
            assert stop.qty == entry.filled_qty or stop.filled_qty == stop.qty, (attempt, stop)
