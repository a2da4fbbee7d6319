"""Regression emitted by ``tickstate verify --broker hostile``: books_agree_at_rest.

Found as: books: 2 with ['verify-SYM-20261123-1-stop']; venue: 1 with ['verify-SYM-20261123-1-stop']

Fixed in the table: ``resume`` needs books the broker's last report does not dispute
(guard ``undisputed``).

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
    # execute PlaceEntry 1-buy accepted
    Step('execute', 'PlaceEntry', 'verify-SYM-20261123-1-buy', 'accepted'),
    # fill 1-buy 2
    Step('fill', '', 'verify-SYM-20261123-1-buy', '2'),
    # execute PlaceStop 1-stop accepted
    Step('execute', 'PlaceStop', 'verify-SYM-20261123-1-stop', 'accepted'),
    # fill 1-stop 1 (queued)
    Step('fill', '', 'verify-SYM-20261123-1-stop', '1', now=False),
    # lose 1-stop 0
    Step('lose', '', 'verify-SYM-20261123-1-stop', '0'),
    # snapshot
    Step('snapshot'),
    # strategy resume
    Step('strategy', 'resume'),
)


def test_resume_with_books_the_broker_disputes() -> None:
    """books_agree_at_rest holds along the sequence that once broke it."""
    trace = replay(SETUP, 'hostile', STEPS, in_flight=2)
    assert trace.violations == [], trace.report()
