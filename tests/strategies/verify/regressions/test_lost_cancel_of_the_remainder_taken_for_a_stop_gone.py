"""Regression found by ``tickstate verify --broker hostile --depth 7`` with the strategy files'
rules (``Rules.stop_waits_for_entry``) on the merged machine, as the note
``anomaly: stop_gone in in_position``.

A part fill of the entry cancels its remainder first (recovery's ``protect_fill``: the venue
refuses a stop opposite a working order), and the stop waits for that cancel. The cancel's
confirmation was lost; the snapshot (verify's ``open_orders``) agreed on the position and no
longer held the buy, so verify's ``orders_differ`` row found no stop working and took it for a
stop gone: halt and flatten a position that only waited for its first stop — a false halt.

Fixed in the table: ``orders_differ`` in position places the stop that waited (guard
``stop_unplaced``: the attempt placed no stop yet) before it looks for a stop gone.

The sequence, replayed against the real machine and the venue model; no property may break
along it, and the snapshot now places the stop.
"""

import datetime
from decimal import Decimal

from machines import FixedTick, OutcomeKind, PlaceStop, Rules, State
from strategies.verify import Step, VerifySetup, replay

SETUP = VerifySetup(
    strategy='verify',
    symbol='SYM',
    rules=Rules(
        tick=FixedTick(size=Decimal('0.01')),
        max_attempts=1,
        entry_window=None,
        timezone='UTC',
        stop_waits_for_entry=True,
    ),
    trading_date=datetime.date(2026, 11, 23),
    qty=Decimal('2'),
    base=Decimal('100.00'),
    entry_gap=Decimal('1.00'),
    risk=Decimal('2.00'),
)
STEPS = (
    # strategy entry_long
    Step('strategy', 'entry_long'),
    # execute PlaceEntry 1-buy accepted
    Step('execute', 'PlaceEntry', 'verify-SYM-20261123-1-buy', 'accepted'),
    # fill 1-buy 1
    Step('fill', '', 'verify-SYM-20261123-1-buy', '1'),
    # execute CancelOrder 1-buy
    Step('execute', 'CancelOrder', 'verify-SYM-20261123-1-buy'),
    # cancel 1-buy (queued)
    Step('cancel', '', 'verify-SYM-20261123-1-buy', '', False),
    # lose 1-buy 0
    Step('lose', '', 'verify-SYM-20261123-1-buy', '0'),
    # snapshot
    Step('snapshot'),
)


def test_lost_cancel_of_the_remainder_taken_for_a_stop_gone() -> None:
    """The snapshot places the stop that waited; no property breaks along the sequence."""
    trace = replay(SETUP, 'hostile', STEPS, in_flight=2)
    assert trace.violations == [], trace.report()
    assert trace.cut is None, trace.report()
    (outcome,) = trace.steps[-1].outcomes
    assert (outcome.kind, outcome.trigger) == (OutcomeKind.ACCEPTED, 'orders_differ')
    assert outcome.state_to is State.IN_POSITION
    (place,) = outcome.commands
    assert isinstance(place, PlaceStop)
    assert place.qty == 1
