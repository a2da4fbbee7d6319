"""Regression found by ``tickstate verify --broker faithful --depth 10`` on the merged machine:
books_agree_at_rest.

Found as: books: 0 with []; venue: 0 with ['verify-SYM-20261123-1-stop-r1']

The stop filled 1 of 2 before the trail's replace reached the venue, but the machine heard of
that fill only while the replace flew: it shrank the replacement to 1 (recovery's rule), the
venue made it 2 (the fill came before the request). The replacement filled 1, the books went
flat — and the venue still worked a sell stop for 1 nobody knew of (GTC: it would have sold
short on a later day, and refused the next entry as a wash trade).

Fixed in the machine: a replacement the books shrank that fills to the books' size is
cancelled (``Books.resized``/``leftover``); a venue whose order is done refuses the cancel,
which the runner takes as done.

The shortest sequence that broke it, replayed against the real machine and the venue model;
no property may break along it (after a fix the sequence may end early: a step that can no
longer happen ends it).
"""

import datetime
from decimal import Decimal

from machines import CancelOrder, FixedTick, Rules, State
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
    Step('fill', '', 'verify-SYM-20261123-1-stop', '1', False),
    # strategy trail_tighter
    Step('strategy', 'trail_tighter'),
    # deliver 1-stop
    Step('deliver', '', 'verify-SYM-20261123-1-stop'),
    # execute ReplaceStop 1-stop-r1 accepted
    Step('execute', 'ReplaceStop', 'verify-SYM-20261123-1-stop-r1', 'accepted'),
    # fill 1-stop-r1 1
    Step('fill', '', 'verify-SYM-20261123-1-stop-r1', '1'),
    # execute CancelOrder 1-stop-r1 (the fix: the rest is cancelled)
    Step('execute', 'CancelOrder', 'verify-SYM-20261123-1-stop-r1'),
    # cancel 1-stop-r1
    Step('cancel', '', 'verify-SYM-20261123-1-stop-r1'),
)


def test_raced_replacement_left_working_after_the_books_went_flat() -> None:
    """books_agree_at_rest holds along the sequence that once broke it."""
    trace = replay(SETUP, 'faithful', STEPS, in_flight=2)
    assert trace.violations == [], trace.report()
    assert trace.cut is None, trace.report()
    flat = trace.steps[8].outcomes[-1]
    assert flat.state_to is State.FLAT
    assert flat.commands == (
        CancelOrder(client_order_id='verify-SYM-20261123-1-stop-r1', symbol='SYM'),
    )
