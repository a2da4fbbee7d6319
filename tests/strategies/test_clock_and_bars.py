"""Time on the clock and the strategy's own bars (issue 12), unit by unit.

- ``deadlines_of``: the square-off is capped one bar before an early close; the entry cutoff is
  never after the square-off; a date that is not a session has no deadlines.
- ``BarAggregator``: 1-minute bars become ``bar_minutes`` bars aligned to the open, regular hours
  only, completed by their last minute, by a later bucket's bar, or by the clock.
- ``check_bar`` / ``BarFeed``: a bar of no session, or with impossible prices, is dropped with its
  reason and counted; a symbol quiet in the session goes ``data_stale`` and comes back.
- ``Engine.on_clock``: the square-off fires with no bar at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from brokers import Bar, ManualClock, PaperBroker
from machines import US_EQUITY_TICK, Desk, EntryLeg, Rules, Side, Snapshot, StrategyEvent
from strategies.engine import BarAggregator, Engine, SessionPlan, aggregate_bars
from strategies.engine._timers import deadlines_of
from strategies.run._feed import BarFeed, FeedSettings, check_bar
from strategies.signals import SessionContext
from strategies.spec import load_strategy
from tests.strategies.replaying import US

D = Decimal
MINUTE = timedelta(minutes=1)
FIVE = timedelta(minutes=5)
NY = US.timezone
BLACK_FRIDAY = date(2012, 11, 23)  # NYSE closes at 13:00
MONDAY = date(2012, 11, 26)


@pytest.fixture(scope="module")
def session():
    """The demo strategies' real session: the NYSE calendar, early closes included."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return load_strategy(root / "examples" / "eighty_twenty.toml").session.hours()


def at(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=NY).astimezone(UTC)


def minute(symbol: str, start: datetime, o: str, h: str, low: str, c: str, v: str = "100") -> Bar:
    return Bar(
        symbol=symbol,
        start=start,
        open=D(o),
        high=D(h),
        low=D(low),
        close=D(c),
        volume=D(v),
        trade_count=1,
        vwap=None,
    )


def flat(symbol: str, start: datetime, price: str = "10.00") -> Bar:
    return minute(symbol, start, price, price, price, price)


class TestDeadlines:
    def test_an_early_close_caps_the_square_off_one_bar_before_it(self, session):
        deadlines = deadlines_of(
            session,
            BLACK_FRIDAY,
            entry_cutoff=time(14, 30),
            square_off=time(15, 45),
            bar_interval=FIVE,
        )
        assert deadlines is not None
        assert deadlines.closes == datetime.combine(BLACK_FRIDAY, time(13, 0), tzinfo=NY)
        assert deadlines.square_off == datetime.combine(BLACK_FRIDAY, time(12, 55), tzinfo=NY)
        assert deadlines.entry_cutoff == deadlines.square_off  # never after the square-off
        assert deadlines.capped

    def test_a_full_day_keeps_the_strategys_times(self, session):
        deadlines = deadlines_of(
            session,
            MONDAY,
            entry_cutoff=time(14, 30),
            square_off=time(15, 45),
            bar_interval=FIVE,
        )
        assert deadlines is not None
        assert deadlines.square_off == datetime.combine(MONDAY, time(15, 45), tzinfo=NY)
        assert deadlines.entry_cutoff == datetime.combine(MONDAY, time(14, 30), tzinfo=NY)
        assert not deadlines.capped

    def test_a_weekend_has_no_deadlines(self, session):
        saturday = date(2012, 11, 24)
        assert (
            deadlines_of(
                session,
                saturday,
                entry_cutoff=time(14, 30),
                square_off=time(15, 45),
                bar_interval=FIVE,
            )
            is None
        )


