"""Dispatch: events/s through ``SymbolMachine.fire`` against bare ``transitions`` and a dict FSM.

The work is a realistic cycle per trading day, repeated over many days on one symbol::

    day rollover → entry signal → accepted (+ duplicate) → filled (+ stale repeat) → stop
    accepted → trail → replaced → new → trail (not tighter: declined) → trail → replaced → new
    (+ duplicate) → exit signal → stop cancelled → exit accepted → exit filled (+ stale) → flat

``fire`` runs it with its lock, classification, guards, effects, snapshot and an in-memory
journal (every outcome is appended to a list). The baselines run the *same* events
without classification (each event's trigger is computed once, before timing):

- bare ``transitions``: one static ``Machine`` with the lifecycle's states and (trigger, source,
  dest) rows in the same order, a minimal model, no lock and no effects; each guarded row gets one
  trivial condition that picks the row ``fire`` took. Events ``fire`` settles without
  ``transitions`` (ignored duplicates, plain declines) cost the baseline nothing;
- a hand-written dict FSM with a ``threading.Lock`` and the same journal.

Each is timed in wall time (``perf_counter``) and in this thread's CPU time (``thread_time``).

Run: ``python -m benchmarks.dispatch [--cycles 3000]`` (prints JSON).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import sysconfig
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from transitions import Machine

import machines as m
from machines._lifecycle import DECLARATIONS, Moves
from machines._machine import LIFECYCLE

__all__ = ["breakdown", "cycle", "events", "measure", "profile_fire", "trace"]

STRATEGY, SYMBOL = "s8020", "AAPL"
_ZONE = ZoneInfo("America/New_York")
_FIRST_DAY = date(2026, 1, 2)
_QTY = Decimal(100)


def cycle(day: date, symbol: str = SYMBOL) -> list[m.Event]:
    """One trading day of one symbol: entry, fill, two trails, an exit, with duplicates."""

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=_ZONE)

    def oid(tag: m.Side | m.OrderRole, seq: int = 0) -> str:
        return m.client_order_id(STRATEGY, symbol, day, 1, tag, seq)

    stop_role = m.OrderRole.STOP
    buy, stop, stop1, stop2, out = (
        oid(m.Side.BUY),
        oid(stop_role),
        oid(stop_role, 1),
        oid(stop_role, 2),
        oid(m.OrderRole.EXIT),
    )
    leg = m.EntryLeg(side=m.Side.BUY, entry_price=Decimal("101.00"), initial_stop=Decimal("98.99"))
    fill = Decimal("101.00")
    return [
        m.DayRolledOver(trading_date=day),
        m.EntrySignalled(at=at(10), qty=_QTY, legs=(leg,)),
        m.OrderAccepted(client_order_id=buy, at=at(10)),
        m.OrderAccepted(client_order_id=buy, at=at(10)),  # duplicate
        m.OrderFilled(client_order_id=buy, at=at(10, 5), filled_qty=_QTY, avg_fill_price=fill),
        m.OrderFilled(client_order_id=buy, at=at(10, 5), filled_qty=_QTY, avg_fill_price=fill),
        m.OrderAccepted(client_order_id=stop, at=at(10, 5)),
        m.TrailProposed(at=at(10, 10), stop_price=Decimal("99.50")),
        m.OrderReplaced(client_order_id=stop, new_client_order_id=stop1, at=at(10, 10)),
        m.OrderAccepted(client_order_id=stop1, at=at(10, 10)),
        m.TrailProposed(at=at(10, 15), stop_price=Decimal("99.40")),  # not tighter: declined
        m.TrailProposed(at=at(10, 20), stop_price=Decimal("100.00")),
        m.OrderReplaced(client_order_id=stop1, new_client_order_id=stop2, at=at(10, 20)),
        m.OrderAccepted(client_order_id=stop2, at=at(10, 20)),
        m.OrderAccepted(client_order_id=stop2, at=at(10, 20)),  # duplicate
        m.ExitSignalled(at=at(11), reason="target"),
        m.OrderCancelled(client_order_id=stop2, at=at(11)),
        m.OrderAccepted(client_order_id=out, at=at(11)),
        m.OrderFilled(client_order_id=out, at=at(11), filled_qty=_QTY, avg_fill_price=fill),
        m.OrderFilled(client_order_id=out, at=at(11), filled_qty=_QTY, avg_fill_price=fill),
    ]


def events(cycles: int, symbol: str = SYMBOL, first: date = _FIRST_DAY) -> list[m.Event]:
    """``cycles`` consecutive days of ``cycle``."""
    found: list[m.Event] = []
    for i in range(cycles):
        found += cycle(first + timedelta(days=i), symbol)
    return found


def new_machine(symbol: str = SYMBOL) -> m.SymbolMachine:
    """A flat machine the day before the first cycle."""
    return m.SymbolMachine(
        strategy=STRATEGY, symbol=symbol, trading_date=_FIRST_DAY - timedelta(days=1)
    )


# One step of the baselines: (trigger, the state fire ended in, whether fire asked transitions).
Step = tuple[str, str, bool]


def trace(stream: list[m.Event]) -> list[Step]:
    """What ``fire`` made of each event (untimed): the baselines replay exactly this."""
    machine = new_machine()
    steps: list[Step] = []
    for event in stream:
        outcome = machine.fire(event)
        if outcome.kind is m.OutcomeKind.ANOMALY:
            raise AssertionError(f"the benchmark cycle hit an anomaly: {outcome.reason}")
        moves = isinstance(DECLARATIONS[(outcome.state_from, outcome.trigger)], Moves)
        steps.append((outcome.trigger, outcome.state_to, moves))
    return steps


class _Pick:
    """A stand-in guard: true for the row whose destination ``fire`` reached."""

    __slots__ = ("dest",)

    def __init__(self, dest: str) -> None:
        self.dest = dest

    def __call__(self, event_data: Any) -> bool:
        return bool(event_data.kwargs["to"] == self.dest)


class _Model:
    __slots__ = ("_state",)

    def __init__(self) -> None:
        self._state = m.State.FLAT.value


def bare_machine() -> Machine:
    """The lifecycle's states and rows as a static ``Machine``: trivial guards, no effects."""
    picks: dict[str, _Pick] = {}
    rows: list[dict[str, Any]] = []
    for name, event in LIFECYCLE.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                dest = transition.dest
                reached = dest if dest is not None else source
                guard = picks.setdefault(reached, _Pick(reached))
                rows.append(
                    {
                        "trigger": name,
                        "source": source,
                        "dest": dest,
                        "conditions": [guard] if transition.conditions else [],
                    }
                )
    return Machine(
        model=None,
        states=list(LIFECYCLE.states),
        transitions=rows,
        initial=m.State.FLAT.value,
        auto_transitions=False,
        send_event=True,
        model_attribute="_state",
    )


