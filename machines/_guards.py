"""Guards: named, pure predicates over a decision; the lifecycle table refers to them by name.

A guard reads the event and the *draft* books (an order event's bookkeeping already applied), so
``settled`` after an exit fill means "flat and nothing working once this fill counts". Guards never
change anything. Their names appear on diagram edges: keep them short and in the domain's words.
"""

from __future__ import annotations

from decimal import Decimal

from machines._decision import Decision
from machines._events import (
    BrokerSnapshotTaken,
    DayRolledOver,
    EntrySignalled,
    EntryTimedOut,
    InitialStopRevised,
    PriceMoved,
    TrailProposed,
)
from machines._orders import OrderTrack, Side, TrackStatus
from machines._pricing import round_stop

__all__ = [
    "attempts_left",
    "day_open",
    "entry_window_open",
    "entry_working",
    "for_current_attempt",
    "held_leg_nearer",
    "later_date",
    "position_flat",
    "position_matches",
    "position_open",
    "protected",
    "renewal_left",
    "resize_untried",
    "settled",
    "side_leg_working",
    "stop_covers",
    "stop_live",
    "stop_missing",
    "stop_needs_update",
    "stop_protects_leg",
    "stop_spent",
    "stop_unplaced",
    "stop_working",
    "swap_due",
    "tighter",
    "undisputed",
    "winding_down",
]


def attempts_left(d: Decision) -> bool:
    """The day's entries are still below ``max_attempts``."""
    return d.books.entries_today < d.rules.max_attempts


def day_open(d: Decision) -> bool:
    """Square-off has not happened yet today."""
    return not d.books.done_for_day


def entry_window_open(d: Decision) -> bool:
    """The entry signal's time lies inside the strategy's entry window."""
    assert isinstance(d.event, EntrySignalled)
    return d.rules.in_entry_window(d.event.at)


def for_current_attempt(d: Decision) -> bool:
    """A timer names the attempt in progress (an old attempt's timer is stale)."""
    assert isinstance(d.event, EntryTimedOut)
    return d.event.attempt == d.books.entries_today


def later_date(d: Decision) -> bool:
    """A rollover moves to a later trading date (a repeated one changes nothing)."""
    assert isinstance(d.event, DayRolledOver)
    return d.event.trading_date > d.books.trading_date


def candidate_stop(d: Decision) -> Decimal | None:
    """A trail candidate rounded toward safety for the position's side."""
    assert isinstance(d.event, TrailProposed)
    side = d.books.entry_side
    if side is None:
        return None
    return round_stop(side, d.event.stop_price, d.rules.tick)


def tighter(d: Decision) -> bool:
    """The rounded trail candidate is strictly better than every stop accepted so far."""
    candidate = candidate_stop(d)
    current = d.books.desired_stop
    if candidate is None or current is None:
        return False
    return candidate > current if d.books.entry_side is Side.BUY else candidate < current


def revised_leg(d: Decision) -> OrderTrack | None:
    """The entry leg an initial-stop revision names: working on its side, nothing filled yet."""
    assert isinstance(d.event, InitialStopRevised)
    side = d.event.side
    for leg in d.books.entries:
        if (
            leg.side is side
            and leg.status in (TrackStatus.SENT, TrackStatus.LIVE)
            and leg.filled_qty == 0
        ):
            return leg
    return None


def side_leg_working(d: Decision) -> bool:
    """An entry leg on the revision's side works and has not filled at all."""
    return revised_leg(d) is not None


def stop_protects_leg(d: Decision) -> bool:
    """The revised initial stop lies on the protective side of that leg's entry price."""
    assert isinstance(d.event, InitialStopRevised)
    leg = revised_leg(d)
    if leg is None or leg.stop_price is None:
        return False
    stop = d.event.stop_price
    return stop < leg.stop_price if leg.side is Side.BUY else stop > leg.stop_price


def stop_live(d: Decision) -> bool:
    """The broker acknowledged the stop and no replacement of it is in flight."""
    stop = d.books.stop
    return stop is not None and stop.status is TrackStatus.LIVE and d.books.replacement is None


def stop_working(d: Decision) -> bool:
    """A stop order protects the position (live or its placement in flight)."""
    return d.books.stop is not None and d.books.stop.status in (TrackStatus.SENT, TrackStatus.LIVE)


