"""The journal: durable before commands run, append-only, rebuilds every machine exactly."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import machines as m
from brokers import PaperBroker
from machines import Desk, OutcomeKind, Side, State
from strategies._exceptions import JournalError
from strategies.journal import CommandResult, Journal, PendingCommand, read_latest
from strategies.run import build_engine, build_engine_for, load_bars, replay_bars
from strategies.spec import load_strategy
from tests.strategies.journaling import (
    FIRST_DAY,
    STRATEGY,
    SYMBOLS,
    Driver,
    at,
    new_desk,
    trade_days,
)

ROOT = Path(__file__).resolve().parents[2]
D = Decimal
LEG = m.EntryLeg(side=Side.BUY, entry_price=D("101.00"), initial_stop=D("99.00"))


def entry(day: date = FIRST_DAY) -> m.EntrySignalled:
    return m.EntrySignalled(at=at(day, 10), qty=D(100), legs=(LEG,))


def without_races(snapshots):
    return [dataclasses.replace(s, races=0) for s in snapshots]


def count(path: Path, table: str = "transitions") -> int:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite"


@pytest.fixture
def journal(path: Path):
    with Journal(path) as opened:
        yield opened


class TestDurability:
    def test_record_is_visible_to_another_connection_as_soon_as_it_returns(self, journal, path):
        """Invariant 8: when record() returns, the transition is committed for every reader."""
        outcome = new_desk().fire("AAPL", entry())
        seq = journal.record(outcome)
        other = sqlite3.connect(path)
        row = other.execute(
            "SELECT kind, trigger, state_from, state_to, commands FROM transitions WHERE seq = ?",
            (seq,),
        ).fetchone()
        assert row[:4] == ("accepted", "entry_signal", State.FLAT, State.ENTRY_PENDING)
        assert json.loads(row[4])[0]["type"] == "PlaceEntry"
        other.close()

    def test_the_file_is_wal_and_every_commit_is_fsynced(self, journal, path):
        """WAL so readers never block the writer; synchronous=FULL so a commit survives a crash."""
        with sqlite3.connect(path) as other:
            assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert journal._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL

    def test_rows_can_be_neither_updated_nor_deleted(self, journal, path):
        """Append-only: triggers refuse UPDATE and DELETE on every table."""
        journal.begin_run(strategy=STRATEGY)
        seq = journal.record(new_desk().fire("AAPL", entry()))
        with sqlite3.connect(path) as other:
            for sql in (
                "UPDATE transitions SET state_to = 'flat'",
                "DELETE FROM transitions",
                "DELETE FROM runs",
            ):
                with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                    other.execute(sql)
        assert count(path) == 1
        assert seq == 1

    def test_every_kind_is_recorded_and_flagged(self, journal, path):
        """Races (ignored) and refusals (declined) are kept for the audit, flagged by kind."""
        trade_days(Driver(journal), 1)
        with sqlite3.connect(path) as db:
            kinds = dict(db.execute("SELECT kind, count(*) FROM transitions GROUP BY kind"))
        assert kinds["accepted"] > 0
        assert kinds["ignored"] == len(SYMBOLS)  # one duplicate fill per symbol
        assert kinds["declined"] == len(SYMBOLS)  # one looser trail per symbol

    def test_a_run_is_recorded_and_stamps_its_transitions(self, journal, path):
        """begin_run writes a runs row; later transitions carry its run_id."""
        run_id = journal.begin_run(
            strategy=STRATEGY, config_path="examples/x.toml", trading_date=FIRST_DAY
        )
        journal.record(new_desk().fire("AAPL", entry()))
        with sqlite3.connect(path) as db:
            run = db.execute("SELECT run_id, strategy, config_path, pid, trading_date FROM runs")
            assert run.fetchone() == (
                run_id,
                STRATEGY,
                "examples/x.toml",
                os.getpid(),
                "2026-11-23",
            )
            assert db.execute("SELECT run_id FROM transitions").fetchone() == (run_id,)

    def test_reopening_a_journal_appends_after_its_last_record(self, path):
        """A restarted runner continues the same file; seq keeps growing."""
        with Journal(path) as first:
            driver = Driver(first)
            driver.fire("AAPL", entry())
        with Journal(path) as second:
            seq = second.record(new_desk().fire("IBM", entry()))
        assert seq == count(path)

    def test_a_file_that_is_not_a_journal_is_refused_in_one_line(self, tmp_path):
        """Garbage or another program's SQLite file: JournalError naming the file."""
        garbage = tmp_path / "garbage.sqlite"
        garbage.write_bytes(b"not a database at all" * 100)
        other = tmp_path / "other.sqlite"
        with sqlite3.connect(other) as db:
            db.execute("CREATE TABLE t (x)")
        for bad in (garbage, other):
            with pytest.raises(JournalError, match=f"{bad}: .*not a tickstate journal"):
                Journal(bad)
            with pytest.raises(JournalError, match="not a tickstate journal"):
                read_latest(bad)
        with pytest.raises(JournalError, match="no such journal"):
            read_latest(tmp_path / "missing.sqlite")
        assert not (tmp_path / "missing.sqlite").exists()

    @pytest.mark.parametrize("keep", [1, 100, 4096])
    def test_a_journal_cut_short_is_refused_and_left_as_it_was(self, path, keep):
        """A journal truncated to a few bytes (SQLite would read it as an empty database) is no
        new journal: refused in one line, its bytes untouched."""
        with Journal(path) as journal:
            Driver(journal).fire("AAPL", entry())
        cut = path.read_bytes()[:keep]
        path.write_bytes(cut)
        with pytest.raises(JournalError, match=f"{path}: "):
            Journal(path)
        assert path.read_bytes() == cut

    def test_a_damaged_page_is_found_before_the_run_appends(self, path):
        """Flipped bits in the journal's pages (each page's b-tree header): refused at opening,
        named as damage, before anything is appended."""
        with Journal(path) as journal:
            driver = Driver(journal)
            for _ in range(30):
                driver.fire("AAPL", entry())
        data = bytearray(path.read_bytes())
        page = 4096
        for offset in range(page, len(data), page):  # every page but the first
            data[offset] ^= 0xFF
        path.write_bytes(bytes(data))
        with pytest.raises(JournalError, match=r"damaged|not a tickstate journal"):
            Journal(path)


