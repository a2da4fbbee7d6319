"""Transitions and guards of the lifecycle, one scenario at a time, through public events only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

import machines as m
from machines import (
    CancelOrder,
    ClosePosition,
    OrderRole,
    OutcomeKind,
    PlaceEntry,
    PlaceStop,
    ReplaceStop,
    Side,
    State,
    TrackStatus,
)
from tests.machines.scenarios import (
    A2,
    BUY,
    BUY2,
    BUY_LEG,
    DAY,
    FOREIGN_ID,
    NEXT_DAY,
    QTY,
    SELL,
    SELL2,
    SELL_LEG,
    STOP2,
    STOP2_R1,
    SYMBOL,
    Scenario,
    accepted,
    at,
    broker_snapshot,
    cancelled,
    exit_signal,
    filled,
    halt,
    oid,
    rejected,
    replaced,
    resume,
    revise,
    round_trip,
    rules,
    signal,
    square_off,
    timeout,
    to_cancelling,
    to_exiting_closing,
    to_flat,
    to_halted_protecting,
    to_in_partial,
    to_in_protected,
    to_pending_live,
    to_pending_sent,
    to_replacing_partial,
    to_replacing_protected,
    trail,
)

D = Decimal
TICK_05 = m.FixedTick(D("0.05"))


def only(outcome: m.Outcome, kind: type) -> list:
    """The commands of ``kind`` in an outcome."""
    return [c for c in outcome.commands if isinstance(c, kind)]


def long_in_position(rules_: m.Rules | None = None, qty: int = 10) -> Scenario:
    """A single-leg long, filled by ``qty`` of 10, its stop acknowledged."""
    s = Scenario(rules_)
    s.run(signal(BUY_LEG), accepted(oid(BUY)), filled(oid(BUY), qty, "101.00"))
    s.fire(accepted(oid(OrderRole.STOP)))
    return s


def short_in_position(rules_: m.Rules | None = None) -> Scenario:
    """A single-leg short, filled in full, its stop acknowledged."""
    s = Scenario(rules_)
    return s.run(
        signal(SELL_LEG), accepted(oid(SELL)), filled(oid(SELL), QTY, "99.00"),
        accepted(oid(OrderRole.STOP)),
    )  # fmt: skip


class TestEntry:
    def test_single_leg_signal_places_one_buy_stop(self, scenario):
        """A one-leg entry decides its client order id and places one buy stop."""
        outcome = scenario.fire(signal(BUY_LEG))
        assert outcome.kind is OutcomeKind.ACCEPTED
        assert outcome.state_to == State.ENTRY_PENDING
        assert outcome.commands == (
            PlaceEntry(
                client_order_id=oid(BUY), symbol=SYMBOL, side=Side.BUY, qty=QTY,
                stop_price=D("101.00"),
            ),
        )  # fmt: skip
        assert outcome.snapshot.entries_today == outcome.snapshot.attempt == 1

    def test_oco_signal_is_one_attempt_with_two_legs(self, scenario):
        """An OCO pair places both legs but counts as a single entry attempt."""
        outcome = scenario.fire(signal())
        assert [(c.side, c.client_order_id) for c in only(outcome, PlaceEntry)] == [
            (Side.BUY, oid(BUY)),
            (Side.SELL, oid(SELL)),
        ]
        assert outcome.snapshot.entries_today == 1

    def test_first_fill_of_oco_cancels_the_other_leg_and_places_the_stop(self):
        """The first leg to fill cancels the other one and protects the position."""
        s = to_pending_live()
        outcome = s.fire(filled(BUY2, QTY, "101.00"))
        assert outcome.state_to == State.IN_POSITION
        assert outcome.commands == (
            CancelOrder(client_order_id=SELL2, symbol=SYMBOL),
            PlaceStop(
                client_order_id=STOP2, symbol=SYMBOL, side=Side.SELL, qty=QTY,
                stop_price=D("98.99"),
            ),
        )  # fmt: skip
        assert outcome.snapshot.side is Side.BUY
        assert outcome.snapshot.position == QTY

    def test_cancel_ack_of_losing_leg_changes_nothing_but_its_record(self):
        """The losing leg's cancel acknowledgement keeps the position and emits nothing."""
        s = to_pending_live()
        s.fire(filled(BUY2, QTY, "101.00"))
        outcome = s.fire(cancelled(SELL2))
        assert outcome.state_to == State.IN_POSITION
        assert outcome.commands == ()
        assert [t.client_order_id for t in outcome.snapshot.working_orders] == [STOP2]

    def test_second_cancel_ack_of_losing_leg_is_ignored_as_stale(self):
        """Cancelling the other leg is idempotent: a repeated acknowledgement is stale."""
        s = to_pending_live()
        s.run(filled(BUY2, QTY, "101.00"), cancelled(SELL2))
        outcome = s.fire(cancelled(SELL2))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.IGNORED, "stale_order_event")

    def test_buy_stop_entry_rounds_up_to_the_tick(self):
        """A buy stop rounds away from the market: up."""
        s = Scenario(rules(tick=TICK_05))
        leg = m.EntryLeg(side=Side.BUY, entry_price=D("101.01"), initial_stop=D("99"))
        (place,) = s.fire(signal(leg)).commands
        assert place.stop_price == D("101.05")

    def test_sell_stop_entry_rounds_down_to_the_tick(self):
        """A sell stop rounds away from the market: down."""
        s = Scenario(rules(tick=TICK_05))
        leg = m.EntryLeg(side=Side.SELL, entry_price=D("98.99"), initial_stop=D("101"))
        (place,) = s.fire(signal(leg)).commands
        assert place.stop_price == D("98.95")

    def test_initial_stop_of_a_long_rounds_down(self):
        """The first protective stop of a long is floored to the tick."""
        s = Scenario(rules(tick=TICK_05))
        s.fire(signal(BUY_LEG))
        (place,) = s.fire(filled(oid(BUY), QTY, "101.00")).commands
        assert isinstance(place, PlaceStop)
        assert place.stop_price == D("98.95")  # 98.99 floored

    def test_initial_stop_of_a_short_rounds_up(self):
        """The first protective stop of a short is ceiled to the tick."""
        s = Scenario(rules(tick=TICK_05))
        s.fire(signal(SELL_LEG))
        (place,) = s.fire(filled(oid(SELL), QTY, "99.00")).commands
        assert (place.side, place.stop_price) == (Side.BUY, D("101.05"))  # 101.01 ceiled

    def test_rejected_single_leg_returns_to_flat_and_keeps_the_attempt_spent(self, scenario):
        """A rejected entry ends the attempt; the day's counter does not move back."""
        scenario.fire(signal(BUY_LEG))
        outcome = scenario.fire(rejected(oid(BUY)))
        assert outcome.state_to == State.FLAT
        assert outcome.snapshot.entries_today == 1

    def test_one_rejected_oco_leg_keeps_waiting_for_the_other(self, scenario):
        """With one leg of the pair rejected, the other still works: still pending."""
        scenario.fire(signal())
        outcome = scenario.fire(rejected(oid(SELL)))
        assert outcome.state_to == State.ENTRY_PENDING
        assert [t.client_order_id for t in outcome.snapshot.working_orders] == [oid(BUY)]

    def test_second_signal_while_pending_is_declined(self):
        """One attempt at a time: a new signal while one is pending is refused."""
        outcome = to_pending_sent().fire(signal())
        assert (outcome.kind, outcome.reason) == (OutcomeKind.DECLINED, "one_attempt_at_a_time")


