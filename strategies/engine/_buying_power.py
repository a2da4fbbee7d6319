"""An entry whose notional exceeds the account's buying power is declined before it is sent.

The notional is the entry's quantity at its dearest leg's price (one leg of a pair fills). The
account is read afresh from the broker — a replay's paper broker, the venue's REST in a live
run; in lock-step the exchange is held at the moment the run decides, so both read the same
books — and a declined entry is noted and counted (``buying_power_blocked``); nothing is sent,
and the signal may ask again on a later bar. A failed read lets the venue decide.
"""

from __future__ import annotations

import structlog

from brokers import Broker, BrokerError
from machines import EntrySignalled
from strategies.engine._incidents import BUYING_POWER_BLOCKED, Incidents

__all__ = ["beyond_buying_power"]

_log = structlog.get_logger("tickstate.engine")


def beyond_buying_power(
    broker: Broker, incidents: Incidents, symbol: str, event: EntrySignalled
) -> bool:
    """Whether ``event`` asks for more than the account can buy (noted and counted if so)."""
    notional = event.qty * max(leg.entry_price for leg in event.legs)
    try:
        available = broker.get_account().buying_power
    except BrokerError as exc:
        _log.warning("account_read_failed", symbol=symbol, error=str(exc))
        return False
    if notional <= available:
        return False
    incidents.note(
        BUYING_POWER_BLOCKED, symbol=symbol, notional=str(notional), buying_power=str(available)
    )
    return True
