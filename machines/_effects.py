"""Effects: what an accepted transition does to the draft books and which commands it emits.

Effects run inside ``fire()`` after the table chose a transition. They fix client order ids
before any I/O and never talk to the world: each command is only appended to the decision, and
the runner executes it after the machine's lock is released.
"""

from __future__ import annotations

from machines._commands import CancelOrder, ClosePosition, PlaceEntry, PlaceStop, ReplaceStop
from machines._decision import Decision
from machines._events import (
    DayRolledOver,
    EntrySignalled,
    ExitSignalled,
    HaltRequested,
    InitialStopRevised,
)
from machines._guards import candidate_stop, revised_leg
from machines._order_ids import client_order_id
from machines._orders import OrderRole, OrderTrack, Side, TrackStatus
from machines._pricing import round_entry, round_stop

__all__ = [
    "begin_wind_down",
    "cancel_entries",
    "cancel_other_legs",
    "clear_halt",
    "close_day",
    "finish_attempt",
    "halt_symbol",
    "open_attempt",
    "place_held_leg",
    "place_stop",
    "progress_wind_down",
    "protect_fill",
    "protect_position",
    "raise_alarm",
    "raise_stop",
    "renew_exit",
    "renew_stop",
    "request_replace",
    "reset_day",
    "revise_initial_stop",
    "swap_legs",
]


def _id(d: Decision, tag: Side | OrderRole, seq: int = 0) -> str:
    books = d.books
    return client_order_id(d.strategy, d.symbol, books.trading_date, books.entries_today, tag, seq)


def open_attempt(d: Decision) -> None:
    """Count the entry and place its leg(s): a buy stop rounds up, a sell stop down. A pair on a
    venue that refuses opposite orders rests only the leg nearer the mark; the other is held."""
    event = d.event
    assert isinstance(event, EntrySignalled)
    books = d.books
    books.entries_today += 1
    books.entry_side = None
    books.initial_stop = None
    books.desired_stop = None
    books.stop_seq = 0
    books.exit_seq = 0
    books.renewals = 0
    books.held = books.swapping = None
    books.entry_seq = 0
    legs = [
        OrderTrack(
            client_order_id=_id(d, leg.side),
            role=OrderRole.ENTRY,
            side=leg.side,
            qty=event.qty,
            stop_price=round_entry(leg.side, leg.entry_price, d.rules.tick),
            protect_at=leg.initial_stop,
        )
        for leg in event.legs
    ]
    if d.rules.one_resting_leg and len(legs) == 2 and event.mark is not None:
        mark = event.mark
        legs.sort(key=lambda t: abs((t.stop_price or mark) - mark))  # stable: a tie rests the first
        books.held = legs.pop()
    for track in legs:
        d.commands.append(_place_entry(d, track))
    books.entries = tuple(legs)


def _place_entry(d: Decision, track: OrderTrack) -> PlaceEntry:
    assert track.stop_price is not None
    return PlaceEntry(
        client_order_id=track.client_order_id,
        symbol=d.symbol,
        side=track.side,
        qty=track.qty,
        stop_price=track.stop_price,
    )


def swap_legs(d: Decision) -> None:
    """The held leg is now nearer the price: cancel the resting one; the held one is placed
    when that cancel is answered (``place_held_leg``), never while both could work."""
    books = d.books
    resting = next(leg for leg in books.entries if leg.working)
    books.swapping = resting
    books.entries = tuple(_cancel(d, leg) for leg in books.entries)


def place_held_leg(d: Decision) -> None:
    """The resting leg's cancel is answered and nothing filled: place the held leg, and hold the
    cancelled one back under its side's next id (``-r{n}``), to swap in again if need be."""
    books = d.books
    held, cancelled = books.held, books.swapping
    assert held is not None
    assert cancelled is not None
    books.entry_seq += 1
    books.held = OrderTrack(
        client_order_id=_id(d, cancelled.side, books.entry_seq),
        role=OrderRole.ENTRY,
        side=cancelled.side,
        qty=cancelled.qty,
        stop_price=cancelled.stop_price,
        protect_at=cancelled.protect_at,
    )
    books.swapping = None
    books.entries = (held,)
    d.commands.append(_place_entry(d, held))