class TestAggregator:
    def test_buckets_start_at_the_open_and_leave_the_extended_hours_out(self, session):
        day = MONDAY
        bars = [flat("A", at(day, 9, 29), "99.00")]  # pre-market: never in a bucket
        bars += [
            minute(
                "A",
                at(day, 9, 30 + i),
                f"{10 + i}.00",
                f"{11 + i}.00",
                f"{9 + i}.00",
                f"{10 + i}.50",
            )
            for i in range(7)
        ]
        built, outside = aggregate_bars(bars, session, FIVE)
        assert outside == 1
        assert [b.start for b in built] == [at(day, 9, 30), at(day, 9, 35)]
        first = built[0]
        assert (first.open, first.high, first.low, first.close) == (
            D("10.00"),
            D("15.00"),
            D("9.00"),
            D("14.50"),
        )
        assert first.volume == D(500)

    def test_a_bucket_is_sent_on_its_last_minute(self, session):
        builder = BarAggregator(session, FIVE, feed=MINUTE)
        sent = [builder.add(flat("A", at(MONDAY, 9, 30 + i))) for i in range(5)]
        assert sent[:4] == [[], [], [], []]
        assert [b.start for b in sent[4]] == [at(MONDAY, 9, 30)]

    def test_a_later_buckets_bar_of_any_symbol_completes_the_earlier_ones(self, session):
        builder = BarAggregator(session, FIVE, feed=MINUTE)
        builder.add(flat("A", at(MONDAY, 9, 31)))  # A's 09:34 minute never traded
        builder.add(flat("B", at(MONDAY, 9, 32)))
        done = builder.add(flat("B", at(MONDAY, 9, 35)))
        assert [(b.symbol, b.start) for b in done] == [
            ("A", at(MONDAY, 9, 30)),
            ("B", at(MONDAY, 9, 30)),
        ]

    def test_the_clock_completes_a_bucket_whose_last_minutes_had_no_trades(self, session):
        builder = BarAggregator(session, FIVE, feed=MINUTE, grace=timedelta(seconds=2))
        builder.add(flat("A", at(MONDAY, 9, 31)))
        end = at(MONDAY, 9, 35)
        assert builder.next_due() == end + timedelta(seconds=2)
        assert builder.due(end + timedelta(seconds=1)) == []
        (bar,) = builder.due(end + timedelta(seconds=2))
        assert bar.start == at(MONDAY, 9, 30)
        assert builder.next_due() is None

    def test_an_updated_minute_counts_while_its_bucket_is_open_and_never_after(self, session):
        builder = BarAggregator(session, FIVE, feed=MINUTE)
        builder.add(flat("A", at(MONDAY, 9, 30), "10.00"))
        assert builder.update(minute("A", at(MONDAY, 9, 30), "10.00", "10.40", "10.00", "10.20"))
        for i in range(1, 5):
            done = builder.add(flat("A", at(MONDAY, 9, 30 + i), "10.10"))
        (bar,) = done
        assert bar.high == D("10.40")
        assert not builder.update(minute("A", at(MONDAY, 9, 31), "9.00", "9.00", "9.00", "9.00"))
        assert builder.late_updates == 1

    def test_the_last_bucket_of_an_early_close_ends_at_13_00(self, session):
        bars = [flat("A", at(BLACK_FRIDAY, 12, 55 + i)) for i in range(5)]
        bars.append(flat("A", at(BLACK_FRIDAY, 13, 0)))  # after the close: extended hours
        built, outside = aggregate_bars(bars, session, FIVE)
        assert [b.start for b in built] == [at(BLACK_FRIDAY, 12, 55)]
        assert outside == 1

    def test_a_weekend_bar_is_no_bucket(self, session):
        built, outside = aggregate_bars([flat("A", at(date(2012, 11, 24), 10, 0))], session, FIVE)
        assert (built, outside) == ([], 1)

    @pytest.mark.parametrize("volume", ["0", "100", "1E+2", "0.50", "-0"])
    @pytest.mark.parametrize("vwap", [None, "10.123", "1E+1"])
    def test_a_bucket_of_one_bar_is_built_as_one_of_many(self, session, volume, vwap):
        """A 5-minute bar made into a 5-minute bucket (the shortcut) has the values and the
        spellings the general sums give: a bar of two minutes, the first with nothing traded."""
        start = at(MONDAY, 9, 30)
        price = {"open": Decimal("10"), "high": Decimal("11"), "low": Decimal("9")}
        one = Bar(symbol="A", start=start, close=Decimal("10.5"), **price, volume=Decimal(volume),
                  trade_count=3, vwap=None if vwap is None else Decimal(vwap))
        (built,) = BarAggregator(session, FIVE, feed=FIVE).add_each_alone([one])
        empty = Bar(symbol="A", start=start, close=Decimal("10"), **price, volume=Decimal(0),
                    trade_count=0, vwap=None if vwap is None else Decimal(0))
        later = Bar(symbol="A", start=start + timedelta(minutes=1), close=Decimal("10.5"), **price,
                    volume=one.volume, trade_count=3, vwap=one.vwap)
        (general,), _ = aggregate_bars([empty, later], session, FIVE)
        assert repr(built) == repr(general)
        # A bar already spelled as its bucket's goes out itself, not a copy.
        assert (built is one) == (vwap is None and volume in ("0", "100", "0.50"))

    def test_bars_of_the_strategys_size_build_what_one_at_a_time_builds(self, session):
        """5-minute data into 5-minute bars takes the shortcut (each bar its bucket's only one,
        complete on arrival): the same bars, in the same order, the same bars outside the
        session and late ones, as ``add`` one bar at a time — with a pre-market bar, a weekend
        bar, a bar off the grid (09:37), a repeated bar and two symbols interleaved; a moment
        spelled in New York time beside UTC, and a moment's bars split by a later one (the
        shortcut takes a moment's bars together: each of these must go one at a time)."""
        bars = [
            flat("A", at(MONDAY, 9, 0)),
            flat("A", at(MONDAY, 9, 30)),
            flat("B", at(MONDAY, 9, 30), "20.00"),
            flat("A", at(MONDAY, 9, 37), "10.50"),
            flat("B", at(MONDAY, 9, 40), "20.50"),
            flat("B", at(MONDAY, 9, 40), "20.75"),
            flat("A", at(MONDAY, 9, 45), "11.00"),
            flat("B", at(MONDAY, 9, 50), "21.00"),
            flat("A", at(MONDAY, 9, 50).astimezone(NY), "11.50"),
            flat("A", at(MONDAY, 9, 55), "11.25"),
            flat("B", at(MONDAY, 10, 0), "21.50"),
            flat("A", at(MONDAY, 9, 55), "11.75"),
            flat("C", at(MONDAY, 9, 55), "30.00"),
            flat("A", at(MONDAY, 10, 7), "11.50"),
            flat("B", at(MONDAY, 10, 7).astimezone(NY), "21.25"),
            flat("A", at(date(2012, 11, 24), 10, 0)),
        ]
        alone = BarAggregator(session, FIVE, feed=FIVE)
        one_at_a_time = BarAggregator(session, FIVE, feed=FIVE)
        expected = [built for bar in bars for built in one_at_a_time.add(bar)]
        expected += one_at_a_time.flush()
        assert [repr(b) for b in alone.add_each_alone(bars)] == [repr(b) for b in expected]
        assert (alone.outside_session, alone.late_updates) == (2, 2)
        assert (one_at_a_time.outside_session, one_at_a_time.late_updates) == (2, 2)
        assert aggregate_bars(bars, session, FIVE) == (expected, 2)


