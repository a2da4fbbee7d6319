"""One symbol's lifecycle machine: ``fire(event)`` decides, and publishes under the symbol's lock.

The definition is one shared, static ``transitions.Machine`` built from the lifecycle table
(``auto_transitions=False``; guards and effects are handed the ``Decision`` itself, the
trigger's one argument, rather than an ``EventData`` to unwrap); each symbol is a small object
holding its state, its books and its own ``RLock``. ``fire()`` is the only way to change either.
It decides on the published (immutable) books without the lock: it classifies the event,
consults the table, and ``transitions`` runs the trigger (guards, then effects on a draft of
the books) on a scratch model holding the state's name. Under the lock it proves nobody
published in between (copy, work, re-check, update) and publishes the state, books and
counters; a decision another thread overtook is made again on what it published (unlocked,
``_UNLOCKED_TRIES`` times in all, then holding the lock). It returns an ``Outcome`` with the
commands to execute *after* the lock is released, plus an immutable ``Snapshot``::

    >>> from datetime import date
    >>> m = SymbolMachine(strategy="s8020", symbol="AAPL", trading_date=date(2026, 11, 23))
    >>> m.state
    <State.FLAT: 'flat'>
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from dataclasses import field
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from transitions import Machine

from machines._books import ORDERS_DIFFER, Books, classify_order_event
from machines._commands import Command
from machines._decision import Decision
from machines._events import (
    BrokerSnapshotTaken,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
)
from machines._lifecycle import DECLARATIONS, Anomaly, Decline, Ignore, Moves
from machines._rules import Rules, check_identity
from machines._snapshot import Counters, Snapshot
from machines._state import State
from machines._values import value

__all__ = ["Outcome", "OutcomeKind", "SymbolMachine"]

# transitions logs every callback at INFO; that halves throughput and floods the app's logs.
logging.getLogger("transitions").setLevel(logging.WARNING)

_ORDER_EVENTS = (
    OrderAccepted,
    OrderRejected,
    OrderFilled,
    OrderCancelled,
    OrderExpired,
    OrderReplaced,
)


class OutcomeKind(StrEnum):
    """What ``fire()`` made of an event."""

    ACCEPTED = "accepted"  # a declared transition ran
    DECLINED = "declined"  # a rule refused a strategy event; nothing changed
    IGNORED = "ignored"  # a race: stale or duplicate; nothing changed
    ANOMALY = "anomaly"  # should be impossible: facts recorded, declared policy applied


class _View:
    """What a ``Snapshot`` is made of, captured under the lock; the ``Snapshot`` is built lazily.

    Published books are never mutated again (``fire()`` decides on a draft), so building the
    snapshot from them later, outside the lock, in any thread, sees exactly the state at capture.
    That keeps a 19-field frozen dataclass out of the lock hold time, and out of ``fire()``
    entirely when nobody reads it.
    """

    __slots__ = (
        "_built",
        "anomalies",
        "books",
        "last_trigger",
        "machine",
        "races",
        "state",
        "transitions",
    )

    def __init__(self, machine: SymbolMachine, last_trigger: str | None) -> None:
        self.machine = machine
        self.books = machine._books
        self.state = _STATE_OF[machine._state]
        self.last_trigger = last_trigger
        self.transitions = machine._transitions
        self.races = machine._races
        self.anomalies = machine._anomalies
        self._built: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        built = self._built
        if built is None:  # two threads may both build it: equal values, either one is kept
            books = self.books
            stop = books.stop
            built = self._built = Snapshot(
                strategy=self.machine.strategy,
                symbol=self.machine.symbol,
                state=self.state,
                trading_date=books.trading_date,
                entries_today=books.entries_today,
                max_attempts=self.machine.rules.max_attempts,
                position=books.position,
                side=books.entry_side,
                stop_price=stop.stop_price if stop is not None else None,
                desired_stop=books.desired_stop,
                working_orders=books.working_orders(),
                halt_reason=books.halt_reason,
                exit_reason=books.winding_down,
                done_for_day=books.done_for_day,
                last_trigger=self.last_trigger,
                transitions=self.transitions,
                races=self.races,
                anomalies=self.anomalies,
                alarm=books.alarm,
                held_entry=books.held,
            )
        return built


@value
class Outcome:
    """The result of one ``fire()``: what happened and what the runner must do now."""

    kind: OutcomeKind
    trigger: str
    reason: str | None
    state_from: State
    state_to: State
    commands: tuple[Command, ...]
    event: Event
    _view: _View = field(repr=False, compare=False)

    @property
    def snapshot(self) -> Snapshot:
        """The machine as this ``fire()`` left it (built on first read, then kept)."""
        return self._view.snapshot()

    @property
    def client_order_id(self) -> str | None:
        """The client order id the event named, if it was an order event."""
        return getattr(self.event, "client_order_id", None)


def _compile() -> Machine:
    # transitions treats Enum states by their member names: it is handed the plain values.
    transitions: list[dict[str, Any]] = []
    for (state, trigger), declaration in DECLARATIONS.items():
        if isinstance(declaration, Moves):
            for go in declaration.goes:
                transitions.append(
                    {
                        "trigger": trigger,
                        "source": state.value,
                        "dest": None if go.dest is None else go.dest.value,
                        "conditions": list(go.guards),
                        "after": list(go.effects),
                    }
                )
    return Machine(
        model=None,
        states=[state.value for state in State],
        transitions=transitions,
        initial=State.FLAT.value,
        auto_transitions=False,
        # Callbacks get the trigger's arguments: ``trigger(model, decision)`` calls each guard
        # and effect as ``fn(decision)``, with no wrapper to unpack an ``EventData``.
        send_event=False,
        model_attribute="_state",
    )


#: Decisions ``fire`` makes without the lock before it makes one under it, where nobody can
#: publish in between: each is thrown away only if another thread published meanwhile, so
#: under contention the lock is still held for the publish alone, and progress is certain.
_UNLOCKED_TRIES = 2

#: The one static definition shared by every symbol; never mutated after import.
LIFECYCLE = _compile()
_EVENTS = LIFECYCLE.events
_STATE_OF = {state.value: state for state in State}


class SymbolMachine:
    """The lifecycle of one (strategy, symbol): thread-safe, pure, changed only by ``fire()``."""

    __slots__ = (
        "_anomalies",
        "_books",
        "_declined",
        "_lock",
        "_overtaken",
        "_races",
        "_reasons",
        "_state",
        "_transitions",
        "_view",
        "rules",
        "strategy",
        "symbol",
    )

    def __init__(
        self,
        *,
        strategy: str,
        symbol: str,
        trading_date: date,
        rules: Rules | None = None,
    ) -> None:
        rules = rules if rules is not None else Rules()
        check_identity(strategy, symbol, rules)
        self.strategy = strategy
        self.symbol = symbol
        self.rules = rules
        self._lock = threading.RLock()
        # The one attribute the shared ``transitions`` machine reads and writes
        # (``model_attribute``): the state's plain name, as it knows states (an Enum it would
        # take by member name); ``state`` maps it back to the ``State``.
        self._state = State.FLAT.value
        self._books = Books(trading_date)
        self._transitions = self._declined = self._races = self._anomalies = 0
        self._overtaken = 0  # decisions another thread's publish overtook (made again)
        self._reasons: dict[str, int] | None = None
        self._view = _View(self, None)

    @property
    def state(self) -> State:
        """The current state."""
        return _STATE_OF[self._state]

    def snapshot(self) -> Snapshot:
        """The state and books as of the last completed ``fire()``."""
        view = self._view
        # Read once per bar per symbol by the engine: skip the second call once it is built.
        return view._built or view.snapshot()

    def fork(self) -> SymbolMachine:
        """An independent copy: the same state, books and counters, with a lock of its own.

        Cheap (constant time): published books are never mutated again, so the copy shares
        them; whatever either machine decides next lands in its own draft. This is what a model
        checker or a what-if needs; ``copy.copy`` and ``copy.deepcopy`` do the same.
        """
        with self._lock:
            twin = SymbolMachine.__new__(SymbolMachine)
            twin.strategy = self.strategy
            twin.symbol = self.symbol
            twin.rules = self.rules
            twin._lock = threading.RLock()
            twin._state = self._state
            twin._books = self._books
            twin._transitions = self._transitions
            twin._declined = self._declined
            twin._races = self._races
            twin._anomalies = self._anomalies
            twin._overtaken = self._overtaken
            twin._reasons = dict(self._reasons) if self._reasons else None
            view = twin._view = _View(twin, self._view.last_trigger)
            # The same books, state and counters: a snapshot already built is the twin's too.
            view._built = self._view._built
        return twin

    def __copy__(self) -> SymbolMachine:
        return self.fork()

    def __deepcopy__(self, memo: dict[int, object]) -> SymbolMachine:
        return self.fork()

    def fingerprint(self) -> Hashable:
        """A hashable value equal for two machines that answer every future event alike.

        It holds the identity and rules, the state, and the books (working and finished orders
        with their fills, the stops, the next ids, the day) but no running counter and not the
        last trigger: two machines that reached the same situation by different paths share
        a fingerprint, which is what deduplicates a model checker's visited states.
        """
        with self._lock:  # the state and the books it goes with; published books never change
            state, books = self._state, self._books
        return (self.strategy, self.symbol, self.rules, _STATE_OF[state], books.fingerprint())

    def decided(self, client_order_id: str) -> bool:
        """Whether this machine decided the order with this id: it works, or it finished.

        Safe from any thread: it reads the published books, which are never mutated again.
        """
        books = self._books
        found = books.find(client_order_id) or books.finished(client_order_id)
        return found is not None

    def counters(self) -> Counters:
        """This machine's counters, with the reason of every race, decline and anomaly."""
        with self._lock:  # the counts, copied together; the record is built after the lock
            counts = self._transitions, self._declined, self._races, self._anomalies
            overtaken = self._overtaken
            reasons = dict(self._reasons or {})
        transitions, declined, races, anomalies = counts
        return Counters(
            transitions=transitions,
            declined=declined,
            races=races,
            anomalies=anomalies,
            by_reason=MappingProxyType(dict(sorted(reasons.items()))),
            overtaken=overtaken,
        )

    def fire(self, event: Event) -> Outcome:
        """Decide on one event; publish the decision under this symbol's lock; return what to do
        after it.

        Never raises for an unexpected event: every (state, trigger) pair is declared.
        """
        # Deciding only reads the published books (never mutated again) and writes a draft, and
        # the shared ``transitions`` machine moves a scratch ``_Draft``, not this machine: the
        # whole decision (classification, table, guards, effects) runs before the lock. Under
        # it an identity check proves nobody published in between; a decision overtaken by
        # another thread's is thrown away and made again on what that thread published.
        for _ in range(_UNLOCKED_TRIES):
            books, state_from = self._books, self._state
            decision = self._decision(books, event)
            verdict = _decide(state_from, decision)
            with self._lock:
                if self._books is books and self._state == state_from:
                    view = self._publish(verdict, decision)
                    break
                self._overtaken += 1
        else:
            with self._lock:  # overtaken every time: decide where nobody can publish meanwhile
                books, state_from = self._books, self._state
                decision = self._decision(books, event)
                verdict = _decide(state_from, decision)
                view = self._publish(verdict, decision)
        kind, reason, state_to = verdict
        commands = decision.commands  # effects ran only if a transition did: none otherwise
        return Outcome(
            kind=kind,
            trigger=decision.trigger,
            reason=reason,
            state_from=_STATE_OF[state_from],
            state_to=_STATE_OF[state_to],
            commands=tuple(commands) if commands else (),
            event=event,
            _view=view,
        )

    def _decision(self, books: Books, event: Event) -> Decision:
        """The decision ``event`` asks for on ``books``: its trigger and a draft to decide on."""
        trigger, draft = _prepare(books, event)
        return Decision(
            strategy=self.strategy,
            symbol=self.symbol,
            rules=self.rules,
            trigger=trigger,
            event=event,
            books=draft,
        )

    def _publish(self, verdict: _Verdict, decision: Decision) -> _View:
        """Make a decision this machine's own (under the lock: the only writer of its state);
        return the view its outcome's snapshot is built from."""
        kind, reason, state = verdict
        last: str | None = decision.trigger  # the last trigger that changed the machine
        if kind is OutcomeKind.ACCEPTED:
            self._state, self._books = state, decision.books
            self._transitions += 1
        else:
            assert reason is not None  # every decline, race and anomaly is named
            self._count(reason)
            if kind is OutcomeKind.ANOMALY:
                self._state, self._books = state, decision.books
                self._anomalies += 1
            else:
                last = self._view.last_trigger
                if kind is OutcomeKind.IGNORED:
                    self._races += 1
                else:
                    self._declined += 1
        view = self._view = _View(self, last)
        return view

    def _count(self, reason: str) -> None:
        if self._reasons is None:
            self._reasons = {}
        self._reasons[reason] = self._reasons.get(reason, 0) + 1


