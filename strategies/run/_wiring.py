"""One strategy file → one engine: desk, signals, session plan. Shared by replay and live runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

from brokers import Broker, Clock, TimeInForce
from machines import Desk
from strategies.engine._buying_power import BuyingPowerGate
from strategies.engine._costs import CostModel
from strategies.engine._engine import Engine, JournalSink, Observer
from strategies.engine._timers import SessionPlan
from strategies.engine._trades import TradeRecorder
from strategies.signals._protocol import DailyBar
from strategies.spec._strategy import StrategySpec

__all__ = ["build_engine_for", "cost_model", "plan_for"]


def plan_for(spec: StrategySpec) -> SessionPlan:
    """The engine's daily timetable and sizing for ``spec``."""
    rules = spec.rules()
    return SessionPlan(
        session=spec.session.hours(),
        entry_cutoff=spec.entry_window.end,
        square_off=spec.square_off,
        bar_interval=timedelta(minutes=spec.bar_minutes),
        qty=Decimal(spec.sizing.fixed_qty or 1),
        risk_per_trade=spec.sizing.risk_per_trade,
        tick_of=lambda symbol: rules[symbol].tick,
        halt_scope=spec.halt_scope,
        stop_time_in_force=TimeInForce(spec.stop_time_in_force),
    )


def cost_model(spec: StrategySpec) -> CostModel:
    """The commission and slippage the file's ``[costs]`` charges."""
    costs = spec.costs
    return CostModel(
        commission_per_share=costs.commission_per_share,
        commission_minimum=costs.commission_minimum,
        commission_percent=costs.commission_percent,
        slippage_ticks=costs.slippage_ticks,
        slippage_bps=costs.slippage_bps,
    )


def build_engine_for(
    spec: StrategySpec,
    *,
    broker: Broker,
    clock: Clock,
    trading_date: date,
    history: Mapping[str, tuple[DailyBar, ...]] | None = None,
    journal: JournalSink | None = None,
    observers: Sequence[Observer] = (),
) -> Engine:
    """An engine running ``spec`` against ``broker``; machines start flat on ``trading_date``.

    Every outcome is journaled (with ``journal``), then handed to each of ``observers``, before
    its commands run. ``history``: each symbol's sessions before the first bar the engine will
    see (D-1 for the first day). Its trades are charged the file's ``[costs]``; when the file
    names the account, an entry beyond its buying power is declined before it is sent.
    """
    desk = Desk(
        strategy=spec.name,
        trading_date=trading_date,
        symbol_rules=spec.rules(),
    )
    signals = {symbol: spec.signal.build(symbol) for symbol in spec.symbols}
    plan = plan_for(spec)
    engine = Engine(
        desk=desk,
        signals=signals,
        broker=broker,
        clock=clock,
        plan=plan,
        history=history,
        recorder=TradeRecorder(costs=cost_model(spec), tick_of=plan.tick_of),
        journal=journal,
        observers=observers,
    )
    if spec.costs.limits_buying_power:
        engine.buying_power = BuyingPowerGate(broker, engine.incidents)
    return engine
