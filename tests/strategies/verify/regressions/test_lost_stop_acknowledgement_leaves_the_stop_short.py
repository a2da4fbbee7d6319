"""Regression emitted by ``tickstate verify --broker hostile``: protected_at_rest.

Found as: in_position holding 2 at rest with a stop for 1

Fixed in the machine: ``BrokerSnapshotTaken.open_orders``; an order the broker holds is
acknowledged, so the live stop is resized to the grown position.

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
    # fill 1-buy 1
    Step('fill', '', 'verify-SYM-20261123-1-buy', '1'),
    # execute PlaceStop 1-stop accepted (queued)
    Step('execute', 'PlaceStop', 'verify-SYM-20261123-1-stop', 'accepted', now=False),
    # fill 1-buy 2
    Step('fill', '', 'verify-SYM-20261123-1-buy', '2'),
    # lose 1-stop 0
    Step('lose', '', 'verify-SYM-20261123-1-stop', '0'),
    # snapshot
    Step('snapshot'),
)


def test_lost_stop_acknowledgement_leaves_the_stop_short() -> None:
    """protected_at_rest holds along the sequence that once broke it."""
    trace = replay(SETUP, 'hostile', STEPS, in_flight=2)
    assert trace.violations == [], trace.report()
