"""Opening-range breakout exact trades: hand-built sessions through the engine and paper broker.

The usual range: 09:30-09:45 makes 100.60/99.80, so at 09:45 a BUY STOP 100.61 and a SELL STOP
99.79 go out as one attempt with two legs (buffer one tick); the long's stop is 99.79, the
short's 100.61. Entries are cancelled at 11:30, positions flattened at 15:15.
"""

from datetime import date, time
from decimal import Decimal

from machines import US_EQUITY_TICK, EntryLeg, Side, State
from strategies.signals._opening_range import OpeningRange, OpeningRangeParams, plan_range
from tests.strategies.replaying import replay, session_bars, until

D = Decimal
MON = date(2013, 3, 4)
RANGE = [
    ("100.00", "100.50", "99.80", "100.20"),  # 09:30
    ("100.20", "100.60", "100.00", "100.40"),  # 09:35 ORH 100.60
    ("100.40", "100.55", "99.90", "100.10"),  # 09:40 ORL 99.80: the pair goes out at 09:45
]


def run(*rows, max_attempts: int = 1, **params):
    signal = OpeningRange(OpeningRangeParams(**params), "AAPL")
    return replay(
        signal,
        session_bars(MON, [*RANGE, *rows]),
        entry_cutoff=time(11, 30),
        max_attempts=max_attempts,
    )


class TestLegs:
    def test_legs_sit_one_buffer_outside_the_range(self):
        """Buy stop ORH + buffer, sell stop ORL - buffer; each stop at the other leg's price."""
        plan = plan_range(OpeningRangeParams(), D("100.60"), D("99.80"), US_EQUITY_TICK)
        assert plan is not None
        assert (plan.long, plan.short) == (
            EntryLeg(side=Side.BUY, entry_price=D("100.61"), initial_stop=D("99.79")),
            EntryLeg(side=Side.SELL, entry_price=D("99.79"), initial_stop=D("100.61")),
        )

    def test_midpoint_stops_round_toward_safety(self):
        """stop = midpoint of 100.605/99.80 = 100.2025: the long's floors, the short's ceils."""
        plan = plan_range(
            OpeningRangeParams(stop="midpoint"), D("100.605"), D("99.80"), US_EQUITY_TICK
        )
        assert plan is not None
        assert (plan.long.initial_stop, plan.short.initial_stop) == (D("100.20"), D("100.21"))

    def test_range_without_width_trades_only_with_a_buffer(self):
        """A flat range: with a buffer the midpoint stops sit a buffer away; without, no trade."""
        params = OpeningRangeParams(stop="midpoint", buffer_ticks=1)
        plan = plan_range(params, D("100.00"), D("100.00"), US_EQUITY_TICK)
        assert plan is not None
        assert (plan.long.entry_price, plan.long.initial_stop) == (D("100.01"), D("100.00"))
        assert (plan.short.entry_price, plan.short.initial_stop) == (D("99.99"), D("100.00"))
        flat = plan_range(OpeningRangeParams(buffer_ticks=0), D("100"), D("100"), US_EQUITY_TICK)
        assert flat is None  # both legs at one price: no breakout to trade


class TestWindow:
    def test_window_not_on_the_bar_grid_covers_whole_bars(self):
        """or_minutes 7: the 09:35 bar starts inside, so the range is 09:30-09:40; 09:40 trades."""
        signal = OpeningRange(OpeningRangeParams(or_minutes=7), "AAPL")
        rows = [
            *RANGE[:2],
            ("100.60", "100.70", "100.50", "100.65"),  # 09:40 buys at 100.61
            ("100.65", "100.66", "99.70", "99.75"),  # 09:45 stopped at 99.79
        ]
        result = replay(signal, session_bars(MON, rows), entry_cutoff=time(11, 30))
        assert result.trades() == [
            ("long", "Mon 09:40", D("100.61"), "Mon 09:45", D("99.79"), "stop")
        ]
        assert signal.plan is not None
        assert (signal.plan.high, signal.plan.low) == (D("100.60"), D("99.80"))


