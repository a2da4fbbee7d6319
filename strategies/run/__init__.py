"""Drivers: replay over recorded bars, and live runs against a venue, on the one engine.

``run_replay`` drives the engine with the paper broker on a manual clock; ``run_live`` runs it
against a venue (one factory per ``[broker] kind``) with its journal, its recovery after a crash
and the ``LiveRunner``'s threads; ``reconcile`` is the pure comparison of the broker's books with
the machines'. Recorded bars come from CSV files (``load_bars``).
"""

from strategies.run._bars import daily_from_intraday, load_bars, load_daily
from strategies.run._history import HistoryError, daily_history, fetch_history, history_sessions
from strategies.run._live import LiveResult, run_live
from strategies.run._reconcile import Reconciliation, Redrive, reconcile, redrive, unprotected
from strategies.run._recovery import judge_pending, settle_pending
from strategies.run._replay import (
    ReplayResult,
    StopTrail,
    build_engine,
    draw_report,
    replay_bars,
    run_replay,
    strategy_bars,
)
from strategies.run._runner import LiveRunner
from strategies.run._settings import RunSettings
from strategies.run._venues import (
    Venue,
    around_the_sessions,
    default_data,
    first_sessions,
    open_venue,
    split_sessions,
)
from strategies.run._wiring import build_engine_for, plan_for

__all__ = [
    "HistoryError",
    "LiveResult",
    "LiveRunner",
    "Reconciliation",
    "Redrive",
    "ReplayResult",
    "RunSettings",
    "StopTrail",
    "Venue",
    "around_the_sessions",
    "build_engine",
    "build_engine_for",
    "daily_from_intraday",
    "daily_history",
    "default_data",
    "draw_report",
    "fetch_history",
    "first_sessions",
    "history_sessions",
    "judge_pending",
    "load_bars",
    "load_daily",
    "open_venue",
    "plan_for",
    "reconcile",
    "redrive",
    "replay_bars",
    "run_live",
    "run_replay",
    "settle_pending",
    "split_sessions",
    "strategy_bars",
    "unprotected",
]