class TestCommandResults:
    def test_a_result_is_matched_to_its_journaled_command(self, journal, path):
        """record_result finds the command's index in its transition and stores the outcome."""
        outcome = new_desk().fire("AAPL", entry())
        seq = journal.record(outcome)
        (command,) = outcome.commands
        journal.record_result(seq, command, CommandResult.REJECTED, "insufficient buying power")
        with sqlite3.connect(path) as db:
            row = db.execute(
                "SELECT transition_seq, command_index, client_order_id, result, detail"
                " FROM command_results"
            ).fetchone()
        assert row == (seq, 0, command.client_order_id, "rejected", "insufficient buying power")

    def test_a_command_the_transition_never_decided_is_refused(self, journal):
        """A result for a foreign command or an unknown seq is a JournalError, not a silent row."""
        outcome = new_desk().fire("AAPL", entry())
        seq = journal.record(outcome)
        stranger = m.CancelOrder(client_order_id="jt-AAPL-20261123-9-buy", symbol="AAPL")
        with pytest.raises(JournalError, match=f"seq {seq} did not decide CancelOrder"):
            journal.record_result(seq, stranger, "sent")
        with pytest.raises(JournalError, match="no transition with seq 99"):
            journal.record_result(99, outcome.commands[0], "sent")
        with pytest.raises(ValueError, match="'lost'"):
            journal.record_result(seq, outcome.commands[0], "lost")


