"""The properties a model check proves after every step, on the machine's side and the venue's.

docs/design.md §2's invariants 1-7 on the machine, and on the venue: the position never reverses or
outgrows the entry; never two live entries or two live stops; once nothing is in flight the
books agree with the venue, a position is covered by one stop of exactly its size, a wind-down
has reached flat, and a halted symbol with a position has something working or has raised a
declared operator alarm.

The machine also never asks for more than its books hold (a stop, replacement or close).

A finding is a ``violation`` unless the lifecycle table declares it as policy (an anomaly's
halt, an alarm, the both-legs-filled flatten; a replacement the venue sized past the position
because of fills the machine had not heard of, whose fill past it the machine names
``overfill`` or ``fill_after_terminal`` and closes; ``Rules.stop_waits_for_entry``'s window
before the stop, while the entry remainder's cancel flies): then it is a ``note``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from machines import (
    LIFECYCLE_TABLE,
    Anomaly,
    ClientOrderId,
    ClosePosition,
    Decline,
    Ignore,
    Moves,
    OrderRole,
    Outcome,
    OutcomeKind,
    PlaceEntry,
    PlaceStop,
    ReplaceStop,
    Rules,
    Side,
    Snapshot,
    State,
    TrackStatus,
    is_on_tick,
)
from strategies.verify._world import Applied, Step, VenueOrder, World

__all__ = ["Finding", "check_state", "check_transition"]

_ZERO = Decimal(0)
_PROTECTED = frozenset({State.IN_POSITION, State.STOP_REPLACING})


@dataclass(frozen=True, slots=True)
class Finding:
    """One property that failed (``note``: a failure the table declares as policy)."""

    invariant: str
    detail: str
    note: bool = False


def check_transition(before: World, step: Step, applied: Applied) -> list[Finding]:
    """What one step must respect, whatever state it reaches: every outcome is the one the
    table declares, a stale or refused event changes nothing and drops no fill, a stop moves
    only toward safety on the tick, a reconciliation leaves the books right or the symbol
    halted."""
    found = list(_outcome_checks(before, applied))
    after = applied.world
    if step.kind == "snapshot" and applied.raised is None:
        snap = after.machine.snapshot()
        if snap.position != after.position and not snap.is_halted:
            found.append(
                Finding(
                    "reconciled_or_halted",
                    f"after a snapshot the books hold {snap.position}, the venue "
                    f"{after.position}, and the symbol trades on",
                )
            )
    return found


def check_state(world: World) -> list[Finding]:
    """What every state must satisfy (checked once per distinct state)."""
    found = list(_books_checks(world))
    found += _venue_checks(world)
    if world.at_rest:
        found += _at_rest_checks(world)
    return found


# --- the machine -------------------------------------------------------------------------------


def _outcome_checks(before: World, applied: Applied) -> Iterator[Finding]:
    if applied.raised is not None:
        yield Finding("fire_never_raises", f"fire() raised {applied.raised!r}")
        return
    previous = before.machine.snapshot()
    after = applied.world
    rules = after.setup.rules
    for event, outcome in zip(applied.events, applied.outcomes, strict=True):
        snap = outcome.snapshot
        yield from _declared(outcome)
        if outcome.kind in (OutcomeKind.IGNORED, OutcomeKind.DECLINED):
            if outcome.commands or _core(snap) != _core(previous):
                yield Finding(
                    "stale_changes_nothing",
                    f"{outcome.kind} {outcome.trigger} ({outcome.reason}) changed the books",
                )
            filled = getattr(event, "filled_qty", None)
            cid = getattr(event, "client_order_id", "")
            if filled is not None and cid in after.orders and filled > after.taken.get(cid, _ZERO):
                yield Finding(
                    "position_is_sum_of_fills",
                    f"a fill of {cid} to {filled} was dropped as {outcome.reason}",
                )
        if outcome.kind is OutcomeKind.ANOMALY:
            yield Finding("anomaly", f"{outcome.reason} in {outcome.state_from}", note=True)
        yield from _stop_moves(previous, snap, outcome, rules)
        previous = snap


def _books_checks(world: World) -> Iterator[Finding]:
    snap = world.machine.snapshot()
    sides = {cid: o.side for cid, o in world.orders.items()}
    expected = sum((sides[cid].sign * q for cid, q in world.taken.items()), _ZERO)
    if snap.position != expected:
        yield Finding(
            "position_is_sum_of_fills",
            f"books hold {snap.position}, the fills the machine took sum to {expected}",
        )
    attempts = {_attempt(t.client_order_id) for t in snap.working_entries}
    if len(attempts) > 1:
        yield Finding("one_attempt_at_a_time", f"entries of {len(attempts)} attempts work at once")
    if not 0 <= snap.entries_today <= snap.max_attempts:
        yield Finding(
            "attempts_bounded", f"{snap.entries_today} entries today, at most {snap.max_attempts}"
        )
    uncovered = not any(t.role is OrderRole.STOP for t in snap.working_orders)
    waits = uncovered and _stop_waits_for_entry(world.setup.rules, snap)
    # A halt keeps the position covered (or closes it, or raises the alarm).
    if uncovered and snap.is_halted and snap.position and not (snap.alarm or snap.exit_reason):
        if waits:
            yield Finding(
                "halted_covered_or_alarm",
                "halted: the stop waits for the cancel of the entry's remainder",
                note=True,
            )
        else:
            yield Finding(
                "halted_covered_or_alarm",
                f"halted holding {snap.position}, no stop working or in flight, no alarm",
            )
    if snap.state in _PROTECTED:
        if snap.position == 0:
            yield Finding("in_position_protected", f"{snap.state} with no position")
        elif waits:
            yield Finding(
                "in_position_protected",
                f"{snap.state}: the stop waits for the cancel of the entry's remainder",
                note=True,
            )
        elif uncovered:
            yield Finding(
                "in_position_protected",
                f"{snap.state} holding {snap.position} with no stop working or in flight",
            )


def _stop_waits_for_entry(rules: Rules, snap: Snapshot) -> bool:
    """The declared window of ``Rules.stop_waits_for_entry``: a position opened in part, its
    stop placed only once the cancel of the entry's working remainder on the position's side
    is answered (the venue refuses a stop opposite it). The at-rest checks bound the window:
    once every cancel is answered the stop must be there."""
    return rules.stop_waits_for_entry and any(
        t.role is OrderRole.ENTRY
        and t.side is snap.side
        and t.status is TrackStatus.CANCEL_SENT
        for t in snap.working_orders
    )


def _declared(outcome: Outcome) -> Iterator[Finding]:
    """Invariant 7: the outcome is what the table declares for (state, trigger)."""
    if outcome.reason == "unreachable":
        yield Finding(
            "declared_transition",
            f"{outcome.trigger} in {outcome.state_from} is declared unreachable, yet happened",
        )
        return
    declaration = LIFECYCLE_TABLE[(outcome.state_from, outcome.trigger)]
    otherwise = declaration.otherwise if isinstance(declaration, Moves) else declaration
    ok = {
        OutcomeKind.ACCEPTED: isinstance(declaration, Moves)
        and outcome.state_to in {go.dest or outcome.state_from for go in declaration.goes},
        OutcomeKind.ANOMALY: isinstance(otherwise, Anomaly) and outcome.state_to is State.HALTED,
        OutcomeKind.IGNORED: isinstance(otherwise, Ignore),
        OutcomeKind.DECLINED: isinstance(otherwise, Decline),
    }[outcome.kind]
    if not ok:
        yield Finding(
            "declared_transition",
            f"{outcome.kind} {outcome.trigger}: {outcome.state_from} -> {outcome.state_to} "
            "is not what the table declares",
        )


def _core(s: Snapshot) -> tuple[object, ...]:
    return (
        s.state,
        s.position,
        s.side,
        s.working_orders,
        s.stop_price,
        s.desired_stop,
        s.entries_today,
        s.trading_date,
        s.halt_reason,
        s.exit_reason,
        s.done_for_day,
    )


def _stop_moves(
    before: Snapshot, after: Snapshot, outcome: Outcome, rules: Rules
) -> Iterator[Finding]:
    """Invariant 3: prices on the tick; within one position a stop only tightens."""
    tick = rules.tick
    for command in outcome.commands:
        if isinstance(command, PlaceEntry | PlaceStop | ReplaceStop) and not is_on_tick(
            command.stop_price, tick
        ):
            yield Finding("stops_on_tick", f"{type(command).__name__} at {command.stop_price}")
        if isinstance(command, PlaceStop | ReplaceStop | ClosePosition) and (
            command.qty > abs(after.position)
        ):
            yield Finding(
                "asks_within_books",
                f"{type(command).__name__} for {command.qty}, the books hold {after.position}",
            )
        wanted = after.desired_stop
        if isinstance(command, PlaceStop | ReplaceStop) and command.stop_price != wanted:
            yield Finding(
                "stops_tighten_only",
                f"{type(command).__name__} at {command.stop_price}, the machine wants "
                f"{after.desired_stop}",
            )
    for price in (after.stop_price, after.desired_stop):
        if price is not None and not is_on_tick(price, tick):
            yield Finding("stops_on_tick", f"a stop at {price}")
    same_position = (
        before.side is not None
        and before.side is after.side
        and (before.trading_date, before.entries_today) == (after.trading_date, after.entries_today)
    )
    old, new = before.desired_stop, after.desired_stop
    if same_position and old is not None and new is not None:
        looser = new < old if after.side is Side.BUY else new > old
        if looser:
            yield Finding("stops_tighten_only", f"the stop moved from {old} to {new}")


@lru_cache(maxsize=4096)
def _attempt(cid: str) -> tuple[object, int] | None:
    parsed = ClientOrderId.parse(cid)
    return None if parsed is None else (parsed.trading_date, parsed.attempt)


# --- the venue ---------------------------------------------------------------------------------


def _venue_checks(w: World) -> Iterator[Finding]:
    position = w.position
    qty = w.setup.qty
    if position:
        side = Side.BUY if position > 0 else Side.SELL
        if w.entry_side is None or side is not w.entry_side or abs(position) > qty:
            what = (
                "outgrew the entry"
                if w.entry_side is side
                else "reversed"
            )
            if w.double_fill:  # declared: the policy flattens the excess
                yield Finding("no_reversal", f"{what} after both legs filled", note=True)
            elif w.overfilled:  # declared: the machine names it overfill and closes the excess
                yield Finding(
                    "no_reversal", f"{what}: a stop the venue sized past it filled", note=True
                )
            else:
                yield Finding(
                    "no_reversal",
                    f"the venue's position {what}: {position} (entry {w.entry_side}, {qty})",
                )
    open_orders = w.open_orders()
    entries = {_attempt(o.client_order_id) for o in open_orders if o.role is OrderRole.ENTRY}
    if len(entries) > 1:
        yield Finding("one_live_entry", f"the venue holds entries of {len(entries)} attempts")
    if w.setup.rules.one_resting_leg:
        sides = {o.side for o in open_orders if o.role is OrderRole.ENTRY}
        if len(sides) > 1:  # what Alpaca refuses as a wash trade (row 1)
            yield Finding("one_resting_leg", "the venue holds a buy and a sell entry at once")
    stops = [o.client_order_id for o in open_orders if o.role is OrderRole.STOP]
    if len(stops) > 1:
        yield Finding("one_live_stop", f"the venue holds {len(stops)} stops: {stops}")


def _at_rest_checks(w: World) -> Iterator[Finding]:
    """Once nothing is in flight: books agree, the position is covered, a wind-down is done."""
    if w.lost:
        return  # the machine cannot know what was lost until the next reconciliation
    snap = w.machine.snapshot()
    alarm = snap.is_halted and snap.alarm is not None
    why = f" (alarm: {snap.alarm})" if alarm else ""
    if not w.in_sync():
        if alarm:
            yield Finding("books_agree_at_rest", f"books and venue differ{why}", note=True)
        else:
            yield Finding(
                "books_agree_at_rest",
                f"books: {snap.position} with {sorted(_ids(snap))}; venue: {w.position} with "
                f"{sorted(o.client_order_id for o in w.open_orders())}",
            )
        return
    position = w.position
    if snap.state is State.EXITING:
        yield Finding("wind_down_completes", f"exiting at rest with {position} at the venue")
    if not position:
        return
    stops = [o for o in w.open_orders() if o.role is OrderRole.STOP]
    covered = len(stops) == 1 and stops[0].remaining == abs(position)
    if covered:
        return
    if len(stops) == 1 and _sized_past_by_the_venue(w, snap, stops[0], position):
        yield Finding(
            "protected_at_rest",
            f"{snap.state} at rest, the venue's stop larger than the position",
            note=True,
        )
        return
    what = (
        f"a stop for {stops[0].remaining}" if len(stops) == 1 else f"{len(stops)} stops"
    )
    if alarm:  # one note per alarm, whatever the position
        yield Finding("protected_at_rest", f"{snap.state} at rest, not covered{why}", note=True)
        return
    yield Finding("protected_at_rest", f"{snap.state} holding {position} at rest with {what}")


def _sized_past_by_the_venue(
    w: World, snap: Snapshot, stop: VenueOrder, position: Decimal
) -> bool:
    """The venue holds a replacement stop larger than the position, sized so because fills
    the machine had not heard of came before the request reached the venue, while the machine
    books it at exactly the position. Over-, never under-covered: its fill past the position is the
    declared ``overfill`` anomaly (halt, close the excess)."""
    if stop.client_order_id not in w.raced or stop.remaining <= abs(position):
        return False
    return any(
        t.client_order_id == stop.client_order_id
        and t.qty - t.filled_qty == abs(snap.position) == abs(position)
        for t in snap.working_orders
    )


def _ids(snap: Snapshot) -> set[str]:
    return {t.client_order_id for t in snap.working_orders}