class TestAttempts:
    def test_max_attempts_one_declines_the_second_entry(self):
        """With ``max_attempts=1`` the day's second entry is refused after a stop-out."""
        s = round_trip(Scenario(rules(max_attempts=1)))
        outcome = s.fire(signal())
        assert (outcome.kind, outcome.reason) == (OutcomeKind.DECLINED, "attempts_left")
        assert outcome.snapshot.entries_today == 1

    def test_max_attempts_two_allows_exactly_two_entries(self):
        """With ``max_attempts=2`` a second attempt opens and a third is refused."""
        s = round_trip(Scenario(rules(max_attempts=2)))
        second = s.fire(signal())
        assert second.kind is OutcomeKind.ACCEPTED
        assert second.snapshot.attempt == 2
        assert {c.client_order_id for c in second.commands} == {BUY2, SELL2}
        s.run(filled(BUY2, QTY, "101.00"), cancelled(SELL2), accepted(STOP2), filled(STOP2, QTY))
        assert s.state == State.FLAT
        third = s.fire(signal())
        assert (third.kind, third.reason) == (OutcomeKind.DECLINED, "attempts_left")
        assert third.snapshot.entries_today == 2

    def test_declined_signal_does_not_move_the_counter(self, scenario):
        """Only an accepted entry counts: a signal outside the window leaves it at zero."""
        outcome = scenario.fire(signal(when=at(9, 30)))
        assert outcome.kind is OutcomeKind.DECLINED
        assert outcome.snapshot.entries_today == 0

    def test_later_dated_rollover_resets_the_counter(self):
        """A new trading date starts the count again and new ids carry the new date."""
        s = round_trip(Scenario(rules(max_attempts=1)))
        outcome = s.fire(m.DayRolledOver(trading_date=NEXT_DAY))
        assert outcome.kind is OutcomeKind.ACCEPTED
        assert (outcome.snapshot.entries_today, outcome.snapshot.trading_date) == (0, NEXT_DAY)
        entry = s.fire(signal(BUY_LEG, when=at(day=NEXT_DAY)))
        assert entry.commands[0].client_order_id == oid(BUY, 1, day=NEXT_DAY)

    def test_orders_of_earlier_days_are_still_known_after_rollovers(self):
        """Finished orders outlive their day: a late fill days later is a late fill (flatten),
        a repeated ack stale, and only an id never issued foreign."""
        s = round_trip(Scenario())
        for day in (NEXT_DAY, date(2026, 11, 25), date(2026, 11, 26)):
            s.fire(m.DayRolledOver(trading_date=day))
        stale = s.fire(accepted(oid(OrderRole.STOP)))
        assert (stale.kind, stale.trigger) == (OutcomeKind.IGNORED, "stale_order_event")
        foreign = s.fire(accepted(FOREIGN_ID))
        assert (foreign.kind, foreign.trigger) == (OutcomeKind.IGNORED, "foreign_order_event")
        late = s.fire(filled(oid(SELL), QTY, "99.00"))
        assert (late.kind, late.trigger) == (OutcomeKind.ANOMALY, "late_fill")

    def test_same_date_rollover_is_a_race(self):
        """A repeated rollover for the current date is stale: ignored, counter kept."""
        s = round_trip(Scenario())
        outcome = s.fire(m.DayRolledOver(trading_date=DAY))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.IGNORED, "stale_rollover")
        assert outcome.snapshot.entries_today == 1

    def test_earlier_date_rollover_is_a_race(self):
        """A rollover to an earlier date never rewinds the day."""
        s = Scenario()
        outcome = s.fire(m.DayRolledOver(trading_date=date(2026, 11, 20)))
        assert outcome.kind is OutcomeKind.IGNORED
        assert outcome.snapshot.trading_date == DAY


