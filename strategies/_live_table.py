"""The live table people watch on a TTY: one row per symbol, refreshed in place."""

from __future__ import annotations

from collections.abc import Callable

from rich.live import Live
from rich.table import Table

from machines import Desk

__all__ = ["LiveTable"]


class LiveTable:
    """Renders the desk's snapshots; ``refresh()`` may be called from the engine thread."""

    def __init__(self, desk: Desk, pnl_of: Callable[[str], str]) -> None:
        self._desk = desk
        self._pnl_of = pnl_of
        self._live = Live(self._render(), refresh_per_second=4, transient=False)

    def _render(self) -> Table:
        table = Table(title=f"{self._desk.strategy} — live", title_justify="left")
        for column in ("symbol", "state", "qty", "entry", "stop", "attempts", "PnL", "last event"):
            table.add_column(
                column, justify="left" if column in ("symbol", "state", "last event") else "right"
            )
        for s in self._desk.snapshots():
            entry = next((o.stop_price for o in s.working_entries), None)
            table.add_row(
                s.symbol,
                s.state,
                str(s.position),
                "" if entry is None else str(entry),
                "" if s.stop_price is None else str(s.stop_price),
                f"{s.entries_today}/{s.max_attempts}",
                self._pnl_of(s.symbol),
                s.last_trigger or "",
            )
        return table

    def __enter__(self) -> LiveTable:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.update(self._render())
        self._live.__exit__(None, None, None)

    def refresh(self) -> None:
        """Redraw with the current snapshots."""
        self._live.update(self._render())
