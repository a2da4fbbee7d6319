"""What produced a run's summary: its sessions, parameters, config hash and data fingerprint.

The config hash is the SHA-256 of the validated strategy (its canonical JSON, keys sorted), so
two files that mean the same thing hash alike whatever their comments or layout; the data
fingerprint the SHA-256 of the strategy's bars (symbol, start, open, high, low, close, volume,
in time order), so a replay of the 1-minute files built into 5-minute bars and one of the
5-minute files of the same prices say they saw the same data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from operator import attrgetter

from brokers import Bar
from strategies.engine import Engine, RunFacts
from strategies.engine import _incidents as incident
from strategies.spec import StrategySpec

__all__ = ["PLAIN_CASH", "config_hash", "data_fingerprint", "run_facts"]

#: The plain replay's paper broker's cash (the twin's is ``TWIN_CASH``).
PLAIN_CASH = Decimal(1_000_000)
_PARAMETERS = (
    "signal",
    "bar_minutes",
    "entry_window",
    "square_off",
    "max_attempts",
    "sizing",
    "daily_loss_limit",
)
_TIME_ORDER = attrgetter("start", "symbol")


def config_hash(spec: StrategySpec) -> str:
    """The SHA-256 of the validated strategy, as canonical JSON; keys left unset (``None``) are
    left out, so a release that adds an optional table does not change every file's hash."""
    dumped = spec.model_dump(mode="json", exclude_none=True)
    text = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def data_fingerprint(bars: Sequence[Bar]) -> str:
    """The SHA-256 of ``bars`` (in time, then symbol order)."""
    lines = []
    last: datetime | None = None
    stamp = ""
    # Sorted, a moment's bars follow each other: its start is formatted once, on the first,
    # found by comparing with the one before (hashing an aware datetime costs more).
    # str() of each Decimal, not an f-string: formatting one goes through Decimal.__format__,
    # three times the cost of str() and the same text.
    for b in sorted(bars, key=_TIME_ORDER):
        start = b.start
        if last is None or start != last or start.tzinfo is not last.tzinfo:
            stamp = start.isoformat()
        last = start
        prices = (str(b.open), str(b.high), str(b.low), str(b.close), str(b.volume))
        lines.append(",".join((b.symbol, stamp, *prices)))
    lines.append("")  # every line ends with a newline
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def run_facts(
    spec: StrategySpec, engine: Engine, bars: Sequence[Bar], *, equity: Decimal
) -> RunFacts:
    """The facts of a run of ``spec`` whose strategy saw ``bars`` on an account of ``equity``."""
    hours = spec.session.hours()
    starts = {bar.start for bar in bars}  # a moment's bars share one
    sessions = sorted({start.astimezone(hours.timezone).date() for start in starts})
    dumped = spec.model_dump(mode="json")
    return RunFacts(
        sessions=tuple(sessions),
        hours={day: (hours.open_at(day), hours.close_at(day)) for day in sessions},
        timezone=hours.timezone,
        starting_equity=equity,
        config_hash=config_hash(spec),
        data_fingerprint=data_fingerprint(bars) if bars else None,
        parameters={key: dumped[key] for key in _PARAMETERS},
        costs=dumped["costs"],
        buying_power_blocked={
            s: engine.incidents.count(incident.BUYING_POWER_BLOCKED, s) for s in spec.symbols
        },
    )
