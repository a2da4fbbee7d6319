"""The public surface of ``strategies``: exactly the pinned names, each resolving."""

from __future__ import annotations

import strategies

PINNED = [
    "ENTRY_POINT_GROUP",
    "CalendarError",
    "Session",
    "SpecError",
    "StrategyError",
    "StrategySpec",
    "TradingCalendar",
    "configure_logging",
    "load_strategy",
    "log_outcome",
    "strategy_schema",
]


def test_public_surface_is_exactly_the_pinned_names():
    """strategies.__all__ lists the pinned names and each one is importable."""
    assert strategies.__all__ == PINNED
    assert all(getattr(strategies, name, None) is not None for name in PINNED)


def test_entry_point_group_is_tickstate_signals():
    """Third-party signals register under the documented entry-point group."""
    assert strategies.ENTRY_POINT_GROUP == "tickstate.signals"