def stop_spent(d: Decision) -> bool:
    """No stop order works any more, nor a replacement of it: the stop filled in full."""
    return not stop_working(d) and d.books.replacement is None


def stop_needs_update(d: Decision) -> bool:
    """The live stop lags what the machine wants: a tighter price or another size."""
    books = d.books
    if not stop_live(d) or books.position == 0:
        return False
    assert books.stop is not None
    remaining = books.stop.qty - books.stop.filled_qty
    return remaining != abs(books.position) or books.stop.stop_price != books.desired_stop


def stop_missing(d: Decision) -> bool:
    """A position is open and no stop order protects it, nor is one being placed or replaced."""
    books = d.books
    return books.position != 0 and books.stop is None and books.replacement is None


def stop_unplaced(d: Decision) -> bool:
    """A position is open and the attempt has placed no stop yet: it waits for the cancel of
    the entry's remainder (``Rules.stop_waits_for_entry``). Once a stop was placed no leg on
    the position's side works any more, so a stop placed and gone is never taken for this."""
    books = d.books
    return (
        books.position != 0
        and books.stop is None
        and books.replacement is None
        and books.stop_seq == 0
    )


def stop_covers(d: Decision) -> bool:
    """A stop works for exactly what the position holds (whatever its price)."""
    stop = d.books.stop
    return (
        stop is not None
        and stop.status in (TrackStatus.SENT, TrackStatus.LIVE)
        and stop.qty - stop.filled_qty == abs(d.books.position)
    )


def resize_untried(d: Decision) -> bool:
    """The replace the venue refused was not for the size the position needs now (it changed
    while the replace was in flight), so asking for that size is news, not a retry."""
    refused = d.books.finished(getattr(d.event, "client_order_id", ""))
    return refused is None or refused.qty != abs(d.books.position)


def position_open(d: Decision) -> bool:
    """The position is not zero."""
    return d.books.position != 0


def position_flat(d: Decision) -> bool:
    """The position is zero."""
    return d.books.position == 0


def entry_working(d: Decision) -> bool:
    """Some entry leg of the attempt can still fill."""
    return any(leg.working for leg in d.books.entries)


def held_leg_nearer(d: Decision) -> bool:
    """A leg is held back, nothing has filled, the resting leg is not being cancelled already,
    and the price is now strictly nearer the held leg's entry than the resting one's."""
    assert isinstance(d.event, PriceMoved)
    books = d.books
    held = books.held
    if held is None or books.swapping is not None or books.position != 0:
        return False
    resting = [leg for leg in books.entries if leg.working]
    if len(resting) != 1 or resting[0].status is TrackStatus.CANCEL_SENT:
        return False
    price = d.event.price
    assert held.stop_price is not None
    assert resting[0].stop_price is not None
    return abs(held.stop_price - price) < abs(resting[0].stop_price - price)


def swap_due(d: Decision) -> bool:
    """A swap's cancel is answered: nothing filled and no entry leg works any more."""
    books = d.books
    return (
        books.swapping is not None
        and books.held is not None
        and books.position == 0
        and not any(leg.working for leg in books.entries)
    )


def renewal_left(d: Decision) -> bool:
    """The attempt may still place a fresh order after a refused stop or exit."""
    return d.books.renewals < d.rules.max_renewals


def settled(d: Decision) -> bool:
    """Flat, and no order of this symbol can fill any more."""
    return d.books.position == 0 and not d.books.working_orders()


def winding_down(d: Decision) -> bool:
    """An exit is in progress: working orders are being cancelled, then the position closed."""
    return d.books.winding_down is not None


def protected(d: Decision) -> bool:
    """Position open, its stop working, nothing else in flight, no exit in progress."""
    books = d.books
    return (
        books.position != 0
        and stop_working(d)
        and books.replacement is None
        and books.exit is None
        and not entry_working(d)
        and books.winding_down is None
    )


def undisputed(d: Decision) -> bool:
    """The broker's last report of the position did not contradict the books (or they have
    caught up with it since)."""
    disputed = d.books.disputed
    return disputed is None or disputed == d.books.position


def position_matches(d: Decision) -> bool:
    """The broker's net position equals the sum of the fills the machine accepted."""
    assert isinstance(d.event, BrokerSnapshotTaken)
    return d.event.position_qty == d.books.position
