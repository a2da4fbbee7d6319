"""The cyclic garbage collector, paused where bulk data is built: bars by the hundred thousand.

Every ``Bar`` is a tracked object, and each full collection walks every tracked object alive; a
loader that allocates 400,000 of them and drops none sets off full collections that walk the
bars already built, again and again (a year of 5-minute bars loaded ~1.5x slower with the
collector running). Building bars makes no reference cycle, so pausing the collector frees
nothing late; it runs again, as it was, on leaving.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


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