class TestRebuild:
    def test_rebuild_reproduces_a_replayed_strategy_exactly(self, journal):
        """A month of the 80-20 example through the engine, journaled; a fresh desk rebuilds the same."""
        spec = load_strategy(ROOT / "examples" / "eighty_twenty.toml")
        wanted = set(spec.symbols)
        bars = [
            b
            for b in load_bars(ROOT / "data" / "intraday_5min")
            if b.symbol in wanted and b.start.date() < date(2012, 2, 1)
        ]
        engine, paper, clock = build_engine(spec, bars, journal=journal)
        replay_bars(bars, engine=engine, paper=paper, clock=clock)
        trading_date = bars[0].start.astimezone(spec.session.hours().timezone).date()
        fresh = build_engine_for(
            spec, broker=PaperBroker(clock=clock), clock=clock, trading_date=trading_date
        ).desk
        journal.rebuild(fresh)
        assert fresh.symbols() == engine.desk.symbols() == tuple(sorted(wanted))
        assert without_races(fresh.snapshots()) == without_races(engine.desk.snapshots())
        assert sum(s.transitions for s in fresh.snapshots()) > 100

    def test_rebuild_reproduces_races_declines_and_anomalies(self, journal):
        """A desk driven through days with a race, a decline and an anomaly rebuilds the same."""
        driver = Driver(journal)
        trade_days(driver, 3)
        anomaly = driver.fire("IBM", m.BrokerSnapshotTaken(at=at(FIRST_DAY, 16), position_qty=D(5)))
        assert anomaly.kind is OutcomeKind.ANOMALY
        assert driver.desk.machine("IBM").state == State.HALTED
        fresh = new_desk()
        assert journal.rebuild(fresh) == ()
        assert without_races(fresh.snapshots()) == without_races(driver.desk.snapshots())
        assert [s.anomalies for s in fresh.snapshots()] == [0, 1, 0]

    def test_rebuild_returns_the_commands_that_have_no_result(self, journal):
        """Journaled but unconfirmed commands come back for reconciliation, not for resending."""
        desk = new_desk()
        first = desk.fire("AAPL", entry())
        journal.record(first)
        journal.record(desk.fire("IBM", entry()))
        seq_aapl, seq_ibm = 1, 2
        journal.record_result(seq_aapl, first.commands[0], "sent")
        pending = journal.rebuild(new_desk())
        (ibm_entry,) = desk.machine("IBM").snapshot().working_orders
        assert pending == (
            PendingCommand(
                transition_seq=seq_ibm,
                index=0,
                strategy=STRATEGY,
                symbol="IBM",
                command=m.PlaceEntry(
                    client_order_id=ibm_entry.client_order_id,
                    symbol="IBM",
                    side=Side.BUY,
                    qty=D(100),
                    stop_price=D("101.00"),
                ),
            ),
        )

    def test_unanswered_is_what_rebuild_returns_without_replaying(self, journal):
        """The fault's shutdown reads the same unconfirmed commands a restart would settle."""
        desk = new_desk()
        first = desk.fire("AAPL", entry())
        journal.record(first)
        journal.record(desk.fire("IBM", entry()))
        assert len(journal.unanswered(STRATEGY)) == 2
        journal.record_result(1, first.commands[0], "sent")
        assert journal.unanswered(STRATEGY) == journal.rebuild(new_desk())
        assert [p.symbol for p in journal.unanswered(STRATEGY)] == ["IBM"]
        assert journal.unanswered("another") == ()

    def test_rebuild_writes_nothing(self, journal, path):
        """Replayed outcomes are already journaled: a rebuild adds no row; a later record does."""
        trade_days(Driver(journal), 2)
        before = count(path)
        fresh = new_desk()
        journal.rebuild(fresh)
        assert count(path) == before
        journal.record(
            fresh.fire("AAPL", m.HaltRequested(at=at(FIRST_DAY, 17), reason="after rebuild"))
        )
        assert count(path) == before + 1

    def test_rebuild_needs_a_fresh_desk(self, journal):
        """A desk that already has machines cannot be rebuilt into."""
        desk = new_desk()
        desk.machine("AAPL")
        with pytest.raises(JournalError, match="fresh desk; it already has AAPL"):
            journal.rebuild(desk)

    def test_a_replay_that_disagrees_names_the_seq(self, journal):
        """A desk built for another day decides other client order ids: the seq is named."""
        Driver(journal).fire("AAPL", entry())
        wrong = Desk(strategy=STRATEGY, trading_date=date(2026, 11, 24), rules=new_desk().rules)
        with pytest.raises(JournalError, match=r"seq 1 \(AAPL\): replay decided"):
            journal.rebuild(wrong)

    def test_a_missing_outcome_is_named(self, journal):
        """A gap in a machine's journaled outcomes cannot be replayed over: it is reported."""
        desk = new_desk()
        first = desk.fire("AAPL", entry())
        (placed,) = first.commands
        cid = placed.client_order_id
        desk.fire("AAPL", m.OrderAccepted(client_order_id=cid, at=at(FIRST_DAY, 10, 1)))
        fill = m.OrderFilled(
            client_order_id=cid,
            at=at(FIRST_DAY, 10, 2),
            filled_qty=D(100),
            avg_fill_price=LEG.entry_price,
        )
        third = desk.fire("AAPL", fill)
        assert third.kind is OutcomeKind.ACCEPTED
        journal.record(first)
        journal.record(third)
        with pytest.raises(JournalError, match=r"seq 2 \(AAPL\): .*#3, expected #2"):
            journal.rebuild(new_desk())

    def test_each_symbol_replays_in_its_machines_order_even_if_recorded_out_of_order(self, journal):
        """Two threads may record one symbol's outcomes in swapped order; rebuild follows ordinal."""
        desk = new_desk()
        first = desk.fire("AAPL", entry())
        second = desk.fire("AAPL", m.HaltRequested(at=at(FIRST_DAY, 11), reason="x"))
        journal.record(second)
        journal.record(first)
        fresh = new_desk()
        journal.rebuild(fresh)
        assert fresh.snapshots() == desk.snapshots()

    def test_rebuild_only_replays_its_own_strategy(self, journal):
        """Records of another strategy in the same file are left alone."""
        other = Desk(strategy="zz", trading_date=FIRST_DAY)
        journal.record(other.fire("AAPL", entry()))
        Driver(journal).fire("IBM", entry())
        fresh = new_desk()
        journal.rebuild(fresh)
        assert fresh.symbols() == ("IBM",)


