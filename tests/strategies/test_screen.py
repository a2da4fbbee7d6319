"""The live screen is a pure function of a snapshot: drawn at 60, 80 and 120 columns, whole
columns go (least important first), a number is never cut, the totals add up."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from machines import State
from strategies.cli._screen import (
    STATE_STYLES,
    RunProgress,
    ScreenSnapshot,
    StreamStatus,
    SymbolLine,
    Timeline,
    column_widths,
    render_screen,
    shown_columns,
    stopping_notice,
    stream_status,
)

D = Decimal
NY = ZoneInfo("America/New_York")
ALL = ("symbol", "state", "qty", "entry", "stop", "last", "open", "closed", "attempts", "event")


def line(symbol: str, state: State, **fields: object) -> SymbolLine:
    values: dict[str, object] = {
        "qty": D(0),
        "entry": None,
        "entry_working": None,
        "stop": None,
        "last": None,
        "attempts": 1,
        "max_attempts": 1,
    }
    values.update(fields)
    return SymbolLine(symbol=symbol, state=state, **values)  # type: ignore[arg-type]


LINES = (
    line(
        "AAPL",
        State.IN_POSITION,
        qty=D(100),
        entry=D("532.10"),
        stop=D("529.88"),
        last=D("534.90"),
        last_event="trail",
    ),
    line("GOOG", State.FLAT, last=D("647.26"), closed_pnl=D("-69"), last_event="stop_filled"),
    line(
        "IBM",
        State.ENTRY_PENDING,
        entry_working=D("184.97"),
        working_entry=True,
        last=D("184.61"),
        last_event="entry_accepted",
    ),
    line(
        "MSFT",
        State.STOP_REPLACING,
        qty=D(-100),
        entry=D("27.00"),
        stop=D("27.01"),
        last=D("26.50"),
        closed_pnl=D("252.00"),
        attempts=2,
        max_attempts=2,
        last_event="trail",
    ),
)
SNAPSHOT = ScreenSnapshot(
    strategy="s8020",
    market_time=datetime(2012, 11, 15, 10, 42, tzinfo=NY),
    session=date(2012, 11, 15),
    progress=RunProgress(session=1, sessions=1, minute=102, minutes=450, done=102, total=450),
    streams=StreamStatus.CONNECTED,
    lines=LINES,
)
#: Every figure the snapshot holds, as the screen spells it.
PRICES = ("532.10", "529.88", "534.90", "647.26", "184.97", "184.61", "27.00", "27.01", "26.50")


def drawn(snapshot: ScreenSnapshot, width: int, height: int | None = None) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(render_screen(snapshot, width=width, height=height))
    return console.export_text()


def row(text: str, symbol: str) -> list[str]:
    found = [ln for ln in text.splitlines() if ln.startswith(f"{symbol} ")]
    assert len(found) == 1, text
    return found[0].split()


class TestColumns:
    @pytest.mark.parametrize(
        ("width", "hidden"),
        [
            (120, ()),
            (80, ("attempts", "event")),
            (60, ("entry", "closed", "attempts", "event")),
        ],
    )
    def test_a_narrow_terminal_drops_whole_columns_least_important_first(self, width, hidden):
        """120 columns show everything; 80 drop attempts and the last event; 60 the entry and
        the closed PnL too — and the screen says which."""
        widths = column_widths(SNAPSHOT)
        assert shown_columns(width - 1, widths) == tuple(c for c in ALL if c not in hidden)
        text = drawn(SNAPSHOT, width)
        note = [ln for ln in text.splitlines() if ln.startswith("hidden:")]
        headers = {"entry": "entry", "closed": "closed PnL", "attempts": "attempts",
                   "event": "last event"}  # fmt: skip
        assert note == ([f"hidden: {', '.join(headers[c] for c in hidden)}"] if hidden else [])
        assert row(text, "AAPL")[0] == "AAPL"

    @pytest.mark.parametrize("width", [60, 80, 120])
    def test_no_number_is_ever_cut_and_no_line_overflows(self, width):
        """Every price shown is whole (never ``184.…``), every line fits the terminal."""
        text = drawn(SNAPSHOT, width)
        assert all(len(ln) < width for ln in text.splitlines())  # the last column stays free
        assert not re.search(r"\d…|\.…", text), text
        shown = shown_columns(width - 1, column_widths(SNAPSHOT))
        if "last" in shown:
            for price in ("534.90", "647.26", "184.61", "26.50"):
                assert price in text
        if "stop" in shown:
            assert "529.88" in text
            assert "27.01" in text

    def test_at_60_columns_a_row_reads_symbol_state_qty_stop_last_open_pnl(self):
        """The 60-column row of a long position: its figures, whole, in column order."""
        assert row(drawn(SNAPSHOT, 60), "AAPL") == [
            "AAPL", State.IN_POSITION.value, "100", "529.88", "534.90", "+280.00",
        ]  # fmt: skip

    def test_a_price_wider_than_its_column_widens_it_and_it_never_shrinks_back(self):
        """A six-figure price widens its column; at 60 columns the wider row costs a whole
        column (the last price), never a digit; the next frame, without it, keeps the width:
        columns do not jump."""
        wide = line("BRKA", State.IN_POSITION, qty=D(1), entry=D("150123.45"),
                    stop=D("149000.00"), last=D("150200.00"))  # fmt: skip
        snapshot = ScreenSnapshot(strategy="s", lines=(*LINES, wide))
        widths = column_widths(snapshot)
        assert widths["stop"] == len("149000.00")
        assert widths["last"] == len("150200.00")
        narrow = drawn(snapshot, 60)
        assert row(narrow, "BRKA")[-2:] == ["149000.00", "+76.55"]
        assert "hidden: entry, last, closed PnL, attempts, last event" in narrow
        assert "150200.00" in drawn(snapshot, 80)
        assert column_widths(SNAPSHOT, floor=widths)["stop"] == len("149000.00")

    def test_a_finer_tick_keeps_its_digits(self):
        """A sub-penny price is shown to its tick, never rounded to the cent."""
        cheap = line("PENY", State.FLAT, last=D("0.4567"))
        assert "0.4567" in drawn(ScreenSnapshot(strategy="s", lines=(cheap,)), 120)


class TestFigures:
    def test_open_pnl_is_marked_to_the_last_price_long_and_short(self):
        """A long gains as the price rises, a short as it falls."""
        assert LINES[0].open_pnl == D("280.00")  # (534.90 - 532.10) * 100
        assert LINES[3].open_pnl == D("50.00")  # (26.50 - 27.00) * -100
        assert LINES[1].open_pnl is None
        assert LINES[2].open_pnl is None

    @pytest.mark.parametrize("width", [60, 80, 120])
    def test_the_totals_row_adds_up_what_it_shows(self, width):
        """Open +330.00 (280 + 50), closed +183.00 (-69 + 252), attempts 5/5; net in the header."""
        text = drawn(SNAPSHOT, width)
        totals = row(text, "total")
        shown = shown_columns(width - 1, column_widths(SNAPSHOT))
        assert "+330.00" in totals
        assert ("+183.00" in totals) == ("closed" in shown)
        assert ("5/5" in totals) == ("attempts" in shown)
        assert "net PnL +513.00" in text
        assert SNAPSHOT.open_pnl == D("330.00")
        assert SNAPSHOT.closed_pnl == D("183.00")

    def test_a_working_entry_shows_its_stop_price_until_it_fills(self):
        """Nothing filled: the entry column holds the working entry's price."""
        assert row(drawn(SNAPSHOT, 120), "IBM")[3] == "184.97"

    def test_a_halt_and_an_alarm_say_why_in_the_last_event(self):
        """The state column keeps the state; the reason and the operator's alarm follow."""
        halted = line("AAPL", State.HALTED, halt_reason="protection_lost")
        alarmed = line("IBM", State.HALTED, halt_reason="x", alarm="position_mismatch")
        text = drawn(ScreenSnapshot(strategy="s", lines=(halted, alarmed)), 120)
        assert "halt: protection_lost" in text
        assert "ALARM: position_mismatch" in text