class TestOneCancelsOther:
    def test_buy_leg_fills_and_cancels_the_sell_leg(self):
        """The break up fills 100.61 and cancels the sell leg; the later drop only hits the stop."""
        result = run(
            ("100.10", "100.70", "100.05", "100.65"),  # 09:45 buys at 100.61
            ("100.65", "100.66", "99.70", "99.75"),  # 09:50 stopped at 99.79 — and no short
        )
        assert result.trades() == [
            ("long", "Mon 09:45", D("100.61"), "Mon 09:50", D("99.79"), "stop")
        ]
        assert result.orders() == [
            ("1-buy", "buy", "filled"),
            ("1-sell", "sell", "canceled"),
            ("1-stop", "sell", "filled"),
        ]
        assert result.paper.list_positions() == []

    def test_sell_leg_fills_with_a_midpoint_stop(self):
        """The break down sells 99.79; the short's midpoint stop is 100.20."""
        result = run(
            ("100.10", "100.15", "99.70", "99.75"),  # 09:45 sells at 99.79
            ("99.75", "100.25", "99.70", "100.22"),  # 09:50 stopped at 100.20
            stop="midpoint",
        )
        assert result.trades() == [
            ("short", "Mon 09:45", D("99.79"), "Mon 09:50", D("100.20"), "stop")
        ]

    def test_bar_reaching_both_legs_is_an_anomaly_that_ends_flat_and_halted(self):
        """Both legs fill on 09:45: the machine flags both_legs_filled, ends flat, halts the day."""
        result = run(
            ("100.10", "100.70", "99.70", "100.00"),  # reaches 100.61 and 99.79
            ("100.00", "100.80", "99.50", "100.50"),  # nothing more happens
        )
        assert result.trades() == [
            ("long", "Mon 09:45", D("100.61"), "Mon 09:45", D("99.79"), "exit")
        ]
        machine = result.engine.desk.machine("AAPL")
        counters = machine.counters()
        # The stop placed after the first fill is acknowledged after the anomaly cancelled it: a race.
        assert (counters.anomalies, counters.races) == (1, 1)
        assert dict(counters.by_reason) == {"both_legs_filled": 1, "duplicate_order_event": 1}
        snapshot = machine.snapshot()
        assert (snapshot.state, snapshot.position, snapshot.halt_reason) == (
            State.HALTED,
            D(0),
            "both_legs_filled",
        )
        assert result.paper.list_positions() == []
        assert result.orders() == [
            ("1-buy", "buy", "filled"),
            ("1-sell", "sell", "filled"),
            ("1-stop", "sell", "canceled"),
        ]

    def test_unfilled_pair_is_cancelled_at_the_cutoff(self):
        """No break by 11:30: both legs are cancelled; the 11:30 rally fills nothing."""
        rows = until(("100.20", "100.40", "100.00", "100.30"), RANGE, time(11, 25))[len(RANGE) :]
        result = run(*rows, ("100.30", "101.00", "100.20", "100.90"))
        assert result.trades() == []
        assert result.orders() == [("1-buy", "buy", "canceled"), ("1-sell", "sell", "canceled")]

    def test_open_position_is_flattened_at_the_square_off(self):
        """A long still open at 15:15 closes at the 15:15 bar's open (ORB does not trail)."""
        rows = until(
            ("100.80", "100.90", "100.70", "100.80"),
            [*RANGE, ("100.10", "100.70", "100.05", "100.65")],
            time(15, 15),
        )[len(RANGE) :]
        assert run(*rows).trades() == [
            ("long", "Mon 09:45", D("100.61"), "Mon 15:15", D("100.80"), "square_off")
        ]


