"""Recovery never sends the past, and limits come from the books — over real sockets.

- The runner journals GOOG's entry and is SIGKILLed before sending it; the exchange trades the
  rest of the day and closes; the runner is restarted the next morning: the old entry is judged
  (another trading date), recorded as skipped, its machine told — and never sent.
- Every trade update is dropped: fills are learnt by reconciliation only, and the daily loss
  limit still fires; the summary equals the exchange's own figures.
- The runner is SIGKILLed as GOOG's stop fills at a loss (before the fill is journaled): the
  restart rebuilds the entry's fill from the journal and learns the stop's from the exchange;
  together they are the losing trade, and the loss limit fires.
- An operator's ``tickstate resume`` is picked up by the running runner.
- A protective stop is good till cancelled: a runner down at the close leaves its position
  protected overnight; the restart closes the carried position and cancels the stop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from brokers import OrderSide, OrderStatus, SimExchange, SimFaults
from machines import State
from strategies.cli import main
from strategies.journal import read_latest
from strategies.run import RunSettings, run_live
from tests.live.harness import Session
from tests.live.support import (
    DAY,
    FillLog,
    JournalView,
    audit,
    day_bars,
    positions_of,
    spec_for,
    wait_until,
)
from tests.live.test_crash import _run_until_killed

NEXT_DAY = date(2012, 11, 16)
GOOG_ENTRY = "s8020-GOOG-20121115-1-buy"
SPEED = 8000.0


@pytest.fixture
def two_days(tmp_path: Path) -> Iterator[Session]:
    day = Session(tmp_path, days=(DAY, NEXT_DAY))
    try:
        yield day
    finally:
        day.close()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    day = Session(tmp_path)
    try:
        yield day
    finally:
        day.close()


def _halts(view: JournalView, reason: str) -> set[str]:
    return {
        t["symbol"]
        for t in view.transitions
        if t["trigger"] == "halt" and t["event"].get("reason") == reason and t["kind"] == "accepted"
    }


def test_an_entry_killed_before_its_send_is_never_sent_when_restarted_the_next_morning(two_days):
    """Journaled, never sent, the runner dead until the next morning: the entry of 2012-11-15
    is skipped (``other_trading_date``), its machine told it never worked, and the exchange
    never sees it; the next day trades and ends flat."""
    day = two_days
    next_bar = _run_until_killed(day, "before_send:PlaceEntry")
    for bar in day.bars[next_bar:]:  # the rest of the day, with no runner
        day.feed(bar, acked=False)
    day.sim.close_session()
    day.start(day=NEXT_DAY)
    for bar in day.bars_of(NEXT_DAY):
        day.feed(bar)
    day.sim.close_session()
    assert day.stop() == 0, day.log_text()
    orders = day.sim.orders()
    assert GOOG_ENTRY not in {o.client_order_id for o in orders}
    view = JournalView.read(day.journal)
    results = [(r["client_order_id"], r["result"], r["detail"]) for r in view.results]
    assert (GOOG_ENTRY, "skipped", "other_trading_date") in results
    told = [t for t in view.transitions if t["event"].get("client_order_id") == GOOG_ENTRY]
    assert told[-1]["trigger"] == "entry_rejected"
    assert told[-1]["state_to"] == State.FLAT
    findings = audit(
        spec=day.spec,
        orders=orders,
        positions=positions_of(day.sim, day.spec.symbols),
        journal=view,
        fills=day.fills,
    )
    assert findings == [], "\n".join(findings) + "\n" + day.log_text()


def _realised(fills: FillLog, symbols: tuple[str, ...]) -> Decimal:
    """The exchange's own realised PnL over flat symbols: cash out minus cash in."""
    total = Decimal(0)
    for fill in fills.fills:
        if fill.order.symbol in symbols:
            cash = fill.qty * (fill.price or Decimal(0))
            total += cash if fill.order.side is OrderSide.SELL else -cash
    return total


def test_the_loss_limit_fires_with_every_trade_update_dropped(tmp_path):
    """No trade update reaches the runner: every fill is learnt by reconciliation, counted into
    the trades, and the first loss (GOOG, about -65) trips the limit; the printed summary's PnL
    equals what the exchange's fills realised."""
    spec = spec_for()
    bars, history = day_bars(spec)
    fills = FillLog()
    sim = SimExchange(
        bars,
        speed=SPEED,
        rate_limit=100_000,
        faults=SimFaults(drop=1.0),
        hold_until_subscribed=True,
    )
    fills.install(sim)
    sim.start()
    try:
        with capture_logs() as logs:
            result = run_live(
                spec,
                bars=bars,
                history=history,
                settings=RunSettings(
                    poll_interval=0.05,
                    not_found_grace=2.0,
                    shutdown_timeout=5.0,
                    daily_loss_limit=Decimal("1.00"),
                ),
                exchange=sim,
                journal_path=tmp_path / "journal.db",
            )
        positions = positions_of(sim, spec.symbols)
    finally:
        sim.stop()
    kills = [e for e in logs if e["event"] == "kill_switch"]
    assert len(kills) == 1, [e["event"] for e in logs][-40:]
    assert Decimal(kills[0]["pnl"]) <= Decimal("-1.00")
    view = JournalView.read(tmp_path / "journal.db")
    assert _halts(view, "daily_loss_limit") == set(spec.symbols)
    assert all(qty == 0 for qty in positions.values())
    summary = sum((s.pnl for s in result.summaries), Decimal(0))
    assert summary == _realised(fills, spec.symbols)
    assert summary < 0


