"""The lifecycle table of one symbol: every (state, trigger) pair declared exactly once, as data.

A declaration is one of:

- ``Moves`` — candidate transitions tried in order (``Go``: destination, guards, effects; a
  ``None`` destination stays in the state), then ``otherwise`` when every guard said no;
- ``Ignore`` — a race: a stale or duplicate event; nothing changes, ``race_detected`` is counted;
- ``Decline`` — a rule refused a strategy event (no attempts left, not tighter, ...);
- ``Anomaly`` — should be impossible; the broker's facts are recorded, then the declared policy
  runs: halt the symbol, and flatten it when ``flatten``. ``unreachable`` marks pairs that the
  classification of order events cannot produce; reaching one is a bug, handled as an anomaly.

The anomaly policy itself is rows of this table too: the triggers ``anomaly`` and
``anomaly_flatten`` (``ANOMALY_TRIGGERS``), which the machine fires after recording an anomaly's
facts, move every trading state to ``halted`` and keep a halted symbol halted. ``anomaly_flatten``
also starts closing the position; ``anomaly`` raises the operator alarm instead (the machine will
not guess: ``Snapshot.alarm`` names the anomaly until ``resume``). No event names them; the
machine, the diagrams and the Markdown table read the policy from here and nowhere else.

The module checks at import that the declarations are total and unique; the diagrams and the
Markdown table in ``diagrams/`` are generated from ``DECLARATIONS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from machines import _effects as fx
from machines import _guards as g
from machines._decision import Decision
from machines._state import HOLDING, TRADING, State

__all__ = [
    "ANOMALY_TRIGGERS",
    "DECLARATIONS",
    "EVENT_TRIGGERS",
    "LIFECYCLE_TABLE",
    "STATES",
    "TRIGGERS",
    "Anomaly",
    "Decline",
    "Go",
    "Ignore",
    "Moves",
]

Guard = Callable[[Decision], bool]
Effect = Callable[[Decision], None]

STATES = tuple(State)
FLAT, PENDING, CANCELLING = State.FLAT, State.ENTRY_PENDING, State.ENTRY_CANCELLING
IN, REPLACING, EXITING, HALTED = (
    State.IN_POSITION,
    State.STOP_REPLACING,
    State.EXITING,
    State.HALTED,
)


@dataclass(frozen=True, slots=True)
class Go:
    """A candidate transition: taken when every guard holds; ``dest=None`` stays put."""

    dest: State | None
    guards: tuple[Guard, ...] = ()
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True, slots=True)
class Ignore:
    """A race: stale or duplicate; nothing changes."""

    reason: str


@dataclass(frozen=True, slots=True)
class Decline:
    """A rule said no; ``reason=None`` reports the guard that failed."""

    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Should not happen: record the facts, halt, and flatten when ``flatten``."""

    reason: str
    flatten: bool = False


@dataclass(frozen=True, slots=True)
class Moves:
    """Transitions tried in order, then ``otherwise`` (``None``: a guard-free last move exists)."""

    goes: tuple[Go, ...]
    otherwise: Ignore | Decline | Anomaly | None = None


Declaration = Moves | Ignore | Decline | Anomaly


def moves(*goes: Go, otherwise: Ignore | Decline | Anomaly | None = None) -> Moves:
    return Moves(goes, otherwise)


STAY = Go(None)
UNREACHABLE = Anomaly("unreachable")
# Closing a position: flat once settled, else keep cancelling/closing what remains.
SETTLE = moves(Go(FLAT, (g.settled,), (fx.finish_attempt,)), Go(None, (), (fx.progress_wind_down,)))
# Halted: record broker facts; keep an exit in progress going, or keep the position covered.
HALTED_BOOKKEEPING = moves(
    Go(None, (g.winding_down,), (fx.progress_wind_down,)), Go(None, (), (fx.protect_position,))
)
STOPPED_OUT = moves(
    Go(FLAT, (g.settled,), (fx.finish_attempt,)),
    Go(EXITING, (g.position_flat,), (fx.begin_wind_down,)),  # cancel the entry's remainder
    # Entry fills outgrew the stop, which is now spent: close the rest rather than sit unprotected.
    Go(EXITING, (g.stop_spent,), (fx.begin_wind_down,)),
    STAY,  # a partial fill of the stop
)
# More of the entry filled, or its remainder was cancelled: place the stop if it waited for that
# (a venue refusing opposite orders), else resize the live one.
AFTER_ENTRY_FILL = moves(
    Go(None, (g.stop_missing,), (fx.protect_fill,)),
    Go(REPLACING, (g.stop_needs_update,), (fx.request_replace,)),
    STAY,
)
NO_POSITION, NO_PENDING_ENTRY, ALREADY_EXITING, HALTED_NO = (
    Decline("no_position"),
    Decline("no_pending_entry"),
    Decline("exiting"),
    Decline("halted"),
)

