"""80-20 exact trades: hand-built sessions replayed through the engine and the paper broker.

The usual long setup: D-1 opened at 100.90, made 101.00/99.00 and closed at 99.20 (opened in the
top 20 % of its 2.00 range, closed in the bottom 20 %). With the defaults the trigger is 98.90
(10 ticks under L), the entry a BUY STOP at E = 99.00 and the initial stop one tick under D's low.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

import pytest

from brokers import Bar
from machines import NSE_TICKS, Outcome, Side, Snapshot, State, StrategyEvent
from strategies.signals import DailyBar, SessionContext
from strategies.signals._eighty_twenty import EightyTwenty, EightyTwentyParams, Setup, qualify
from tests.strategies.replaying import (
    NSE,
    Replayed,
    daily,
    is_stop,
    order_tail,
    replay,
    session_bars,
    until,
)

D = Decimal
FRI, MON, TUE = date(2013, 3, 1), date(2013, 3, 4), date(2013, 3, 5)
LONG_D1 = daily(FRI, "100.90", "101.00", "99.00", "99.20")
SHORT_D1 = daily(FRI, "99.10", "101.00", "99.00", "100.85")


def signal(**params) -> EightyTwenty:
    return EightyTwenty(EightyTwentyParams(**params), "AAPL")


def monday(*rows, setup: DailyBar = LONG_D1, **kw):
    """Replay Monday's rows with ``setup`` as D-1 in the engine's history."""
    params = kw.pop("params", {})
    return replay(
        signal(**params), session_bars(MON, rows), history={"AAPL": (setup,)}, **kw
    ).trades()


ARM_THEN_FILL = [
    ("99.10", "99.20", "98.95", "99.00"),  # 09:30 low 98.95 > 98.90: not armed
    ("99.00", "99.05", "98.85", "98.90"),  # 09:35 arms (low 98.85): BUY STOP 99.00, S0 98.84
    ("98.90", "99.10", "98.88", "99.05"),  # 09:40 fills at 99.00; the fill bar does not trail
    ("99.05", "99.30", "99.00", "99.25"),  # 09:45 trail to 99.00
    ("99.25", "99.40", "99.20", "99.35"),  # 09:50 trail to 99.20
    ("99.35", "99.36", "99.10", "99.15"),  # 09:55 low 99.10: stopped at 99.20
]
ONE_TRADE = [("long", "Mon 09:40", D("99.00"), "Mon 09:55", D("99.20"), "stop")]


class TestSetup:
    @pytest.mark.parametrize(
        ("d1", "inclusive", "trades"),
        [
            (daily(FRI, "100.90", "101.00", "99.00", "99.20"), True, ONE_TRADE),
            (daily(FRI, "100.60", "101.00", "99.00", "99.20"), True, ONE_TRADE),  # O-L = 0.8R
            (daily(FRI, "100.60", "101.00", "99.00", "99.20"), False, []),
            (daily(FRI, "100.90", "101.00", "99.00", "99.40"), True, ONE_TRADE),  # C-L = 0.2R
            (daily(FRI, "100.90", "101.00", "99.00", "99.40"), False, []),
            (daily(FRI, "100.59", "101.00", "99.00", "99.20"), True, []),  # opened below the zone
            (daily(FRI, "100.90", "101.00", "99.00", "99.41"), True, []),  # closed above the zone
        ],
        ids=["inside", "open-edge-in", "open-edge-out", "close-edge-in", "close-edge-out",
             "open-below", "close-above"],
    )  # fmt: skip
    def test_zone_edges_qualify_only_when_inclusive(self, d1, inclusive, trades):
        """O-L = 0.8R and C-L = 0.2R qualify with zone_inclusive, not without; beyond never."""
        assert monday(*ARM_THEN_FILL, setup=d1, params={"zone_inclusive": inclusive}) == trades

    def test_day_without_range_does_not_qualify(self):
        """R = 0 (high = low) is no setup, whatever the zone arithmetic says."""
        flat = daily(FRI, "99.00", "99.00", "99.00", "99.00")
        assert monday(*ARM_THEN_FILL, setup=flat) == []

    def test_first_session_has_no_previous_day_and_no_setup(self):
        """Without D-1 in the history nothing qualifies."""
        trades = replay(signal(), session_bars(MON, ARM_THEN_FILL)).trades()
        assert trades == []

    @pytest.mark.parametrize(
        ("o", "c", "side"),
        [
            ("99.40", "100.60", Side.SELL),  # O-L = 0.2R, C-L = 0.8R: the short's edges
            ("99.41", "100.60", None),
            ("99.40", "100.59", None),
        ],
    )
    def test_short_zone_edges(self, o, c, side):
        """The short mirrors the zone: opened in the bottom 20 %, closed in the top 20 %."""
        found = qualify(EightyTwentyParams(), (daily(FRI, o, "101.00", "99.00", c),), NSE_TICKS)
        assert (found.side if found else None) is side

    def test_setup_levels_use_the_tick_at_the_price(self):
        """Long trigger L - 10 ticks, entry E = L + entry_offset ticks; short mirrored at H."""
        params = EightyTwentyParams(entry_offset_ticks=2)
        d1 = daily(FRI, "509.00", "510.00", "500.00", "501.00")
        assert qualify(params, (d1,), NSE_TICKS) == Setup(
            side=Side.BUY, trigger=D("499.50"), entry=D("500.10")
        )
        d1 = daily(FRI, "500.50", "510.00", "500.00", "509.50")
        assert qualify(params, (d1,), NSE_TICKS) == Setup(
            side=Side.SELL, trigger=D("510.50"), entry=D("509.90")
        )

    @pytest.mark.parametrize(
        ("past_range", "sessions", "qualifies"),
        [("1.99", 20, True), ("2.00", 20, False), ("1.00", 19, False)],
        ids=["wider-than-mean", "equal-to-mean", "too-little-history"],
    )
    def test_range_filter_needs_a_range_wider_than_the_20_sessions_before(
        self, past_range, sessions, qualifies
    ):
        """mean_range_20: R must exceed the mean of the 20 sessions before D-1 (strictly)."""
        low = D("99.00")
        before = tuple(
            daily(date(2013, 1, 2), "99.50", str(low + D(past_range)), str(low), "99.50")
            for _ in range(sessions)
        )
        found = qualify(
            EightyTwentyParams(range_filter="mean_range_20"), (*before, LONG_D1), NSE_TICKS
        )
        assert (found is not None) is qualifies


@dataclass
class Recording:
    """Wraps a signal and keeps every session context it was given."""

    inner: EightyTwenty
    contexts: list[SessionContext] = field(default_factory=list)

    def start_session(self, context: SessionContext) -> None:
        self.contexts.append(context)
        self.inner.start_session(context)

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> Sequence[StrategyEvent]:
        return self.inner.on_bar(bar, snapshot)

    def on_outcome(self, outcome: Outcome) -> None:
        self.inner.on_outcome(outcome)


# Friday's session as intraday bars: O 100.90, H 101.00, L 99.00, C 99.20.
SETUP_SESSION = [
    ("100.90", "101.00", "100.50", "100.60"),
    ("100.60", "100.70", "99.00", "99.20"),
]


class TestPreviousSession:
    def test_monday_trades_the_friday_setup(self):
        """D-1 of a Monday is Friday, the previous session, not Sunday."""
        recording = Recording(signal())
        data = session_bars(FRI, SETUP_SESSION) + session_bars(MON, ARM_THEN_FILL)
        trades = replay(recording, data).trades()
        assert trades == ONE_TRADE
        assert [
            (c.session, c.previous.session if c.previous else None) for c in recording.contexts
        ] == [
            (FRI, None),
            (MON, FRI),
        ]

    def test_day_after_a_holiday_trades_the_session_before_it(self):
        """Friday 5 July 2013 follows Independence Day: its D-1 is Wednesday 3 July."""
        wed, fri = date(2013, 7, 3), date(2013, 7, 5)
        recording = Recording(signal())
        data = session_bars(wed, SETUP_SESSION) + session_bars(fri, ARM_THEN_FILL)
        trades = replay(recording, data).trades()
        assert trades == [("long", "Fri 09:40", D("99.00"), "Fri 09:55", D("99.20"), "stop")]
        assert recording.contexts[-1].previous == daily(wed, "100.90", "101.00", "99.00", "99.20")

    def test_engine_rolls_sessions_by_the_bars_not_by_calendar_days(self):
        """Fri → Mon → Tue: each session's history ends with the last session that had bars."""
        recording = Recording(signal())
        quiet = [("100.00", "100.10", "99.90", "100.00")]
        data = [*session_bars(FRI, quiet), *session_bars(MON, quiet), *session_bars(TUE, quiet)]
        run = replay(recording, data)
        assert [[h.session for h in c.history] for c in recording.contexts] == [
            [],
            [FRI],
            [FRI, MON],
        ]
        assert run.engine.desk.machine("AAPL").snapshot().trading_date == TUE


