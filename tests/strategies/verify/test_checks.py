"""Each property the check proves, broken on purpose in a world built by hand."""

from __future__ import annotations

from decimal import Decimal

from machines import OrderRole, Side
from strategies.verify import Step, VenueOrder, VenueStatus, VerifySetup, World, check_state
from tests.strategies.verify.test_steps import (
    EXEC_ENTRY,
    EXEC_STOP,
    FILL_ENTRY,
    LONG,
    STOP,
    walk,
)

D = Decimal


def invariants(world: World) -> dict[str, bool]:
    """Each finding's property, and whether it is a note."""
    return {f.invariant: f.note for f in check_state(world)}


def stop(cid: str, qty: int = 2, status: VenueStatus = VenueStatus.OPEN) -> VenueOrder:
    return VenueOrder(
        client_order_id=cid, role=OrderRole.STOP, side=Side.SELL, qty=D(qty), price=D(99),
        status=status,
    )  # fmt: skip


def protected() -> World:
    """Long 2, its stop for 2 live, nothing in flight: every property holds."""
    world = walk(LONG, EXEC_ENTRY, FILL_ENTRY, EXEC_STOP)
    assert world.at_rest
    assert world.in_sync()
    assert invariants(world) == {}
    return world


class TestVenueProperties:
    def test_a_reversed_position_is_a_violation(self):
        """The venue sold more than was bought."""
        world = protected()
        world.put(VenueOrder(client_order_id=STOP, role=OrderRole.STOP, side=Side.SELL,
                             qty=D(3), price=D(99), filled=D(3), status=VenueStatus.FILLED))  # fmt: skip
        assert world.position == -1
        assert invariants(world)["no_reversal"] is False

    def test_a_reversal_after_both_legs_filled_is_a_note(self):
        """Both legs of a one-cancels-other pair filled: the table's policy flattens it."""
        world = protected()
        world.put(VenueOrder(client_order_id=STOP, role=OrderRole.STOP, side=Side.SELL,
                             qty=D(3), price=D(99), filled=D(3), status=VenueStatus.FILLED))  # fmt: skip
        world.double_fill = True
        assert invariants(world)["no_reversal"] is True

    def test_two_live_stops_are_a_violation(self):
        """A second stop working at the venue beside the first."""
        world = protected()
        world.put(stop("verify-SYM-20261123-1-stop-r9"))
        assert invariants(world)["one_live_stop"] is False

    def test_entries_of_two_attempts_are_a_violation(self):
        """An entry of attempt 2 working while attempt 1's still works."""
        world = walk(LONG, EXEC_ENTRY)
        world.put(VenueOrder(client_order_id="verify-SYM-20261123-2-buy", role=OrderRole.ENTRY,
                             side=Side.BUY, qty=D(2), price=D(101)))  # fmt: skip
        assert invariants(world)["one_live_entry"] is False


class TestAtRest:
    def test_a_stop_short_of_the_position_is_a_violation(self):
        """At rest, in sync, the venue's stop covers 1 of the 2 held."""
        world = protected()
        world.put(stop(STOP, 1))
        assert invariants(world) == {"protected_at_rest": False}

    def test_books_that_disagree_at_rest_are_a_violation_unless_something_was_lost(self):
        """The venue holds an order the machine does not know: a violation; after a lost
        message (before the next snapshot) the machine cannot know, so nothing is claimed."""
        world = protected()
        world.put(stop("verify-SYM-20261123-1-stop-r9", status=VenueStatus.OPEN))
        assert "books_agree_at_rest" in invariants(world)
        world.lost = True
        assert "books_agree_at_rest" not in invariants(world)

    def test_exiting_at_rest_is_a_wind_down_that_never_finished(self):
        """Nothing in flight, books in sync, still exiting: the entry's cancel never went."""
        world = walk(LONG, EXEC_ENTRY, Step("strategy", "exit"))
        world.requests = ()  # the cancel the exit decided, never sent
        assert world.at_rest
        assert world.in_sync()
        assert invariants(world) == {"wind_down_completes": False}


def test_the_default_setup_is_small_and_exact():
    """Two shares, Decimal prices on the cent, one attempt a day."""
    setup = VerifySetup()
    assert setup.qty == D(2)
    assert all(isinstance(p, Decimal) for p in (setup.base, setup.entry_gap, setup.risk))
    assert setup.rules.max_attempts == 1
