"""Regression emitted by ``tickstate verify --broker hostile``: books_agree_at_rest.

Found as: books: 0 with ['verify-SYM-20261123-1-buy']; venue: 0 with []

Fixed in the machine: ``BrokerSnapshotTaken.open_orders``; an order the broker no longer holds
has ended (trigger ``orders_differ``), so the wind-down goes on.

The shortest sequence that broke it, replayed against the real machine and the venue model;
no property may break along it (after a fix the sequence may end early: a step that can no
longer happen ends it).
"""

import datetime
from decimal import Decimal

from machines import FixedTick, Rules
from strategies.verify import Step, VerifySetup, replay

SETUP = VerifySetup(
    strategy='verify',
    symbol='SYM',
    rules=Rules(
        tick=FixedTick(size=Decimal('0.01')),
        max_attempts=1,
        entry_window=None,
        timezone='UTC',
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
    # strategy exit
    Step('strategy', 'exit'),
    # execute PlaceEntry 1-buy accepted
    Step('execute', 'PlaceEntry', 'verify-SYM-20261123-1-buy', 'accepted'),
    # execute CancelOrder 1-buy
    Step('execute', 'CancelOrder', 'verify-SYM-20261123-1-buy'),
    # cancel 1-buy (queued)
    Step('cancel', '', 'verify-SYM-20261123-1-buy', now=False),
    # lose 1-buy 0
    Step('lose', '', 'verify-SYM-20261123-1-buy', '0'),
    # snapshot
    Step('snapshot'),
)


def test_lost_cancel_confirmation_leaves_exiting_forever() -> None:
    """books_agree_at_rest holds along the sequence that once broke it."""
    trace = replay(SETUP, 'hostile', STEPS, in_flight=2)
    assert trace.violations == [], trace.report()