def _dict_table() -> dict[tuple[m.State, str], tuple[tuple[m.State, bool], ...] | None]:
    table: dict[tuple[m.State, str], tuple[tuple[m.State, bool], ...] | None] = {}
    for (state, trigger), declaration in DECLARATIONS.items():
        if isinstance(declaration, Moves):
            table[(state, trigger)] = tuple(
                (go.dest if go.dest is not None else state, bool(go.guards))
                for go in declaration.goes
            )
        else:
            table[(state, trigger)] = None
    return table


# Seconds a run took: (wall, this thread's CPU).
Took = tuple[float, float]


def run_fire(stream: list[m.Event]) -> Took:
    """Seconds to fire ``stream`` on a fresh machine with an in-memory journal."""
    journal: list[m.Outcome] = []
    record, fire = journal.append, new_machine().fire
    start, cpu = time.perf_counter(), time.thread_time()
    for event in stream:
        record(fire(event))
    took = time.perf_counter() - start, time.thread_time() - cpu
    if len(journal) != len(stream):
        raise AssertionError("the journal missed outcomes")
    return took


def run_bare(steps: list[Step], machine: Machine) -> Took:
    """Seconds for bare ``transitions`` to take the same steps."""
    triggers = machine.events
    calls = [(triggers[t].trigger, to) for t, to, moves in steps if moves]
    model = _Model()
    start, cpu = time.perf_counter(), time.thread_time()
    for trigger, to in calls:
        trigger(model, to=to)
    took = time.perf_counter() - start, time.thread_time() - cpu
    if model._state != steps[-1][1]:
        raise AssertionError(f"bare machine ended in {model._state}, fire in {steps[-1][1]}")
    return took


def run_dict(steps: list[Step]) -> Took:
    """Seconds for a hand-written dict FSM (with a lock and a journal) to take the same steps."""
    table = _dict_table()
    lock = threading.Lock()
    journal: list[tuple[str, str]] = []
    state = m.State.FLAT
    start, cpu = time.perf_counter(), time.thread_time()
    for trigger, to, _ in steps:
        with lock:
            goes = table[(state, trigger)]
            if goes is not None:
                for dest, guarded in goes:
                    if not guarded or dest == to:
                        state = dest
                        break
            journal.append((trigger, state))
    took = time.perf_counter() - start, time.thread_time() - cpu
    if state != steps[-1][1]:
        raise AssertionError(f"dict FSM ended in {state}, fire in {steps[-1][1]}")
    return took


#: The target: ``fire()`` at least this fraction of a bare ``transitions`` trigger's rate.
TARGET_RATIO = 0.5