def revise_initial_stop(d: Decision) -> None:
    """Give the working leg a new initial stop: the stop its fill will place (none exists yet)."""
    event = d.event
    assert isinstance(event, InitialStopRevised)
    leg = revised_leg(d)
    assert leg is not None
    revised = leg.with_protect_at(event.stop_price)
    d.books.entries = tuple(
        revised if t.client_order_id == leg.client_order_id else t for t in d.books.entries
    )


def _cancel(d: Decision, track: OrderTrack) -> OrderTrack:
    if track.status in (TrackStatus.SENT, TrackStatus.LIVE):
        d.commands.append(CancelOrder(client_order_id=track.client_order_id, symbol=d.symbol))
        return track.with_status(TrackStatus.CANCEL_SENT)
    return track


def cancel_entries(d: Decision) -> None:
    """Cancel every entry leg still working (a leg already being cancelled is left alone) and
    forget a leg held back (it was never sent)."""
    d.books.held = d.books.swapping = None
    d.books.entries = tuple(_cancel(d, leg) for leg in d.books.entries)


def cancel_other_legs(d: Decision) -> None:
    """One-cancels-other: the first fill cancels the legs on the other side."""
    side = d.books.entry_side
    d.books.held = d.books.swapping = None  # a held leg was never sent: nothing to cancel
    d.books.entries = tuple(leg if leg.side is side else _cancel(d, leg) for leg in d.books.entries)


def _next_stop(d: Decision, side: Side) -> OrderTrack:
    """A stop for the whole position at the wanted price, with the next id in the stop role."""
    books = d.books
    assert books.desired_stop is not None
    track = OrderTrack(
        client_order_id=_id(d, OrderRole.STOP, books.stop_seq),
        role=OrderRole.STOP,
        side=side,
        qty=abs(books.position),
        stop_price=books.desired_stop,
    )
    books.stop_seq += 1
    return track


def protect_fill(d: Decision) -> None:
    """Protect a position an entry opened or grew: place its stop — or, where the venue refuses a
    stop opposite a working order and a leg on the position's side still works (a remainder),
    cancel it first (the stop is placed when that cancel is answered). Legs on the stop's own
    side do not conflict with it."""
    books = d.books
    if books.stop is not None or books.replacement is not None or books.position == 0:
        return
    side = books.entry_side
    if d.rules.stop_waits_for_entry and any(
        leg.working and leg.side is side for leg in books.entries
    ):
        d.books.entries = tuple(
            _cancel(d, leg) if leg.side is side else leg for leg in books.entries
        )
        return
    place_stop(d)


def place_stop(d: Decision) -> None:
    """Protect a new position: a stop on the other side, at the filled leg's initial stop."""
    books = d.books
    side = books.entry_side
    assert side is not None
    if books.desired_stop is None:
        assert books.initial_stop is not None  # every entry leg carries its initial stop
        books.desired_stop = round_stop(side, books.initial_stop, d.rules.tick)
    track = books.stop = _next_stop(d, side.opposite)
    d.commands.append(
        PlaceStop(
            client_order_id=track.client_order_id,
            symbol=d.symbol,
            side=track.side,
            qty=track.qty,
            stop_price=books.desired_stop,
        )
    )


def request_replace(d: Decision) -> None:
    """Replace the live stop by one at the wanted price and the position's size.

    The size is always named: a replace that names none keeps the order's *original* quantity
    at Alpaca (Alpaca-API issue 165), which after a part fill closes more than is held. A part
    fill of the stop seen while the replacement flies shrinks the booked replacement (see
    ``Books.apply``); a venue that sizes it past the position anyway makes its fill an
    ``overfill`` anomaly.
    """
    books = d.books
    stop = books.stop
    assert stop is not None
    assert books.desired_stop is not None
    replacement = books.replacement = _next_stop(d, stop.side)
    d.commands.append(
        ReplaceStop(
            client_order_id=stop.client_order_id,
            new_client_order_id=replacement.client_order_id,
            symbol=d.symbol,
            qty=replacement.qty,
            stop_price=books.desired_stop,
        )
    )


def raise_stop(d: Decision) -> None:
    """Accept a tighter trail candidate as the stop the machine wants."""
    d.books.desired_stop = candidate_stop(d)