class TestEntry:
    def test_trigger_then_entry_from_the_next_bar(self):
        """Armed at 09:35's close, the BUY STOP works from 09:40, fills at E, trails, stops out."""
        assert monday(*ARM_THEN_FILL) == ONE_TRADE

    def test_bar_that_arms_and_trades_back_through_entry_does_not_fill(self):
        """09:35 reaches the trigger and then 99.10 > E: the order only exists from 09:40."""
        trades = monday(
            ("99.10", "99.20", "98.95", "99.00"),
            ("99.00", "99.10", "98.85", "98.95"),  # arms and trades back through 99.00
            ("98.95", "99.20", "98.94", "99.15"),  # fills here, at 99.00
            ("99.15", "99.16", "98.80", "98.90"),  # fill bar did not trail: S0 98.84 hit
        )
        assert trades == [("long", "Mon 09:40", D("99.00"), "Mon 09:45", D("98.84"), "stop")]

    def test_gap_through_entry_fills_at_the_open(self):
        """A bar opening above E fills the buy stop at its open, not at E."""
        trades = monday(
            ("99.00", "99.05", "98.85", "98.95"),  # the first bar arms (a gap-down open)
            ("99.12", "99.30", "99.10", "99.25"),  # opens above 99.00: fills at 99.12
            ("99.25", "99.40", "99.20", "99.35"),  # trail to 99.20
            ("99.35", "99.36", "99.00", "99.05"),  # stopped at 99.20
        )
        assert trades == [("long", "Mon 09:35", D("99.12"), "Mon 09:45", D("99.20"), "stop")]

    def test_no_entry_is_decided_at_or_after_the_cutoff(self):
        """A trigger on the 14:25 bar (completing at the 14:30 cutoff) decides nothing."""
        rows = until(("99.50", "99.60", "99.40", "99.50"), [], time(14, 20))
        rows += [("99.50", "99.50", "98.80", "98.90"), ("98.90", "99.50", "98.85", "99.40")]
        run = replay(signal(), session_bars(MON, rows), history={"AAPL": (LONG_D1,)})
        assert (run.trades(), run.orders()) == ([], [])
        assert run.engine.desk.counters().declined == 0  # not even offered to the machine

    def test_unfilled_entry_is_cancelled_at_the_cutoff(self):
        """Armed but never filled by 14:30: the engine cancels it; a later rally does not fill."""
        rows = [("99.00", "99.05", "98.85", "98.90")]
        rows = until(("98.90", "98.95", "98.80", "98.90"), rows, time(14, 25))
        rows += [("98.90", "99.50", "98.85", "99.40")]  # 14:30: would have filled
        run = replay(signal(), session_bars(MON, rows), history={"AAPL": (LONG_D1,)})
        assert run.trades() == []
        assert run.orders() == [("1-buy", "buy", "canceled")]


