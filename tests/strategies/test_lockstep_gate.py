"""The runner's lock-step gate: a moment is applied whole — its fills first, then its bars — and
what never comes is waited for a bounded time only, as a counted fault."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from brokers import Bar, LockStep, ManualClock, Moment, MomentBar
from strategies.engine import _incidents as incident
from strategies.engine._incidents import Incidents
from strategies.run._lockstep import LockStepGate, Posted, Updated

T0 = datetime(2026, 11, 23, 14, 31, tzinfo=UTC)


def _bar(symbol: str) -> Bar:
    one = Decimal(1)
    return Bar(symbol=symbol, start=T0.replace(minute=30), open=one, high=one, low=one, close=one)


def _moment(sent: int, *symbols: str) -> Moment:
    bars = frozenset(MomentBar(channel="bars", symbol=s, start=_bar(s).start) for s in symbols)
    return Moment(seq=1, at=T0, updates_sent=sent, bars=bars)


def _gate(timeout: float = 60.0) -> tuple[LockStepGate, LockStep]:
    lockstep = LockStep()
    return LockStepGate(lockstep, timeout, Incidents("s")), lockstep


class TestLockStepGate:
    def test_a_moment_waits_for_its_bars_then_gives_them_in_the_exchanges_order(self) -> None:
        """Bars are held until every bar the moment lists came; then minute bars by symbol,
        late prints after them; the run's clock shows the moment."""
        gate, _ = _gate()
        clock = ManualClock(T0.replace(minute=30))
        assert gate.offer(Posted(_moment(0, "MSFT", "AAPL")))
        assert gate.offer(Updated(_bar("IBM")))
        assert gate.offer(_bar("MSFT"))
        assert gate.take(clock) is None  # AAPL's bar is on its way
        assert gate.offer(_bar("AAPL"))
        taken = gate.take(clock)
        assert taken is not None
        moment, held = taken
        assert [type(h).__name__ for h in held] == ["Bar", "Bar", "Updated"]
        assert [h.symbol for h in held[:2] if isinstance(h, Bar)] == ["AAPL", "MSFT"]
        assert clock.now() == moment.at == T0

    def test_a_moment_waits_until_the_trade_updates_sent_before_it_were_applied(self) -> None:
        """The fills of a bar come before the bar: two sent, one applied — not yet whole."""
        gate, _ = _gate()
        clock = ManualClock(T0)
        gate.offer(Posted(_moment(2, "AAPL")))
        gate.offer(_bar("AAPL"))
        gate.update_applied()
        assert gate.take(clock) is None
        gate.update_applied()
        assert gate.take(clock) is not None

    def test_what_never_comes_is_a_counted_timeout_and_forgiven(self) -> None:
        """A lost bar and a lost update: past the timeout the moment goes on without them
        (``lockstep_timeout``), and the lost update is not waited for again."""
        gate, _ = _gate(timeout=0.0)
        clock = ManualClock(T0)
        gate.offer(Posted(_moment(1, "AAPL")))
        assert gate.take(clock) is not None
        assert gate.timeouts == 1
        assert gate.forgiven == 1
        assert gate.incidents.count(incident.LOCKSTEP_TIMEOUT) == 1
        gate.offer(
            Posted(Moment(seq=2, at=T0.replace(minute=32), updates_sent=1, bars=frozenset()))
        )
        assert gate.take(clock) is not None
        assert gate.timeouts == 1  # nothing missing this time

    def test_items_that_are_not_the_gates_are_left_to_the_runner(self) -> None:
        """Trade updates, reconciliations and the rest are applied at once, not held."""
        gate, _ = _gate()
        assert not gate.offer(object())


class TestAMomentAppliedInDoubt:
    """A run in doubt (a delivery failed, an order unlisted) acks a moment only once a
    reconciliation pass begun after it was applied: a lock-step exchange must not run to the
    close between two passes of the poller."""

    def _applied_in_doubt(self, timeout: float = 60.0) -> tuple[LockStepGate, LockStep]:
        gate, lockstep = _gate(timeout)
        clock = ManualClock(T0)
        gate.offer(Posted(_moment(0)))
        taken = gate.take(clock)
        assert taken is not None
        gate.ack(taken[0], after_pass=4)  # pass 4 had begun when the moment was applied
        return gate, lockstep

    def test_the_ack_waits_for_a_pass_begun_after_the_moment(self) -> None:
        gate, lockstep = self._applied_in_doubt()
        assert lockstep.acked == 0
        gate.reconciled(4)  # read before the moment's commands: proves nothing
        assert lockstep.acked == 0
        gate.offer(
            Posted(Moment(seq=2, at=T0.replace(minute=32), updates_sent=0, bars=frozenset()))
        )
        assert gate.take(ManualClock(T0)) is None  # nothing is applied past a held moment
        gate.reconciled(5)
        assert lockstep.acked == 1
        assert gate.timeouts == 0

    def test_without_doubt_the_ack_is_at_once(self) -> None:
        gate, lockstep = _gate()
        gate.offer(Posted(_moment(0)))
        taken = gate.take(ManualClock(T0))
        assert taken is not None
        gate.ack(taken[0])
        assert lockstep.acked == 1

    def test_a_pass_that_never_comes_is_a_counted_timeout(self) -> None:
        gate, lockstep = self._applied_in_doubt(timeout=0.0)
        gate.release_overdue()
        assert lockstep.acked == 1
        assert gate.incidents.count(incident.LOCKSTEP_TIMEOUT) == 1