class TestTarget:
    def test_target_reached_exits_at_the_next_open(self):
        """target_r 1: risk 0.82, target 101.43; 09:50 reaches it, the 09:55 open closes it."""
        result = run(
            ("100.10", "100.70", "100.05", "100.65"),  # 09:45 buys at 100.61
            ("100.65", "101.45", "100.60", "101.40"),  # 09:50 reaches 101.43
            ("101.38", "101.50", "101.30", "101.35"),  # 09:55 closed at the open
            target_r="1",
        )
        assert result.trades() == [
            ("long", "Mon 09:45", D("100.61"), "Mon 09:55", D("101.38"), "target")
        ]

    def test_fill_bar_that_reaches_the_target_exits_at_the_next_open(self):
        """The high comes after a buy stop's fill: the fill bar itself can reach the target."""
        result = run(
            ("100.10", "101.50", "100.05", "101.40"),  # buys at 100.61, reaches 101.43
            ("101.40", "101.45", "101.20", "101.30"),
            target_r="1",
        )
        assert result.trades() == [
            ("long", "Mon 09:45", D("100.61"), "Mon 09:50", D("101.40"), "target")
        ]

    def test_short_target_is_below_the_entry(self):
        """target_r 2 on the short: 99.79 - 2 x 0.82 = 98.15."""
        result = run(
            ("100.10", "100.15", "99.70", "99.75"),  # sells at 99.79
            ("99.75", "99.76", "98.16", "98.20"),  # 98.16: not yet
            ("98.20", "98.30", "98.15", "98.25"),  # reaches 98.15
            ("98.25", "98.40", "98.20", "98.30"),  # bought back at the open
            target_r="2",
        )
        assert result.trades() == [
            ("short", "Mon 09:45", D("99.79"), "Mon 10:00", D("98.25"), "target")
        ]


class TestCloseBeyond:
    def test_close_above_the_range_enters_from_the_next_bar(self):
        """09:45 closes at 100.65 > ORH: a buy stop at 100.61 from 09:50, which opens above it."""
        result = run(
            ("100.10", "100.70", "100.05", "100.65"),  # trades through 100.61: no order yet
            ("100.66", "100.80", "100.62", "100.75"),  # fills at the open, 100.66
            ("100.75", "100.76", "99.70", "99.75"),  # stopped at 99.79
            confirm="close_beyond",
        )
        assert result.trades() == [
            ("long", "Mon 09:50", D("100.66"), "Mon 09:55", D("99.79"), "stop")
        ]
        assert result.orders() == [("1-buy", "buy", "filled"), ("1-stop", "sell", "filled")]

    def test_close_inside_the_range_waits_for_a_close_beyond(self):
        """A poke above that closes inside enters nothing; the close below then sells."""
        result = run(
            ("100.10", "100.70", "100.05", "100.50"),  # 09:45 closes inside
            ("100.50", "100.55", "99.50", "99.60"),  # 09:50 closes below 99.80
            ("99.60", "99.65", "99.40", "99.45"),  # 09:55 opens under 99.79: sells at 99.60
            ("99.45", "100.70", "99.40", "100.62"),  # 10:00 stopped at 100.61
            confirm="close_beyond",
        )
        assert result.trades() == [
            ("short", "Mon 09:55", D("99.60"), "Mon 10:00", D("100.61"), "stop")
        ]


class TestAttempts:
    def test_second_attempt_places_the_pair_again_after_a_stop_out(self):
        """max_attempts 2: stopped out long at 09:50, the new pair's sell leg fills at 09:55's open."""
        result = run(
            ("100.10", "100.70", "100.05", "100.65"),  # buys at 100.61
            ("100.65", "100.66", "99.70", "99.75"),  # stopped at 99.79; pair placed again
            ("99.75", "99.80", "99.50", "99.60"),  # opens under 99.79: sells at 99.75
            ("99.60", "100.65", "99.55", "100.62"),  # stopped at 100.61
            max_attempts=2,
        )
        assert result.trades() == [
            ("long", "Mon 09:45", D("100.61"), "Mon 09:50", D("99.79"), "stop"),
            ("short", "Mon 09:55", D("99.75"), "Mon 10:00", D("100.61"), "stop"),
        ]

    def test_one_attempt_by_default(self):
        """max_attempts 1: after the stop-out no pair goes out again."""
        result = run(
            ("100.10", "100.70", "100.05", "100.65"),
            ("100.65", "100.66", "99.70", "99.75"),
            ("99.75", "99.80", "99.50", "99.60"),
        )
        assert len(result.trades()) == 1
        assert result.engine.desk.counters().declined == 0