def stop_prices(run: Replayed) -> list[tuple[str, Decimal]]:
    """(client order id suffix, stop price) of every protective stop the broker saw, in order."""
    return [
        (order_tail(o.client_order_id), o.stop_price)
        for o in run.paper.engine.all_orders()
        if is_stop(o.client_order_id)
    ]


class TestInitialStop:
    def test_fill_bar_that_reaches_the_initial_stop_is_stopped_on_that_bar(self):
        """Worst case: the fill bar's low 98.80 came after the fill; S0 98.84 is hit at 09:40."""
        trades = monday(
            ("99.10", "99.20", "98.95", "99.00"),
            ("99.00", "99.05", "98.85", "98.90"),  # arms: S0 = 98.85 - 0.01
            ("98.90", "99.10", "98.80", "98.85"),  # fills at 99.00 and trades down to 98.80
        )
        assert trades == [("long", "Mon 09:40", D("99.00"), "Mon 09:40", D("98.84"), "stop")]

    def test_lower_low_on_the_fill_bar_does_not_loosen_the_stop(self):
        """stop_offset 2: S0 = 98.83 from the lows so far; the fill bar's 98.84 leaves it there."""
        trades = monday(
            ("99.10", "99.20", "98.95", "99.00"),
            ("99.00", "99.05", "98.85", "98.90"),  # arms: S0 = 98.85 - 0.02 = 98.83
            ("98.90", "99.10", "98.84", "99.05"),  # fills at 99.00; low 98.84 > S0
            ("99.05", "99.06", "98.83", "98.90"),  # 98.83 reached: the book's 98.82 would hold
            params={"stop_offset_ticks": 2},
        )
        assert trades == [("long", "Mon 09:40", D("99.00"), "Mon 09:45", D("98.83"), "stop")]

    def test_lower_low_while_the_entry_works_lowers_the_initial_stop(self):
        """S0 follows D's lows until the fill: a lower low while the entry works gives 98.69."""
        rows = [
            ("99.00", "99.05", "98.85", "98.90"),  # arms: S0 = 98.84
            ("98.90", "98.95", "98.70", "98.75"),  # a lower low while the entry works: S0 98.69
            ("98.85", "99.10", "98.85", "99.05"),  # fills at 99.00; the stop goes to 98.69
            ("99.05", "99.06", "98.80", "98.90"),  # 98.84 would have been hit; trail to 98.80
            ("98.90", "98.95", "98.75", "98.80"),  # stopped at 98.80
        ]
        run = replay(signal(), session_bars(MON, rows), history={"AAPL": (LONG_D1,)})
        assert stop_prices(run) == [("1-stop", D("98.69")), ("1-stop-r1", D("98.80"))]
        assert run.engine.desk.counters().declined == 0  # sent only while the entry is pending
        assert run.trades() == [("long", "Mon 09:40", D("99.00"), "Mon 09:50", D("98.80"), "stop")]

    def test_higher_high_while_the_short_entry_works_raises_the_initial_stop(self):
        """The short mirror: S0 = ceil(highest high of D before the fill bar + 1 tick)."""
        rows = [
            ("101.00", "101.15", "100.95", "101.10"),  # arms: S0 = 101.16
            ("101.10", "101.30", "101.05", "101.25"),  # a higher high while it works: S0 101.31
            ("101.15", "101.15", "100.90", "100.95"),  # sells at 101.00; the stop goes to 101.31
            ("100.95", "101.20", "100.90", "101.00"),  # 101.16 would have been hit; trail 101.20
            ("101.00", "101.25", "100.95", "101.22"),  # stopped at 101.20
        ]
        run = replay(signal(), session_bars(MON, rows), history={"AAPL": (SHORT_D1,)})
        assert stop_prices(run) == [("1-stop", D("101.31")), ("1-stop-r1", D("101.20"))]
        assert run.trades() == [
            ("short", "Mon 09:40", D("101.00"), "Mon 09:50", D("101.20"), "stop")
        ]

    def test_fill_bar_opening_below_the_stop_is_stopped_at_the_stop_not_the_open(self):
        """The stop exists only from the fill at 99.00: the fill bar's open 98.75 cannot fill it."""
        trades = monday(
            ("99.00", "99.05", "98.85", "98.90"),  # arms: S0 = 98.84
            ("98.90", "98.95", "98.86", "98.87"),  # no new low: S0 stays 98.84
            ("98.75", "99.10", "98.74", "99.05"),  # gaps under S0, fills at 99.00, low 98.74
        )
        assert trades == [("long", "Mon 09:40", D("99.00"), "Mon 09:40", D("98.84"), "stop")]

    def test_stop_at_or_above_entry_becomes_one_tick_below(self):
        """Zero trigger, entry and stop offsets and a low of exactly L: S0 = E = 99.00 → 98.99."""
        params = {"trigger_ticks": 0, "stop_offset_ticks": 0}
        trades = monday(
            ("99.10", "99.20", "99.00", "99.05"),  # low = L: arms; S0 = 99.00 >= E
            ("99.05", "99.10", "99.00", "99.08"),  # opens above E: fills at 99.05
            ("99.08", "99.09", "98.99", "99.00"),  # fill bar was 09:35; 98.99 hit here
            params=params,
        )
        assert trades == [("long", "Mon 09:35", D("99.05"), "Mon 09:40", D("98.99"), "stop")]


