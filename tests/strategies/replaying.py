"""Exact-trade fixtures: hand-built bars on a 5-minute session grid, replayed through the engine.

The wiring is ``test_engine.py``'s: a ``Desk``, a ``PaperBroker`` on a ``ManualClock``, an
``Engine`` and ``replay_bars``. Trades are read back as rows of exchange-local times, so a
fixture's expectations read like its bars.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from brokers import Bar, ManualClock, PaperBroker
from machines import US_EQUITY_TICK, ClientOrderId, Desk, OrderRole, Rules, TickRule
from strategies._policy import HaltScope
from strategies.engine import Engine, SessionPlan
from strategies.run import replay_bars
from strategies.signals import DailyBar, Signal
from strategies.spec import StrategySpec

D = Decimal
STEP = timedelta(minutes=5)
Row = tuple[str, str, str, str]  # open, high, low, close


@dataclass(frozen=True)
class Market:
    """An exchange's regular session (``SessionTimes`` for the engine)."""

    timezone: ZoneInfo
    opens: time
    closes: time

    def open_at(self, day: date) -> datetime:
        return datetime.combine(day, self.opens, tzinfo=self.timezone)

    def close_at(self, day: date) -> datetime:
        return datetime.combine(day, self.closes, tzinfo=self.timezone)


US = Market(ZoneInfo("America/New_York"), time(9, 30), time(16, 0))
NSE = Market(ZoneInfo("Asia/Kolkata"), time(9, 15), time(15, 30))


def session_bars(
    day: date, rows: Sequence[Row], *, market: Market = US, symbol: str = "AAPL"
) -> list[Bar]:
    """One bar per row, every 5 minutes from the session's open."""
    start = market.open_at(day).astimezone(UTC)
    return [
        Bar(symbol=symbol, start=start + i * STEP, open=D(o), high=D(h), low=D(low), close=D(c))
        for i, (o, h, low, c) in enumerate(rows)
    ]


def daily(day: date, o: str, h: str, low: str, c: str) -> DailyBar:
    """A session summary for the engine's history."""
    return DailyBar(session=day, open=D(o), high=D(h), low=D(low), close=D(c))


def until(row: Row, rows: Sequence[Row], local: time, *, market: Market = US) -> list[Row]:
    """``rows`` padded with ``row`` up to and including the bar that starts at ``local``."""
    opens = datetime.combine(date(2000, 1, 3), market.opens)
    count = int((datetime.combine(date(2000, 1, 3), local) - opens) / STEP) + 1
    return [*rows, *[row] * (count - len(rows))]


@dataclass
class Replayed:
    """What a replay left behind."""

    engine: Engine
    paper: PaperBroker
    market: Market

    def trades(self) -> list[tuple[str, str, Decimal, str, Decimal, str]]:
        """(side, entry "Day HH:MM", entry price, exit "Day HH:MM", exit price, exit reason)."""
        return [
            (
                t.side,
                self._local(t.entry_time),
                t.entry_price,
                self._local(t.exit_time),
                t.exit_price,
                t.exit_reason,
            )
            for t in self.engine.recorder.trades
        ]

    def _local(self, at: datetime) -> str:
        return f"{at.astimezone(self.market.timezone):%a %H:%M}"

    def orders(self) -> list[tuple[str, str, str]]:
        """(client order id suffix, side, status) of every order, oldest first."""
        return [
            (order_tail(o.client_order_id), o.side.value, o.status.value)
            for o in self.paper.engine.all_orders()
        ]


def replay(
    signal: Signal,
    data: Iterable[Bar],
    *,
    market: Market = US,
    tick: TickRule = US_EQUITY_TICK,
    max_attempts: int = 1,
    entry_cutoff: time = time(14, 30),
    square_off: time = time(15, 15),
    history: Mapping[str, tuple[DailyBar, ...]] | None = None,
    qty: str = "100",
    halt_scope: HaltScope = HaltScope.SESSION,
) -> Replayed:
    """Replay ``data`` through the engine with ``signal`` for every bar's symbol."""
    bars = sorted(data, key=lambda b: (b.start, b.symbol))
    clock = ManualClock(bars[0].start)
    paper = PaperBroker(clock=clock)
    rules = Rules(
        tick=tick,
        max_attempts=max_attempts,
        entry_window=(market.opens, entry_cutoff),
        timezone=market.timezone.key,
    )
    first_day = bars[0].start.astimezone(market.timezone).date()
    desk = Desk(strategy="t", trading_date=first_day, rules=rules)
    plan = SessionPlan(
        session=market,
        entry_cutoff=entry_cutoff,
        square_off=square_off,
        bar_interval=STEP,
        qty=D(qty),
        tick_of=lambda symbol: tick,
        halt_scope=halt_scope,
    )
    symbols = {bar.symbol for bar in bars}
    engine = Engine(
        desk=desk,
        signals=dict.fromkeys(symbols, signal),
        broker=paper,
        clock=clock,
        plan=plan,
        history=history,
    )
    paper.subscribe(engine.on_trade_update)
    replay_bars(bars, engine=engine, paper=paper, clock=clock)
    return Replayed(engine, paper, market)


def order_tail(client_order_id: str) -> str:
    """``{attempt}-{tag}[-r{seq}]`` of one of the machine's ids, read by its codec: ``1-stop-r2``."""
    cid = ClientOrderId.parse(client_order_id)
    assert cid is not None, client_order_id
    return f"{cid.attempt}-{cid.tag.value}" + (f"-r{cid.seq}" if cid.seq else "")


def is_stop(client_order_id: str) -> bool:
    """Whether the id names a protective stop (or one of its replacements)."""
    cid = ClientOrderId.parse(client_order_id)
    return cid is not None and cid.role is OrderRole.STOP


def eighty_twenty_two_days() -> tuple[StrategySpec, list[Bar]]:
    """The 80-20 example and the demo's 5-minute bars of 2012-11-14 and -15 for its symbols."""
    from pathlib import Path

    from strategies.run import load_bars
    from strategies.spec import load_strategy

    root = Path(__file__).resolve().parents[2]
    spec = load_strategy(root / "examples" / "eighty_twenty.toml")
    bars = load_bars(
        root / "data" / "intraday_5min",
        symbols=spec.symbols,
        dates=(date(2012, 11, 14), date(2012, 11, 15)),
    )
    return spec, bars