def _plan(session) -> SessionPlan:
    return SessionPlan(
        session=session,
        entry_cutoff=time(14, 30),
        square_off=time(15, 45),
        bar_interval=FIVE,
        qty=D(100),
        tick_of=lambda symbol: US_EQUITY_TICK,
    )


class TestCheckBar:
    @pytest.mark.parametrize(
        ("bar", "reason"),
        [
            (flat("A", at(date(2012, 11, 24), 10, 0)), "not_a_session"),  # a Saturday
            (flat("A", at(date(2012, 11, 22), 10, 0)), "not_a_session"),  # Thanksgiving
            (flat("A", at(date(2199, 1, 6), 10, 0)), "outside_calendar"),
            (flat("A", at(MONDAY, 10, 0), "0"), "price_not_positive"),
            # Read off the low and the high: a Bar's open and close lie between them.
            (minute("A", at(MONDAY, 10, 0), "10.00", "Infinity", "9.90", "10.10"),
             "price_not_positive"),
            (minute("A", at(MONDAY, 10, 0), "10.00", "10.20", "0", "10.10"), "price_not_positive"),
            (minute("A", at(MONDAY, 10, 0), "10.00", "10.20", "-1", "10.10"), "price_not_positive"),
            (minute("A", at(MONDAY, 10, 0), "1E+1", "1.02E+1", "9.9", "10.1"), None),
            (flat("A", at(MONDAY, 10, 0), "25.00"), "absurd_move"),
        ],
        ids=lambda v: v if isinstance(v, str) else "",
    )
    def test_an_impossible_bar_names_its_reason(self, session, bar, reason):
        assert check_bar(bar, _plan(session), last_close=D("10.00"), max_jump=D("0.5")) == reason

    def test_the_feed_keeps_each_days_answer_and_judges_each_bar_alike(self, session):
        """The feed asks the calendar once a day: a day's second bar, good or not, is judged as
        ``check_bar`` judges it."""
        feed = BarFeed(_plan(session), FeedSettings(feed=FIVE), ["A"])
        saturday = at(date(2012, 11, 24), 10, 0)
        assert feed.receive(flat("A", saturday)) == []
        assert feed.receive(flat("A", saturday + FIVE)) == []
        assert [b.start for b in feed.receive(flat("A", at(MONDAY, 10, 0)))] == [at(MONDAY, 10, 0)]
        assert feed.receive(flat("A", at(MONDAY, 10, 5), "0")) == []
        assert feed.rejected == {"not_a_session": 2, "price_not_positive": 1}

    def test_an_ordinary_bar_passes(self, session):
        bar = minute("A", at(MONDAY, 10, 0), "10.00", "10.20", "9.90", "10.10")
        assert check_bar(bar, _plan(session), last_close=D("10.00"), max_jump=D("0.5")) is None


