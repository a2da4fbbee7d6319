"""Commands run in order per symbol, symbols in parallel (bounded), outside every machine lock.

The serial executor runs every command on the engine thread: one symbol's slow request (a
50 ms venue, an adapter retrying for ~90 s) delays every other symbol's stop. ``SymbolExecutor``
hands each symbol's commands to a bounded pool of worker threads instead:

- **Order per symbol**: a symbol's commands run one at a time, in the order they were decided
  (a cancel never overtakes the submit it cancels); a symbol is held by one worker at a time.
- **Parallel across symbols**, at most ``workers`` requests in flight.
- **Paced by the venue's rate limit**: before each command a worker asks ``pace`` how long to
  wait; ``pace_by_rate_limit`` waits one request's share of the window while the venue's last
  ``X-RateLimit-Remaining`` is at or under the reserve (one per worker), so a burst never runs
  into 429s.

The jobs themselves (``Engine._deliver``) only touch what is safe from any thread: the journal
(its own lock), the incidents counter, and queues back to the engine thread. The one lock here
guards the per-symbol queues, never a broker call.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable

import structlog

__all__ = ["Job", "SymbolExecutor", "pace_by_rate_limit"]

Job = Callable[[], object]

_log = structlog.get_logger("tickstate.executor")


def pace_by_rate_limit(
    source: object, *, reserve: int, window: float = 60.0
) -> Callable[[], float]:
    """A ``pace`` for ``SymbolExecutor``: seconds to wait before the next request — one
    request's share of the window (``window / limit``) while at most ``reserve`` remain.
    ``source`` is the broker: its ``rate_limit`` (``(limit, remaining)`` or None) is read."""

    def pace() -> float:
        known = getattr(source, "rate_limit", None)
        if known is None:
            return 0.0
        limit, remaining = known
        return window / max(limit, 1) if remaining <= reserve else 0.0

    return pace


class SymbolExecutor:
    """A bounded pool running each symbol's jobs in order, symbols in parallel."""

    def __init__(
        self,
        workers: int,
        *,
        pace: Callable[[], float] | None = None,
        on_fault: Callable[[Exception], None] | None = None,
        name: str = "executor",
    ) -> None:
        if workers < 1:
            raise ValueError(f"an executor needs at least one worker, got {workers}")
        self._pace = pace
        self._on_fault = on_fault
        self._lock = threading.Lock()  # guards the queues below; never held across a job
        self._pending: dict[str, deque[Job]] = {}  # per symbol, jobs not started yet
        self._ready: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._idle = threading.Condition(self._lock)
        self._queued = 0  # jobs submitted and not finished
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, symbol: str, job: Job) -> None:
        """Run ``job`` after every job of ``symbol`` submitted before it (any thread)."""
        with self._lock:
            self._queued += 1
            jobs = self._pending.get(symbol)
            if jobs is not None:  # the symbol is queued or held by a worker: it runs after
                jobs.append(job)
                return
            self._pending[symbol] = deque((job,))
        self._ready.put(symbol)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has finished; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._queued == 0, timeout)

    def is_idle(self) -> bool:
        """Whether every submitted job has finished."""
        with self._lock:
            return self._queued == 0

    def close(self) -> None:
        """Finish what is queued, then stop the workers."""
        self.wait_idle()
        self._stopping.set()
        for _ in self._threads:
            self._ready.put(None)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while True:
            symbol = self._ready.get()
            if symbol is None:
                return
            while True:
                with self._lock:
                    jobs = self._pending[symbol]
                    if not jobs:  # the symbol is released: a later submit queues it again
                        del self._pending[symbol]
                        break
                    job = jobs.popleft()
                self._run(symbol, job)

    def _run(self, symbol: str, job: Job) -> None:
        try:
            wait = self._pace() if self._pace is not None else 0.0
            if wait > 0:
                self._stopping.wait(wait)
            job()
        except Exception as exc:  # a job's bug: the owner hears of it (the runner shuts down)
            _log.exception("executor_job_failed", symbol=symbol)
            if self._on_fault is not None:
                self._on_fault(exc)
        finally:
            with self._idle:
                self._queued -= 1
                if self._queued == 0:
                    self._idle.notify_all()
