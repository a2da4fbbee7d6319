"""NautilusTrader (1.221) running the opening-bar stop entry on tickstate's bars.

The rules are ``benchmarks/_opening_bar.py``'s: a buy stop (stop-market) one tick above each
symbol's first bar of the session, a sell stop one tick below that bar placed when the entry
fills, the entry cancelled at the entry cutoff and the position closed with a market order at
the square-off (each day's deadlines from the same calendar as tickstate's, as time alerts).

How NautilusTrader reads the bars (its defaults, kept): each bar is stamped at its end
(``ts_event = ts_init = start + 5 min``, so a strategy sees it complete), and its simulated
venue matches working orders against the bar as four prices in turn (open, high, low, close),
a fill's events reaching the strategy between them. So a protective stop submitted on the fill
of a buy stop at the high is matched against the same bar's low, as tickstate's worst-case
re-match does. The honest difference: a market order fills on the book the venue holds,
which after a bar is that bar's close, so the square-off exits at the close of the bar before
the deadline where tickstate and backtrader exit at the open of the next bar. ``peers``
reports how many trades are identical and how many differ only so.

The engine and its data are built before the timed run (as tickstate's engine is built and
its bars loaded before its replay loop is timed); ``engine.run()`` is what is timed, without
its post-run portfolio analysis (``run_analysis=False``: tickstate's loop computes no summary)
and without logging (``bypass_logging``); disposing of the engine comes after the timing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar as NautilusBar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide, TimeInForce
from nautilus_trader.model.identifiers import InstrumentId, Venue
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

from benchmarks._peers_backtrader import PeerTrade, cents
from brokers import Bar

__all__ = ["finish", "prepare", "run_opening_bar"]

VENUE = "XNAS"
BAR_NS = 5 * 60 * 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ns(at: datetime) -> int:
    delta = at.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _utc(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


class OpeningBar(Strategy):  # type: ignore[misc]
    """The opening-bar stop entry, one instance for every symbol (as tickstate runs them)."""

    def __init__(
        self, bar_types: Sequence[BarType], calendar: Mapping[date, Any], place: bool = True
    ) -> None:
        super().__init__(StrategyConfig(strategy_id="OpeningBar-001"))
        self.place = place  # False: the same first-bar check, no order
        self.bar_types = list(bar_types)
        self.calendar = calendar
        self.trades: list[PeerTrade] = []
        self._day_of: dict[InstrumentId, date] = {}
        self._entry_of: dict[InstrumentId, Any] = {}  # working entry order
        self._stop_of: dict[InstrumentId, Any] = {}  # working protective stop
        self._protect_at: dict[InstrumentId, Price] = {}
        self._held_at: dict[InstrumentId, tuple[datetime, int]] = {}
        self._qty = Quantity.from_int(100)
        self._cutoff_ns: dict[date, int] = {}

    def on_start(self) -> None:
        for bar_type in self.bar_types:
            self.subscribe_bars(bar_type)
        for day, deadlines in sorted(self.calendar.items()):
            # One nanosecond after the deadline: a bar stamped at the deadline completed before it
            # (it is still matched with the entry working), the next one after it.
            cutoff = _ns(deadlines.entry_cutoff) + 1
            self._cutoff_ns[day] = cutoff
            self.clock.set_time_alert_ns(f"cutoff-{day}", cutoff, self._on_cutoff)
            square = _ns(deadlines.square_off) + 1
            self.clock.set_time_alert_ns(f"square-{day}", square, self._on_square_off)

    def on_bar(self, bar: NautilusBar) -> None:
        instrument = bar.bar_type.instrument_id
        start = bar.ts_event - BAR_NS
        day = _utc(start).date()
        if self._day_of.get(instrument) == day:
            return
        self._day_of[instrument] = day
        if not self.place:
            return
        cutoff = self._cutoff_ns.get(day)
        if cutoff is None or bar.ts_event >= cutoff or instrument in self._held_at:
            return
        entry = Price(bar.high.as_double() + 0.01, 2)
        self._protect_at[instrument] = Price(bar.low.as_double() - 0.01, 2)
        order = self.order_factory.stop_market(
            instrument_id=instrument,
            order_side=OrderSide.BUY,
            quantity=self._qty,
            trigger_price=entry,
            time_in_force=TimeInForce.GTC,
        )
        self._entry_of[instrument] = order
        self.submit_order(order)

    def on_order_filled(self, event: Any) -> None:
        instrument = event.instrument_id
        at = _utc(event.ts_event)
        price = cents(event.last_px.as_double())
        entry = self._entry_of.get(instrument)
        if entry is not None and entry.client_order_id == event.client_order_id:
            del self._entry_of[instrument]
            self._held_at[instrument] = (at, price)
            stop = self.order_factory.stop_market(
                instrument_id=instrument,
                order_side=OrderSide.SELL,
                quantity=self._qty,
                trigger_price=self._protect_at[instrument],
                time_in_force=TimeInForce.GTC,
                reduce_only=True,
            )
            self._stop_of[instrument] = stop
            self.submit_order(stop)
        elif instrument in self._held_at:
            entry_at, entry_price = self._held_at.pop(instrument)
            self._stop_of.pop(instrument, None)
            self.trades.append(PeerTrade(instrument.symbol.value, entry_at, entry_price, at, price))

    def _on_cutoff(self, _event: Any) -> None:
        for order in self._entry_of.values():
            self.cancel_order(order)
        self._entry_of.clear()

    def _on_square_off(self, _event: Any) -> None:
        for instrument in list(self._held_at):
            stop = self._stop_of.pop(instrument, None)
            if stop is not None:
                self.cancel_order(stop)
            order = self.order_factory.market(
                instrument_id=instrument,
                order_side=OrderSide.SELL,
                quantity=self._qty,
                reduce_only=True,
            )
            self.submit_order(order)


def prepare(
    bars: Sequence[Bar], calendar: Mapping[date, Any], place: bool = True
) -> tuple[BacktestEngine, Any]:
    """An engine with the venue, the instruments, ``bars`` and the strategy added (not timed)."""
    engine = BacktestEngine(
        BacktestEngineConfig(
            logging=LoggingConfig(log_level="ERROR", bypass_logging=True),
            # No post-run portfolio statistics: tickstate's timed loop computes no summary.
            run_analysis=False,
        )
    )
    engine.add_venue(
        venue=Venue(VENUE),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        starting_balances=[Money(10_000_000, USD)],
        base_currency=USD,
        default_leverage=Decimal(1),
        use_message_queue=False,
    )
    by_symbol: dict[str, list[Bar]] = {}
    for b in bars:
        by_symbol.setdefault(b.symbol, []).append(b)
    bar_types = []
    for symbol, mine in sorted(by_symbol.items()):
        instrument = TestInstrumentProvider.equity(symbol=symbol, venue=VENUE)
        engine.add_instrument(instrument)
        bar_type = BarType.from_str(f"{instrument.id}-5-MINUTE-LAST-EXTERNAL")
        bar_types.append(bar_type)
        data = []
        for b in mine:
            end = _ns(b.start) + BAR_NS
            data.append(
                NautilusBar(
                    bar_type,
                    Price(float(b.open), 2),
                    Price(float(b.high), 2),
                    Price(float(b.low), 2),
                    Price(float(b.close), 2),
                    Quantity(float(b.volume), 0),
                    end,
                    end,
                )
            )
        engine.add_data(data)
    strategy = OpeningBar(bar_types, calendar, place)
    engine.add_strategy(strategy)
    return engine, strategy


def finish(engine: BacktestEngine, strategy: Any) -> list[PeerTrade]:
    """Run a prepared engine; the strategy's round trips (``engine.dispose()`` is the
    caller's, after the timing)."""
    engine.run()
    trades: list[PeerTrade] = sorted(strategy.trades, key=lambda t: (t.entry_time, t.symbol))
    return trades


def run_opening_bar(bars: Sequence[Bar], calendar: Mapping[date, Any]) -> list[PeerTrade]:
    """NautilusTrader's opening-bar trades over ``bars`` (``calendar``: each day's deadlines)."""
    engine, strategy = prepare(bars, calendar)
    try:
        return finish(engine, strategy)
    finally:
        engine.dispose()