class TestFeed:
    def test_a_rejected_bar_is_logged_counted_and_never_reaches_a_bucket(self, session):
        feed = BarFeed(_plan(session), FeedSettings(), ["A"], last_close={"A": D("10.00")})
        with capture_logs() as logs:
            assert feed.receive(flat("A", at(date(2012, 11, 24), 10, 0))) == []
            assert feed.receive(flat("A", at(MONDAY, 10, 0), "0.00")) == []
        assert feed.rejected == {"not_a_session": 1, "price_not_positive": 1}
        assert [(e["event"], e["reason"]) for e in logs] == [
            ("bar_rejected", "not_a_session"),
            ("bar_rejected", "price_not_positive"),
        ]
        assert feed.next_due() is None  # nothing half-built from them

    def test_a_quiet_symbol_goes_stale_in_the_session_and_comes_back(self, session):
        settings = FeedSettings(stale_after=timedelta(minutes=10))
        feed = BarFeed(_plan(session), settings, ["A", "B"])
        feed.receive(flat("A", at(MONDAY, 11, 0)))
        feed.receive(flat("B", at(MONDAY, 11, 0)))
        with capture_logs() as logs:
            feed.due(at(MONDAY, 11, 10))
            assert feed.stale == set()  # 11:01 + 10 min not yet passed
            feed.receive(flat("B", at(MONDAY, 11, 10)))
            feed.due(at(MONDAY, 11, 11))
            assert feed.stale == {"A"}
            feed.receive(flat("A", at(MONDAY, 11, 15)))
        assert feed.stale == set()
        assert [(e["event"], e["symbol"]) for e in logs] == [
            ("data_stale", "A"),
            ("data_resumed", "A"),
        ]
        assert feed.counters == {"data_stale": 1, "data_resumed": 1}

    @settings(max_examples=150, deadline=None)
    # An older bar come late moves a mark back; a symbol comes back on a late bar.
    @example(steps=[("A", 20, 0), ("A", 5, 20)])
    @example(steps=[("A", 0, 0), ("B", 10, 0), ("B", 20, 0), ("A", 8, 14)])
    @given(
        steps=st.lists(
            st.tuples(st.sampled_from("ABC"), st.integers(0, 40), st.integers(0, 25)),
            max_size=30,
        )
    )
    def test_the_watch_skipped_until_its_mark_goes_stale_when_watching_every_minute_does(
        self, session, steps
    ):
        """The feed skips its watch until the earliest a symbol can go stale: the same symbols
        go stale at the same minutes as a feed that looks at every symbol every minute, with
        bars late by up to 25 minutes (an older bar moves a mark back), resuming symbols, and
        mornings before the watch starts."""

        class Every(BarFeed):
            def due(self, now: datetime) -> list[Bar]:
                self._quiet_until = None
                return super().due(now)

        stale = FeedSettings(feed=timedelta(minutes=1), stale_after=timedelta(minutes=10))
        feeds = [cls(_plan(session), stale, ["A", "B", "C"]) for cls in (BarFeed, Every)]
        opened = at(MONDAY, 9, 30)
        shown: list[list[tuple[int, frozenset[str]]]] = [[], []]
        clock = 0
        for symbol, minute, delay in sorted(steps, key=lambda s: s[1] + s[2]):
            while clock <= minute + delay:
                for feed, seen in zip(feeds, shown, strict=True):
                    feed.due(opened + timedelta(minutes=clock))
                    seen.append((clock, frozenset(feed.stale)))
                clock += 1
            for feed in feeds:
                feed.receive(flat(symbol, opened + timedelta(minutes=minute)))
        for feed, seen in zip(feeds, shown, strict=True):
            for later in range(clock, clock + 30):
                feed.due(opened + timedelta(minutes=later))
                seen.append((later, frozenset(feed.stale)))
        assert shown[0] == shown[1]
        assert feeds[0].counters == feeds[1].counters

    def test_no_symbol_is_stale_outside_the_session(self, session):
        feed = BarFeed(_plan(session), FeedSettings(stale_after=timedelta(minutes=10)), ["A"])
        feed.due(at(MONDAY, 9, 35))  # five minutes after the open: not yet
        feed.due(at(MONDAY, 17, 0))  # after the close
        feed.due(at(date(2012, 11, 24), 12, 0))  # a Saturday
        assert feed.stale == set()


