"""A short's protective buy stop stranded above Alpaca's collar is covered at market.

Alpaca books a buy stop as a stop-limit whose limit is 4 % above the stop below $50 and 2.5 %
at or above (``docs/alpaca-behaviours.md`` row 2). A bar that trades through the stop and
closes beyond that limit has elected it and left it unfilled: the venue sends no event, and the
short is no longer protected however far the price runs. On each 1-minute bar the venue
streams, the runner looks at every short whose buy stop works (not being cancelled): if the bar
reached the stop and closed above its limit, the machine is told to exit
(``ExitSignalled(reason="collar_gapped")``, noted and counted as ``collar_gapped``): the stop is
cancelled and the position closed by one market buy. A stop that fills meanwhile settles the
exit as any fill does (the close is sent only once nothing works).

Only for a venue with the collar (``VenueRules.buy_stop_collar``); a replay's paper broker has
none, and never strands a stop.
"""

from __future__ import annotations

from datetime import timedelta

from brokers import Bar, collar_limit
from machines import ExitSignalled, OrderRole, Side, TrackStatus
from strategies.engine import Engine

__all__ = ["COLLAR_GAPPED", "CollarWatch"]

#: The incident, and the reason of the exit it asks for.
COLLAR_GAPPED = "collar_gapped"


class CollarWatch:
    """Covers a short at market when a bar strands its protective buy stop-limit."""

    def __init__(self, engine: Engine, *, bar_size: timedelta) -> None:
        self._engine = engine
        self._bar_size = bar_size

    def on_minute(self, bar: Bar) -> None:
        """A bar of the venue's stream (before it is built into the strategy's bars)."""
        engine = self._engine
        symbol = bar.symbol
        if symbol not in engine.signals:
            return
        snapshot = engine.desk.machine(symbol).snapshot()
        if snapshot.position >= 0:
            return
        for order in snapshot.working_orders:
            stop = order.stop_price
            if (
                order.role is not OrderRole.STOP
                or order.side is not Side.BUY
                or order.status is TrackStatus.CANCEL_SENT
                or stop is None
            ):
                continue
            limit = collar_limit(stop)
            if bar.high >= stop and bar.close > limit:
                engine.incidents.note(
                    COLLAR_GAPPED,
                    symbol=symbol,
                    client_order_id=order.client_order_id,
                    stop=str(stop),
                    limit=str(limit),
                    close=str(bar.close),
                )
                at = bar.start + self._bar_size
                engine.fire(symbol, ExitSignalled(at=at, reason=COLLAR_GAPPED))
                return
