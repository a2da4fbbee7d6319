"""What a model checker needs from a machine, public: a cheap fork, a fingerprint, the table."""

from __future__ import annotations

import copy
import threading
from types import MappingProxyType

import pytest

import machines as m
from machines import OutcomeKind, State
from machines._books import Books
from tests.machines.scenarios import (
    BUY2,
    QTY,
    STOP2,
    Scenario,
    accepted,
    broker_snapshot,
    filled,
    halt,
    to_flat,
    to_in_protected,
    to_pending_live,
    trail,
)


class TestFork:
    def test_a_fork_answers_like_the_original(self):
        """The fork has the original's state, books and counters."""
        s = to_in_protected()
        twin = s.machine.fork()
        assert twin.state == s.machine.state
        assert twin.snapshot() == s.machine.snapshot()
        assert twin.counters() == s.machine.counters()
        assert twin.fingerprint() == s.machine.fingerprint()

    def test_what_one_decides_next_the_other_never_sees(self):
        """A fork and its original go their own ways: neither sees the other's events."""
        s = to_in_protected()
        twin = s.machine.fork()
        s.machine.fire(halt())
        assert twin.state == State.IN_POSITION
        outcome = twin.fire(trail("99.50"))
        assert outcome.state_to == State.STOP_REPLACING
        assert s.machine.state == State.HALTED
        assert s.machine.snapshot().desired_stop != twin.snapshot().desired_stop
        assert s.machine.fingerprint() != twin.fingerprint()

    def test_a_fork_has_a_lock_of_its_own(self):
        """Holding the original's lock does not block the fork."""
        s = to_in_protected()
        twin = s.machine.fork()
        done = threading.Event()
        with s.machine._lock:
            worker = threading.Thread(target=lambda: (twin.fire(trail("99.50")), done.set()))
            worker.start()
            assert done.wait(timeout=30)
            worker.join()

    def test_copy_and_deepcopy_fork(self):
        """``copy.copy`` and ``copy.deepcopy`` both give a fork (deepcopy used to fail on the
        lock); the counters' reasons are not shared."""
        s = to_flat()
        s.fire(trail("99.50"))  # declined: counted by reason
        for twin in (copy.copy(s.machine), copy.deepcopy(s.machine)):
            assert twin.fingerprint() == s.machine.fingerprint()
            twin.fire(trail("99.50"))
            assert twin.counters().by_reason != s.machine.counters().by_reason


class TestFingerprint:
    def test_counters_and_the_last_trigger_are_left_out(self):
        """Ignored and declined events move counters, not the fingerprint."""
        s = to_in_protected()
        before = s.machine.fingerprint()
        assert s.fire(accepted(STOP2)).kind is OutcomeKind.IGNORED
        assert s.fire(trail("90.00")).kind is OutcomeKind.DECLINED
        assert s.machine.fingerprint() == before
        hash(before)

    def test_the_same_situation_by_two_paths_has_one_fingerprint(self):
        """Acknowledgement then fill, or fill then acknowledgement: the same books."""
        one = to_pending_live()
        other = to_pending_live()
        one.run(accepted(BUY2), filled(BUY2, QTY, "101.00"))
        other.run(filled(BUY2, QTY, "101.00"), accepted(BUY2))
        assert one.machine.fingerprint() == other.machine.fingerprint()

    def test_what_decides_the_future_is_in_it(self):
        """A different stop, position or finished order gives another fingerprint."""
        base = to_in_protected()
        tighter = to_in_protected()
        tighter.fire(trail("99.50"))
        assert tighter.machine.fingerprint() != base.machine.fingerprint()
        mismatch = to_in_protected()
        mismatch.fire(broker_snapshot(QTY + 1))  # halted, the position disputed
        assert mismatch.machine.fingerprint() != base.machine.fingerprint()

    def test_every_slot_of_the_books_is_in_it(self):
        """A slot added to the books must join the fingerprint (or this test says why not)."""
        books = Books(to_flat().snapshot.trading_date)
        assert len(books.fingerprint()) == len(Books.__slots__)

    def test_rules_and_identity_are_part_of_it(self):
        """Machines of other rules or symbols never share a fingerprint."""
        one = Scenario()
        other = Scenario(m.Rules(max_attempts=1))
        assert one.machine.fingerprint() != other.machine.fingerprint()


class TestTable:
    def test_the_declared_table_is_public_and_read_only(self):
        """``LIFECYCLE_TABLE`` is every (state, trigger) declaration; it cannot be changed."""
        assert isinstance(m.LIFECYCLE_TABLE, MappingProxyType)
        assert {t for _, t in m.LIFECYCLE_TABLE} == {*m.EVENT_TRIGGERS, *m.ANOMALY_TRIGGERS}
        assert {s for s, _ in m.LIFECYCLE_TABLE} == set(State)
        with pytest.raises(TypeError):
            m.LIFECYCLE_TABLE[(State.FLAT, "halt")] = m.Decline()  # type: ignore[index]

    def test_declarations_are_the_public_types(self):
        """Each declaration is a Moves, Ignore, Decline or Anomaly; a move is a Go."""
        for declaration in m.LIFECYCLE_TABLE.values():
            assert isinstance(declaration, m.Moves | m.Ignore | m.Decline | m.Anomaly)
            if isinstance(declaration, m.Moves):
                assert all(isinstance(go, m.Go) for go in declaration.goes)
