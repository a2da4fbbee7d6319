"""An entry whose notional exceeds the account's buying power is declined before it is sent.

The notional is the entry's quantity at its dearest leg's price (one leg of a pair fills). The
account is read afresh from the broker — a replay's paper broker, the venue's REST in a live
run; in lock-step the exchange is held at the moment the run decides, so both read the same
books. A declined entry is not sent, and the signal may ask again on a later bar; it is noted
and counted (``buying_power_blocked``) once per symbol, session and attempt, however many bars
ask for it. A failed read lets the venue decide.
"""

from __future__ import annotations

from datetime import date

import structlog

from brokers import Broker, BrokerError
from machines import EntrySignalled, Snapshot
from strategies.engine._incidents import BUYING_POWER_BLOCKED, Incidents

__all__ = ["BuyingPowerGate"]

_log = structlog.get_logger("tickstate.engine")


class BuyingPowerGate:
    """Asked by the engine before each entry of a strategy whose file names its account."""

    def __init__(self, broker: Broker, incidents: Incidents) -> None:
        self._broker = broker
        self._incidents = incidents
        self._declined: set[tuple[str, date, int]] = set()

    def declines(self, symbol: str, event: EntrySignalled, snapshot: Snapshot) -> bool:
        """Whether ``event`` asks for more than the account can buy now."""
        notional = event.qty * max(leg.entry_price for leg in event.legs)
        try:
            available = self._broker.get_account().buying_power
        except BrokerError as exc:
            _log.warning("account_read_failed", symbol=symbol, error=str(exc))
            return False
        if notional <= available:
            return False
        key = (symbol, snapshot.trading_date, snapshot.attempt)
        if key not in self._declined:
            self._declined.add(key)
            self._incidents.note(
                BUYING_POWER_BLOCKED,
                symbol=symbol,
                notional=str(notional),
                buying_power=str(available),
            )
        return True