class TestEntryWindow:
    @pytest.mark.parametrize(
        ("hour", "minute", "kind"),
        [
            (9, 44, OutcomeKind.DECLINED),
            (9, 45, OutcomeKind.ACCEPTED),
            (14, 59, OutcomeKind.ACCEPTED),
            (15, 0, OutcomeKind.DECLINED),
        ],
    )
    def test_entry_window_is_half_open(self, hour, minute, kind):
        """The window [09:45, 15:00) admits its start and refuses its end."""
        outcome = Scenario().fire(signal(when=at(hour, minute)))
        assert outcome.kind is kind
        if kind is OutcomeKind.DECLINED:
            assert outcome.reason == "entry_window_open"

    def test_window_is_read_in_the_strategy_timezone(self):
        """An instant in UTC is judged by New York wall time (EST is UTC-5 in November)."""
        inside = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # 14:30 in New York
        outside = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)  # 15:30 in New York
        assert Scenario().fire(signal(when=inside)).kind is OutcomeKind.ACCEPTED
        assert Scenario().fire(signal(when=outside)).reason == "entry_window_open"

    def test_no_window_means_always_open(self):
        """Rules without an entry window accept a signal at any time."""
        s = Scenario(m.Rules(max_attempts=1))
        assert s.fire(signal(when=at(3, 0))).kind is OutcomeKind.ACCEPTED

    def test_square_off_when_flat_ends_the_day_for_entries(self, scenario):
        """After square-off no new entry until the next trading date."""
        assert scenario.fire(square_off()).snapshot.done_for_day
        outcome = scenario.fire(signal())
        assert (outcome.kind, outcome.reason) == (OutcomeKind.DECLINED, "day_open")
        scenario.fire(m.DayRolledOver(trading_date=NEXT_DAY))
        assert not scenario.snapshot.done_for_day
        assert scenario.fire(signal(when=at(day=NEXT_DAY))).kind is OutcomeKind.ACCEPTED

    def test_square_off_in_position_cancels_the_stop_then_closes(self):
        """Square-off winds a position down: cancel the stop, close once it is gone."""
        s = to_in_protected()
        outcome = s.fire(square_off())
        assert outcome.state_to == State.EXITING
        assert outcome.commands == (CancelOrder(client_order_id=STOP2, symbol=SYMBOL),)
        assert outcome.snapshot.done_for_day
        close = s.fire(cancelled(STOP2))
        assert only(close, ClosePosition) == [
            ClosePosition(client_order_id=oid(OrderRole.EXIT, A2), symbol=SYMBOL, side=Side.SELL, qty=QTY)
        ]


