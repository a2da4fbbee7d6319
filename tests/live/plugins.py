"""A plugin signal with a bug, registered for a test as another distribution would register it."""

from __future__ import annotations

from collections.abc import Sequence

from brokers import Bar
from machines import Snapshot, StrategyEvent
from strategies.signals._eighty_twenty import EightyTwenty

__all__ = ["FragileEightyTwenty"]


class FragileEightyTwenty(EightyTwenty):
    """The 80-20 signal, except that on GOOG it raises the first time it sees a position held."""

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> Sequence[StrategyEvent]:
        if self.symbol == "GOOG" and snapshot.holds_position:
            raise RuntimeError("fragile plugin: an index it did not expect")
        return super().on_bar(bar, snapshot)
