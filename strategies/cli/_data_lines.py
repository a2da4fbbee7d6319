"""What ``run``, ``replay`` and ``validate`` say about the bars a strategy is given: one
``warning:`` line for each thing that is legal but suspicious (a ``--start`` on no session, a
symbol with no bars, bars the strategy's ``bar_minutes`` cannot be built from), and the one
line of an error when nothing is left to replay. Lists of symbols are cut to a few names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brokers import Bar
    from strategies.spec import StrategySpec

__all__ = ["bar_size_warning", "moved_start", "names", "no_bars", "no_bars_for", "start_after"]

_SHOWN = 5  # symbols named in one line; 2,000 instruments are no line


def names(symbols: Sequence[str]) -> str:
    """``AAPL, IBM`` or ``S0, S1, S2, S3, S4 and 1,995 more``."""
    shown = ", ".join(symbols[:_SHOWN])
    if len(symbols) > _SHOWN:
        shown += f" and {len(symbols) - _SHOWN:,} more"
    return shown


def _case_hint(missing: Sequence[str], present: Iterable[str]) -> str:
    """`` (the data has AAPL; symbols are case-sensitive)`` when a missing symbol is in the
    data spelt otherwise, else nothing."""
    by_upper = {symbol.upper(): symbol for symbol in present}
    spelt = [by_upper[s.upper()] for s in missing if s.upper() in by_upper]
    if not spelt:
        return ""
    return f" (the data has {names(spelt)}; symbols are case-sensitive)"


def no_bars(spec: StrategySpec, data: Path, present: Iterable[str]) -> str:
    """The error when the data holds none of the strategy's symbols."""
    return f"{data}: no bars for {names(spec.symbols)}{_case_hint(spec.symbols, present)}"


def no_bars_for(
    command: str, spec: StrategySpec, data: Path, bars: Iterable[Bar], present: Iterable[str]
) -> str | None:
    """The warning for the strategy's symbols that have no bar to trade (None: all have)."""
    found = {bar.symbol for bar in bars}
    missing = [symbol for symbol in spec.symbols if symbol not in found]
    if not missing:
        return None
    return (
        f"warning: tickstate {command}: no bars for {names(missing)} in {data}"
        f"{_case_hint(missing, present)}; they will not trade"
    )


def start_after(
    command: str, data: Path, start: date, bars: Sequence[Bar], spec: StrategySpec
) -> str | None:
    """The error of a ``--start`` after the data's last session (None: it is not)."""
    if not bars:
        return None
    last = max(bar.start for bar in bars).astimezone(spec.session.hours().timezone).date()
    if last >= start:
        return None
    return f"tickstate {command}: --start {start} is after the last session in {data} ({last})"


def moved_start(command: str, data: Path, start: date, first_day: date) -> str | None:
    """The warning of a ``--start`` the data has no session on (None: it has)."""
    if first_day == start:
        return None
    if start.weekday() >= 5:  # the common slip: a weekend
        return (
            f"warning: tickstate {command}: --start {start} is a {start:%A}; "
            f"starting at {first_day}"
        )
    return (
        f"warning: tickstate {command}: --start {start} has no session in {data}; "
        f"starting at {first_day}"
    )


def bar_size_warning(spec: StrategySpec, data: Path, bars: Sequence[Bar]) -> str | None:
    """The warning of bars ``spec``'s ``bar_minutes`` bars cannot be built from (None: they
    can): coarser than them, or not a whole fraction of them."""
    from strategies.engine import interval_of

    size = interval_of(bars)
    wanted = timedelta(minutes=spec.bar_minutes)
    if size is None or size > timedelta(hours=1) or (size <= wanted and not wanted % size):
        return None  # (a gap past an hour is sparse data, not a bar size)
    return (
        f"bar_minutes: {spec.bar_minutes}-minute bars cannot be built from the "
        f"{size.total_seconds() / 60:g}-minute bars in {data}; replay and run will refuse it"
    )
