"""The rules one strategy imposes on each of its symbols: tick grid, attempts, entry window.

Rules are checked once, when built, so a machine can never start with rules it cannot keep —
including client order ids that would pass the broker's 48-character limit::

    >>> from datetime import datetime, time, timezone
    >>> rules = Rules(entry_window=(time(9, 30), time(14, 30)), timezone="America/New_York")
    >>> rules.in_entry_window(datetime(2026, 11, 23, 14, 45, tzinfo=timezone.utc))  # 09:45 NY
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from machines._exceptions import InvalidRulesError
from machines._order_ids import MAX_CLIENT_ORDER_ID, ClientOrderId
from machines._orders import OrderRole
from machines._pricing import US_EQUITY_TICK, TickRule

__all__ = ["Rules", "check_identity"]

# The widest replacement suffix an id must still fit with: a stop trailed every minute of a
# 6.5-hour session needs r390; r9999 leaves room for any intraday strategy.
_WIDEST_SEQ = 9999


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """What every symbol machine of one strategy must obey."""

    tick: TickRule = US_EQUITY_TICK
    max_attempts: int = 1
    entry_window: tuple[time, time] | None = None  # [start, end) in ``timezone``; None = always
    timezone: str = "UTC"
    # The venue refuses an order opposite a working one (Alpaca's wash-trade rule): after an
    # entry fills in part, its remainder is cancelled and the protective stop follows the cancel.
    stop_waits_for_entry: bool = False
    # The same rule refuses a one-cancels-other pair sent as two plain stops: the pair rests one
    # leg at a time, the one nearer the last price; the other is held back and swapped in (after
    # the resting leg's cancel is answered) when a bar closes nearer to it (``PriceMoved``).
    one_resting_leg: bool = False
    # How many fresh orders an attempt may place after the venue refused its protective stop or
    # its closing order (each under the next id of its role); past that the symbol halts.
    max_renewals: int = 2
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise InvalidRulesError(f"max_attempts must be an int >= 1, got {self.max_attempts!r}")
        if not isinstance(self.max_renewals, int) or self.max_renewals < 0:
            raise InvalidRulesError(f"max_renewals must be an int >= 0, got {self.max_renewals!r}")
        if self.entry_window is not None:
            start, end = self.entry_window
            if not start < end:
                raise InvalidRulesError(
                    f"entry window must start before it ends, got {start}-{end}"
                )
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidRulesError(f"unknown timezone {self.timezone!r}") from exc
        object.__setattr__(self, "_zone", zone)

    def in_entry_window(self, at: datetime) -> bool:
        """Whether a new entry may be decided at ``at``."""
        if self.entry_window is None:
            return True
        local = at.astimezone(self._zone).time()
        start, end = self.entry_window
        return start <= local < end


def check_identity(strategy: str, symbol: str, rules: Rules) -> None:
    """Refuse a (strategy, symbol) whose client order ids could pass 48 characters or could not
    be read back (a strategy name with a ``-``)."""
    for name, value in (("strategy", strategy), ("symbol", symbol)):
        if not value or not isinstance(value, str) or any(c.isspace() for c in value):
            raise InvalidRulesError(f"{name} must be a non-empty string without spaces: {value!r}")
    if "-" in strategy:
        raise InvalidRulesError(
            f"strategy must not contain '-' (it ends the name in order ids): {strategy!r}"
        )
    parts = ClientOrderId(
        strategy=strategy,
        symbol=symbol,
        trading_date=date(2000, 1, 1),
        attempt=rules.max_attempts,
        role=OrderRole.STOP,
        seq=_WIDEST_SEQ,
    )
    widest = str(parts)
    if ClientOrderId.parse(widest) != parts:
        raise InvalidRulesError(f"client order ids for {strategy!r}/{symbol!r} cannot be read back")
    if len(widest) > MAX_CLIENT_ORDER_ID:
        raise InvalidRulesError(
            f"client order ids for {strategy!r}/{symbol!r} would reach {len(widest)} characters "
            f"(limit {MAX_CLIENT_ORDER_ID}): shorten the strategy name"
        )
