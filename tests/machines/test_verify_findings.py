"""What ``tickstate verify`` found in the machine, each fixed and pinned here as a scenario.

The sequences themselves, replayed against the venue model, are in
``tests/strategies/verify/regressions``; these tests state each fix in the machine's own words.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

import machines as m
from machines import (
    CancelOrder,
    ClosePosition,
    InvalidEventError,
    OrderRole,
    OutcomeKind,
    ReplaceStop,
    State,
    TrackStatus,
)
from tests.machines.scenarios import (
    A2,
    BUY2,
    QTY,
    SELL2,
    STOP2,
    STOP2_R1,
    Scenario,
    accepted,
    at,
    broker_snapshot,
    cancelled,
    exit_signal,
    expired,
    filled,
    halt,
    oid,
    rejected,
    replaced,
    resume,
    round_trip,
    rules,
    signal,
    to_in_partial,
    to_in_protected,
    to_replacing_protected,
    trail,
)

D = Decimal
STOP2_R2 = oid(OrderRole.STOP, A2, 2)


def snapshot_of(position: Decimal | int, *open_orders: str) -> m.BrokerSnapshotTaken:
    return m.BrokerSnapshotTaken(at=at(), position_qty=D(position), open_orders=open_orders)


class TestReplacesNameTheirSize:
    def test_a_trail_replace_names_the_positions_size(self):
        """A trail names the size too: at Alpaca a replace without one keeps the order's
        original quantity, whatever has filled of it (the merge kept recovery's rule)."""
        outcome = to_in_protected().fire(trail("99.50"))
        (replace,) = outcome.commands
        assert isinstance(replace, ReplaceStop)
        assert (replace.qty, replace.stop_price) == (QTY, D("99.50"))

    def test_a_part_fill_before_the_replace_lands_books_the_replacement_smaller(self):
        """Stop fills 4 of 10 while the trail's replace flies; the replace applies to what the
        stop has left (6), and the books say so: nothing left to resize."""
        s = to_replacing_protected()
        s.fire(filled(STOP2, 4, "98.99"))
        outcome = s.fire(replaced(STOP2, STOP2_R1))
        assert outcome.state_to == State.IN_POSITION
        (stop,) = outcome.snapshot.working_orders
        assert (stop.client_order_id, stop.qty, outcome.snapshot.position) == (STOP2_R1, 6, 6)
        assert s.fire(accepted(STOP2_R1)).commands == ()  # no resize: 6 covers 6

    def test_a_resize_names_its_size(self):
        """An entry fill that grows the position resizes the live stop with an explicit size."""
        s = to_in_partial()
        s.fire(accepted(STOP2))
        (replace,) = s.fire(filled(BUY2, QTY, "101.00")).commands
        assert isinstance(replace, ReplaceStop)
        assert replace.qty == QTY


class TestRefusedReplaces:
    def _resizing(self) -> object:
        s = to_in_partial()  # 4 of 10 filled, the stop for 4 placed
        s.fire(accepted(STOP2))
        s.fire(filled(BUY2, QTY, "101.00"))  # resize the stop to 10
        return s

    def test_a_refused_resize_flattens_rather_than_ask_again(self):
        """The venue refused the very size the position needs: halt and close the position,
        never sit with 6 of 10 unprotected, never ask the same again and again."""
        s = self._resizing()
        outcome = s.fire(rejected(STOP2_R1))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.ANOMALY, "resize_rejected")
        assert outcome.state_to == State.HALTED
        assert outcome.commands == (CancelOrder(client_order_id=STOP2, symbol="AAPL"),)
        assert outcome.snapshot.exit_reason == "resize_rejected"

    def test_a_refused_trail_after_the_position_grew_asks_for_the_size_it_needs(self):
        """A trail's replace (for 4) is refused after the entry filled to 10: asking for 10
        now is news, not a retry."""
        s = to_in_partial()
        s.fire(accepted(STOP2))
        s.fire(trail("99.50"))
        s.fire(filled(BUY2, QTY, "101.00"))  # grows while the replace flies: resized on landing
        outcome = s.fire(rejected(STOP2_R1))
        assert (outcome.kind, outcome.state_to) == (OutcomeKind.ACCEPTED, State.STOP_REPLACING)
        (replace,) = outcome.commands
        assert isinstance(replace, ReplaceStop)
        assert (replace.client_order_id, replace.new_client_order_id, replace.qty) == (
            STOP2, STOP2_R2, QTY,
        )  # fmt: skip


