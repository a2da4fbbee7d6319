"""The live screen of ``tickstate run``, drawn from one ``ScreenSnapshot``: a pure function.

``render_screen(snapshot, width=...)`` never reads the run: what it draws is all in the
snapshot (``strategies.cli._tables.LiveTable`` reads the run into one, four times a second), so
a test renders any moment at any width. Its rules:

- a header of chips (market time, session, progress, streams, PnL) laid out line by line to the
  width, never cut;
- per symbol, columns of fixed widths (a column only widens, when a value needs it); a terminal
  too narrow for all of them loses whole columns, least important first (``_COLUMNS``'s
  ``drop`` rank), and says which; a number is never truncated;
- a state's colour is keyed by the machine's ``State``, every state has one;
- money is ``Decimal`` to the cent; open PnL is marked to the last price.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from rich.box import Box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from machines import State

__all__ = [
    "STATE_STYLES",
    "RunProgress",
    "ScreenSnapshot",
    "StreamStatus",
    "SymbolLine",
    "Timeline",
    "column_widths",
    "render_screen",
    "shown_columns",
    "stopping_notice",
    "stream_status",
    "visible_lines",
]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")

#: Each state's colour: keyed by the machine's enum, so a new state fails the screen's test
#: until it is given one, and a renamed one follows by itself.
STATE_STYLES: Mapping[State, str] = {
    State.FLAT: "dim",
    State.ENTRY_PENDING: "yellow",
    State.ENTRY_CANCELLING: "dark_orange",
    State.IN_POSITION: "bold green",
    State.STOP_REPLACING: "green",
    State.EXITING: "magenta",
    State.HALTED: "bold white on red",
}


class StreamStatus(StrEnum):
    """The market's two streams (trade updates, bars) as the operator needs to know them."""

    CONNECTING = "connecting"  # not connected yet
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"  # a stream lost its socket and is dialling again
    STALE = "stale"  # connected, but a symbol's bars stopped coming in the session
    CLOSED = "closed"  # the run ended


_STREAM_STYLES = {
    StreamStatus.CONNECTING: "yellow",
    StreamStatus.CONNECTED: "green",
    StreamStatus.RECONNECTING: "bold yellow",
    StreamStatus.STALE: "bold red",
    StreamStatus.CLOSED: "dim",
}


def stream_status(connections: Iterable[tuple[int, int]], stale: Sequence[str]) -> StreamStatus:
    """What ``(connects, disconnects)`` of each stream and the stale symbols add up to: any
    stream down is the news; then stale data; else connected."""
    counted = list(connections)
    if any(connects == 0 for connects, _ in counted):
        return StreamStatus.CONNECTING
    if any(disconnects >= connects for connects, disconnects in counted):
        return StreamStatus.RECONNECTING
    return StreamStatus.STALE if stale else StreamStatus.CONNECTED


@dataclass(frozen=True, slots=True, kw_only=True)
class RunProgress:
    """How far a run is through the data it replays."""

    session: int  # the session in play, from 1 (the next one between sessions)
    sessions: int
    minute: int  # minutes of that session done
    minutes: int  # minutes that session has (extended hours included)
    done: int  # minutes done over every session
    total: int


