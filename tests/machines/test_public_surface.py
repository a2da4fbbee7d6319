"""The public surface of ``machines``: exactly the pinned names, sorted, each resolving."""

from __future__ import annotations

import machines

PINNED = [
    "ANOMALY_TRIGGERS",
    "EVENT_TRIGGERS",
    "LIFECYCLE_TABLE",
    "MAX_CLIENT_ORDER_ID",
    "NSE_TICKS",
    "US_EQUITY_TICK",
    "Anomaly",
    "BrokerSnapshotTaken",
    "CancelOrder",
    "ClientOrderId",
    "ClosePosition",
    "Command",
    "Counters",
    "DayRolledOver",
    "Declaration",
    "Decline",
    "Desk",
    "Diagram",
    "DiagramEdge",
    "DiagramGroup",
    "DiagramNode",
    "EntryLeg",
    "EntrySignalled",
    "EntryTimedOut",
    "Event",
    "ExitSignalled",
    "FixedTick",
    "Go",
    "HaltRequested",
    "Ignore",
    "InitialStopRevised",
    "InvalidEventError",
    "InvalidRulesError",
    "LifecycleError",
    "Moves",
    "OrderAccepted",
    "OrderCancelled",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderReplaced",
    "OrderRole",
    "OrderTrack",
    "Outcome",
    "OutcomeKind",
    "PlaceEntry",
    "PlaceStop",
    "PriceBands",
    "PriceMoved",
    "ReplaceStop",
    "ResumeRequested",
    "Rules",
    "Side",
    "Snapshot",
    "SquareOffReached",
    "State",
    "StrategyEvent",
    "SymbolMachine",
    "TickRule",
    "TrackStatus",
    "TrailProposed",
    "ceil_to_tick",
    "client_order_id",
    "floor_to_tick",
    "is_on_tick",
    "lifecycle_diagrams",
    "overview_diagram",
    "round_entry",
    "round_stop",
    "wrap_label",
]


def _isort_key(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions, each alphabetical (ruff's RUF022 order)."""
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


class TestPublicSurface:
    def test_all_is_exactly_the_pinned_surface(self):
        """Adding or removing a public name is a deliberate change to this list."""
        assert machines.__all__ == PINNED

    def test_all_is_sorted(self):
        """``__all__`` is sorted: constants, classes, functions, each alphabetically."""
        assert machines.__all__ == sorted(machines.__all__, key=_isort_key)
        assert len(set(machines.__all__)) == len(machines.__all__)

    def test_every_public_name_resolves(self):
        """Each name in ``__all__`` is an attribute of the package."""
        for name in machines.__all__:
            assert getattr(machines, name) is not None, name

    def test_star_import_gives_exactly_the_surface(self):
        """``from machines import *`` binds the public names and nothing else."""
        namespace: dict[str, object] = {}
        exec("from machines import *", namespace)
        assert sorted(set(namespace) - {"__builtins__"}) == sorted(PINNED)

    def test_private_modules_stay_private(self):
        """Implementation modules are underscored and not re-exported by name."""
        assert not [n for n in machines.__all__ if n.startswith("_")]
