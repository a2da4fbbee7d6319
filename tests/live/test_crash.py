"""Crash: the runner SIGKILLed at named points, restarted on the same journal, same exchange.

The runner runs in a child process (``tests/live/crash_child.py``: ``run_live`` on a journal)
against a ``SimExchange`` in this process, which outlives it. The test feeds the day's bars
(2012-11-15: GOOG goes long at 09:40, trails, is stopped out; AAPL at 10:55) one at a time. The
child is killed either by a crash point it was started with (``TICKSTATE_CRASH_AT``, see
``strategies/_crashpoints.py``: SIGKILL from inside, at once) or from here while its request is
held by the exchange. It is then started again on the same journal without the crash point, the
rest of the day is fed, and it is stopped with SIGTERM. Then:

- the kill happened where it was meant to (exit status -SIGKILL) and the restart exited 0;
- no duplicate economic order: client ids unique, at most one filled entry per symbol, day and
  attempt, entries per day <= max_attempts, each stop after the first a replace of the one
  before (never two live), stops only tightened; nothing left working, flat;
- journal = exchange (``support.audit``), and the command the crash interrupted was settled on
  restart as expected (adopted if it had reached the exchange, sent again if not);
- the machines were recovered: the journal rebuilds into a fresh desk with nothing pending, and
  its last snapshots are flat, not halted, with no anomaly.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from brokers import SimFaults
from machines import Desk
from strategies.journal import Journal, read_latest
from tests.live.harness import ChildDied, Session
from tests.live.support import DAY, JournalView, audit, positions_of

KILLED = -signal.SIGKILL
ENGINE_THREAD = ("--command-workers", "0")  # commands one after another, in decision order


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    day = Session(tmp_path)
    try:
        yield day
    finally:
        day.close()


def _run_until_killed(day: Session, crash_at: str, *extra: str) -> int:
    """Feed bars until the child kills itself at ``crash_at``; the index of the next bar
    (``extra``: more arguments for the child)."""
    day.start(crash_at, *extra)
    for index, bar in enumerate(day.bars):
        try:
            day.feed(bar)
        except ChildDied as died:
            status = died.args[0]
        else:
            continue
        assert status == KILLED, day.log_text()
        return index + 1
    pytest.fail(f"the crash point {crash_at} was never reached\n{day.log_text()}")


def _finish(day: Session, start: int, *, offline: int = 0) -> None:
    """Feed ``offline`` bars with no runner, restart it on the journal, feed the rest, stop it."""
    for bar in day.bars[start : start + offline]:
        day.feed(bar, acked=False)
    day.start()
    for bar in day.bars[start + offline :]:
        day.feed(bar)
    day.sim.close_session()
    assert day.stop() == 0, day.log_text()


def _results(day: Session) -> list[tuple[str, str, str]]:
    return [
        (r["client_order_id"], r["result"], r["detail"])
        for r in JournalView.read(day.journal).results
    ]


def _check_recovered(day: Session) -> None:
    """The exchange's books, the journal and the machines agree; nothing duplicated; flat."""
    spec = day.spec
    orders = day.sim.orders()
    findings = audit(
        spec=spec,
        orders=orders,
        positions=positions_of(day.sim, spec.symbols),
        journal=JournalView.read(day.journal),
        fills=day.fills,
    )
    assert findings == [], "\n".join(findings) + "\n" + day.log_text()
    assert any(o.filled_qty for o in orders if o.client_order_id.endswith("-buy"))
    # the machines: the journal rebuilds into a fresh desk with nothing pending
    desk = Desk(strategy=spec.name, trading_date=DAY, symbol_rules=spec.rules())
    with Journal(day.journal) as journal:
        assert journal.rebuild(desk) == ()
    for status in read_latest(day.journal):
        snapshot = status.snapshot
        assert snapshot.position == 0, status
        assert snapshot.halt_reason is None, status
        assert snapshot.anomalies == 0, status
        assert snapshot.working_orders == (), status
        assert desk.machine(status.symbol).snapshot().state == snapshot.state


