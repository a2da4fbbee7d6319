"""What a live run's shutdown waits for (``strategies.run._shutdown.at_rest``).

Flattening, it waits until every symbol is settled. A symbol it keeps (``--no-flatten``, or
halted: never flattened on the way out) is at rest once no answer is outstanding: a position
under a live stop must not hold Ctrl-C up for the whole ``shutdown_timeout``.
"""

from __future__ import annotations

import pytest

from machines import OrderRole
from strategies.run._shutdown import at_rest, left_at_broker
from tests.machines.scenarios import (
    accepted,
    cancelled,
    to_cancelling,
    to_exiting_closing,
    to_flat,
    to_halted_protecting,
    to_in_protected,
    to_pending_live,
    to_replacing_protected,
)


@pytest.mark.parametrize(
    ("scenario", "flattening", "keeping"),
    [
        (to_flat, True, True),  # settled: nothing to wait for either way
        (to_in_protected, False, True),  # a position under a live stop: kept as it is
        (to_replacing_protected, False, False),  # a replace awaits its answer
        (to_exiting_closing, False, False),  # the closing order awaits its answer
        (to_cancelling, False, False),  # an entry's cancel awaits its answer
        (to_pending_live, False, False),  # an entry still works: the shutdown cancels it
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_shutdown_waits_only_while_something_is_outstanding(scenario, flattening, keeping):
    snapshot = scenario().snapshot
    assert at_rest([snapshot], flatten=True) is flattening
    assert at_rest([snapshot], flatten=False) is keeping


def test_a_halted_symbol_is_kept_even_when_flattening():
    """Halted holding 4 shares: never flattened on the way out (field lesson 1), so the shutdown
    waits only for the answers it awaits (the entries' cancels, the stop), then not for flat."""
    halted = to_halted_protecting()
    assert halted.snapshot.is_halted
    assert not at_rest([halted.snapshot], flatten=True)  # the cancels and the stop: no answer
    entries = [o.client_order_id for o in halted.working(OrderRole.ENTRY)]
    (stop,) = halted.working(OrderRole.STOP)
    halted.run(*(cancelled(cid) for cid in entries), accepted(stop.client_order_id))
    assert halted.snapshot.holds_position
    assert at_rest([halted.snapshot], flatten=True)
    assert not at_rest([halted.snapshot, to_exiting_closing().snapshot], flatten=True)


def test_what_a_run_leaves_at_the_broker_is_said_at_the_end():
    """A kept position (``--no-flatten``) or a halted one ends the run as a warning line naming
    the symbol, the shares and the stop protecting them; a settled symbol says nothing."""
    kept = to_in_protected().snapshot
    halted = to_halted_protecting().snapshot
    (stop,) = [o for o in kept.working_orders if o.role is OrderRole.STOP]
    assert left_at_broker([to_flat().snapshot]) == []
    assert left_at_broker([kept, halted]) == [
        f"{kept.symbol} holds 10 long at the broker under its stop at {stop.stop_price}"
        " (not flattened): it is yours to manage now",
        f"{halted.symbol} holds 4 long at the broker under its stop at"
        f" {halted.working_orders[-1].stop_price} (halted: {halted.halt_reason}): it is yours"
        " to manage now",
    ]
