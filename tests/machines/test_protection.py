"""Protection heals inside the machine: a refused stop or exit is renewed under its role's next
id (a bounded number of times), and a stop replacement is never larger than what remains to
protect — the partial-stop-fill replace race never reverses a position.
"""

from __future__ import annotations

from decimal import Decimal

import machines as m
from machines import ClosePosition, OrderRole, PlaceStop, ReplaceStop, State
from tests.machines.scenarios import (
    QTY,
    STOP2,
    STOP2_R1,
    Scenario,
    accepted,
    exit_signal,
    filled,
    oid,
    rejected,
    replaced,
    rules,
    signal,
    to_in_protected,
    to_pending_live,
    trail,
)

D = Decimal
A2 = 2


def _stop(seq: int) -> str:
    return oid(OrderRole.STOP, A2, seq)


def _exit(seq: int) -> str:
    return oid(OrderRole.EXIT, A2, seq)


class TestRenewals:
    def test_a_refused_stop_is_placed_again_under_the_next_stop_id(self):
        """The venue refuses the protective stop: a fresh one for the whole position, never the
        same id again; the symbol keeps trading."""
        s = to_pending_live().run(filled(oid(m.Side.BUY, A2), QTY, "101.00"))
        outcome = s.fire(rejected(STOP2))
        assert outcome.kind is m.OutcomeKind.ACCEPTED
        assert outcome.state_to is State.IN_POSITION
        (fresh,) = [c for c in outcome.commands if isinstance(c, PlaceStop)]
        assert fresh.client_order_id == STOP2_R1 != STOP2
        assert fresh.qty == QTY

    def test_past_max_renewals_the_symbol_halts_and_closes(self):
        """Refused again and again: after ``max_renewals`` fresh stops, halt and flatten rather
        than sit unprotected or retry for ever."""
        s = Scenario(rules(max_renewals=1))
        s.run(signal(), accepted(oid(m.Side.BUY)), accepted(oid(m.Side.SELL)))
        s.run(
            filled(oid(m.Side.BUY), QTY, "101.00"),
            m.OrderCancelled(client_order_id=oid(m.Side.SELL), at=signal().at),
        )
        first = s.fire(rejected(oid(OrderRole.STOP)))
        assert [type(c) for c in first.commands] == [PlaceStop]
        last = s.fire(rejected(oid(OrderRole.STOP, seq=1)))
        assert last.kind is m.OutcomeKind.ANOMALY
        assert last.reason == "stop_rejected"
        assert last.state_to is State.HALTED
        (close,) = last.commands
        assert isinstance(close, ClosePosition)
        assert close.qty == QTY

    def test_a_refused_exit_is_sent_again_then_left_to_the_operator(self):
        """The closing order is refused: a fresh one under the next exit id; past the bound the
        symbol halts with an anomaly (the runner's protection watch takes it from there)."""
        s = to_in_protected().run(
            exit_signal(), m.OrderCancelled(client_order_id=STOP2, at=signal().at)
        )
        assert s.state is State.EXITING
        again = s.fire(rejected(_exit(0)))
        (close,) = again.commands
        assert isinstance(close, ClosePosition)
        assert close.client_order_id == _exit(1)
        s.fire(rejected(_exit(1)))
        last = s.fire(rejected(_exit(2)))
        assert last.kind is m.OutcomeKind.ANOMALY
        assert last.reason == "exit_rejected"
        assert last.state_to is State.HALTED