# D-1 on NSE (tick 0.05 between 250 and 1,000): O 509, H 510, L 500, C 501.
NSE_LONG_D1 = daily(FRI, "509.00", "510.00", "500.00", "501.00")
NSE_SHORT_D1 = daily(FRI, "500.50", "510.00", "500.00", "509.50")


class TestTrailing:
    def test_long_trail_floors_to_the_005_tick(self):
        """NSE: S0 = floor(499.37 - 0.05) = 499.30; trails floor(500.23) = 500.20, then stopped."""
        rows = [
            ("499.80", "500.00", "499.37", "499.45"),  # 09:15 arms (<= 499.50)
            ("499.45", "500.10", "499.40", "500.05"),  # 09:20 fills at 500.00
            ("500.25", "500.60", "500.23", "500.55"),  # trail to 500.20
            ("500.55", "500.60", "500.10", "500.15"),  # stopped at 500.20
        ]
        run = replay(
            signal(),
            session_bars(MON, rows, market=NSE),
            market=NSE,
            tick=NSE_TICKS,
            history={"AAPL": (NSE_LONG_D1,)},
        )
        assert run.trades() == [
            ("long", "Mon 09:20", D("500.00"), "Mon 09:30", D("500.20"), "stop")
        ]

    def test_short_trail_ceils_to_the_005_tick(self):
        """NSE short: S0 = ceil(510.62 + 0.05) = 510.70; trails ceil(509.77) = 509.80."""
        rows = [
            ("510.20", "510.62", "510.00", "510.55"),  # 09:15 arms (>= 510.50)
            ("510.55", "510.60", "509.40", "509.45"),  # 09:20 sells at 510.00
            ("509.45", "509.77", "509.00", "509.10"),  # trail to 509.80
            ("509.10", "509.90", "509.05", "509.85"),  # stopped at 509.80
        ]
        run = replay(
            signal(),
            session_bars(MON, rows, market=NSE),
            market=NSE,
            tick=NSE_TICKS,
            history={"AAPL": (NSE_SHORT_D1,)},
        )
        assert run.trades() == [
            ("short", "Mon 09:20", D("510.00"), "Mon 09:30", D("509.80"), "stop")
        ]

    def test_long_trail_floors_to_the_001_tick_with_an_offset(self):
        """US: trail_offset 1 tick below a sub-penny low 99.257 floors to 99.24."""
        trades = monday(
            ("99.00", "99.05", "98.85", "98.90"),
            ("98.90", "99.10", "98.88", "99.05"),  # fills at 99.00
            ("99.26", "99.40", "99.257", "99.35"),  # trail to floor(99.247) = 99.24
            ("99.35", "99.36", "99.10", "99.15"),  # stopped at 99.24
            params={"trail_offset_ticks": 1},
        )
        assert trades == [("long", "Mon 09:35", D("99.00"), "Mon 09:45", D("99.24"), "stop")]

    def test_short_trail_ceils_to_the_001_tick(self):
        """US short mirror: armed at 101.15, sells at 101.00, trails ceil(100.983) = 100.99."""
        trades = monday(
            ("100.90", "101.05", "100.85", "101.00"),
            ("101.00", "101.15", "100.95", "101.10"),  # arms: S0 = ceil(101.15 + 0.01)
            ("101.10", "101.12", "100.90", "100.95"),  # sells at 101.00; high < S0
            ("100.95", "100.983", "100.70", "100.75"),  # trail to 100.99
            ("100.75", "101.00", "100.60", "100.98"),  # stopped at 100.99
            setup=SHORT_D1,
        )
        assert trades == [("short", "Mon 09:40", D("101.00"), "Mon 09:50", D("100.99"), "stop")]

    def test_green_bars_only_skips_the_red_bar(self):
        """trail_on green_bars: the red 09:45 bar does not raise the stop; the green 09:50 does."""
        trades = monday(
            ("99.00", "99.05", "98.85", "98.90"),  # arms: S0 98.84
            ("98.90", "99.10", "98.88", "99.05"),  # fills at 99.00
            ("99.20", "99.30", "99.10", "99.15"),  # red: no trail (completed_bar would go 99.10)
            ("99.15", "99.40", "98.95", "99.35"),  # green: trail to 98.95 — stop not hit (98.84)
            ("99.35", "99.36", "98.90", "99.00"),  # stopped at 98.95
            params={"trail_on": "green_bars"},
        )
        assert trades == [("long", "Mon 09:35", D("99.00"), "Mon 09:50", D("98.95"), "stop")]