class TestPartialFills:
    def test_stop_is_sized_to_the_filled_quantity(self):
        """A partial entry fill is protected by a stop of exactly that size."""
        s = to_pending_sent()
        (_, place) = s.fire(filled(BUY2, 4, "101.00")).commands
        assert isinstance(place, PlaceStop)
        assert place.qty == 4

    def test_growing_fill_resizes_a_live_stop_by_replace(self):
        """When fills grow and the stop is live, the stop is replaced at the new size."""
        s = long_in_position(qty=4)
        outcome = s.fire(filled(oid(BUY), 10, "101.00"))
        assert outcome.state_to == State.STOP_REPLACING
        assert outcome.commands == (
            ReplaceStop(
                client_order_id=oid(OrderRole.STOP), new_client_order_id=oid(OrderRole.STOP, 1, 1),
                symbol=SYMBOL, qty=QTY, stop_price=D("98.99"),
            ),
        )  # fmt: skip

    def test_growing_fill_while_stop_placement_in_flight_waits_for_the_ack(self):
        """A stop still being placed is resized once the broker acknowledges it."""
        s = to_in_partial()  # stop for 4 sent, not acknowledged
        grown = s.fire(filled(BUY2, 7, "101.00"))
        assert (grown.state_to, grown.commands) == (State.IN_POSITION, ())
        ack = s.fire(accepted(STOP2))
        assert ack.state_to == State.STOP_REPLACING
        (replace,) = ack.commands
        assert isinstance(replace, ReplaceStop)
        assert (replace.client_order_id, replace.qty) == (STOP2, 7)

    def test_growing_fill_while_replace_in_flight_is_resized_when_it_lands(self):
        """Fills during a replace are covered by another replace once the first lands."""
        s = to_replacing_partial()  # stop 4 live, replace to 99.50 x4 in flight
        assert s.fire(filled(BUY2, QTY, "101.00")).commands == ()
        landed = s.fire(replaced(STOP2, STOP2_R1))
        assert (landed.state_to, landed.commands) == (State.IN_POSITION, ())  # not replaceable yet
        acknowledged = s.fire(accepted(STOP2_R1))
        assert acknowledged.state_to == State.STOP_REPLACING
        (replace,) = acknowledged.commands
        assert (replace.client_order_id, replace.qty, replace.stop_price) == (
            STOP2_R1, QTY, D("99.50"),
        )  # fmt: skip

    def test_stop_spent_by_an_outgrown_position_closes_the_rest(self):
        """A stop filled in full below the grown position exits the remainder, never unprotected."""
        s = to_in_partial()
        s.run(filled(BUY2, QTY, "101.00"), cancelled(SELL2))
        outcome = s.fire(filled(STOP2, 4, "98.99"))
        assert outcome.state_to == State.EXITING
        assert only(outcome, ClosePosition)[0].qty == 6

    def test_partial_stop_fill_keeps_the_position_protected(self):
        """A stop that fills in part keeps working for the rest."""
        s = to_in_protected()
        outcome = s.fire(filled(STOP2, 3, "98.99"))
        assert outcome.state_to == State.IN_POSITION
        assert outcome.snapshot.position == 7
        assert [t.client_order_id for t in outcome.snapshot.working_orders] == [STOP2]


class TestStopWaitsForTheEntry:
    """A venue that refuses an order opposite a working one (Alpaca's wash-trade rule): after a
    partial entry fill the remainder is cancelled first, and the stop follows its cancel."""

    @staticmethod
    def waiting() -> Scenario:
        s = Scenario(rules(stop_waits_for_entry=True))
        s.run(signal(BUY_LEG), accepted(oid(BUY)))
        return s

    def test_a_partial_fill_cancels_the_remainder_instead_of_placing_the_stop(self):
        """Fill 4 of 10: the buy's remainder is cancelled; no sell stop goes out beside it."""
        s = self.waiting()
        outcome = s.fire(filled(oid(BUY), 4, "101.00"))
        assert outcome.state_to == State.IN_POSITION
        assert outcome.commands == (CancelOrder(client_order_id=oid(BUY), symbol=SYMBOL),)

    def test_the_stop_follows_the_cancel_sized_to_what_filled(self):
        """The cancel lands having filled 6 in all: the stop is placed for 6, at once."""
        s = self.waiting()
        s.run(filled(oid(BUY), 4, "101.00"), filled(oid(BUY), 6, "101.00"))
        outcome = s.fire(cancelled(oid(BUY), 6, "101.00"))
        assert outcome.state_to == State.IN_POSITION
        (place,) = outcome.commands
        assert isinstance(place, PlaceStop)
        assert (place.qty, place.side, place.stop_price) == (6, Side.SELL, D("98.99"))

    def test_a_remainder_that_fills_before_its_cancel_lands_is_protected_whole(self):
        """The rest fills first: the stop covers all 10; the late cancel answer changes nothing."""
        s = self.waiting()
        s.fire(filled(oid(BUY), 4, "101.00"))
        outcome = s.fire(filled(oid(BUY), QTY, "101.00"))
        (place,) = outcome.commands
        assert isinstance(place, PlaceStop)
        assert place.qty == QTY
        late = s.fire(cancelled(oid(BUY), QTY, "101.00"))
        assert late.kind is OutcomeKind.IGNORED

    def test_a_whole_fill_places_the_stop_at_once(self):
        """Nothing remains to cancel: the stop goes out with the fill, as on any venue."""
        s = self.waiting()
        (place,) = s.fire(filled(oid(BUY), QTY, "101.00")).commands
        assert isinstance(place, PlaceStop)
        assert place.qty == QTY

    def test_a_snapshot_without_the_remainder_places_the_stop_when_its_cancel_was_lost(self):
        """The remainder's ``canceled`` was lost; a snapshot agrees on the 4 held and no longer
        holds the buy: the stop is placed as the cancel would have, not taken for a stop gone
        (found by tickstate verify with the strategy files' rules, after the merge)."""
        s = self.waiting()
        s.fire(filled(oid(BUY), 4, "101.00"))
        outcome = s.fire(m.BrokerSnapshotTaken(at=at(), position_qty=D(4), open_orders=()))
        assert (outcome.kind, outcome.trigger) == (OutcomeKind.ACCEPTED, "orders_differ")
        assert outcome.state_to == State.IN_POSITION
        (place,) = outcome.commands
        assert isinstance(place, PlaceStop)
        assert (place.qty, place.side) == (4, Side.SELL)

    def test_a_snapshot_still_holding_the_remainder_keeps_waiting(self):
        """The buy is still open at the broker (its cancel on its way): nothing to do yet."""
        s = self.waiting()
        s.fire(filled(oid(BUY), 4, "101.00"))
        outcome = s.fire(
            m.BrokerSnapshotTaken(at=at(), position_qty=D(4), open_orders=(oid(BUY),))
        )
        assert outcome.state_to == State.IN_POSITION
        assert outcome.commands == ()


