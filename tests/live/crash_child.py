"""A live run in a process of its own, for ``test_crash.py`` and ``test_field_lessons.py``.

It trades the 80-20 example on AAPL and GOOG (``tests/live/support.spec_for``) against an exchange
that lives in ANOTHER process (the test's ``SimExchange``, whose URLs it is given), journaled at
``--journal``: the same ``run_live`` ``tickstate run --journal`` calls, so a second start on the
same journal is a restart (rebuild, settle pending commands, reconcile). It tells the test what
it did on stdout, one line each, flushed:

    connect              a stream (trading or bars) connected; two of them: ready for bars
    bar SYMBOL ISO       the engine finished that bar (its commands ran and were answered)
    update CID KIND QTY  the engine applied that trade update (its commands ran, answered)
    done CODE            the run ended normally

Logs go to stderr. With ``TICKSTATE_CRASH_AT`` set (``strategies/_crashpoints.py``) it kills
itself with SIGKILL at that point. SIGTERM stops it cleanly (``run_live``'s shutdown).
"""

from __future__ import annotations

import argparse
import functools
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402

import strategies.run._venues as venues  # noqa: E402
from brokers import AlpacaSettings, Bar, RetryPolicy, TradeUpdate  # noqa: E402
from strategies.engine import Engine  # noqa: E402
from strategies.run import (  # noqa: E402
    LiveRunner,
    RunSettings,
    run_live,
)
from tests.live.support import DAY, day_bars, spec_for, update_line  # noqa: E402


def _commands_done(engine: Engine) -> None:
    """Commands on workers (the default off lock-step) have their REST answers: what the line
    says the engine did is done, as on the engine thread."""
    if engine.executor is not None:
        engine.executor.wait_idle()


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rest-url", required=True)
    parser.add_argument("--trading-url", required=True)
    parser.add_argument("--data-url", required=True)
    parser.add_argument("--journal", required=True, type=Path)
    parser.add_argument("--early-square-off", action="store_true")
    parser.add_argument("--poll-interval", type=float, default=0.2)
    parser.add_argument("--start", type=date.fromisoformat, default=DAY)
    parser.add_argument("--square-off", default=None)
    parser.add_argument("--daily-loss-limit", type=Decimal, default=None)
    parser.add_argument("--heartbeat", type=float, default=0.2, help="wall seconds")
    parser.add_argument("--command-workers", type=int, default=None)
    parser.add_argument(
        "--fast-retries", action="store_true", help="the adapter's retries without long waits"
    )
    args = parser.parse_args()
    if args.fast_retries:
        fast = RetryPolicy(max_attempts=5, initial_backoff=0.01, max_backoff=0.05)
        venues.AlpacaSettings = functools.partial(AlpacaSettings, retry=fast)  # type: ignore[misc]
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    spec = spec_for(
        early_square_off=args.early_square_off,
        square_off=args.square_off,
        broker={
            "kind": "sim",
            "rest_url": args.rest_url,
            "trading_stream_url": args.trading_url,
            "data_stream_url": args.data_url,
        },
    )
    bars, history = day_bars(spec, args.start)

    engines: list[Engine] = []

    def on_bar(bar: Bar) -> None:
        _commands_done(engines[0])
        _say(f"bar {bar.symbol} {bar.start.isoformat()}")

    def on_runner(runner: LiveRunner) -> None:
        connected = runner._on_connect
        engine = runner.engine
        engines.append(engine)
        applied = engine.on_trade_update

        def on_connect() -> None:
            connected()
            _say("connect")

        def on_trade_update(update: TradeUpdate) -> None:
            applied(update)
            _commands_done(engine)
            _say(update_line(update))

        runner._on_connect = on_connect  # type: ignore[method-assign]
        engine.on_trade_update = on_trade_update  # type: ignore[method-assign]

    run_live(
        spec,
        bars=bars,
        history=history,
        settings=RunSettings(
            poll_interval=args.poll_interval,
            not_found_grace=60.0,
            shutdown_timeout=5.0,
            daily_loss_limit=args.daily_loss_limit,
            heartbeat_interval=args.heartbeat,
            command_workers=args.command_workers,
        ),
        on_bar=on_bar,
        on_runner=on_runner,
        journal_path=args.journal,
    )
    _say("done 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