RULES: tuple[tuple[str, tuple[State, ...], Declaration], ...] = (
    # --- strategy events -------------------------------------------------------------------
    ("entry_signal", (FLAT,), moves(
        Go(PENDING, (g.day_open, g.entry_window_open, g.attempts_left), (fx.open_attempt,)),
        otherwise=Decline())),
    ("entry_signal", (PENDING, CANCELLING, IN, REPLACING, EXITING), Decline("one_attempt_at_a_time")),
    ("entry_signal", (HALTED,), HALTED_NO),
    # No stop order exists before the fill, so a revision may loosen as well as tighten.
    ("revise_initial_stop", (PENDING,), moves(
        Go(None, (g.side_leg_working, g.stop_protects_leg), (fx.revise_initial_stop,)),
        otherwise=Decline())),
    ("revise_initial_stop", (FLAT, CANCELLING), NO_PENDING_ENTRY),
    ("revise_initial_stop", (IN, REPLACING), Decline("already_filled")),  # the stop exists
    ("revise_initial_stop", (EXITING,), ALREADY_EXITING),
    ("revise_initial_stop", (HALTED,), HALTED_NO),
    # A pair resting one leg at a time: swap in the held leg when the price is nearer it.
    ("price_moved", (PENDING,), moves(
        Go(None, (g.held_leg_nearer,), (fx.swap_legs,)), otherwise=Decline("resting_leg_nearer"))),
    ("price_moved", (FLAT, CANCELLING, IN, REPLACING), NO_PENDING_ENTRY),
    ("price_moved", (EXITING,), ALREADY_EXITING),
    ("price_moved", (HALTED,), HALTED_NO),
    ("trail", (IN,), moves(
        Go(REPLACING, (g.tighter, g.stop_live), (fx.raise_stop, fx.request_replace)),
        Go(None, (g.tighter,), (fx.raise_stop,)),  # stop placement still in flight
        otherwise=Decline())),
    ("trail", (REPLACING,), moves(Go(None, (g.tighter,), (fx.raise_stop,)), otherwise=Decline())),
    ("trail", (FLAT, PENDING, CANCELLING), NO_POSITION),
    ("trail", (EXITING,), ALREADY_EXITING),
    ("trail", (HALTED,), HALTED_NO),
    ("exit_signal", (FLAT,), NO_POSITION),
    ("exit_signal", (PENDING, CANCELLING, IN, REPLACING), moves(Go(EXITING, (), (fx.begin_wind_down,)))),
    ("exit_signal", (EXITING,), ALREADY_EXITING),
    ("exit_signal", (HALTED,), moves(Go(None, (), (fx.begin_wind_down,)))),
    ("square_off", (FLAT, EXITING), moves(Go(None, (), (fx.close_day,)))),
    ("square_off", (PENDING, CANCELLING, IN, REPLACING), moves(
        Go(EXITING, (), (fx.close_day, fx.begin_wind_down)))),
    ("square_off", (HALTED,), moves(Go(None, (), (fx.close_day, fx.begin_wind_down)))),
    ("day_rollover", STATES, moves(
        Go(None, (g.later_date,), (fx.reset_day,)), otherwise=Ignore("stale_rollover"))),
    ("halt", TRADING, moves(Go(HALTED, (), (fx.halt_symbol,)))),
    ("halt", (HALTED,), Decline("already_halted")),
    # Books the broker contradicted cannot trade again until they agree with it.
    ("resume", (HALTED,), moves(
        Go(FLAT, (g.settled, g.undisputed), (fx.clear_halt, fx.finish_attempt)),
        Go(IN, (g.protected, g.undisputed), (fx.clear_halt,)),
        otherwise=Decline("books_not_coherent"))),
    ("resume", TRADING, Decline("not_halted")),
    ("entry_timeout", (PENDING,), moves(
        Go(CANCELLING, (g.for_current_attempt,), (fx.cancel_entries,)), otherwise=Ignore("stale_timer"))),
    ("entry_timeout", (IN, REPLACING), moves(
        Go(None, (g.for_current_attempt, g.entry_working), (fx.cancel_entries,)),
        otherwise=Ignore("stale_timer"))),
    ("entry_timeout", (FLAT, CANCELLING, EXITING, HALTED), Ignore("stale_timer")),
    ("broker_snapshot", STATES, moves(
        Go(None, (g.position_matches,)), otherwise=Anomaly("position_mismatch"))),
    # A snapshot whose position agrees while its open orders show working ones ended (their
    # notices lost) or acknowledged: the draft holds them so; carry on as their notices would.
    # A stop that waited for the entry's remainder is placed (or waits on), as its cancel would.
    ("orders_differ", (PENDING,), moves(
        Go(None, (g.swap_due,), (fx.place_held_leg,)),
        Go(FLAT, (g.settled,), (fx.finish_attempt,)), STAY)),
    ("orders_differ", (CANCELLING,), moves(Go(FLAT, (g.settled,), (fx.finish_attempt,)), STAY)),
    ("orders_differ", (IN, REPLACING), moves(
        Go(None, (g.stop_unplaced,), (fx.protect_fill,)),
        Go(REPLACING, (g.stop_live, g.stop_needs_update), (fx.request_replace,)),
        Go(IN, (g.stop_working,)),
        otherwise=Anomaly("stop_gone", flatten=True))),
    ("orders_differ", (EXITING,), SETTLE),
    ("orders_differ", (HALTED,), HALTED_BOOKKEEPING),
    # --- the entry leg(s) ------------------------------------------------------------------
    ("entry_accepted", (PENDING, IN, REPLACING), moves(STAY)),
    ("entry_rejected", (PENDING,), moves(
        Go(None, (g.swap_due,), (fx.place_held_leg,)),
        Go(FLAT, (g.settled,), (fx.finish_attempt,)), STAY)),
    ("entry_rejected", (CANCELLING,), moves(Go(FLAT, (g.settled,), (fx.finish_attempt,)), STAY)),
    ("entry_rejected", (IN, REPLACING), moves(STAY)),
    ("entry_rejected", (EXITING,), SETTLE),
    ("entry_rejected", (HALTED,), HALTED_BOOKKEEPING),
    ("entry_filled", (PENDING,), moves(Go(IN, (), (fx.cancel_other_legs, fx.protect_fill)))),
    ("entry_filled", (CANCELLING,), moves(Go(IN, (), (fx.protect_fill,)))),
    ("entry_filled", (IN,), AFTER_ENTRY_FILL),
    ("entry_filled", (REPLACING,), moves(STAY)),  # the stop is resized when the replace lands
    ("entry_filled", (EXITING,), SETTLE),
    ("entry_filled", (HALTED,), HALTED_BOOKKEEPING),
    ("entry_cancelled", (PENDING,), moves(
        Go(IN, (g.position_open,), (fx.cancel_other_legs, fx.protect_fill)),  # it filled in part
        Go(None, (g.swap_due,), (fx.place_held_leg,)),  # a swap: the held leg goes now
        Go(FLAT, (g.settled,), (fx.finish_attempt,)),
        STAY)),
    ("entry_cancelled", (CANCELLING,), moves(
        Go(IN, (g.position_open,), (fx.cancel_other_legs, fx.protect_fill)),  # it filled in part
        Go(FLAT, (g.settled,), (fx.finish_attempt,)),
        STAY)),
    ("entry_cancelled", (IN,), AFTER_ENTRY_FILL),
    ("entry_cancelled", (REPLACING,), moves(STAY)),
    ("entry_cancelled", (EXITING,), SETTLE),
    ("entry_cancelled", (HALTED,), HALTED_BOOKKEEPING),
    ("opposite_leg_filled", (IN, REPLACING, EXITING), Anomaly("both_legs_filled", flatten=True)),
    ("opposite_leg_filled", (HALTED,), Anomaly("both_legs_filled")),
    # --- the protective stop ---------------------------------------------------------------
    ("stop_accepted", (IN,), AFTER_ENTRY_FILL),
    ("stop_accepted", (HALTED,), HALTED_BOOKKEEPING),
    # Refused: a fresh stop under the next id, a bounded number of times, then halt and close.
    ("stop_rejected", (IN,), moves(
        Go(None, (g.renewal_left,), (fx.renew_stop,)),
        otherwise=Anomaly("stop_rejected", flatten=True))),
    ("stop_rejected", (REPLACING,), Anomaly("stop_rejected", flatten=True)),
    ("stop_rejected", (EXITING,), SETTLE),
    ("stop_rejected", (HALTED,), moves(
        Go(None, (g.winding_down,), (fx.progress_wind_down,)),
        otherwise=Anomaly("stop_rejected"))),
    ("stop_filled", (IN, REPLACING), STOPPED_OUT),
    ("stop_filled", (EXITING,), SETTLE),
    ("stop_filled", (HALTED,), HALTED_BOOKKEEPING),
    ("stop_cancelled", (IN, REPLACING), Anomaly("stop_cancelled_unexpectedly", flatten=True)),
    ("stop_cancelled", (EXITING,), SETTLE),
    ("stop_cancelled", (HALTED,), moves(
        Go(None, (g.winding_down,), (fx.progress_wind_down,)),
        otherwise=Anomaly("stop_cancelled_unexpectedly"))),
    ("stop_replaced", (REPLACING,), moves(
        Go(None, (g.stop_working, g.stop_needs_update), (fx.request_replace,)),
        Go(IN, (g.stop_working,)),
        otherwise=Anomaly("unexpected_replace", flatten=True))),
    ("stop_replaced", (IN,), Anomaly("unexpected_replace", flatten=True)),
    ("stop_replaced", (EXITING,), SETTLE),
    ("stop_replaced", (HALTED,), HALTED_BOOKKEEPING),
    ("replacement_accepted", (REPLACING,), moves(
        Go(None, (g.stop_needs_update,), (fx.request_replace,)), Go(IN))),
    ("replacement_accepted", (HALTED,), HALTED_BOOKKEEPING),
    ("replacement_rejected", (REPLACING,), moves(
        Go(IN, (g.stop_covers,)),  # the old stop still protects all of it (a trail refused)
        # The position changed while the replace flew: ask for the size it needs now.
        Go(REPLACING, (g.stop_live, g.resize_untried), (fx.request_replace,)),
        # The venue refused the very size the position needs: close it rather than sit part
        # unprotected, and never ask again and again.
        otherwise=Anomaly("resize_rejected", flatten=True))),
    ("replacement_rejected", (EXITING,), SETTLE),
    ("replacement_rejected", (HALTED,), HALTED_BOOKKEEPING),
    ("replacement_filled", (REPLACING,), moves(
        Go(FLAT, (g.settled,), (fx.finish_attempt,)),
        Go(EXITING, (g.position_flat,), (fx.begin_wind_down,)),
        Go(EXITING, (g.stop_spent,), (fx.begin_wind_down,)),  # entry fills outgrew it
        Go(IN))),  # a partial fill: the replacement is the stop now
    ("replacement_filled", (EXITING,), SETTLE),
    ("replacement_filled", (HALTED,), HALTED_BOOKKEEPING),
    ("replacement_cancelled", (REPLACING,), moves(
        Go(IN, (g.stop_working,)), otherwise=Anomaly("stop_cancelled_unexpectedly", flatten=True))),
    ("replacement_cancelled", (EXITING,), SETTLE),
    ("replacement_cancelled", (HALTED,), HALTED_BOOKKEEPING),
    # --- the closing order -----------------------------------------------------------------
    ("exit_accepted", (EXITING, HALTED), moves(STAY)),
    # Refused: a fresh closing order, a bounded number of times; then the operator's.
    ("exit_rejected", (EXITING,), moves(
        Go(None, (g.renewal_left,), (fx.renew_exit,)), otherwise=Anomaly("exit_rejected"))),
    ("exit_rejected", (HALTED,), moves(
        Go(None, (g.winding_down, g.renewal_left), (fx.renew_exit,)),
        otherwise=Anomaly("exit_rejected"))),
    ("exit_filled", (EXITING,), SETTLE),
    ("exit_filled", (HALTED,), HALTED_BOOKKEEPING),
    ("exit_cancelled", (EXITING, HALTED), Anomaly("exit_cancelled")),
    # --- order events no role owns ---------------------------------------------------------
    ("duplicate_order_event", HOLDING, Ignore("duplicate_order_event")),
    ("stale_order_event", STATES, Ignore("stale_order_event")),
    ("foreign_order_event", STATES, Ignore("foreign_order_event")),
    ("foreign_fill", STATES, Anomaly("foreign_fill")),
    ("late_fill", TRADING, Anomaly("fill_after_terminal", flatten=True)),
    ("overfill", (PENDING, CANCELLING, IN, REPLACING, EXITING), Anomaly("overfill", flatten=True)),
    ("unexpected_replace", (PENDING, CANCELLING, IN, REPLACING, EXITING), Anomaly("unexpected_replace", flatten=True)),
    # Halted, the books are already in doubt: an anomaly is recorded and counted but never starts
    # a flatten of a position the machine may have wrong — the operator decides (field lesson 1).
    ("late_fill", (HALTED,), Anomaly("fill_after_terminal")),
    ("overfill", (HALTED,), Anomaly("overfill")),
    ("unexpected_replace", (HALTED,), Anomaly("unexpected_replace")),
    # --- pairs the classification of order events cannot produce ---------------------------
    # Flat is only ever entered settled: no order works there, so none can be named as working.
    ("duplicate_order_event", (FLAT,), UNREACHABLE),
    ("orders_differ", (FLAT,), UNREACHABLE),
    ("overfill", (FLAT,), UNREACHABLE),
    ("unexpected_replace", (FLAT,), UNREACHABLE),
    # Every way into these states cancels the entry legs (and an exit cancels the replacement):
    # an acknowledgement for an order already being cancelled is classified as a duplicate.
    ("entry_accepted", (FLAT, CANCELLING, EXITING, HALTED), UNREACHABLE),
    ("entry_rejected", (FLAT,), UNREACHABLE),
    ("entry_filled", (FLAT,), UNREACHABLE),
    ("entry_cancelled", (FLAT,), UNREACHABLE),
    ("opposite_leg_filled", (FLAT, PENDING, CANCELLING), UNREACHABLE),
    ("stop_accepted", (FLAT, PENDING, CANCELLING, REPLACING, EXITING), UNREACHABLE),
    ("stop_rejected", (FLAT, PENDING, CANCELLING), UNREACHABLE),
    ("stop_filled", (FLAT, PENDING, CANCELLING), UNREACHABLE),
    ("stop_cancelled", (FLAT, PENDING, CANCELLING), UNREACHABLE),
    ("stop_replaced", (FLAT, PENDING, CANCELLING), UNREACHABLE),
    ("replacement_accepted", (FLAT, PENDING, CANCELLING, IN, EXITING), UNREACHABLE),
    ("replacement_rejected", (FLAT, PENDING, CANCELLING, IN), UNREACHABLE),
    ("replacement_filled", (FLAT, PENDING, CANCELLING, IN), UNREACHABLE),
    ("replacement_cancelled", (FLAT, PENDING, CANCELLING, IN), UNREACHABLE),
    ("exit_accepted", (FLAT, PENDING, CANCELLING, IN, REPLACING), UNREACHABLE),
    ("exit_rejected", (FLAT, PENDING, CANCELLING, IN, REPLACING), UNREACHABLE),
    ("exit_filled", (FLAT, PENDING, CANCELLING, IN, REPLACING), UNREACHABLE),
    ("exit_cancelled", (FLAT, PENDING, CANCELLING, IN, REPLACING), UNREACHABLE),
    # --- the anomaly policy: fired by the machine itself once an anomaly's facts are recorded --
    # An anomaly the policy does not flatten is the operator's: halt and raise the alarm.
    ("anomaly", TRADING, moves(Go(HALTED, (), (fx.halt_symbol, fx.raise_alarm)))),
    ("anomaly", (HALTED,), moves(Go(None, (), (fx.halt_symbol, fx.raise_alarm)))),
    ("anomaly_flatten", TRADING, moves(Go(HALTED, (), (fx.halt_symbol, fx.begin_wind_down)))),
    # Halted, the books are in doubt: never flattened by the policy (field lesson 1).
    ("anomaly_flatten", (HALTED,), moves(Go(None, (), (fx.halt_symbol,)))),
)  # fmt: skip