class TestTrail:
    def test_long_trail_floors_to_tick_005(self):
        """A long's candidate 99.53 on a 0.05 grid becomes 99.50 and is sent as a replace."""
        s = long_in_position(rules(tick=TICK_05))
        outcome = s.fire(trail("99.53"))
        assert outcome.state_to == State.STOP_REPLACING
        (replace,) = outcome.commands
        assert replace.stop_price == D("99.50")

    def test_long_trail_floors_to_tick_001(self):
        """On a 0.01 grid a long's candidate 99.537 becomes 99.53."""
        outcome = long_in_position().fire(trail("99.537"))
        assert outcome.commands[0].stop_price == D("99.53")

    def test_short_trail_ceils_to_tick_001(self):
        """A short's candidate 100.501 becomes 100.51 (up, toward safety)."""
        outcome = short_in_position().fire(trail("100.501"))
        (replace,) = outcome.commands
        assert (replace.stop_price, outcome.snapshot.desired_stop) == (D("100.51"), D("100.51"))

    def test_short_trail_ceils_to_tick_005(self):
        """On a 0.05 grid a short's candidate 100.51 becomes 100.55."""
        outcome = short_in_position(rules(tick=TICK_05)).fire(trail("100.51"))
        assert outcome.commands[0].stop_price == D("100.55")

    @pytest.mark.parametrize("candidate", ["98.99", "98.994", "98.50"])
    def test_long_trail_not_strictly_tighter_is_declined(self, candidate):
        """Equal after rounding, or looser: refused, the stop never loosens."""
        outcome = long_in_position().fire(trail(candidate))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.DECLINED, "tighter")
        assert outcome.snapshot.desired_stop == D("98.99")

    @pytest.mark.parametrize("candidate", ["101.01", "101.005", "101.50"])
    def test_short_trail_not_strictly_tighter_is_declined(self, candidate):
        """For a short, equal after rounding or higher is refused."""
        outcome = short_in_position().fire(trail(candidate))
        assert outcome.kind is OutcomeKind.DECLINED

    def test_trail_during_replace_is_remembered_and_sent_after_it_lands(self):
        """A tighter wish while a replace flies is sent once the replace lands."""
        s = to_replacing_protected()  # replace to 99.50 in flight
        wish = s.fire(trail("100.00"))
        assert (wish.kind, wish.commands, wish.state_to) == (
            OutcomeKind.ACCEPTED, (), State.STOP_REPLACING,
        )  # fmt: skip
        assert (wish.snapshot.stop_price, wish.snapshot.desired_stop) == (D("98.99"), D("100.00"))
        landed = s.fire(replaced(STOP2, STOP2_R1))
        assert landed.commands == ()  # Alpaca refuses to replace an order not yet at the exchange
        (replace,) = s.fire(accepted(STOP2_R1)).commands
        assert (replace.client_order_id, replace.stop_price) == (STOP2_R1, D("100.00"))
        assert replace.new_client_order_id == oid(OrderRole.STOP, A2, 2)

    def test_trail_while_stop_placement_in_flight_is_sent_after_the_ack(self):
        """A tighter wish before the stop is acknowledged is replaced in once it is."""
        s = to_pending_live()
        s.run(filled(BUY2, QTY, "101.00"), cancelled(SELL2))
        wish = s.fire(trail("99.50"))
        assert (wish.state_to, wish.commands) == (State.IN_POSITION, ())
        ack = s.fire(accepted(STOP2))
        assert ack.commands[0].stop_price == D("99.50")

    def test_trail_without_position_is_declined(self):
        """Nothing to trail while flat or pending."""
        assert to_pending_sent().fire(trail("99")).reason == "no_position"