def without_renewals() -> Scenario:
    """Attempt 2 pending with both legs live, under rules that renew nothing: a refused stop
    or close goes straight to the policy (``Rules.max_renewals=0``)."""
    return round_trip(Scenario(rules(max_renewals=0))).run(
        signal(), accepted(BUY2), accepted(SELL2)
    )


class TestOperatorAlarm:
    def test_a_stop_refused_while_halted_raises_the_alarm(self):
        """Halted by the kill switch, the stop's placement is refused: nothing protects the
        position and the machine will not guess, so it says the operator must act."""
        s = to_in_partial()
        s.fire(halt())
        outcome = s.fire(rejected(STOP2))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.ANOMALY, "stop_rejected")
        assert outcome.snapshot.alarm == "stop_rejected"
        assert outcome.snapshot.needs_operator

    def test_an_exit_refused_raises_the_alarm(self):
        """The close is refused (and renewing it is spent): halted, the position open, the
        alarm raised."""
        s = without_renewals()
        s.run(filled(BUY2, QTY, "101.00"), cancelled(SELL2), accepted(STOP2))
        s.run(exit_signal(), cancelled(STOP2))
        outcome = s.fire(rejected(oid(OrderRole.EXIT, A2)))
        assert outcome.state_to == State.HALTED
        assert outcome.snapshot.alarm == "exit_rejected"

    def test_a_flattening_anomaly_raises_no_alarm(self):
        """A stop refused in position, renewals spent: the policy closes the position itself."""
        s = without_renewals().run(filled(BUY2, 4, "101.00"))
        outcome = s.fire(rejected(STOP2))
        assert outcome.snapshot.exit_reason == "stop_rejected"
        assert outcome.snapshot.alarm is None

    def test_resume_clears_the_alarm(self):
        """Once the books are coherent again (a stop protects), resume clears it."""
        s = to_in_protected()
        s.fire(halt())
        s.fire(m.OrderFilled(client_order_id="nobody-1", at=at(), filled_qty=D(1),
                             avg_fill_price=D(1)))  # fmt: skip
        assert s.snapshot.alarm == "foreign_fill"
        outcome = s.fire(resume())
        assert outcome.state_to == State.IN_POSITION
        assert outcome.snapshot.alarm is None


class TestReplacementEventsOutOfOrder:
    def test_a_replacement_that_expires_before_its_acknowledgement_leaves_no_stop(self):
        """Only an order that lived can expire: the replace landed, the old stop is gone
        too, so the position is unprotected; the machine does not go back believing in it."""
        s = to_replacing_protected()
        outcome = s.fire(expired(STOP2_R1))
        assert outcome.state_to == State.HALTED
        assert outcome.reason == "stop_cancelled_unexpectedly"
        assert not [t for t in outcome.snapshot.working_orders if t.role is OrderRole.STOP]
        assert any(isinstance(c, ClosePosition) for c in outcome.commands)

    def test_exiting_settles_on_the_replacements_cancel_without_the_old_ones_replaced(self):
        """Exit while a replace flies; the old stop's ``replaced`` never comes, the
        replacement's cancel does: nothing works any more, so the position is closed."""
        s = to_replacing_protected()
        s.fire(exit_signal())  # cancels the stop and the replacement
        outcome = s.fire(cancelled(STOP2_R1))
        assert outcome.state_to == State.EXITING
        assert outcome.commands == (
            ClosePosition(client_order_id=oid(OrderRole.EXIT, A2), symbol="AAPL",
                          side=m.Side.SELL, qty=QTY),
        )  # fmt: skip