#: The triggers of the anomaly policy: halt, or halt and flatten (``Anomaly.flatten``).
ANOMALY_TRIGGERS = ("anomaly", "anomaly_flatten")


def _collect() -> tuple[tuple[str, ...], dict[tuple[State, str], Declaration]]:
    triggers: list[str] = []
    table: dict[tuple[State, str], Declaration] = {}
    for trigger, sources, declaration in RULES:
        if trigger not in triggers:
            triggers.append(trigger)
        for state in sources:
            if state not in STATES:
                raise AssertionError(f"unknown state {state!r} for {trigger!r}")
            if (state, trigger) in table:
                raise AssertionError(f"({state}, {trigger}) is declared twice")
            table[(state, trigger)] = declaration
    missing = [(s, t) for t in triggers for s in STATES if (s, t) not in table]
    if missing:
        raise AssertionError(f"undeclared (state, trigger) pairs: {missing}")
    for (state, trigger), declaration in table.items():
        if (
            isinstance(declaration, Moves)
            and not declaration.otherwise
            and declaration.goes[-1].guards
        ):
            raise AssertionError(f"({state}, {trigger}) can fall through: add otherwise=")
    return tuple(triggers), table


TRIGGERS, DECLARATIONS = _collect()
#: The declared table, read-only: (state, trigger) -> its one declaration.
LIFECYCLE_TABLE: Mapping[tuple[State, str], Declaration] = MappingProxyType(DECLARATIONS)
#: The triggers an event stands for: every trigger but the anomaly policy's own.
EVENT_TRIGGERS = tuple(t for t in TRIGGERS if t not in ANOMALY_TRIGGERS)
