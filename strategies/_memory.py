"""The cyclic garbage collector: paused where bulk data is built, tuned for a run.

Every ``Bar`` is a tracked object, and each full collection walks every tracked object alive; a
loader that allocates 400,000 of them and drops none sets off full collections that walk the
bars already built, again and again (a year of 5-minute bars loaded ~1.5x slower with the
collector running). Building bars makes no reference cycle, so pausing the collector frees
nothing late; it runs again, as it was, on leaving.

A run, live or replayed, is the other way round: start-up builds everything that lives for the
whole run (the bars, history, machines, journal, connections), then each event or bar
allocates a few dozen short-lived objects and drops them. With the default thresholds a young
collection runs every 700 allocations — every dozen ``fire()`` calls or so, often while a
symbol's lock is held — and a full one walks the whole start-up heap (a twin replay of the
demo's minute year spent 0.49 s in four full collections walking its 393,095 bars, 0.71 s in
the collector in all). ``tuned_for_a_run`` freezes the start-up heap (no collection walks it
again) and lets the young generation grow to ``young`` objects first. Frozen objects are still
freed by reference counting; only a reference cycle among them would outlive the block.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["RUN_YOUNG_THRESHOLD", "collector_paused", "tuned_for_a_run"]

#: Allocations between young collections in a run (CPython's default: 700).
RUN_YOUNG_THRESHOLD = 50_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (it nests: only the outermost resumes it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Tuning:
    """How many ``tuned_for_a_run`` blocks are open, and the thresholds before the first."""

    lock = threading.Lock()
    depth = 0
    before = gc.get_threshold()


@contextmanager
def tuned_for_a_run(young: int = RUN_YOUNG_THRESHOLD, *, tidy: bool = True) -> Iterator[None]:
    """For the block: what is alive now is frozen out of every collection, and a young
    collection waits for ``young`` allocations. Blocks nest (two runs in one process, tests):
    the outermost undoes both on leaving. ``tidy`` first collects what start-up left as garbage,
    so it is not frozen with the rest: a full collection, which walks every object alive (a
    live run's hours repay it; a replay's bars make it as dear as the collections it saves, and
    what it would free is freed once the block ends)."""
    with _Tuning.lock:
        if _Tuning.depth == 0:
            _Tuning.before = gc.get_threshold()
            if tidy:
                gc.collect()
            gc.freeze()
            gc.set_threshold(young, *_Tuning.before[1:])
        _Tuning.depth += 1
    try:
        yield
    finally:
        with _Tuning.lock:
            _Tuning.depth -= 1
            if _Tuning.depth == 0:
                gc.set_threshold(*_Tuning.before)
                gc.unfreeze()