class TestHeader:
    @pytest.mark.parametrize("width", [60, 80, 120])
    def test_the_header_shows_time_session_progress_and_streams_whole(self, width):
        """Market time, session date, session 1/1, minute 102/450 and 22 %, streams, at any
        width (wrapped, never cut)."""
        text = drawn(SNAPSHOT, width)
        for piece in ("10:42:00 EST", "2012-11-15", "session 1/1", "minute 102/450", "22%",
                      "streams connected"):  # fmt: skip
            assert piece in text, (piece, text)

    def test_a_stale_symbol_is_named_beside_the_stream_status(self):
        """Data stale for a symbol: the header says so and which."""
        stale = ScreenSnapshot(strategy="s", streams=StreamStatus.STALE, stale=("AAPL",))
        assert "streams stale (AAPL)" in drawn(stale, 80)

    def test_the_start_up_line_shows_before_any_symbol(self):
        """Before the run is built: its name and what it is doing, nothing else."""
        text = drawn(ScreenSnapshot(strategy="s8020", notice="loading 1-minute bars …"), 60)
        assert text.splitlines() == ["s8020", "loading 1-minute bars …"]

    def test_every_state_has_its_colour(self):
        """The colours are keyed by the machine's states, every one of them."""
        assert set(STATE_STYLES) == set(State)