class TestInitialStopRevision:
    @pytest.mark.parametrize("price", ["98.50", "99.50"], ids=["looser", "tighter"])
    def test_revision_while_pending_is_the_stop_placed_at_the_fill(self, scenario, price):
        """Before the fill no stop exists: a revision may loosen or tighten, and the fill uses it."""
        scenario.run(signal(BUY_LEG), accepted(oid(BUY)))
        outcome = scenario.fire(revise(Side.BUY, price))
        assert (outcome.kind, outcome.state_to, outcome.commands) == (
            OutcomeKind.ACCEPTED, State.ENTRY_PENDING, (),
        )  # fmt: skip
        assert scenario.leg(Side.BUY).protect_at == D(price)
        (place,) = only(scenario.fire(filled(oid(BUY), QTY, "101.00")), PlaceStop)
        assert (place.side, place.stop_price) == (Side.SELL, D(price))

    def test_short_revision_is_ceiled_when_the_stop_is_placed(self):
        """A short's revised 101.52 is kept as given and ceiled to 101.55 on a 0.05 grid."""
        s = Scenario(rules(tick=TICK_05))
        s.fire(signal(SELL_LEG))
        assert s.fire(revise(Side.SELL, "101.52")).kind is OutcomeKind.ACCEPTED
        (place,) = only(s.fire(filled(oid(SELL), QTY, "99.00")), PlaceStop)
        assert (place.side, place.stop_price) == (Side.BUY, D("101.55"))

    def test_revision_of_one_oco_leg_leaves_the_other_alone(self):
        """Each leg keeps its own initial stop; a revision names the leg by its side."""
        s = to_pending_live()
        s.fire(revise(Side.SELL, "101.50"))
        assert (s.leg(Side.BUY).protect_at, s.leg(Side.SELL).protect_at) == (
            D("98.99"), D("101.50"),
        )  # fmt: skip

    @pytest.mark.parametrize(
        ("side", "price"),
        [(Side.BUY, "101.00"), (Side.BUY, "101.50"), (Side.SELL, "99.00"), (Side.SELL, "98.50")],
        ids=["buy-at-entry", "buy-above", "sell-at-entry", "sell-below"],
    )
    def test_revision_on_the_wrong_side_of_the_entry_is_declined(self, side, price):
        """A stop at or beyond its leg's entry price protects nothing: refused, leg unchanged."""
        s = to_pending_live()
        before = s.leg(side).protect_at
        outcome = s.fire(revise(side, price))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.DECLINED, "stop_protects_leg")
        assert s.leg(side).protect_at == before

    def test_revision_for_a_side_with_no_working_leg_is_declined(self, scenario):
        """A long-only entry has no sell leg to revise; nor has a pair whose sell leg was rejected."""
        scenario.fire(signal(BUY_LEG))
        outcome = scenario.fire(revise(Side.SELL, "101.50"))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.DECLINED, "side_leg_working")
        s = to_pending_live()
        s.fire(rejected(SELL2))
        assert s.fire(revise(Side.SELL, "101.50")).reason == "side_leg_working"

    def test_revision_after_a_partial_fill_is_declined(self):
        """Once the leg filled in part its stop exists: only a trail may move it, never looser."""
        s = to_in_partial()
        outcome = s.fire(revise(Side.BUY, "98.00"))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.DECLINED, "already_filled")
        assert (outcome.snapshot.stop_price, outcome.snapshot.desired_stop) == (
            D("98.99"), D("98.99"),
        )  # fmt: skip
        assert s.leg(Side.BUY).protect_at == D("98.99")

    def test_revision_without_a_pending_entry_is_declined(self):
        """Flat, or the entry already being cancelled: nothing to revise."""
        assert to_flat().fire(revise(Side.BUY, "98.50")).reason == "no_pending_entry"
        assert to_cancelling().fire(revise(Side.BUY, "98.50")).reason == "no_pending_entry"