class _Draft:
    """The model the shared ``transitions`` machine moves while deciding: the state's name on a
    scratch object, so a decision touches nothing of the machine until it is published."""

    __slots__ = ("_state",)

    def __init__(self, state: str) -> None:
        self._state = state


# What one decision came to: its kind, its reason, and the state it leads to (a plain name).
_Verdict = tuple[OutcomeKind, str | None, str]


def _decide(state: str, decision: Decision) -> _Verdict:
    """Consult the table from ``state``; let ``transitions`` run the trigger on a ``_Draft``.

    Pure: guards read, and effects write, only the decision and its draft books.
    """
    trigger = decision.trigger
    declaration = DECLARATIONS[(_STATE_OF[state], trigger)]
    reason: str | None = None
    if isinstance(declaration, Moves):
        draft = _Draft(state)
        if _EVENTS[trigger].trigger(draft, decision):
            return OutcomeKind.ACCEPTED, None, draft._state
        otherwise = declaration.otherwise
        assert otherwise is not None  # checked at import: a guard-free last move exists
        reason = otherwise.reason or _failed_guard(declaration, decision)
        declaration = otherwise
    if isinstance(declaration, Anomaly):
        decision.reason = reason = reason or declaration.reason
        decision.trigger = "anomaly_flatten" if declaration.flatten else "anomaly"
        draft = _Draft(state)
        _EVENTS[decision.trigger].trigger(draft, decision)
        decision.trigger = trigger
        return OutcomeKind.ANOMALY, reason, draft._state
    reason = reason or declaration.reason
    assert reason is not None
    if isinstance(declaration, Ignore):
        return OutcomeKind.IGNORED, reason, state
    assert isinstance(declaration, Decline)
    return OutcomeKind.DECLINED, reason, state


def _prepare(books: Books, event: Event) -> tuple[str, Books]:
    """The trigger an event stands for, and a draft of the books with its bookkeeping applied."""
    draft = books.draft()
    if isinstance(event, _ORDER_EVENTS):
        trigger = classify_order_event(books, event)
        draft.apply(event)
        return trigger, draft
    if isinstance(event, BrokerSnapshotTaken):
        agrees = event.position_qty == books.position
        draft.disputed = None if agrees else event.position_qty
        if agrees and event.open_orders is not None and draft.reconcile(event.open_orders):
            # The position agrees but the orders do not: some the books hold as working ended
            # at the broker (their notices were lost), or some were acknowledged unseen.
            return ORDERS_DIFFER, draft
    return event.trigger, draft


def _failed_guard(declaration: Moves, decision: Decision) -> str | None:
    """The first guard that said no, in the first move that has guards."""
    for go in declaration.goes:
        for guard in go.guards:
            if not guard(decision):
                return guard.__name__
    return None
