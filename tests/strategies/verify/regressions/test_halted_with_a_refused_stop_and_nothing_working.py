"""Regression emitted by ``tickstate verify --broker faithful``: protected_at_rest.

Found as: halted holding 2 at rest with 0 stops

Fixed in the table: the anomaly policy that does not flatten raises the operator alarm
(``Snapshot.alarm``), so this is a declared note, no longer a silent unprotected position.

Since the merge with recovery a refused stop or close is first renewed under its role's next
id (``Rules.max_renewals``); the sequence pins what follows once renewals are spent, so it runs
with ``max_renewals=0`` (the rules it was found with renewed nothing).

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
        max_renewals=0,
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
    # strategy halt
    Step('strategy', 'halt'),
    # execute PlaceStop 1-stop rejected
    Step('execute', 'PlaceStop', 'verify-SYM-20261123-1-stop', 'rejected'),
)


def test_halted_with_a_refused_stop_and_nothing_working() -> None:
    """protected_at_rest holds along the sequence that once broke it."""
    trace = replay(SETUP, 'faithful', STEPS, in_flight=2)
    assert trace.violations == [], trace.report()
    assert trace.steps[-1].outcomes[-1].snapshot.alarm == "stop_rejected"