def protect_position(d: Decision) -> None:
    """Keep a position covered while halted: place a stop if none, else resize the live one."""
    _cancel_leftover(d)
    books = d.books
    if books.position == 0 or books.entry_side is None:
        return
    if books.stop is None and books.replacement is None:
        protect_fill(d)
        return
    stop = books.stop
    if (
        stop is not None
        and stop.status is TrackStatus.LIVE
        and books.replacement is None
        and stop.qty - stop.filled_qty != abs(books.position)
    ):
        request_replace(d)


def begin_wind_down(d: Decision) -> None:
    """Start an exit: cancel every working order, then close what remains."""
    event = d.event
    reason = (
        event.reason
        if isinstance(event, ExitSignalled | HaltRequested)
        else (d.reason or d.trigger)
    )
    if d.books.winding_down is None:
        d.books.winding_down = reason
    progress_wind_down(d)


def progress_wind_down(d: Decision) -> None:
    """While exiting: cancel what still works; once nothing works, close the position."""
    _cancel_leftover(d)
    books = d.books
    if books.winding_down is None:
        return
    cancel_entries(d)
    if books.stop is not None:
        books.stop = _cancel(d, books.stop)
    if books.replacement is not None:
        books.replacement = _cancel(d, books.replacement)
    if books.position == 0 or books.working_orders():
        return
    side = Side.SELL if books.position > 0 else Side.BUY
    track = OrderTrack(
        client_order_id=_id(d, OrderRole.EXIT, books.exit_seq),
        role=OrderRole.EXIT,
        side=side,
        qty=abs(books.position),
    )
    books.exit_seq += 1
    books.exit = track
    d.commands.append(
        ClosePosition(
            client_order_id=track.client_order_id, symbol=d.symbol, side=side, qty=track.qty
        )
    )


def renew_stop(d: Decision) -> None:
    """The venue refused the protective stop: place a fresh one (the stop role's next id) — the
    position must not sit unprotected; ``max_renewals`` bounds how often."""
    d.books.renewals += 1
    protect_fill(d)


def renew_exit(d: Decision) -> None:
    """The venue refused the closing order: send a fresh one (the exit role's next id)."""
    d.books.renewals += 1
    progress_wind_down(d)


def _cancel_leftover(d: Decision) -> None:
    """Cancel a replacement that filled to the size the books gave it after shrinking it by a
    part fill of the stop it replaced (see ``Books.resized``): if that fill came before the
    replace reached the venue, the venue sized it larger and still works the rest. A venue
    whose order is done answers that it cannot cancel it, which the runner takes as done."""
    books = d.books
    if books.leftover is not None:
        d.commands.append(CancelOrder(client_order_id=books.leftover, symbol=d.symbol))
        books.leftover = None


def finish_attempt(d: Decision) -> None:
    """Back to flat: forget the attempt's exit reason and stops (counters stay)."""
    _cancel_leftover(d)
    books = d.books
    books.resized = None
    books.held = books.swapping = None
    books.winding_down = None
    books.entry_side = None
    books.initial_stop = None
    books.desired_stop = None


def close_day(d: Decision) -> None:
    """Square-off: no new entry until the next trading day."""
    d.books.done_for_day = True


def reset_day(d: Decision) -> None:
    """A new trading day: the entry counter starts again."""
    event = d.event
    assert isinstance(event, DayRolledOver)
    d.books.new_day(event.trading_date)
    d.books.entries_today = 0
    d.books.done_for_day = False


def halt_symbol(d: Decision) -> None:
    """Stop trading the symbol: cancel its entries, keep its stop; flatten when the halt asks."""
    event = d.event
    if isinstance(event, HaltRequested):
        reason, flatten = event.reason, event.flatten
    else:  # the anomaly policy: its row in the table says whether to flatten
        reason, flatten = d.reason or d.trigger, False
    if d.books.halt_reason is None:
        d.books.halt_reason = reason
    cancel_entries(d)
    if flatten:
        begin_wind_down(d)


def clear_halt(d: Decision) -> None:
    """Let the symbol trade again (the operator has seen to any alarm)."""
    d.books.halt_reason = None
    d.books.alarm = None


def raise_alarm(d: Decision) -> None:
    """The anomaly is the operator's to resolve: the machine will not guess (field lesson 1).

    The first alarm's reason is kept until ``resume``; the snapshot shows it as ``alarm``.
    """
    if d.books.alarm is None:
        d.books.alarm = d.reason or d.trigger
