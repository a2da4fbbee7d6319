"""The daily loss limit: one switch for the whole strategy.

After each item the engine thread applied, ``KillSwitch.check`` adds up the realised PnL of the
trades closed in each session (exchange-local date of the engine's clock) — every fill the books
hold, however it was learnt, before a restart too — and at or below ``-limit`` halts every symbol
with ``HaltRequested(reason="daily_loss_limit", flatten=True)``, once per session, and notes the
``kill_switch`` incident (logged at error, counted, watched by the notification hook). The run
keeps going: halted machines only cancel and flatten.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from machines import HaltRequested
from strategies.engine import _incidents as incident
from strategies.engine._engine import Engine

__all__ = ["KillSwitch"]


class KillSwitch:
    """Halts and flattens every symbol once a session's realised loss reaches ``limit``."""

    def __init__(self, engine: Engine, limit: Decimal | None) -> None:
        self._engine = engine
        self._limit = limit
        self._pnl_by_day: dict[date, Decimal] = {}  # realised PnL per session
        self._trades_counted = 0
        self._killed_on: date | None = None

    def check(self) -> None:
        """Count the trades closed since the last check; fire once past the limit."""
        limit = self._limit
        if limit is None:
            return
        engine = self._engine
        tz = engine.plan.session.timezone
        trades = engine.recorder.trades
        for trade in trades[self._trades_counted :]:
            day = trade.exit_time.astimezone(tz).date()
            self._pnl_by_day[day] = self._pnl_by_day.get(day, Decimal(0)) + trade.pnl
        self._trades_counted = len(trades)
        now = engine.clock.now()
        today = now.astimezone(tz).date()
        pnl = self._pnl_by_day.get(today, Decimal(0))
        if pnl > -limit or self._killed_on == today:
            return
        self._killed_on = today
        symbols = sorted(set(engine.desk.symbols()) | set(engine.signals))
        engine.incidents.note(
            incident.KILL_SWITCH,
            level="error",
            reason="daily_loss_limit",
            pnl=str(pnl),
            limit=str(limit),
            trading_date=today.isoformat(),
            symbols=symbols,
        )
        for symbol in symbols:
            engine.fire(symbol, HaltRequested(at=now, reason="daily_loss_limit", flatten=True))
