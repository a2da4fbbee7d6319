"""How a live run behaves: ``RunSettings``, every bound the runner keeps, with its default.

Every bound the runner keeps, with its default (the comments on the fields say more):
``poll_interval`` 30 s (wall) between reconciliations, and a failure asks for one at once;
``not_found_grace`` 10 s (run clock) an order may be unknown to the broker before its absence is
evidence (lesson 6); ``shutdown_timeout`` 15 s (wall) for cancels and exits on the way out;
``redrive_limit`` 5 sends of one failed stop or exit under its client order id;
``protection_timeout`` 60 s (run clock) a held position may go with no stop or exit working or
in flight before it is flattened and halted; ``heartbeat_interval`` 5 s (wall) between
heartbeats in the journal and checks for operators' requests; ``position_grace`` 2 s (wall) a
position the broker reports differently must keep differing, over two reconciliations, before the
machine is told (the trade stream may lag the REST books); ``bar_grace`` 2 s (run clock) after a
bucket's end before it completes without its last minutes; ``stale_after`` 600 s (run clock) in
the session without a bar before a symbol is ``data_stale``.

The run's clock is the venue's: the wall clock against Alpaca, the exchange's own against the
simulated exchange (so a bound means the same at any replay speed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from strategies._policy import MAX_COMMAND_WORKERS

__all__ = ["RunSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSettings:
    """How a live run behaves."""

    poll_interval: float = 30.0  # seconds between reconciliations
    flatten_on_exit: bool = True  # close open positions when stopped
    not_found_grace: float = 10.0  # seconds an order may be unknown to the broker (lesson 6)
    shutdown_timeout: float = 15.0  # seconds to wait for cancels and exits on the way out
    until: datetime | None = None  # stop at this (clock) time
    daily_loss_limit: Decimal | None = None  # halt all and flatten at this session loss (> 0)
    # The first bound of protection: a stop or exit whose delivery failed is sent again (same
    # client order id) by each reconciliation, at most this many times in all.
    redrive_limit: int = 5
    # The second: run-clock seconds a held position may go without a stop or exit working or in
    # flight before the runner flattens and halts the symbol.
    protection_timeout: float = 60.0
    # Commands on a bounded pool (in order per symbol, symbols in parallel, paced by the venue's
    # rate limit) so one symbol's slow request never delays another's stop. None: a worker per
    # symbol (at most MAX_COMMAND_WORKERS), but the engine thread in lock-step (workers_for);
    # 0: always the engine thread, one command after another.
    command_workers: int | None = None
    heartbeat_interval: float = 5.0  # wall seconds between heartbeats (and operator requests)
    position_grace: float = 2.0  # wall seconds a position mismatch must last (stream lag)
    bar_grace: float = 2.0  # market seconds after a bar's end before it completes without news
    stale_after: float | None = 600.0  # market seconds without a bar in the session: data_stale
    # Lock-step: real seconds a moment may wait for its bars and trade updates before it goes
    # on without them (``lockstep_timeout``, a fault: a socket lost them). Long enough that a
    # loaded machine's stall is waited out rather than taken for a loss (a moment gone on early
    # trades differently from the replay); below the exchange's own 10 s wait for an ack.
    lockstep_timeout: float = 5.0

    def workers_for(self, symbols: int, *, lockstep: bool) -> int:
        """How many command workers a run of ``symbols`` symbols gets (0: the engine thread).

        By default none in lock-step: there the venue's clock waits for every command of a
        moment, so sending them one after another costs no market time, while their order of
        arrival decides what the venue does (buying power, which fill its seed draws for whom)
        — in decision order, as the replay's, a lock-step run trades exactly as it does."""
        if self.command_workers is None:
            return 0 if lockstep else min(symbols, MAX_COMMAND_WORKERS)
        return self.command_workers