class Timeline:
    """The sessions a simulated run replays, each from its first minute to the end of its last
    (gaps in the data count: it is the market's time that passes): where ``now`` stands."""

    def __init__(self, starts: Iterable[datetime], zone: ZoneInfo, *, step: timedelta) -> None:
        spans: dict[date, tuple[datetime, datetime]] = {}
        for start in starts:
            day = start.astimezone(zone).date()
            first, last = spans.get(day, (start, start))
            spans[day] = (min(first, start), max(last, start))
        self.sessions = tuple(sorted(spans))
        self._step = step
        self._firsts = [spans[day][0] for day in self.sessions]
        self._minutes = [(spans[day][1] - spans[day][0]) // step + 1 for day in self.sessions]

    def at(self, now: datetime) -> RunProgress | None:
        """Where ``now`` stands (a minute is done once its end has passed); None without data."""
        if not self.sessions:
            return None
        index = min(max(bisect_right(self._firsts, now), 1), len(self.sessions))
        minutes = self._minutes[index - 1]
        minute = min(max((now - self._firsts[index - 1]) // self._step, 0), minutes)
        return RunProgress(
            session=index,
            sessions=len(self.sessions),
            minute=minute,
            minutes=minutes,
            done=sum(self._minutes[: index - 1]) + minute,
            total=sum(self._minutes),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolLine:
    """One symbol as the screen shows it."""

    symbol: str
    state: State
    qty: Decimal  # signed: negative for a short
    entry: Decimal | None  # the open position's average fill price
    entry_working: Decimal | None  # nothing filled yet: the working entry's stop price
    working_entry: bool = False  # an entry (or its remainder) can still fill
    stop: Decimal | None
    last: Decimal | None
    closed_pnl: Decimal = _ZERO
    attempts: int = 0
    max_attempts: int = 0
    last_event: str | None = None
    halt_reason: str | None = None
    alarm: str | None = None
    stale: bool = False

    @property
    def open_pnl(self) -> Decimal | None:
        """The open position marked to the last price (None when flat or unpriced)."""
        if self.qty == 0 or self.entry is None or self.last is None:
            return None
        return (self.last - self.entry) * self.qty


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenSnapshot:
    """Everything one frame of the screen shows."""

    strategy: str
    market_time: datetime | None = None  # in the exchange's zone
    session: date | None = None
    progress: RunProgress | None = None
    streams: StreamStatus | None = None
    stale: tuple[str, ...] = ()
    notice: str | None = None  # starting, waiting, stopping, stopped: one line
    lines: tuple[SymbolLine, ...] = ()

    @property
    def open_pnl(self) -> Decimal:
        """Every open position marked to its last price."""
        return sum((p for line in self.lines if (p := line.open_pnl) is not None), _ZERO)

    @property
    def closed_pnl(self) -> Decimal:
        """Every closed trade."""
        return sum((line.closed_pnl for line in self.lines), _ZERO)


def stopping_notice(lines: Sequence[SymbolLine], *, flatten: bool) -> str:
    """What a stop still waits for, counted now: working entries to cancel, positions to
    flatten (or kept: halted, or ``--no-flatten``)."""
    entries = sum(1 for line in lines if line.working_entry)
    held = [line for line in lines if line.qty != 0]
    flattening = sum(1 for line in held if flatten and line.state is not State.HALTED)
    parts = []
    if entries:
        parts.append(f"cancelling {_count(entries, 'entry', 'entries')}")
    if flattening:
        parts.append(f"flattening {_count(flattening, 'position')}")
    if kept := len(held) - flattening:
        why = State.HALTED.value if flatten else "--no-flatten"
        parts.append(f"keeping {_count(kept, 'position')} ({why})")
    return "stopping: " + (", ".join(parts) or "nothing to cancel or flatten") + " …"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


# --- numbers ------------------------------------------------------------------------------


def _price(value: Decimal | None) -> str:
    if value is None:
        return ""
    # Cents as cents; a finer tick (a sub-dollar stock) keeps its digits: never rounded away.
    return f"{value:.2f}" if value == value.quantize(_CENT) else f"{value.normalize():f}"


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def _money(value: Decimal | None) -> str:
    if value is None:
        return ""
    return "0.00" if value.quantize(_CENT) == 0 else f"{value:+,.2f}"


def _money_style(value: Decimal | None) -> str:
    if value is None or value.quantize(_CENT) == 0:
        return ""
    return "green" if value > 0 else "red"


# --- columns ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    header: str
    width: int  # the least width: values wider widen it
    right: bool
    drop: int  # 0: never dropped; else the higher, the sooner a narrow terminal drops it


_STATE_WIDTH = max(len(state.value) for state in State)
_EVENT_MIN = 14  # the last event is text: it takes what is left, at least this much

_COLUMNS = (
    _Column("symbol", "symbol", 6, right=False, drop=0),
    _Column("state", "state", _STATE_WIDTH, right=False, drop=0),
    _Column("qty", "qty", 5, right=True, drop=1),
    _Column("entry", "entry", 8, right=True, drop=6),
    _Column("stop", "stop", 8, right=True, drop=3),
    _Column("last", "last", 8, right=True, drop=4),
    _Column("open", "open PnL", 10, right=True, drop=2),
    _Column("closed", "closed PnL", 10, right=True, drop=5),
    _Column("attempts", "attempts", 8, right=True, drop=7),
    _Column("event", "last event", _EVENT_MIN, right=False, drop=8),
)
_GAP = 1  # one space between columns


def _cells(line: SymbolLine) -> dict[str, Text]:
    entry = line.entry if line.entry is not None else line.entry_working
    open_pnl = line.open_pnl
    event = Text(line.last_event or "")
    if line.alarm is not None:
        event = Text(f"ALARM: {line.alarm}", style="bold red")
    elif line.halt_reason is not None:
        event = Text(f"halt: {line.halt_reason}", style="red")
    return {
        "symbol": Text(line.symbol, style="bold"),
        "state": Text(line.state.value, style=STATE_STYLES[line.state]),
        "qty": Text(_qty(line.qty), style="" if line.qty else "dim"),
        # A working entry's stop is dim: a price asked for, not a fill.
        "entry": Text(_price(entry), style="" if line.entry is not None else "dim"),
        "stop": Text(_price(line.stop)),
        "last": Text(_price(line.last), style="red" if line.stale else ""),
        "open": Text(_money(open_pnl), style=_money_style(open_pnl)),
        "closed": Text(_money(line.closed_pnl), style=_money_style(line.closed_pnl)),
        "attempts": Text(f"{line.attempts}/{line.max_attempts}"),
        "event": event,
    }


def _total_cells(snapshot: ScreenSnapshot) -> dict[str, Text]:
    lines = snapshot.lines
    priced = any(line.open_pnl is not None for line in lines)
    open_pnl = snapshot.open_pnl if priced else None
    held = sum(1 for line in lines if line.qty != 0)
    return {
        "symbol": Text("total", style="bold"),
        "state": Text(f"{_count(held, 'position')} open" if held else ""),
        "open": Text(_money(open_pnl), style=f"bold {_money_style(open_pnl)}"),
        "closed": Text(
            _money(snapshot.closed_pnl), style=f"bold {_money_style(snapshot.closed_pnl)}"
        ),
        "attempts": Text(
            f"{sum(line.attempts for line in lines)}/{sum(line.max_attempts for line in lines)}"
        ),
    }


def column_widths(
    snapshot: ScreenSnapshot,
    floor: Mapping[str, int] | None = None,
    *,
    lines: Sequence[SymbolLine] | None = None,
) -> dict[str, int]:
    """Each column's width for ``snapshot`` (its ``lines`` shown, all by default): its least
    width, ``floor`` (what earlier frames needed: widths never shrink, so columns never jump),
    or its widest value."""
    widths = {c.key: max(c.width, len(c.header), (floor or {}).get(c.key, 0)) for c in _COLUMNS}
    shown = snapshot.lines if lines is None else lines
    rows = [_cells(line) for line in shown] + [_total_cells(snapshot)]
    for cells in rows:
        for key, text in cells.items():
            if key != "event":  # text, not a number: it takes what is left
                widths[key] = max(widths[key], text.cell_len)
    return widths


def shown_columns(width: int, widths: Mapping[str, int]) -> tuple[str, ...]:
    """The columns that fit in ``width``: whole columns dropped, least important first."""
    shown = list(_COLUMNS)
    while len(shown) > 1:
        need = sum(widths[c.key] for c in shown) + _GAP * (len(shown) - 1)
        droppable = [c for c in shown if c.drop]
        if need <= width or not droppable:
            break
        shown.remove(max(droppable, key=lambda c: c.drop))
    return tuple(c.key for c in shown)


def _visible(lines: Sequence[SymbolLine], rows: int) -> list[SymbolLine]:
    """The ``rows`` lines to show: all if they fit, else the busy ones first (a position, a
    working entry, a halt), each group in symbol order."""
    if rows >= len(lines):
        return list(lines)

    def busy(line: SymbolLine) -> bool:
        return line.qty != 0 or line.working_entry or line.state is State.HALTED

    chosen = {id(line) for line in sorted(lines, key=lambda line: not busy(line))[:rows]}
    return [line for line in lines if id(line) in chosen]


# A rule under the header and above the totals, nothing else: the numbers carry the screen.
_RULES = Box("    \n    \n ── \n    \n ── \n ── \n    \n    \n")


def _table(
    snapshot: ScreenSnapshot, width: int, widths: Mapping[str, int], shown: Sequence[SymbolLine]
) -> Table:
    keys = shown_columns(width, widths)
    columns = [c for c in _COLUMNS if c.key in keys]
    table = Table(box=_RULES, show_edge=False, padding=(0, 0), pad_edge=False, expand=False)
    used = sum(widths[c.key] for c in columns if c.key != "event") + _GAP * (len(columns) - 1)
    for column in columns:
        flexible = column.key == "event"
        table.add_column(
            column.header,
            width=max(_EVENT_MIN, width - used) if flexible else widths[column.key],
            justify="right" if column.right else "left",
            no_wrap=True,
            overflow="ellipsis" if flexible else "fold",  # a number is never cut
            header_style="bold",
        )
    for line in shown:
        cells = _cells(line)
        table.add_row(*(cells[key] for key in keys))
    table.add_section()
    totals = _total_cells(snapshot)
    table.add_row(*(totals.get(key, Text("")) for key in keys))
    return table


# --- the header ---------------------------------------------------------------------------


def _clock_chips(snapshot: ScreenSnapshot) -> list[Text]:
    """Where the run is: its name, the session, the market's time, the progress."""
    chips = [Text(snapshot.strategy, style="bold")]
    if snapshot.session is not None:
        chips.append(Text(f"{snapshot.session:%Y-%m-%d}"))
    if snapshot.market_time is not None:
        chips.append(Text(f"{snapshot.market_time:%H:%M:%S %Z}", style="bold cyan"))
    progress = snapshot.progress
    if progress is not None:
        chips.append(Text(f"session {progress.session}/{progress.sessions}"))
        chips.append(Text(f"minute {progress.minute}/{progress.minutes}"))
        chips.append(_bar(progress.done, progress.total))
    return chips


def _health_chips(snapshot: ScreenSnapshot) -> list[Text]:
    """How it goes: the streams, the money."""
    chips = []
    if snapshot.streams is not None:
        chip = Text("streams ")
        chip.append(snapshot.streams.value, style=_STREAM_STYLES[snapshot.streams])
        if snapshot.stale:
            named = ", ".join(snapshot.stale[:3])
            more = f" +{len(snapshot.stale) - 3}" if len(snapshot.stale) > 3 else ""
            chip.append(f" ({named}{more})", style="red")
        chips.append(chip)
    if snapshot.lines:
        net = snapshot.open_pnl + snapshot.closed_pnl
        chip = Text("net PnL ")
        chip.append(_money(net), style=f"bold {_money_style(net)}")
        chips.append(chip)
    return chips


_BAR = 10  # cells of the progress bar


def _bar(done: int, total: int) -> Text:
    """Progress over every session: a bar and its share, in whole percent (never 100 early)."""
    share = done * 100 // total if total else 0
    filled = done * _BAR // total if total else 0
    bar = Text("━" * filled, style="green")
    bar.append("━" * (_BAR - filled), style="grey35")
    bar.append(f" {share}%")
    return bar


def _header(snapshot: ScreenSnapshot, width: int) -> list[Text]:
    """Two groups of chips, each on its own lines, as many to a line as fit, two spaces apart:
    wrapped, never cut; the same number of lines at a width whatever the figures say."""
    lines: list[Text] = []
    for chips in (_clock_chips(snapshot), _health_chips(snapshot)):
        line = Text()
        for chip in chips:
            if line.cell_len and line.cell_len + 2 + chip.cell_len > width:
                lines.append(line)
                line = Text()
            if line.cell_len:
                line.append("  ")
            line.append_text(chip)
        if line.cell_len:
            lines.append(line)
    return lines


def _usable(width: int) -> int:
    # The terminal's last column stays free: a line that fills it leaves the cursor waiting to
    # wrap, and the echo of a Ctrl-C (``^C``) then scrolls the whole screen up a line.
    return max(1, width - 1)


def _top(snapshot: ScreenSnapshot, width: int) -> list[RenderableType]:
    """The header's lines and the notice."""
    parts: list[RenderableType] = list(_header(snapshot, width))
    if snapshot.notice:
        parts.append(Text(snapshot.notice, style="bold yellow"))
    return parts


def visible_lines(
    snapshot: ScreenSnapshot, *, width: int, height: int | None = None
) -> tuple[SymbolLine, ...]:
    """The symbols a frame ``width`` by ``height`` shows: all that fit under the header, the
    busy ones first when they do not all fit."""
    lines = snapshot.lines
    if height is None or not lines:
        return lines
    # Under the header and the notice: the table's header, two rules, the total, one note.
    rows = max(1, min(len(lines), height - len(_top(snapshot, _usable(width))) - 5))
    return tuple(_visible(lines, rows))


def render_screen(
    snapshot: ScreenSnapshot,
    *,
    width: int,
    height: int | None = None,
    widths: Mapping[str, int] | None = None,
) -> RenderableType:
    """One frame for a terminal ``width`` columns wide (and at most ``height`` lines tall, rows
    left out counted): the header, the notice, the symbols and their total, what was left out.
    ``widths``: the columns' widths so far (``column_widths``), which only widen."""
    shown = visible_lines(snapshot, width=width, height=height)
    widths = column_widths(snapshot, widths, lines=shown)
    width = _usable(width)
    parts = _top(snapshot, width)
    if not snapshot.lines:
        return Group(*parts)
    parts.append(_table(snapshot, width, widths, shown))
    notes = []
    if len(shown) < len(snapshot.lines):
        notes.append(f"… {len(snapshot.lines) - len(shown)} more symbols")
    hidden = [c.header for c in _COLUMNS if c.key not in shown_columns(width, widths)]
    if hidden:
        notes.append("hidden: " + ", ".join(hidden))
    if notes:
        parts.append(Text(" · ".join(notes), style="dim"))
    return Group(*parts)