class TestPartialStopFillReplaceRace:
    """Entry filled 2, stop accepted, the stop fills 1 while its trail replace is in flight."""

    def _race(self) -> tuple[Scenario, ReplaceStop]:
        s = Scenario().run(signal(qty=D(2)), accepted(oid(m.Side.BUY)), accepted(oid(m.Side.SELL)))
        s.run(filled(oid(m.Side.BUY), 2, "101.00"))
        s.run(m.OrderCancelled(client_order_id=oid(m.Side.SELL), at=signal().at))
        s.run(accepted(oid(OrderRole.STOP)))
        outcome = s.fire(trail("99.50"))
        (replace,) = outcome.commands
        assert isinstance(replace, ReplaceStop)
        assert replace.qty == 2
        return s, replace

    def test_the_replacement_shrinks_by_what_the_stop_filled_meanwhile(self):
        """The stop's part fill arrives while the replace flies: the replacement it waits for
        is now for what remains (1), so the venue's fill of it ends flat, never short."""
        s, replace = self._race()
        s.fire(filled(oid(OrderRole.STOP), 1, "99.00"))
        (replacement,) = [
            t for t in s.snapshot.working_orders if t.client_order_id == replace.new_client_order_id
        ]
        assert replacement.qty == 1 == s.snapshot.position
        s.run(replaced(oid(OrderRole.STOP), replace.new_client_order_id))
        s.run(accepted(replace.new_client_order_id))
        assert s.snapshot.position == 1
        done = s.fire(filled(replace.new_client_order_id, 1, "99.50"))
        assert done.state_to is State.FLAT
        assert done.snapshot.position == 0
        positions = [o.snapshot.position for o in s.outcomes]
        assert min(positions) >= 0  # never short

    def test_a_shrunk_replacement_filled_to_its_size_is_cancelled_in_case_the_venue_holds_more(
        self,
    ):
        """The part fill may have come before the replace reached the venue, which then sized
        the replacement at 2: once it has filled the 1 the books gave it, the machine cancels
        it, so no stop works at the venue behind flat books (the model check found it)."""
        s, replace = self._race()
        s.fire(filled(oid(OrderRole.STOP), 1, "99.00"))
        s.run(replaced(oid(OrderRole.STOP), replace.new_client_order_id))
        s.run(accepted(replace.new_client_order_id))
        done = s.fire(filled(replace.new_client_order_id, 1, "99.50"))
        assert done.state_to is State.FLAT
        assert done.commands == (
            m.CancelOrder(client_order_id=replace.new_client_order_id, symbol="AAPL"),
        )
        # The venue had sized it at 1 after all: its "filled" answer to the cancel is stale.
        late = s.fire(m.OrderCancelled(client_order_id=replace.new_client_order_id, at=signal().at,
                                       filled_qty=D(1), avg_fill_price=D("99.50")))  # fmt: skip
        assert late.kind is m.OutcomeKind.IGNORED
        assert late.commands == ()

    def test_a_replacement_nothing_shrank_is_not_cancelled_after_its_fill(self):
        """No part fill raced the replace: the venue's size is the books' and nothing is sent."""
        s, replace = self._race()
        s.run(replaced(oid(OrderRole.STOP), replace.new_client_order_id))
        s.run(accepted(replace.new_client_order_id))
        done = s.fire(filled(replace.new_client_order_id, 2, "99.50"))
        assert done.state_to is State.FLAT
        assert done.commands == ()

    def test_no_command_ever_asks_for_more_than_the_position(self):
        """Every stop, replacement and exit the race leads to is at most the position held when
        it was decided (a replacement at most what its stop had left)."""
        s, replace = self._race()
        s.fire(filled(oid(OrderRole.STOP), 1, "99.00"))
        s.run(replaced(oid(OrderRole.STOP), replace.new_client_order_id))
        s.run(accepted(replace.new_client_order_id), trail("99.80"))
        for outcome in s.outcomes:
            held = abs(outcome.snapshot.position)
            for command in outcome.commands:
                if isinstance(command, PlaceStop | ReplaceStop | ClosePosition):
                    assert command.qty <= held, (command, held)

    def test_a_venue_that_fills_the_replacement_in_full_is_flattened_at_once(self):
        """Were a venue to size the replacement at the old 2 and fill it, the machine does not
        book a short as if nothing happened: an overfill anomaly halts the symbol and closes
        the excess at once."""
        s, replace = self._race()
        s.fire(filled(oid(OrderRole.STOP), 1, "99.00"))
        s.run(replaced(oid(OrderRole.STOP), replace.new_client_order_id))
        s.run(accepted(replace.new_client_order_id))
        outcome = s.fire(filled(replace.new_client_order_id, 2, "99.50"))
        assert outcome.kind is m.OutcomeKind.ANOMALY
        assert outcome.reason == "overfill"
        assert outcome.state_to is State.HALTED
        (close,) = [c for c in outcome.commands if isinstance(c, ClosePosition)]
        assert close.side is m.Side.BUY
        assert close.qty == 1

    def test_a_part_fill_never_seen_leaves_nothing_that_could_reverse(self):
        """The stop's part fill is never seen (lost on the stream): the venue's replacement, for
        what the stop had left, fills 1 and the machine waits for the rest of its 2 — it adds
        nothing to the position; the runner's position check, not a guess, settles the books."""
        s, replace = self._race()
        s.run(replaced(oid(OrderRole.STOP), replace.new_client_order_id))
        s.run(accepted(replace.new_client_order_id))
        outcome = s.fire(filled(replace.new_client_order_id, 1, "99.50"))
        assert outcome.commands == ()
        assert outcome.snapshot.position == 1
        assert [t.client_order_id for t in s.snapshot.working_orders] == [
            replace.new_client_order_id
        ]