class TestReplaceLanding:
    def test_replace_lands_via_order_replaced(self):
        """``OrderReplaced`` (old → new) makes the replacement the stop: back in position."""
        s = to_replacing_protected()
        outcome = s.fire(replaced(STOP2, STOP2_R1))
        assert outcome.state_to == State.IN_POSITION
        (stop,) = outcome.snapshot.working_orders
        assert (stop.client_order_id, stop.status, stop.stop_price) == (
            STOP2_R1, TrackStatus.SENT, D("99.50"),
        )  # fmt: skip  (live once its own acknowledgement arrives)
        assert outcome.snapshot.stop_price == D("99.50")

    def test_replace_lands_via_the_replacements_own_acceptance(self):
        """The replacement's ``OrderAccepted`` alone also lands the replace."""
        s = to_replacing_protected()
        outcome = s.fire(accepted(STOP2_R1))
        assert outcome.state_to == State.IN_POSITION
        assert [t.client_order_id for t in outcome.snapshot.working_orders] == [STOP2_R1]

    def test_replaced_after_accepted_is_ignored_as_stale(self):
        """Accepted first, then Replaced: the second names a finished order."""
        s = to_replacing_protected()
        s.fire(accepted(STOP2_R1))
        outcome = s.fire(replaced(STOP2, STOP2_R1))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.IGNORED, "stale_order_event")

    def test_accepted_after_replaced_makes_the_replacement_live(self):
        """Replaced first (Alpaca's order), then the replacement's Accepted: it is live now."""
        s = to_replacing_protected()
        s.fire(replaced(STOP2, STOP2_R1))
        outcome = s.fire(accepted(STOP2_R1))
        assert (outcome.kind, outcome.trigger, outcome.commands) == (
            OutcomeKind.ACCEPTED, "stop_accepted", (),
        )  # fmt: skip
        (stop,) = outcome.snapshot.working_orders
        assert stop.status is TrackStatus.LIVE
        again = s.fire(accepted(STOP2_R1))
        assert (again.kind, again.reason) == (OutcomeKind.IGNORED, "duplicate_order_event")

    def test_replace_losing_to_a_fill_goes_flat_and_ignores_the_rejection(self):
        """Fill of A, then B rejected: flat after the fill; B's rejection is stale."""
        s = to_replacing_protected()
        out = s.fire(filled(STOP2, QTY, "98.99"))
        assert out.state_to == State.FLAT
        assert out.snapshot.working_orders == ()
        late = s.fire(rejected(STOP2_R1))
        assert (late.kind, late.reason, late.commands) == (
            OutcomeKind.IGNORED, "stale_order_event", (),
        )  # fmt: skip

    def test_replacement_rejected_keeps_the_old_stop(self):
        """A refused replace leaves the old stop protecting the position."""
        s = to_replacing_protected()
        outcome = s.fire(rejected(STOP2_R1))
        assert outcome.state_to == State.IN_POSITION
        assert outcome.snapshot.stop_price == D("98.99")
        assert [t.client_order_id for t in outcome.snapshot.working_orders] == [STOP2]


class TestExits:
    def test_exit_signal_cancels_the_stop_first(self):
        """An exit cancels the stop and waits: no close order while a stop could fill."""
        outcome = to_in_protected().fire(exit_signal())
        assert outcome.state_to == State.EXITING
        assert outcome.commands == (CancelOrder(client_order_id=STOP2, symbol=SYMBOL),)
        assert outcome.snapshot.exit_reason == "target"

    def test_exit_closes_the_position_once_nothing_works(self):
        """After the stop's cancel is acknowledged, close exactly the position."""
        s = to_exiting_closing()
        (close,) = [c for c in s.outcomes[-1].commands if isinstance(c, ClosePosition)]
        assert close == ClosePosition(
            client_order_id=oid(OrderRole.EXIT, A2), symbol=SYMBOL, side=Side.SELL, qty=QTY
        )
        done = s.fire(filled(oid(OrderRole.EXIT, A2), QTY, "100.50"))
        assert done.state_to == State.FLAT
        assert (done.snapshot.position, done.snapshot.exit_reason) == (0, None)

    def test_exit_of_partial_position_cancels_entry_remainder_too(self):
        """An exit with the entry still working cancels the entry and the stop."""
        outcome = to_in_partial().fire(exit_signal())
        assert {c.client_order_id for c in only(outcome, CancelOrder)} == {BUY2, STOP2}

    def test_stop_out_with_entry_remainder_working_cancels_it(self):
        """The stop filled the position; the entry's remainder is cancelled in ``exiting``."""
        s = to_in_partial()
        s.fire(accepted(STOP2))
        outcome = s.fire(filled(STOP2, 4, "98.99"))
        assert outcome.state_to == State.EXITING
        assert outcome.commands == (CancelOrder(client_order_id=BUY2, symbol=SYMBOL),)
        assert s.fire(cancelled(SELL2)).state_to == State.EXITING  # the OCO's other leg, still going
        assert s.fire(cancelled(BUY2, 4, "101.00")).state_to == State.FLAT

    def test_stop_out_of_a_full_position_goes_flat(self):
        """A stop hit with nothing else working ends the attempt."""
        outcome = to_in_protected().fire(filled(STOP2, QTY, "98.99"))
        assert (outcome.state_to, outcome.commands) == (State.FLAT, ())
        assert outcome.snapshot.side is None