class TestReading:
    def test_latest_gives_each_symbol_its_last_snapshot_and_event(self, journal):
        """Per (strategy, symbol): state, position, stop, attempts, last trigger and its time."""
        driver = Driver(journal)
        driver.fire("AAPL", entry())
        entry_id = driver.entry_id("AAPL")
        fill = m.OrderFilled(
            client_order_id=entry_id,
            at=at(FIRST_DAY, 10, 5),
            filled_qty=D(100),
            avg_fill_price=D("101.00"),
        )
        driver.fire("AAPL", fill)
        driver.fire("AAPL", fill)  # a race: the last recorded event, state unchanged
        driver.fire("IBM", entry())
        aapl, ibm = read_latest(journal.path)
        assert (aapl.strategy, aapl.symbol) == (STRATEGY, "AAPL")
        assert aapl.snapshot == driver.desk.machine("AAPL").snapshot()
        assert (aapl.snapshot.state, aapl.snapshot.position) == (State.IN_POSITION, D(100))
        assert aapl.snapshot.stop_price == D("99.00")
        assert (aapl.snapshot.entries_today, aapl.snapshot.max_attempts) == (1, 2)
        race = [o for o in driver.outcomes if o.snapshot.symbol == "AAPL"][-1]
        assert race.kind is OutcomeKind.IGNORED
        assert (aapl.last_trigger, aapl.last_kind) == (race.trigger, "ignored")
        assert aapl.last_at == at(FIRST_DAY, 10, 5)
        assert ibm.snapshot.state == State.ENTRY_PENDING

    def test_readers_work_while_another_thread_writes(self, journal, path):
        """WAL: status reads and raw reads never fail nor go backwards while a writer is live."""
        done = threading.Event()
        failures: list[BaseException] = []

        def write() -> None:
            try:
                trade_days(Driver(journal), 8)
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)
            finally:
                done.set()

        writer = threading.Thread(target=write, name="journal-writer")
        writer.start()
        seen = [0]
        reads = 0
        while True:
            finished = done.is_set()  # read before reading: the last read sees every write
            statuses = read_latest(path) if path.exists() and count(path) else ()
            total = count(path) if path.exists() else 0
            assert total >= seen[-1]
            seen.append(total)
            assert all(s.strategy == STRATEGY for s in statuses)
            reads += 1
            if finished and reads >= 3:
                break
        writer.join()
        assert not failures
        assert seen[-1] == count(path) > 0
        assert len(set(seen)) > 2  # the reader saw the journal grow


class TestCrash:
    def test_a_killed_writer_leaves_every_committed_record_and_a_rebuildable_file(self, path):
        """SIGKILL mid-run: every seq the child saw committed is there, and rebuild succeeds."""
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.strategies.journaling", str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        committed: list[int] = []
        try:
            assert child.stdout is not None
            for line in child.stdout:
                committed.append(int(line))
                if len(committed) >= 400:
                    break
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        assert child.returncode == -signal.SIGKILL
        assert len(committed) >= 400
        with sqlite3.connect(path) as db:
            stored = {seq for (seq,) in db.execute("SELECT seq FROM transitions")}
        assert set(committed) <= stored
        assert read_latest(path)  # a reader recovers the hot WAL
        fresh = new_desk()
        with Journal(path) as reopened:
            pending = reopened.rebuild(fresh)
        assert set(fresh.symbols()) == set(SYMBOLS)
        assert all(p.transition_seq in stored for p in pending)
        assert sum(s.transitions + s.anomalies for s in fresh.snapshots()) == count(
            path
        ) - _not_applied(path)


def _not_applied(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT count(*) FROM transitions WHERE kind IN ('ignored', 'declined')"
        ).fetchone()[0]
