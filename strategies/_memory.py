"""The cyclic garbage collector: paused where bulk data is built, tuned for a live run.

Every ``Bar`` is a tracked object, and each full collection walks every tracked object alive; a
loader that allocates 400,000 of them and drops none sets off full collections that walk the
bars already built, again and again (a year of 5-minute bars loaded ~1.5x slower with the
collector running). Building bars makes no reference cycle, so pausing the collector frees
nothing late; it runs again, as it was, on leaving.

A live run is the other way round: start-up builds everything that lives for the whole run
(history, machines, journal, connections), then each event allocates a few dozen short-lived
objects and drops them. With the default thresholds a young collection runs every 700
allocations — every dozen ``fire()`` calls or so, often while a symbol's lock is held — and a
full one walks the whole start-up heap. ``tuned_for_live`` freezes the start-up heap (no
collection walks it again) and lets the young generation grow to ``young`` objects first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LIVE_YOUNG_THRESHOLD", "collector_paused", "tuned_for_live"]

#: Allocations between young collections in a live run (CPython's default: 700).
LIVE_YOUNG_THRESHOLD = 50_000


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
    """How many ``tuned_for_live`` blocks are open, and the thresholds before the first."""

    lock = threading.Lock()
    depth = 0
    before = gc.get_threshold()


@contextmanager
def tuned_for_live(young: int = LIVE_YOUNG_THRESHOLD) -> Iterator[None]:
    """For the block: what is alive now is frozen out of every collection, and a young
    collection waits for ``young`` allocations. Blocks nest (two runs in one process, tests):
    the outermost undoes both on leaving."""
    with _Tuning.lock:
        if _Tuning.depth == 0:
            _Tuning.before = gc.get_threshold()
            gc.collect()  # what start-up left as garbage is not frozen with the rest
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