class TestHaltAndResume:
    def test_halt_in_position_keeps_the_stop_and_cancels_entries(self):
        """Halting cancels the entry remainder but leaves the protective stop working."""
        outcome = to_in_partial().fire(halt())
        assert outcome.state_to == State.HALTED
        assert outcome.commands == (CancelOrder(client_order_id=BUY2, symbol=SYMBOL),)
        assert outcome.snapshot.halt_reason == "kill_switch"

    def test_halt_with_flatten_cancels_the_stop_then_closes(self):
        """A flattening halt cancels the stop and closes the position after."""
        s = to_in_protected()
        assert s.fire(halt(flatten=True)).commands == (
            CancelOrder(client_order_id=STOP2, symbol=SYMBOL),
        )
        assert only(s.fire(cancelled(STOP2)), ClosePosition)[0].qty == QTY

    def test_resume_is_refused_while_books_are_incoherent(self):
        """With an entry cancel still in flight a halted symbol cannot resume."""
        s = to_halted_protecting()
        outcome = s.fire(resume())
        assert (outcome.kind, outcome.reason) == (OutcomeKind.DECLINED, "books_not_coherent")
        assert outcome.snapshot.state == State.HALTED

    def test_resume_once_coherent_returns_to_position(self):
        """Once the entry's cancel is acknowledged and the stop is live, resume works."""
        s = to_halted_protecting()
        s.run(cancelled(BUY2, 4, "101.00"), cancelled(SELL2), accepted(STOP2))
        outcome = s.fire(resume())
        assert outcome.state_to == State.IN_POSITION
        assert outcome.snapshot.halt_reason is None

    def test_resume_from_flat_halt_returns_to_flat(self, scenario):
        """A symbol halted with nothing open resumes flat."""
        scenario.fire(halt())
        assert scenario.fire(resume()).state_to == State.FLAT

    def test_halted_symbol_declines_new_entries_and_second_halt(self, scenario):
        """No entry while halted; halting again is refused."""
        scenario.fire(halt())
        assert scenario.fire(signal()).reason == State.HALTED
        assert scenario.fire(halt()).reason == "already_halted"

    def test_resume_when_not_halted_is_declined(self, scenario):
        """Resume only means something for a halted symbol."""
        assert scenario.fire(resume()).reason == "not_halted"


class TestReconciliation:
    def test_matching_broker_snapshot_is_accepted(self):
        """The broker agrees with the machine's position: nothing happens."""
        outcome = to_in_protected().fire(broker_snapshot(QTY))
        assert (outcome.kind, outcome.state_to, outcome.commands) == (
            OutcomeKind.ACCEPTED, State.IN_POSITION, (),
        )  # fmt: skip

    def test_broker_flat_while_machine_holds_is_an_anomaly_that_halts(self):
        """A mismatch halts the symbol and never invents a fill."""
        outcome = to_in_protected().fire(broker_snapshot(0))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.ANOMALY, "position_mismatch")
        assert outcome.state_to == State.HALTED
        assert outcome.snapshot.halt_reason == "position_mismatch"
        assert outcome.snapshot.position == QTY

    def test_broker_position_while_machine_is_flat_is_an_anomaly(self, scenario):
        """A position the machine never filled is not adopted."""
        outcome = scenario.fire(broker_snapshot(5))
        assert outcome.kind is OutcomeKind.ANOMALY
        assert outcome.snapshot.position == 0


class TestEntryTimeout:
    def test_timeout_of_current_attempt_cancels_its_legs(self):
        """The pending attempt's timer cancels every leg."""
        outcome = to_pending_live().fire(timeout(A2))
        assert outcome.state_to == State.ENTRY_CANCELLING
        assert {c.client_order_id for c in outcome.commands} == {BUY2, SELL2}

    def test_timeout_of_a_stale_attempt_is_a_race(self):
        """Attempt 1's timer while attempt 2 is pending is ignored."""
        outcome = to_pending_live().fire(timeout(1))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.IGNORED, "stale_timer")

    def test_timeout_in_position_cancels_the_entry_remainder(self):
        """A partly filled entry's timer cancels what has not filled; the stop stays."""
        outcome = to_in_partial().fire(timeout(A2))
        assert outcome.state_to == State.IN_POSITION
        assert outcome.commands == (CancelOrder(client_order_id=BUY2, symbol=SYMBOL),)

    def test_cancelled_leg_with_partial_fill_goes_to_position(self):
        """A leg cancelled after a partial fill leaves a protected, smaller position."""
        s = to_pending_live()
        s.fire(timeout(A2))
        outcome = s.fire(cancelled(BUY2, 3, "101.00"))
        assert outcome.state_to == State.IN_POSITION
        assert only(outcome, PlaceStop)[0].qty == 3


class TestClientOrderIds:
    def test_ids_follow_the_documented_pattern(self):
        """Entry, stop, replacement and exit ids: ``{strategy}-{symbol}-{date}-{attempt}-{role}``."""
        s = to_replacing_protected()
        s.fire(replaced(STOP2, STOP2_R1))
        s.fire(exit_signal())
        s.fire(cancelled(STOP2_R1))
        assert s.known[-5:] == [
            "orb-AAPL-20261123-2-buy",
            "orb-AAPL-20261123-2-sell",
            "orb-AAPL-20261123-2-stop",
            "orb-AAPL-20261123-2-stop-r1",
            "orb-AAPL-20261123-2-exit",
        ]
