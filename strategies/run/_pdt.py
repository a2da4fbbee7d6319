"""Entries a pattern-day-trader-limited account could not close the same day are declined.

Alpaca holds an account under $25,000 of equity to three day trades in five sessions
(``docs/alpaca-behaviours.md`` row 3): once it has made three, any order that would complete
a fourth is refused (403 ``40310100``) — the protective stop and then the closing order of an
intraday position. So an entry there would open a position the runner could neither protect nor
close today. The runner reads the account at start-up (logged as ``account_read``) and again
before each entry — at most once per ``max_age`` wall seconds, since the read is a REST call on
the engine thread (a burst of entries reuses it; a venue answering 429s must not hold up the
fills queued behind it). While the account is so limited the entry is declined, noted and
counted as ``pdt_blocked``, and nothing is sent. An account read that fails keeps the last one.
"""

from __future__ import annotations

from decimal import Decimal
from time import perf_counter

import structlog

from brokers import Account, Broker, BrokerError

__all__ = ["DAY_TRADES_ALLOWED", "PDT_BLOCKED", "PDT_EQUITY", "PdtGate", "pdt_limited"]

#: The incident of a declined entry.
PDT_BLOCKED = "pdt_blocked"
#: Equity under which an account is held to the rule, and the day trades it may make in five
#: sessions.
PDT_EQUITY = Decimal(25_000)
DAY_TRADES_ALLOWED = 3

_log = structlog.get_logger("tickstate.runner")


def pdt_limited(account: Account) -> bool:
    """Whether the venue would refuse the order completing the account's next day trade."""
    return account.equity < PDT_EQUITY and (
        account.daytrade_count >= DAY_TRADES_ALLOWED or account.pattern_day_trader
    )


class PdtGate:
    """The engine's ``entry_gate`` for a venue with the rule: reads the account per entry."""

    def __init__(self, broker: Broker, *, max_age: float = 5.0) -> None:
        self._broker = broker
        self._max_age = max_age
        self._last: Account | None = None
        self._read_at = float("-inf")

    def _read(self) -> Account | None:
        self._read_at = perf_counter()
        try:
            self._last = self._broker.get_account()
        except BrokerError as exc:  # keep the last account read; the next entry asks again
            _log.warning("account_read_failed", error=str(exc))
        return self._last

    def at_start(self) -> None:
        """Read the account once before trading and say whether the rule limits it."""
        account = self._read()
        if account is None:
            return
        _log.info(
            "account_read",
            equity=str(account.equity),
            daytrade_count=account.daytrade_count,
            pattern_day_trader=account.pattern_day_trader,
            pdt_limited=pdt_limited(account),
        )

    def __call__(self, symbol: str) -> str | None:
        """``pdt_blocked`` when an entry in ``symbol`` could not be closed today, else None."""
        fresh = perf_counter() - self._read_at < self._max_age
        account = self._last if fresh else self._read()
        return PDT_BLOCKED if account is not None and pdt_limited(account) else None