def test_the_loss_limit_fires_after_a_kill_as_the_first_loss_filled(session):
    """Killed as GOOG's stop fills at a loss, before the fill is journaled: on restart the
    entry's fill comes from the journal, the stop's from the exchange (reconciliation); the two
    make the losing trade, and the limit fires — for every symbol."""
    next_bar = _run_until_killed(
        session, "before_journal:stop_filled", "--daily-loss-limit", "1.00"
    )
    session.start(None, "--daily-loss-limit", "1.00")
    for bar in session.bars[next_bar:]:
        session.feed(bar)
    session.sim.close_session()
    assert session.stop() == 0, session.log_text()
    view = JournalView.read(session.journal)
    assert _halts(view, "daily_loss_limit") == set(session.spec.symbols)
    log = session.logs[-1].read_text()
    assert "kill_switch" in log
    assert all(qty == 0 for qty in positions_of(session.sim, session.spec.symbols).values())


def test_an_operator_resume_is_picked_up_by_the_running_runner(session):
    """The loss limit halts (and flattens) every symbol; while the runner runs, ``tickstate
    resume JOURNAL GOOG`` asks it to let GOOG trade again: the runner picks the request up from
    the journal within its heartbeat, GOOG's machine resumes, the answer is journaled."""
    session.start(None, "--daily-loss-limit", "1.00")
    halted = lambda: _halts(JournalView.read(session.journal), "daily_loss_limit")  # noqa: E731
    index = 0
    while halted() != set(session.spec.symbols):
        session.feed(session.bars[index])
        index += 1
    assert positions_of(session.sim, ["GOOG"])["GOOG"] == 0
    assert main(["resume", str(session.journal), "GOOG"]) == 0
    resumed = lambda: any(  # noqa: E731
        t["symbol"] == "GOOG" and t["trigger"] == "resume" and t["kind"] == "accepted"
        for t in JournalView.read(session.journal).transitions
    )
    assert wait_until(resumed, 15), session.log_text()
    for bar in session.bars[index:]:
        session.feed(bar)
    session.sim.close_session()
    assert session.stop() == 0, session.log_text()
    latest = {s.symbol: s.snapshot for s in read_latest(session.journal)}
    assert not latest["GOOG"].is_halted
    assert latest["AAPL"].is_halted  # nobody resumed it
    with closing(sqlite3.connect(session.journal)) as db:
        assert db.execute("SELECT outcome FROM request_results").fetchall() == [("accepted",)]


def test_a_gtc_stop_protects_a_position_held_while_the_runner_is_down_at_the_close(two_days):
    """Killed just after AAPL's stop went in (10:55), the runner stays down through the close:
    the stop, good till cancelled, is done for the day at the close and works again the next
    morning — it closes the position if the market opens through it; otherwise the restarted
    runner finds the position carried over, closes it at once and cancels the stop. Either way
    nothing is left working."""
    day = two_days
    stop = "s8020-AAPL-20121115-1-stop"
    day.start()
    for bar in day.bars:
        day.feed(bar)
        if any(o.client_order_id == stop and o.is_open for o in day.sim.orders()):
            break
    day.kill()  # the runner stays down for the rest of the day; the session closes
    held = positions_of(day.sim, ["AAPL"])["AAPL"]
    assert held > 0
    day.sim.close_session()
    (order,) = [o for o in day.sim.orders() if o.client_order_id == stop]
    assert order.status is OrderStatus.DONE_FOR_DAY  # not expired: it still protects
    day.start(day=NEXT_DAY)
    for bar in day.bars_of(NEXT_DAY):
        day.feed(bar)
    day.sim.close_session()
    assert day.stop() == 0, day.log_text()
    assert positions_of(day.sim, ["AAPL"])["AAPL"] == 0
    (order,) = [o for o in day.sim.orders() if o.client_order_id == stop]
    if order.filled_qty:  # the market opened through it: the GTC stop closed it on day two
        (filled_on,) = {f.timestamp.date() for f in day.fills.fills if f.order.id == order.id}
        assert filled_on == NEXT_DAY
    else:  # the restarted runner closed the carried position and cancelled the stop
        assert "carried_over" in day.logs[-1].read_text()
        assert order.status is OrderStatus.CANCELED
    assert not [o for o in day.sim.orders() if o.is_open]
