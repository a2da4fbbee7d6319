"""Regression emitted by ``tickstate verify --broker faithful``: no_reversal.

Found as: the venue's position reversed: -1 (entry buy, 2)

Fixed in the machine (on the verify branch by ``ReplaceStop.qty=None``; since the merge with
recovery by recovery's rule): a replace always names its size, and the part fill of the stop
while the replace flies comes off the replacement — at the venue (the twin's reading of
Alpaca's row 6) and in the books (``Books.apply`` shrinks the replacement in flight); the fill
of 2 at the last step can no longer happen (the replacement holds 1).

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
    # strategy trail_tighter
    Step('strategy', 'trail_tighter'),
    # execute PlaceStop 1-stop accepted
    Step('execute', 'PlaceStop', 'verify-SYM-20261123-1-stop', 'accepted'),
    # fill 1-stop 1
    Step('fill', '', 'verify-SYM-20261123-1-stop', '1'),
    # execute ReplaceStop 1-stop-r1 accepted
    Step('execute', 'ReplaceStop', 'verify-SYM-20261123-1-stop-r1', 'accepted'),
    # fill 1-stop-r1 2
    Step('fill', '', 'verify-SYM-20261123-1-stop-r1', '2'),
)


def test_over_close_after_a_part_fill_during_a_trail() -> None:
    """no_reversal holds along the sequence that once broke it."""
    trace = replay(SETUP, 'faithful', STEPS, in_flight=2)
    assert trace.violations == [], trace.report()
