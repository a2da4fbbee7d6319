"""A one-cancels-other pair on a venue that refuses opposite orders rests one leg at a time.

Alpaca refuses a second stop opposite a working one as a wash trade (row 1), and its own OCO
class is for exits only (a take-profit and a stop-loss on one side). So with
``Rules.one_resting_leg`` the machine sends the leg nearer the last price and holds the other
back; a bar closing nearer the held leg cancels the resting one, and the held one is placed
only once that cancel is answered with nothing filled — the two never work at once.
"""

from __future__ import annotations

from decimal import Decimal as D

from machines import CancelOrder, OrderRole, PlaceEntry, PlaceStop, Side, State
from tests.machines.scenarios import (
    BUY_LEG,
    QTY,
    SYMBOL,
    Scenario,
    accepted,
    cancelled,
    filled,
    oid,
    price_moved,
    rules,
    signal,
    timeout,
)

BUY, SELL = Side.BUY, Side.SELL


def resting(mark: str = "100.60") -> Scenario:
    s = Scenario(rules(one_resting_leg=True, stop_waits_for_entry=True))
    s.run(signal(mark=D(mark)), accepted(oid(BUY)))
    return s


class TestOneRestingLeg:
    def test_the_leg_nearer_the_mark_rests_and_the_other_is_held(self):
        """Mark 99.30, legs at 101.00 and 99.00: only the sell stop is sent; the buy waits."""
        s = Scenario(rules(one_resting_leg=True))
        outcome = s.fire(signal(mark=D("99.30")))
        assert outcome.commands == (
            PlaceEntry(
                client_order_id=oid(SELL), symbol=SYMBOL, side=SELL, qty=QTY, stop_price=D("99.00")
            ),
        )
        held = outcome.snapshot.held_entry
        assert held is not None
        assert (held.side, held.client_order_id) == (BUY, oid(BUY))

    def test_without_the_rule_or_a_mark_both_legs_go(self):
        """The plain plan (a venue that takes both stops), or a signal without a mark."""
        for s, event in (
            (Scenario(rules()), signal(mark=D("99.30"))),
            (Scenario(rules(one_resting_leg=True)), signal()),
        ):
            outcome = s.fire(event)
            assert [c.side for c in outcome.commands if isinstance(c, PlaceEntry)] == [BUY, SELL]
            assert outcome.snapshot.held_entry is None

    def test_a_price_nearer_the_held_leg_swaps_after_the_cancel_is_answered(self):
        """Cancel the buy first; the sell goes only when the cancel lands, and the buy is held
        again under its next id."""
        s = resting()
        outcome = s.fire(price_moved("99.20"))
        assert outcome.commands == (CancelOrder(client_order_id=oid(BUY), symbol=SYMBOL),)
        assert s.fire(price_moved("99.10")).commands == ()  # the swap is already under way
        outcome = s.fire(cancelled(oid(BUY)))
        assert outcome.state_to == State.ENTRY_PENDING
        (place,) = outcome.commands
        assert isinstance(place, PlaceEntry)
        assert (place.client_order_id, place.side) == (oid(SELL), SELL)
        held = outcome.snapshot.held_entry
        assert held is not None
        assert held.client_order_id == oid(BUY, seq=1)
        # and back again, under the buy's new id
        s.fire(accepted(oid(SELL)))
        s.fire(price_moved("100.90"))
        outcome = s.fire(cancelled(oid(SELL)))
        assert [c.client_order_id for c in outcome.commands] == [oid(BUY, seq=1)]

    def test_a_price_still_nearer_the_resting_leg_is_declined(self):
        """Nothing to swap: the request is declined, nothing is sent."""
        outcome = resting().fire(price_moved("100.20"))
        assert outcome.commands == ()
        assert outcome.reason == "resting_leg_nearer"

    def test_the_resting_leg_filling_during_the_swap_forgets_the_held_leg(self):
        """The cancel loses the race: the fill opens the position, the held leg is never sent,
        the stop goes out; no second entry."""
        s = resting()
        s.fire(price_moved("99.20"))
        outcome = s.fire(filled(oid(BUY), QTY, "101.00"))
        assert outcome.state_to == State.IN_POSITION
        assert outcome.snapshot.held_entry is None
        assert not any(isinstance(c, PlaceEntry) for c in outcome.commands)
        outcome = s.fire(cancelled(oid(BUY), QTY, "101.00"))  # the cancel's late answer
        assert not any(isinstance(c, PlaceEntry) for c in outcome.commands)
        assert s.snapshot.held_entry is None
        assert [t.role for t in s.snapshot.working_orders] == [OrderRole.STOP]

    def test_a_fill_of_the_resting_leg_protects_it_and_drops_the_held_leg(self):
        """The buy fills: its stop goes out at once (nothing opposite works at the venue)."""
        s = resting()
        outcome = s.fire(filled(oid(BUY), QTY, "101.00"))
        assert outcome.state_to == State.IN_POSITION
        assert outcome.commands == (
            PlaceStop(
                client_order_id=oid(OrderRole.STOP),
                symbol=SYMBOL,
                side=SELL,
                qty=QTY,
                stop_price=BUY_LEG.initial_stop,
            ),
        )
        assert outcome.snapshot.held_entry is None

    def test_the_entry_cutoff_forgets_the_held_leg(self):
        """Timeout: the resting leg is cancelled, the held one dropped; flat once answered."""
        s = resting()
        s.fire(timeout(1))
        assert s.snapshot.held_entry is None
        outcome = s.fire(cancelled(oid(BUY)))
        assert outcome.state_to == State.FLAT
        assert outcome.commands == ()