class TestSnapshotsWithOpenOrders:
    def test_a_lost_cancel_confirmation_no_longer_leaves_exiting_forever(self):
        """The stop's ``canceled`` was lost; the broker no longer holds it: close the rest."""
        s = to_in_protected()
        s.fire(exit_signal())
        outcome = s.fire(snapshot_of(QTY))
        assert (outcome.trigger, outcome.state_to) == ("orders_differ", State.EXITING)
        assert [type(c) for c in outcome.commands] == [ClosePosition]

    def test_a_lost_acknowledgement_is_taken_from_the_snapshot(self):
        """The stop's ``new`` was lost; the broker holds it: it is live, so it trails."""
        s = to_in_partial()  # the stop for 4 is still unacknowledged
        outcome = s.fire(snapshot_of(4, BUY2, SELL2, STOP2))
        assert outcome.trigger == "orders_differ"
        (stop,) = [t for t in outcome.snapshot.working_orders if t.role is OrderRole.STOP]
        assert stop.status is TrackStatus.LIVE
        assert s.fire(trail("99.50")).state_to == State.STOP_REPLACING

    def test_a_stop_the_broker_no_longer_holds_is_an_anomaly_that_flattens(self):
        """In position, the broker holds no stop: nothing protects the position."""
        outcome = to_in_protected().fire(snapshot_of(QTY))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.ANOMALY, "stop_gone")
        assert outcome.snapshot.exit_reason == "stop_gone"

    def test_a_replace_that_landed_unseen_is_taken_from_the_snapshot(self):
        """Both the ``replaced`` and the ``new`` were lost: the broker holds the replacement."""
        outcome = to_replacing_protected().fire(snapshot_of(QTY, STOP2_R1))
        assert outcome.state_to == State.IN_POSITION
        (stop,) = outcome.snapshot.working_orders
        assert (stop.client_order_id, stop.status) == (STOP2_R1, TrackStatus.LIVE)

    def test_orders_are_not_touched_when_the_position_disagrees(self):
        """A position mismatch halts (alarm raised) and retires nothing: the books are in
        doubt, and the broker's word on orders cannot settle a fill nobody reported."""
        s = to_in_protected()
        outcome = s.fire(snapshot_of(QTY - 4))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.ANOMALY, "position_mismatch")
        assert outcome.snapshot.alarm == "position_mismatch"
        assert [t.client_order_id for t in outcome.snapshot.working_orders] == [STOP2]

    def test_a_position_only_snapshot_still_only_compares_positions(self):
        """``open_orders=None`` (the runner today, every older journal): no order changes."""
        outcome = to_in_protected().fire(broker_snapshot(QTY))
        assert (outcome.trigger, outcome.commands) == ("broker_snapshot", ())

    @pytest.mark.parametrize("bad", [["a-1"], ("",), (7,)])
    def test_open_orders_are_a_tuple_of_ids(self, bad):
        """Anything but a tuple of non-empty strings cannot be a snapshot."""
        with pytest.raises(InvalidEventError):
            m.BrokerSnapshotTaken(at=at(), position_qty=D(0), open_orders=bad)


class TestResumeNeedsUndisputedBooks:
    def test_resume_waits_until_the_books_agree_with_the_broker(self):
        """The stop's fill of 4 was lost; the snapshot halts the symbol. Resume is refused
        while the books still say 10 and the broker 6, and accepted once the fill arrives."""
        s = to_in_protected()
        assert s.fire(broker_snapshot(QTY - 4)).state_to == State.HALTED
        refused = s.fire(resume())
        assert (refused.kind, refused.reason) == (OutcomeKind.DECLINED, "books_not_coherent")
        s.fire(filled(STOP2, 4, "98.99"))
        assert s.fire(resume()).state_to == State.IN_POSITION