class TestRowsThatDoNotFit:
    def test_a_short_terminal_shows_busy_symbols_first_and_counts_the_rest(self):
        """Twenty flat symbols and one in a position on a 12-line terminal: the position shows."""
        flats = tuple(line(f"S{i:02d}", State.FLAT) for i in range(20))
        busy = line("ZZZ", State.IN_POSITION, qty=D(5), entry=D("10.00"), last=D("10.50"))
        text = drawn(ScreenSnapshot(strategy="s", lines=(*flats, busy)), 120, height=12)
        assert len(text.splitlines()) <= 12
        assert "ZZZ " in text
        assert re.search(r"… \d+ more symbols", text)
        assert "+2.50" in row(text, "total")  # the total counts every symbol, shown or not


class TestStopping:
    def test_the_stop_says_what_it_waits_for(self):
        """One working entry to cancel, two positions to flatten."""
        assert stopping_notice(LINES, flatten=True) == (
            "stopping: cancelling 1 entry, flattening 2 positions …"
        )

    def test_halted_positions_and_no_flatten_are_kept_and_said(self):
        """A halted symbol is never flattened on the way out; --no-flatten keeps them all."""
        halted = line("X", State.HALTED, qty=D(10))
        assert stopping_notice((halted,), flatten=True) == (
            "stopping: keeping 1 position (halted) …"
        )
        assert stopping_notice(LINES[:1], flatten=False) == (
            "stopping: keeping 1 position (--no-flatten) …"
        )
        assert stopping_notice((), flatten=True) == "stopping: nothing to cancel or flatten …"


class TestStreams:
    @pytest.mark.parametrize(
        ("connections", "stale", "status"),
        [
            ([(0, 0), (1, 0)], (), StreamStatus.CONNECTING),
            ([(1, 0), (1, 0)], (), StreamStatus.CONNECTED),
            ([(2, 2), (1, 0)], (), StreamStatus.RECONNECTING),
            ([(2, 1), (1, 0)], ("AAPL",), StreamStatus.STALE),
        ],
    )
    def test_the_two_streams_add_up_to_one_status(self, connections, stale, status):
        """A stream not up yet or between sockets is the news; then stale data."""
        assert stream_status(connections, stale) is status


class TestTimeline:
    def test_progress_is_the_markets_time_through_each_session(self):
        """Two sessions of 09:00-16:29 minutes (a gap inside counts): where the clock stands."""
        days = (date(2012, 11, 15), date(2012, 11, 16))
        starts = [
            datetime(d.year, d.month, d.day, 9, 0, tzinfo=NY) + timedelta(minutes=i)
            for d in days
            for i in range(450)
            if i != 100  # a minute without trades
        ]
        timeline = Timeline(starts, NY, step=timedelta(minutes=1))
        first = datetime(2012, 11, 15, 9, 0, tzinfo=NY)
        before = timeline.at(first - timedelta(hours=1))
        assert before == RunProgress(session=1, sessions=2, minute=0, minutes=450, done=0, total=900)
        mid = timeline.at(first + timedelta(minutes=102))
        assert (mid.session, mid.minute, mid.done) == (1, 102, 102)
        evening = timeline.at(datetime(2012, 11, 15, 20, 0, tzinfo=NY))
        assert (evening.session, evening.minute, evening.done) == (1, 450, 450)
        second = timeline.at(datetime(2012, 11, 16, 9, 30, tzinfo=NY).astimezone(UTC))
        assert (second.session, second.minute, second.done) == (2, 30, 480)
        assert timeline.sessions == days
        assert Timeline([], NY, step=timedelta(minutes=1)).at(first) is None


class TestCtrlCWhileStarting:
    def test_a_ctrl_c_before_the_run_starts_is_one_line_and_exit_zero(
        self, tmp_path, monkeypatch, capsys
    ):
        """Before the run takes SIGINT over (its file read, its data loading), Ctrl-C is no
        traceback: one line, exit 0, nothing written."""
        import strategies.spec
        from strategies.cli import main

        def interrupted(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.chdir(tmp_path)
        monkeypatch.setattr(strategies.spec, "load_strategy", interrupted)
        config = Path(__file__).resolve().parents[2] / "examples" / "eighty_twenty.toml"
        assert main(["run", str(config), "--start", "2012-11-15"]) == 0
        captured = capsys.readouterr()
        assert captured.err == "tickstate run: stopped by user before the run started\n"
        assert not (tmp_path / "runs").exists()