@pytest.mark.parametrize(
    ("crash_at", "settled"),
    [
        # "transition journaled" -> "command sent": the entry was never placed; sent on restart
        ("before_send:PlaceEntry", ("s8020-GOOG-20121115-1-buy", "sent", "resent after restart")),
        # the broker took the entry; its result was never journaled: adopted on restart
        ("after_send:PlaceEntry", ("s8020-GOOG-20121115-1-buy", "reconciled", "adopted")),
        # the fill reached the machine but not the journal: reconciliation finds it, then protects
        ("before_journal:entry_filled", ("s8020-GOOG-20121115-1-stop", "sent", "")),
        # a position open at the exchange with no stop yet: the stop is sent on restart
        ("before_send:PlaceStop", ("s8020-GOOG-20121115-1-stop", "sent", "resent after restart")),
        # a trailing replace journaled, never sent: sent on restart under the same new id
        ("before_send:ReplaceStop", (None, "sent", "resent after restart")),
        # a trailing replace the exchange carried out, its result lost: adopted on restart
        ("after_send:ReplaceStop", (None, "reconciled", "adopted")),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_killed_at_a_crash_point_restarts_without_duplicates(session, crash_at, settled):
    # Commands on the engine thread, in decision order: nothing else is applied between the
    # crash point and the kill, so each point proves the one way it is settled on restart.
    next_bar = _run_until_killed(session, crash_at, *ENGINE_THREAD)
    _finish(session, next_bar)
    assert _settled_as(session, settled), _results(session)
    _check_recovered(session)


@pytest.mark.parametrize(
    ("crash_at", "settled"),
    [
        ("before_send:ReplaceStop", (None, "sent", "resent after restart")),
        ("after_send:ReplaceStop", (None, "reconciled", "adopted")),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_killed_on_a_command_worker_restarts_without_duplicates(session, crash_at, settled):
    """The replace runs on a command worker (the default) while the engine thread goes on: the
    stream's answer to the replace, or the old stop's fill (the venue then refuses the replace),
    may come first. Then the restart skips the replace (no longer awaited, or its stop no longer
    working); else it is settled as on the engine thread. Either way: no duplicate, journal =
    exchange, flat."""
    next_bar = _run_until_killed(session, crash_at)
    _finish(session, next_bar)
    overtaken = [(None, "skipped", why) for why in ("no_longer_awaited", "stop_not_working")]
    assert any(_settled_as(session, s) for s in (settled, *overtaken)), _results(session)
    _check_recovered(session)


def _settled_as(day: Session, settled: tuple[str | None, str, str]) -> bool:
    cid, result, detail = settled
    return any(r[1:] == (result, detail) and (cid is None or r[0] == cid) for r in _results(day))


def test_killed_between_order_sent_and_ack_received(session):
    """The exchange holds its answer to the entry; the runner is killed while it waits; the
    restart finds the order at the exchange by its client id and adopts it (no second entry)."""
    session.start()
    session.sim.faults = SimFaults(rest_delay=30.0, rest_delay_routes=("POST /v2/orders",))
    entry = "s8020-GOOG-20121115-1-buy"
    next_bar = None
    for index, bar in enumerate(session.bars):
        session.feed(bar, acked=False)
        wanted = f"bar {bar.symbol} {bar.start.isoformat()}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the child, another process: poll with a deadline
            if any(o.client_order_id == entry for o in session.sim.orders()):
                break
            try:
                session.child.expect(lambda line, w=wanted: line == w, 0.05)
                break
            except TimeoutError:
                continue
        if any(o.client_order_id == entry for o in session.sim.orders()):
            next_bar = index + 1
            break
    assert next_bar is not None, "the entry never reached the exchange"
    assert session.child.process.poll() is None  # still waiting for the answer
    session.kill()
    session.sim.faults = SimFaults()
    _finish(session, next_bar)
    assert (entry, "reconciled", "adopted") in _results(session)
    _check_recovered(session)


def test_position_closed_while_the_runner_was_dead_does_not_reopen(session):
    """Killed right after its stop was placed; the stop fills while nothing runs (field lesson
    4); the restart finds the machine in a position the exchange no longer holds and the stop
    filled: it goes flat from the stop's fill — no opposite position, no second exit."""
    next_bar = _run_until_killed(session, "after_send:PlaceStop")
    stop = "s8020-GOOG-20121115-1-stop"
    offline = 0
    for bar in session.bars[next_bar:]:
        session.feed(bar, acked=False)
        offline += 1
        if any(o.client_order_id.startswith(stop) and o.filled_qty for o in session.sim.orders()):
            break
    assert positions_of(session.sim, ["GOOG"])["GOOG"] == 0  # closed while offline
    _finish(session, next_bar + offline)
    goog = [o for o in session.sim.orders() if o.symbol == "GOOG"]
    assert not any(o.client_order_id.endswith("-exit") for o in goog)
    assert sum(o.filled_qty for o in goog if o.side.value == "sell") == sum(
        o.filled_qty for o in goog if o.side.value == "buy"
    )
    _check_recovered(session)
