"""Protection heals, over real sockets: a runner in a child process against the twin (``Session``).

- A protective stop whose submit answers 503 on every one of the adapter's retries is sent again
  under its own client order id by the first reconciliation after the failure, and works; the
  day ends flat.
- From the square-off on, cancels fail (two full rounds of the adapter's retries): they are
  asked again by the reconciliations until one lands; the square-off completes and the day ends
  flat.

(The partial-stop-fill replace race against the twin: ``test_replace_race.py``.)

The exchange's clock moves only when a bar is fed, so each scenario is deterministic; waits are
on the exchange's books or the journal, with deadlines, never on sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from brokers import SimFaults
from machines import ClientOrderId, OrderRole
from tests.live.harness import Session
from tests.live.support import JournalView, audit, positions_of, wait_until

GOOG_ENTRY = "s8020-GOOG-20121115-1-buy"
GOOG_STOP = "s8020-GOOG-20121115-1-stop"
ATTEMPTS = 5  # the adapter's RetryPolicy.max_attempts
ENGINE_THREAD = ("--command-workers", "0")  # commands one after another, in decision order


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    day = Session(tmp_path)
    try:
        yield day
    finally:
        day.close()


@pytest.fixture
def early(tmp_path: Path) -> Iterator[Session]:
    """AAPL goes long at 10:55 and is squared off at 11:10, its stop still working."""
    day = Session(tmp_path, square_off="11:10")
    try:
        yield day
    finally:
        day.close()


def _finish(day: Session, start: int) -> None:
    for bar in day.bars[start:]:
        day.feed(bar)
    day.sim.close_session()
    assert day.stop() == 0, day.log_text()


def _check_flat(day: Session) -> JournalView:
    view = JournalView.read(day.journal)
    findings = audit(
        spec=day.spec,
        orders=day.sim.orders(),
        positions=positions_of(day.sim, day.spec.symbols),
        journal=view,
        fills=day.fills,
    )
    assert findings == [], "\n".join(findings) + "\n" + day.log_text()
    assert view.halted() == {}
    return view


def _feed_until(day: Session, start: int, done) -> int:
    """Feed bars (each acknowledged) from ``start`` until ``done()``; the next bar's index."""
    for index in range(start, len(day.bars)):
        if done():
            return index
        day.feed(day.bars[index])
    pytest.fail(f"never happened\n{day.log_text()}")


def _order(day: Session, client_order_id: str):
    return next((o for o in day.sim.orders() if o.client_order_id == client_order_id), None)


def test_a_stop_whose_submit_fails_every_retry_is_resent_within_one_reconciliation(session):
    """GOOG's entry fills while every one of the adapter's retries of its stop's submit answers
    503: the submit fails, the runner asks for a reconciliation, and that first pass sends the
    stop again under the same client order id; it works, and the day ends flat."""
    # The fault counts the venue's first requests as they arrive: GOOG's alone, one after
    # another, must draw every one of them (workers would share them among the symbols).
    session.start(None, "--fast-retries", *ENGINE_THREAD)
    entry_live = lambda: (o := _order(session, GOOG_ENTRY)) is not None and o.is_open  # noqa: E731
    index = _feed_until(session, 0, entry_live)
    session.sim.faults = SimFaults(
        rest_5xx=1.0, rest_fail_routes=("POST /v2/orders",), rest_fail_first=ATTEMPTS
    )
    index = _feed_until(session, index, lambda: _order(session, GOOG_STOP) is not None)
    assert wait_until(lambda: (o := _order(session, GOOG_STOP)) is not None and o.is_open, 15)
    session.sim.faults = SimFaults()
    log = "\n".join(p.read_text() for p in session.logs)
    failed = log.index("command_failed")
    redriven = log.index("command_redriven", failed)
    assert GOOG_STOP in log[failed:redriven]
    # within one reconciliation: no pass completed between the failure and the resend
    assert "reconciled" not in log[failed:redriven], log[failed:redriven]
    _finish(session, index)
    view = _check_flat(session)
    results = [
        (r["result"], r["detail"]) for r in view.results if r["client_order_id"] == GOOG_STOP
    ]
    assert results[:2] == [("failed", results[0][1]), ("sent", "redriven")]
    stops = [o for o in session.sim.orders() if _role(o.client_order_id) is OrderRole.STOP]
    assert stops[0].client_order_id == GOOG_STOP  # the same id, not a fresh one


def test_cancels_failing_from_the_square_off_on_are_retried_until_the_day_is_flat(early):
    """AAPL is long at the 11:10 square-off; every cancel request fails for two full rounds of
    the adapter's retries (the square-off's own and the first re-drive): the reconciliations ask
    again until one lands; the stop is cancelled and the square-off's exit — not the old stop —
    closes the position; the day ends flat."""
    early.start(None, "--fast-retries", *ENGINE_THREAD)  # AAPL's cancels draw the faults
    square_off = next(  # AAPL's bar ending at 11:10 ET (16:05 UTC in November): the square-off
        i for i, b in enumerate(early.bars) if b.symbol == "AAPL" and f"{b.start:%H:%M}" == "16:05"
    )
    for bar in early.bars[:square_off]:
        early.feed(bar)
    held = positions_of(early.sim, ["AAPL"])["AAPL"]
    assert held > 0, early.log_text()
    early.sim.faults = SimFaults(
        rest_5xx=1.0, rest_fail_routes=("DELETE /v2/orders/*",), rest_fail_first=2 * ATTEMPTS
    )
    early.feed(early.bars[square_off])
    # the third round of cancels reaches the venue: a stop is being cancelled
    asked = wait_until(
        lambda: any(o.status.value in ("pending_cancel", "canceled") for o in _stops(early)), 15
    )
    assert asked, early.log_text()
    early.sim.faults = SimFaults()
    _finish(early, square_off + 1)
    log = "\n".join(p.read_text() for p in early.logs)
    failed = [line for line in log.splitlines() if "command_failed" in line]
    assert len(failed) >= 2, log  # the square-off's cancel and a re-drive of it
    assert all("CancelOrder" in line for line in failed), failed
    assert "command_redriven" in log
    view = _check_flat(early)
    assert [o.filled_qty for o in _stops(early)] == [0] * len(_stops(early))  # never decided
    exits = [
        o
        for o in early.sim.orders()
        if o.symbol == "AAPL" and _role(o.client_order_id) is OrderRole.EXIT
    ]
    assert [o.filled_qty for o in exits] == [held]
    aapl = [t for t in view.transitions if t["symbol"] == "AAPL"]
    assert any(t["trigger"] == "exit_filled" for t in aapl)


def _stops(day: Session, symbol: str = "AAPL") -> list:
    return [
        o
        for o in day.sim.orders()
        if o.symbol == symbol and _role(o.client_order_id) is OrderRole.STOP
    ]


def _role(client_order_id: str) -> OrderRole:
    cid = ClientOrderId.parse(client_order_id)
    assert cid is not None
    return cid.role
