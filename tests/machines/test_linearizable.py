"""``fire`` is linearizable: two events racing at one machine end as if fired one after another.

``fire`` decides without the lock (classification, table, guards and effects, on a draft of the
published books and a scratch model of the state) and publishes under it; a decision another
thread overtook is made again (unlocked, and under the lock once ``_UNLOCKED_TRIES`` were all
overtaken). Each example here forces that race at its worst point:
the late event's whole decision is made, then a rival thread fires and publishes its own event,
then the late event takes the lock. Both outcomes, the machine's fingerprint and its counters
must equal those of a machine that was fired the rival and then the late event, in one thread
(but for ``overtaken``, which counts the decisions made again).

The machines start in every state by every canonical path (``scenarios.PATHS``); the events are
every trigger's candidates there (``scenarios.FACTORIES``), so the pairs cover duplicates,
stale and late events, fills against cancels, trails against replaces, halts against fills.
Every such pair is tried (some 47,000, on forks of one machine per path) with the rival fired
from inside the late event's ``fire``, which holds no lock while it decides; a sample is tried
again with the rival on a thread of its own, which would wait forever if deciding held the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import machines
from machines import Event, Outcome
from tests.machines.races import DECIDE, raced
from tests.machines.scenarios import FACTORIES, PATHS, Scenario

_ROUTES: list[Callable[[], Scenario]] = [
    build for ways in PATHS.values() for build in ways.values()
]


# The kinds of outcome that publish new books (a transition ran): only they overtake a rival.
_CHANGES_THE_MACHINE = (machines.OutcomeKind.ACCEPTED, machines.OutcomeKind.ANOMALY)


def _candidates(scenario: Scenario) -> list[Event]:
    found: list[Event] = []
    for factory in FACTORIES.values():
        for event in factory(scenario):
            if event not in found:
                found.append(event)
    return found


def _seen(outcome: Outcome) -> tuple[Any, ...]:
    return (
        outcome.kind,
        outcome.trigger,
        outcome.reason,
        outcome.state_from,
        outcome.state_to,
        outcome.commands,
    )


def test_every_pair_raced_ends_as_the_serial_order() -> None:
    tried, wrong = 0, []
    for route in _ROUTES:
        base = route().machine
        candidates = _candidates(route())
        for rival in candidates:
            for late in candidates:
                serial, contended = base.fork(), base.fork()
                want = [_seen(serial.fire(rival)), _seen(serial.fire(late))]
                with raced(contended, rival, threaded=False) as race:
                    got_late = contended.fire(late)
                tried += 1
                got = [_seen(race.fired[0]), _seen(got_late)]
                if got != want or contended.fingerprint() != serial.fingerprint():
                    wrong.append((route.__name__, rival, late))
    assert tried > 40_000
    assert not wrong, f"{len(wrong)} of {tried} pairs differ from the serial order: {wrong[:3]}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_rival_thread_published_before_the_lock_ends_as_the_serial_order(
    data: st.DataObject,
) -> None:
    route = data.draw(st.sampled_from(_ROUTES), label="route")
    contended, serial = route(), route()
    candidates = _candidates(serial)
    rival = data.draw(st.sampled_from(candidates), label="rival")
    late = data.draw(st.sampled_from(candidates), label="late")

    want_rival, want_late = serial.machine.fire(rival), serial.machine.fire(late)
    with raced(contended.machine, rival, threaded=True) as race:
        got_late = contended.machine.fire(late)

    assert len(race.fired) == 1
    assert _seen(race.fired[0]) == _seen(want_rival)
    assert _seen(got_late) == _seen(want_late)
    assert contended.machine.fingerprint() == serial.machine.fingerprint()
    overtaken = 1 if want_rival.kind in _CHANGES_THE_MACHINE else 0
    assert contended.machine.counters() == replace(serial.machine.counters(), overtaken=overtaken)
    assert got_late.snapshot == want_late.snapshot
    # The late event was decided unlocked, then the rival; if the rival changed the machine the
    # late one was decided again on what it published (the first never applied), and only then.
    assert race.decisions == 2 + overtaken


def test_without_a_rival_each_event_is_decided_once() -> None:
    """No contention: the unlocked decision is the one published, never taken twice."""
    scenario = PATHS[machines.State.ENTRY_PENDING]["legs_live"]()
    calls: list[str] = []

    def counting(state: str, decision: Any) -> Any:
        calls.append(decision.trigger)
        return DECIDE(state, decision)

    events = _candidates(scenario)[:10]
    machines._machine._decide = counting
    try:
        for event in events:
            scenario.machine.fire(event)
    finally:
        machines._machine._decide = DECIDE
    assert len(calls) == len(events) == 10


def test_overtaken_every_time_the_last_decision_is_made_under_the_lock() -> None:
    """A rival publishes after each of the late event's unlocked decisions: the late event is
    then decided holding the lock, where nobody can publish in between, and still ends as the
    serial order (each rival, then the late event)."""
    day = PATHS[machines.State.FLAT]["after_round_trip"]().machine.snapshot().trading_date
    rolls = [machines.DayRolledOver(trading_date=day + timedelta(days=k)) for k in (1, 2, 3)]
    *rivals, late = rolls
    assert len(rivals) == machines._machine._UNLOCKED_TRIES
    contended = PATHS[machines.State.FLAT]["after_round_trip"]().machine
    serial = PATHS[machines.State.FLAT]["after_round_trip"]().machine
    want = [_seen(serial.fire(event)) for event in rolls]
    locked: list[bool] = []
    rivals_fired: list[Outcome] = []

    def overtaken(state: str, decision: Any) -> Any:
        verdict = DECIDE(state, decision)
        if decision.event is late:
            locked.append(contended._lock._is_owned())  # type: ignore[attr-defined]
            if len(rivals_fired) < len(rivals):
                rival = rivals[len(rivals_fired)]
                thread = threading.Thread(target=lambda: rivals_fired.append(contended.fire(rival)))
                thread.start()
                thread.join()
        return verdict

    machines._machine._decide = overtaken
    try:
        got_late = contended.fire(late)
    finally:
        machines._machine._decide = DECIDE
    assert locked == [False, False, True]
    assert [_seen(o) for o in rivals_fired] + [_seen(got_late)] == want
    assert contended.fingerprint() == serial.fingerprint()
    assert contended.counters() == replace(serial.counters(), overtaken=len(rivals))