def measure(cycles: int = 3000, repeats: int = 5) -> dict[str, Any]:
    """Events/s of fire, bare transitions and the dict FSM (best of ``repeats`` each), in wall
    and in CPU time (``cpu_`` keys)."""
    stream = events(cycles)
    steps = trace(stream)
    bare = bare_machine()
    runs: dict[str, Callable[[], Took]] = {
        "fire": lambda: run_fire(stream),
        "bare_transitions": lambda: run_bare(steps, bare),
        "dict_fsm": lambda: run_dict(steps),
    }
    wall = dict.fromkeys(runs, float("inf"))
    cpu = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):  # interleaved, so drift in the machine's speed hits all three
        for name, run in runs.items():
            gc.collect()
            took_wall, took_cpu = run()
            wall[name], cpu[name] = min(wall[name], took_wall), min(cpu[name], took_cpu)
    n = len(stream)
    found: dict[str, Any] = {
        "events": n,
        "events_per_cycle": n // cycles,
        "transitions_calls": sum(1 for *_, moves in steps if moves),
    }
    for prefix, best in (("", wall), ("cpu_", cpu)):
        rate = {name: n / seconds for name, seconds in best.items()}
        per_event = {name: seconds / n * 1e6 for name, seconds in best.items()}
        # What leaving ``transitions`` could give at best: keep all of fire's own work (lock,
        # classification, books, guards, effects, outcome) and swap the trigger path — whose
        # cost is the bare baseline — for a table lookup (the dict FSM's cost).
        without = per_event["fire"] - per_event["bare_transitions"] + per_event["dict_fsm"]
        found |= {
            f"{prefix}events_per_s": {k: round(v) for k, v in rate.items()},
            f"{prefix}us_per_event": {k: round(v, 2) for k, v in per_event.items()},
            f"{prefix}ratio_vs_bare_transitions": round(rate["fire"] / rate["bare_transitions"], 3),
            f"{prefix}ratio_vs_dict_fsm": round(rate["fire"] / rate["dict_fsm"], 4),
            f"{prefix}without_transitions_estimate": {
                "us_per_event": round(without, 2),
                "ratio_vs_bare_transitions": round(per_event["bare_transitions"] / without, 3),
                "own_work_budget_for_target_us": round(
                    per_event["bare_transitions"] / TARGET_RATIO, 2
                ),
            },
        }
    return found


def _profile(cycles: int) -> cProfile.Profile:
    stream = events(cycles)
    journal: list[m.Outcome] = []
    machine = new_machine()
    profiler = cProfile.Profile()
    profiler.enable()
    for event in stream:
        journal.append(machine.fire(event))
    profiler.disable()
    return profiler


def profile_fire(cycles: int = 500, top: int = 15) -> list[dict[str, Any]]:
    """cProfile of ``fire`` over ``cycles`` cycles: the ``top`` frames by own time."""
    return top_frames(_profile(cycles), top)


# Where a frame's own time belongs, by the file it is in (first match wins).
_LAYERS = (
    ("transitions' trigger path", ("transitions/", "logging/", "functools", "itertools")),
    ("guards and effects", ("_guards.py", "_effects.py", "_pricing.py", "_orders.py")),
    ("books: draft, classify, apply", ("_books.py",)),
    ("fire, decision, outcome", ("_machine.py", "_decision.py", "_desk.py", "_lifecycle.py")),
)


def breakdown(cycles: int = 500, top: int = 8) -> dict[str, Any]:
    """``fire``'s own time by layer and its ``top`` frames, from one cProfile run.

    cProfile inflates small calls (``transitions`` makes many), so the shares are approximate;
    ``measure``'s ``without_transitions_estimate`` is the unbiased figure.
    """
    profiler = _profile(cycles)
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    layers: dict[str, float] = {name: 0.0 for name, _ in _LAYERS}
    layers["builtins and the rest"] = 0.0
    for (file, _, func), (_, _, own, _, _) in raw.items():
        where = f"{file}:{func}"
        for name, marks in _LAYERS:
            if any(mark in where for mark in marks):
                layers[name] += own
                break
        else:
            layers["builtins and the rest"] += own
    total = sum(layers.values()) or 1.0
    return {
        "own_time_pct": {name: round(100 * t / total, 1) for name, t in layers.items()},
        "top_frames": top_frames(profiler, top),
    }


_ROOT = f"{Path(__file__).resolve().parent.parent}/"
_STDLIB = f"{sysconfig.get_paths()['stdlib']}/"


def _short(file: str) -> str:
    """A frame's file relative to the project, site-packages or the standard library."""
    if "site-packages/" in file:
        return file.split("site-packages/")[-1]
    if file.startswith(_ROOT):
        return file.removeprefix(_ROOT)
    if file.startswith(_STDLIB):
        return f"stdlib/{file.removeprefix(_STDLIB)}"
    return file


def top_frames(profiler: cProfile.Profile, top: int) -> list[dict[str, Any]]:
    """The ``top`` frames of a profile by own time, with their cumulative time."""
    stats = pstats.Stats(profiler)
    rows: list[dict[str, Any]] = []
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in raw.values()) or 1.0
    for (file, line, func), (_, calls, tt, ct, _) in raw.items():
        short = _short(file)
        rows.append(
            {
                "frame": f"{short}:{line}({func})",
                "calls": calls,
                "own_s": round(tt, 4),
                "own_pct": round(100 * tt / total, 1),
                "cumulative_s": round(ct, 4),
            }
        )
    rows.sort(key=lambda r: r["own_s"], reverse=True)
    return rows[:top]


def main(argv: list[str] | None = None) -> int:
    """Print the dispatch figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dispatch", description=__doc__)
    parser.add_argument("--cycles", type=int, default=3000)
    parser.add_argument("--profile", action="store_true", help="also print fire()'s top frames")
    args = parser.parse_args(argv)
    result = measure(args.cycles)
    if args.profile:
        result["profile"] = profile_fire()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
