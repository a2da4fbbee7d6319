"""The venue model and its steps: what can happen next, and what each step does."""

from __future__ import annotations

from decimal import Decimal

from machines import OrderRole, State
from strategies.verify import (
    FOREIGN_ID,
    Step,
    VenueStatus,
    VerifySetup,
    World,
    apply_step,
    next_steps,
)

D = Decimal
SETUP = VerifySetup()
BUY = "verify-SYM-20261123-1-buy"
STOP = "verify-SYM-20261123-1-stop"
STOP_R1 = "verify-SYM-20261123-1-stop-r1"


def walk(*steps: Step, mode: str = "faithful") -> World:
    """The world after ``steps``, each of which must be possible."""
    world = World(SETUP, mode)  # type: ignore[arg-type]
    for step in steps:
        assert step in next_steps(world), (step, next_steps(world))
        applied = apply_step(world, step)
        assert applied is not None, step
        assert applied.raised is None, step
        world = applied.world
    return world


LONG = Step("strategy", "entry_long")
EXEC_ENTRY = Step("execute", "PlaceEntry", BUY, "accepted")
FILL_ENTRY = Step("fill", "", BUY, "2")
EXEC_STOP = Step("execute", "PlaceStop", STOP, "accepted")
TRAIL = Step("strategy", "trail_tighter")


class TestVenue:
    def test_a_command_reaches_the_venue_only_when_executed(self):
        """The machine decided an entry; until the venue executes it, nothing can fill."""
        world = walk(LONG)
        assert world.orders == {}
        assert not [s for s in next_steps(world) if s.kind == "fill"]
        world = walk(LONG, EXEC_ENTRY)
        assert world.orders[BUY].status is VenueStatus.OPEN
        assert {s.arg for s in next_steps(world) if s.kind == "fill"} == {"1", "2"}

    def test_an_order_never_fills_beyond_its_quantity(self):
        """Once filled in full, an order offers no more fills."""
        world = walk(LONG, EXEC_ENTRY, FILL_ENTRY)
        assert world.orders[BUY].status is VenueStatus.FILLED
        assert world.position == 2
        assert not [s for s in next_steps(world) if s.kind == "fill" and s.cid == BUY]

    def test_a_replace_without_a_size_keeps_what_the_old_stop_has_left(self):
        """The old stop filled 1 of 2 before the replace landed: the new one holds 1."""
        world = walk(LONG, EXEC_ENTRY, FILL_ENTRY, EXEC_STOP, TRAIL,
                     Step("fill", "", STOP, "1"), Step("execute", "ReplaceStop", STOP_R1, "accepted"))  # fmt: skip
        assert world.orders[STOP].status is VenueStatus.REPLACED
        assert world.orders[STOP_R1].qty == 1
        assert world.machine.snapshot().position == world.position == 1

    def test_events_wait_per_order_and_keep_their_order(self):
        """A queued fill of the stop holds back the stop's later events, not the others'."""
        world = walk(LONG, EXEC_ENTRY, FILL_ENTRY, EXEC_STOP, TRAIL,
                     Step("fill", "", STOP, "1", now=False),
                     Step("execute", "ReplaceStop", STOP_R1, "accepted"))  # fmt: skip
        assert [type(e).__name__ for e in world.queues[STOP]] == ["OrderFilled", "OrderReplaced"]
        assert STOP_R1 not in world.queues  # the replacement's ``new`` was delivered at once
        assert world.machine.state == State.IN_POSITION
        assert not world.at_rest

    def test_a_snapshot_comes_only_once_nothing_is_in_flight(self):
        """Commands to execute or events to deliver: no reconciliation yet."""
        assert Step("snapshot") not in next_steps(walk(LONG))
        assert Step("snapshot") in next_steps(walk(LONG, EXEC_ENTRY))

    def test_the_session_closes_only_after_square_off(self):
        """Day orders expire at the close, which comes after the square-off."""
        world = walk(LONG, EXEC_ENTRY)
        assert not [s for s in next_steps(world) if s.kind == "close"]
        world = walk(LONG, EXEC_ENTRY, Step("strategy", "square_off"))
        assert Step("close") in next_steps(world)


class TestStrategySteps:
    def test_a_plain_decline_is_not_offered(self):
        """Flat: trails, exits and resumes are declared declines; they are not fired."""
        offered = {s.what for s in next_steps(World(SETUP, "faithful")) if s.kind == "strategy"}
        assert offered == {"entry_long", "entry_short", "entry_oco", "halt", "halt_flatten",
                           "square_off"}  # fmt: skip

    def test_trails_move_one_tick_either_way_or_not_at_all(self):
        """In position: a tighter, an equal and a looser trail; only the tighter is taken."""
        world = walk(LONG, EXEC_ENTRY, FILL_ENTRY, EXEC_STOP)
        trails = [s for s in next_steps(world) if s.what.startswith("trail_")]
        outcomes = {s.what: apply_step(world, s).outcomes[0].kind.value for s in trails}  # type: ignore[union-attr]
        assert outcomes == {"trail_tighter": "accepted", "trail_equal": "declined",
                            "trail_looser": "declined"}  # fmt: skip


class TestHostileSteps:
    def test_a_hostile_venue_loses_reorders_duplicates_and_names_strangers(self):
        """Only a hostile venue offers those steps."""
        steps = (LONG, EXEC_ENTRY, Step("fill", "", BUY, "1", now=False),
                 Step("fill", "", BUY, "2", now=False))  # fmt: skip
        faithful = {s.kind for s in next_steps(walk(*steps))}
        hostile_world = walk(*steps, mode="hostile")
        hostile = {s.kind for s in next_steps(hostile_world)}
        assert hostile - faithful == {"reorder", "lose", "duplicate", "foreign"}
        lost = apply_step(hostile_world, Step("lose", "", BUY, "0"))
        assert lost is not None
        assert lost.world.lost
        foreign = apply_step(hostile_world, Step("foreign", "filled", FOREIGN_ID))
        assert foreign is not None
        assert foreign.outcomes[0].reason == "foreign_fill"

    def test_an_impossible_step_is_none(self):
        """A step that names what is not there cannot happen."""
        world = walk(LONG)
        assert apply_step(world, Step("fill", "", BUY, "1")) is None
        assert apply_step(world, Step("execute", "PlaceStop", STOP, "accepted")) is None
        assert apply_step(world, Step("nonsense")) is None


def test_step_labels_read_short():
    """Labels name orders by attempt and tag, and say when events are queued."""
    assert Step("fill", "", STOP_R1, "1", now=False).label == "fill 1-stop-r1 1 (queued)"
    assert Step("execute", "PlaceEntry", BUY, "accepted").label == (
        "execute PlaceEntry 1-buy accepted"
    )
    assert OrderRole.STOP.value in Step("deliver", "", STOP).label