REARM = [
    ("99.10", "99.20", "98.95", "99.00"),  # 09:30
    ("99.00", "99.05", "98.85", "98.90"),  # 09:35 arms
    ("98.90", "99.10", "98.88", "99.05"),  # 09:40 fills at 99.00
    ("99.05", "99.30", "99.05", "99.25"),  # 09:45 trail to 99.05
    ("99.25", "99.26", "98.95", "98.97"),  # 09:50 stopped at 99.05; 98.95 < E, > trigger
    ("98.97", "99.10", "98.96", "99.08"),  # 09:55
    ("99.08", "99.09", "98.90", "98.92"),  # 10:00 low 98.90: a retrigger
    ("98.92", "99.01", "98.91", "99.00"),  # 10:05
    ("99.00", "99.00", "98.80", "98.85"),  # 10:10
]
FIRST = ("long", "Mon 09:40", D("99.00"), "Mon 09:50", D("99.05"), "stop")


class TestAttempts:
    def test_one_attempt_by_default(self):
        """max_attempts 1: after the stop-out, a retrigger at 10:00 enters nothing."""
        assert monday(*REARM) == [FIRST]

    def test_second_attempt_rearms_on_a_retrigger(self):
        """max_attempts 2, rearm retrigger: 10:00 reaches 98.90 again; 10:05 fills, 10:10 stops."""
        trades = monday(*REARM, max_attempts=2)
        assert trades == [FIRST, ("long", "Mon 10:05", D("99.00"), "Mon 10:10", D("98.84"), "stop")]

    def test_second_attempt_rearms_below_entry(self):
        """rearm below_entry: the stop-out bar's 98.95 < E re-arms; 09:55 fills; trails; stops."""
        trades = monday(*REARM, max_attempts=2, params={"rearm": "below_entry"})
        assert trades == [FIRST, ("long", "Mon 09:55", D("99.00"), "Mon 10:10", D("98.91"), "stop")]

    def test_stop_out_bar_that_reaches_the_trigger_rearms_at_once(self):
        """Stopped at 98.84 on a bar whose low 98.80 is past the trigger: the next bar re-enters."""
        trades = monday(
            ("99.10", "99.20", "98.95", "99.00"),
            ("99.00", "99.05", "98.85", "98.90"),  # arms
            ("98.90", "99.10", "98.88", "99.05"),  # fills
            ("99.05", "99.08", "98.80", "98.82"),  # stopped at 98.84; re-armed: S0 98.79
            ("98.82", "99.02", "98.81", "99.00"),  # fills again
            ("99.00", "99.30", "98.95", "99.25"),  # trail 98.95
            ("99.25", "99.50", "99.20", "99.45"),  # trail 99.20
            ("99.45", "99.46", "99.10", "99.15"),  # stopped at 99.20
            max_attempts=2,
        )
        assert trades == [
            ("long", "Mon 09:40", D("99.00"), "Mon 09:45", D("98.84"), "stop"),
            ("long", "Mon 09:50", D("99.00"), "Mon 10:05", D("99.20"), "stop"),
        ]

    def test_third_trigger_after_two_attempts_enters_nothing(self):
        """max_attempts 2 spent: the machine's counter stays at 2 and no third entry is sent."""
        rows = [*REARM, ("98.85", "99.20", "98.70", "99.10"), ("99.10", "99.30", "99.05", "99.20")]
        run = replay(
            signal(), session_bars(MON, rows), history={"AAPL": (LONG_D1,)}, max_attempts=2
        )
        assert len(run.trades()) == 2
        snapshot = run.engine.desk.machine("AAPL").snapshot()
        assert (snapshot.entries_today, snapshot.state) == (2, State.FLAT)
        assert run.engine.desk.counters().declined == 0