@dataclass
class _BuyAtOpen:
    """Buys 100 on a stop at 10.10 on the first bar, protected at 9.00."""

    def start_session(self, context: SessionContext) -> None:
        self.done = False

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> tuple[StrategyEvent, ...]:
        if self.done:
            return ()
        self.done = True
        from machines import EntrySignalled

        leg = EntryLeg(side=Side.BUY, entry_price=D("10.10"), initial_stop=D("9.00"))
        return (EntrySignalled(at=bar.start + FIVE, qty=D(100), legs=(leg,)),)

    def on_outcome(self, outcome: object) -> None:
        """Buys once whatever the machine says."""


class TestEngineClock:
    def test_the_square_off_fires_on_the_clock_with_no_bar_after_the_morning(self, session):
        """The last bar comes at 10:00; at 15:45 the clock alone closes the position."""
        clock = ManualClock(at(MONDAY, 9, 30))
        paper = PaperBroker(clock=clock)
        rules = Rules(max_attempts=1, timezone="America/New_York")
        engine = Engine(
            desk=Desk(strategy="t", trading_date=MONDAY, rules=rules),
            signals={"A": _BuyAtOpen()},
            broker=paper,
            clock=clock,
            plan=_plan(session),
        )
        paper.subscribe(engine.on_trade_update)
        rows = [("10.00", "10.05", "9.95", "10.00"), ("10.00", "10.50", "10.00", "10.40")]
        for i, (o, h, low, c) in enumerate(rows):
            bar = minute("A", at(MONDAY, 9, 30) + i * FIVE, o, h, low, c)
            clock.set(bar.start)
            engine.start_bar(bar)
            paper.feed_bar(bar)
            engine.drain()
            clock.set(bar.start + FIVE)
            engine.on_bar(bar)
            engine.take_new_stops()
        assert engine.desk.machine("A").snapshot().position == D(100)
        engine.on_clock(at(MONDAY, 15, 44))
        assert engine.desk.machine("A").snapshot().position == D(100)  # not yet
        assert engine.next_deadline(at(MONDAY, 15, 44)) == at(MONDAY, 15, 45)
        engine.on_clock(at(MONDAY, 15, 45))
        snapshot = engine.desk.machine("A").snapshot()
        assert snapshot.is_exiting or snapshot.done_for_day
