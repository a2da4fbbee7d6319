"""Drivers: replay over recorded bars, and live runs against a venue, on the one engine.

``run_replay`` drives the engine with the paper broker on a manual clock; ``run_live`` runs it
against a venue (one factory per ``[broker] kind``) with its journal, its recovery after a crash
and the ``LiveRunner``'s threads; ``reconcile`` is the pure comparison of the broker's books with
the machines'. Recorded bars come from CSV files (``load_bars``).

Each name is imported on first use (PEP 562): a replay never loads the live runner, its venues
or their HTTP and WebSocket libraries (``tests/test_import_cost.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brokers._lazy import lazy_names

if TYPE_CHECKING:  # the real names for type checkers; at run time ``__getattr__`` imports them
    from strategies.run._bars import daily_from_intraday, load_bars, load_daily
    from strategies.run._history import (
        HistoryError,
        daily_history,
        fetch_history,
        history_sessions,
    )
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
    from strategies.run._selection import (
        around_the_sessions,
        default_data,
        first_sessions,
        split_sessions,
    )
    from strategies.run._settings import RunSettings
    from strategies.run._venues import Venue, open_venue
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

#: Where each public name lives.
_LAZY = {
    "HistoryError": "strategies.run._history",
    "LiveResult": "strategies.run._live",
    "LiveRunner": "strategies.run._runner",
    "Reconciliation": "strategies.run._reconcile",
    "Redrive": "strategies.run._reconcile",
    "ReplayResult": "strategies.run._replay",
    "StopTrail": "strategies.run._replay",
    "RunSettings": "strategies.run._settings",
    "Venue": "strategies.run._venues",
    "around_the_sessions": "strategies.run._selection",
    "build_engine": "strategies.run._replay",
    "build_engine_for": "strategies.run._wiring",
    "daily_from_intraday": "strategies.run._bars",
    "daily_history": "strategies.run._history",
    "default_data": "strategies.run._selection",
    "draw_report": "strategies.run._replay",
    "fetch_history": "strategies.run._history",
    "first_sessions": "strategies.run._selection",
    "history_sessions": "strategies.run._history",
    "judge_pending": "strategies.run._recovery",
    "load_bars": "strategies.run._bars",
    "load_daily": "strategies.run._bars",
    "open_venue": "strategies.run._venues",
    "plan_for": "strategies.run._wiring",
    "reconcile": "strategies.run._reconcile",
    "redrive": "strategies.run._reconcile",
    "replay_bars": "strategies.run._replay",
    "run_live": "strategies.run._live",
    "run_replay": "strategies.run._replay",
    "settle_pending": "strategies.run._recovery",
    "split_sessions": "strategies.run._selection",
    "strategy_bars": "strategies.run._replay",
    "unprotected": "strategies.run._reconcile",
}


_load, __dir__ = lazy_names(__name__, _LAZY, __all__)
if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise take any name as valid
    __getattr__ = _load