class TestSquareOff:
    def test_open_position_is_flattened_at_the_square_off(self):
        """A long still open at 15:15 closes at the 15:15 bar's open, reason square_off.

        ``trail_on = "green_bars"`` and doji bars keep the stop where it is all day.
        """
        rows = [
            ("99.00", "99.05", "98.85", "98.90"),  # arms
            ("98.90", "99.10", "98.88", "99.05"),  # fills at 99.00
        ]
        rows = until(("99.50", "99.60", "99.40", "99.50"), rows, time(15, 20))
        run = replay(
            signal(trail_on="green_bars"), session_bars(MON, rows), history={"AAPL": (LONG_D1,)}
        )
        assert run.trades() == [
            ("long", "Mon 09:35", D("99.00"), "Mon 15:15", D("99.50"), "square_off")
        ]
        assert run.paper.list_positions() == []

    def test_short_is_flattened_at_the_square_off(self):
        """The short mirror: sold at 101.00, bought back at 15:15's open."""
        rows = [
            ("101.00", "101.15", "100.95", "101.10"),  # arms
            ("101.10", "101.12", "100.90", "100.95"),  # sells at 101.00
        ]
        rows = until(("100.50", "100.60", "100.40", "100.50"), rows, time(15, 15))
        run = replay(
            signal(trail_on="green_bars"), session_bars(MON, rows), history={"AAPL": (SHORT_D1,)}
        )
        assert run.trades() == [
            ("short", "Mon 09:35", D("101.00"), "Mon 15:15", D("100.50"), "square_off")
        ]
