"""Field lessons 10, 13, 15, 16 and 17 (``docs/field-lessons.md``), reproduced on one machine."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

import machines as m
from machines import OrderRole, OutcomeKind, PlaceStop, ReplaceStop, Side, State
from tests.machines.scenarios import (
    A2,
    BUY,
    BUY2,
    BUY_LEG,
    QTY,
    SELL,
    SELL_LEG,
    STOP2,
    STOP2_R1,
    Scenario,
    accepted,
    cancelled,
    exit_signal,
    filled,
    oid,
    rejected,
    replaced,
    rules,
    signal,
    timeout,
    to_exiting_closing,
    to_in_protected,
    to_pending_live,
    to_replacing_protected,
    trail,
)

D = Decimal
TICK_05 = m.FixedTick(D("0.05"))


def _stop_commands(outcomes: list[m.Outcome]) -> list[m.Command]:
    return [c for o in outcomes for c in o.commands if isinstance(c, PlaceStop | ReplaceStop)]


def _in_position(side: Side, tick: m.TickRule = m.US_EQUITY_TICK) -> Scenario:
    """A single-leg position on ``side``, filled in full, its stop live."""
    s = Scenario(rules(tick=tick))
    leg, cid = (BUY_LEG, oid(BUY)) if side is Side.BUY else (SELL_LEG, oid(SELL))
    return s.run(signal(leg), accepted(cid), filled(cid, QTY), accepted(oid(OrderRole.STOP)))


class TestLesson10CancelAfterFill:
    def test_cancel_ack_after_fill_is_ignored_as_race(self):
        """A cancel acknowledged after the order filled leaves the position alone, emits nothing."""
        s = to_pending_live()
        s.fire(timeout(A2))  # we ask to cancel both legs...
        s.fire(filled(BUY2, QTY, "101.00"))  # ...but the buy leg fills first
        before = s.snapshot
        assert before.state == State.IN_POSITION
        outcome = s.fire(cancelled(BUY2, QTY, "101.00"))
        assert (outcome.kind, outcome.reason) == (OutcomeKind.IGNORED, "stale_order_event")
        assert outcome.commands == ()
        assert outcome.snapshot.state == State.IN_POSITION
        assert outcome.snapshot.position == before.position == QTY
        assert outcome.snapshot.working_orders == before.working_orders
        assert outcome.snapshot.races == before.races + 1


class TestLesson13NoStopAfterClose:
    def test_no_stop_is_re_placed_after_the_position_closed(self):
        """Late stop traffic after a stop-out never places or replaces a stop."""
        s = to_replacing_protected()
        assert s.fire(filled(STOP2, QTY, "98.99")).state_to == State.FLAT
        late = [
            s.fire(event)
            for event in (
                accepted(STOP2_R1),
                replaced(STOP2, STOP2_R1),
                rejected(STOP2_R1),
                accepted(STOP2),
                trail("100.00"),
            )
        ]
        assert _stop_commands(late) == []
        assert s.state == State.FLAT
        assert s.snapshot.working_orders == ()

    def test_exit_fill_leaves_no_stop_behind(self):
        """Closing by an exit order leaves nothing working and places nothing more."""
        s = to_exiting_closing()
        done = s.fire(filled(oid(OrderRole.EXIT, A2), QTY, "100.00"))
        assert done.state_to == State.FLAT
        assert done.snapshot.working_orders == ()
        assert _stop_commands([done, s.fire(trail("100.00"))]) == []

    def test_never_two_live_stops(self):
        """Through trails and replaces, at most one stop order is ever live at the broker."""
        s = to_in_protected()
        for price, step in (("99.50", "replaced"), ("100.00", "accepted"), ("100.50", "replaced")):
            s.fire(trail(price))
            current, wanted = [t.client_order_id for t in s.working(OrderRole.STOP)]
            s.fire(replaced(current, wanted) if step == "replaced" else accepted(wanted))
            (protecting,) = s.working(OrderRole.STOP)  # the old one is gone: one stop works
            assert protecting.client_order_id == wanted
            if step == "replaced":  # Alpaca's order: `replaced` for the old, then `new` for it
                assert protecting.status is m.TrackStatus.SENT
                s.fire(accepted(wanted))
            live = [t for t in s.working(OrderRole.STOP) if t.status is m.TrackStatus.LIVE]
            assert len(live) == 1
        placed = [c for c in _stop_commands(s.outcomes) if isinstance(c, PlaceStop)]
        assert [c.client_order_id for c in placed] == [oid(OrderRole.STOP), STOP2]  # one per position

    def test_exit_during_a_replace_cancels_the_stop_and_its_replacement(self):
        """An exit while a replace flies leaves neither stop order behind."""
        s = to_replacing_protected()
        outcome = s.fire(exit_signal())
        assert {c.client_order_id for c in outcome.commands} == {STOP2, STOP2_R1}


class TestLesson15DuplicateFill:
    def test_same_fill_event_twice_closes_the_trade_once(self):
        """A replayed exit fill is a duplicate: one close, one finished attempt."""
        s = to_exiting_closing()
        fill = filled(oid(OrderRole.EXIT, A2), QTY, "100.00")
        first = s.fire(fill)
        second = s.fire(fill)
        assert first.state_to == State.FLAT
        assert (second.kind, second.commands) == (OutcomeKind.IGNORED, ())
        assert second.snapshot.position == 0
        assert second.snapshot.transitions == first.snapshot.transitions

    def test_same_stop_fill_twice_does_not_double_the_position(self):
        """A stop fill seen by stream and poller counts once."""
        s = to_in_protected()
        fill = filled(STOP2, QTY, "98.99")
        s.fire(fill)
        again = s.fire(fill)
        assert again.kind is OutcomeKind.IGNORED
        assert again.snapshot.position == 0

    def test_same_partial_entry_fill_twice_counts_once(self):
        """A repeated partial entry fill is a duplicate: the position grows once."""
        s = to_pending_live()
        fill = filled(BUY2, 4, "101.00")
        s.fire(fill)
        again = s.fire(fill)
        assert (again.kind, again.reason) == (OutcomeKind.IGNORED, "duplicate_order_event")
        assert again.snapshot.position == 4


class TestLesson16TrailDirection:
    def test_long_stop_only_moves_up(self):
        """A long's (sell) stop refuses every lower candidate."""
        s = _in_position(Side.BUY)
        outcomes = [s.fire(trail(p)) for p in ("99.50", "99.00", "99.49", "99.51")]
        assert [o.kind for o in outcomes] == [
            OutcomeKind.ACCEPTED, OutcomeKind.DECLINED, OutcomeKind.DECLINED, OutcomeKind.ACCEPTED,
        ]  # fmt: skip
        assert s.snapshot.desired_stop == D("99.51")

    def test_short_stop_only_moves_down(self):
        """A short's (buy) stop refuses every higher candidate."""
        s = _in_position(Side.SELL)
        outcomes = [s.fire(trail(p)) for p in ("100.50", "101.00", "100.51", "100.49")]
        assert [o.kind for o in outcomes] == [
            OutcomeKind.ACCEPTED, OutcomeKind.DECLINED, OutcomeKind.DECLINED, OutcomeKind.ACCEPTED,
        ]  # fmt: skip
        assert s.snapshot.desired_stop == D("100.49")

    @settings(max_examples=60, deadline=None)
    @given(
        side=st.sampled_from([Side.BUY, Side.SELL]),
        cents=st.lists(st.integers(min_value=9000, max_value=11000), min_size=1, max_size=12),
    )
    def test_stop_never_loosens_whatever_the_candidates(self, side, cents):
        """Any sequence of candidates, with replaces landing, keeps the stop monotone."""
        s = _in_position(side)
        wanted = [s.snapshot.desired_stop]
        for c in cents:
            s.fire(trail(D(c) / 100))
            stops = s.working(OrderRole.STOP)
            if len(stops) == 2:  # land the replace so the next one can fly
                s.fire(replaced(stops[0].client_order_id, stops[1].client_order_id))
            wanted.append(s.snapshot.desired_stop)
        sent = [c.stop_price for c in _stop_commands(s.outcomes)]
        for series in (wanted, sent):
            assert series == sorted(series, reverse=side is Side.SELL)


class TestLesson17TrailRounding:
    def test_long_trailed_stop_rounds_down_to_stay_below_the_bar_low(self):
        """Bar low 99.537 on a 0.05 grid: the stop is 99.50 (nearest, 99.55, is above the low)."""
        s = _in_position(Side.BUY, TICK_05)
        low = D("99.537")
        (replace,) = s.fire(trail(low)).commands
        assert isinstance(replace, ReplaceStop)
        assert replace.stop_price == D("99.50") <= low

    def test_short_trailed_stop_rounds_up_to_stay_above_the_bar_high(self):
        """Bar high 100.512 on a 0.05 grid: the stop is 100.55 (nearest, 100.50, is below)."""
        s = _in_position(Side.SELL, TICK_05)
        high = D("100.512")
        (replace,) = s.fire(trail(high)).commands
        assert replace.stop_price == D("100.55") >= high
