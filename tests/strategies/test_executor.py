"""The command executor: in order per symbol, symbols in parallel, paced by the rate limit."""

from __future__ import annotations

import threading

import pytest

from strategies._policy import MAX_COMMAND_WORKERS
from strategies.engine._executor import SymbolExecutor, pace_by_rate_limit
from strategies.run import RunSettings


class TestSymbolExecutor:
    def test_a_symbols_jobs_run_in_the_order_submitted(self):
        """Fifty jobs of one symbol, four workers: they run one at a time, in order."""
        executor = SymbolExecutor(4)
        seen: list[int] = []
        running = []
        for n in range(50):

            def job(n=n):
                running.append(n)
                assert len(running) == 1, "two jobs of one symbol at once"
                seen.append(n)
                running.pop()

            executor.submit("AAPL", job)
        assert executor.wait_idle(timeout=10)
        executor.close()
        assert seen == list(range(50))

    def test_a_slow_symbol_never_holds_up_another(self):
        """AAPL's job waits until MSFT's has run: it can only finish if they run in parallel."""
        executor = SymbolExecutor(2)
        msft_ran = threading.Event()
        aapl_saw_msft = []
        executor.submit("AAPL", lambda: aapl_saw_msft.append(msft_ran.wait(timeout=10)))
        executor.submit("MSFT", msft_ran.set)
        assert executor.wait_idle(timeout=10)
        executor.close()
        assert aapl_saw_msft == [True]

    def test_a_failing_job_is_logged_and_the_next_one_runs(self):
        """A job that raises does not stop its symbol's later jobs."""
        executor = SymbolExecutor(1)
        done = []
        executor.submit("IBM", lambda: 1 / 0)
        executor.submit("IBM", lambda: done.append("next"))
        assert executor.wait_idle(timeout=10)
        executor.close()
        assert done == ["next"]

    def test_a_failing_job_is_handed_to_the_owner(self):
        """A job's bug reaches ``on_fault`` (the runner: it shuts the run down, as a bug on the
        engine thread does), not only the log."""
        faults: list[Exception] = []
        executor = SymbolExecutor(2, on_fault=faults.append)
        executor.submit("IBM", lambda: 1 / 0)
        assert executor.wait_idle(timeout=10)
        assert executor.is_idle()
        executor.close()
        assert [type(f) for f in faults] == [ZeroDivisionError]

    def test_idle_only_once_every_job_has_finished(self):
        """``is_idle`` is False while a job runs, True after it."""
        executor = SymbolExecutor(1)
        release = threading.Event()
        started = threading.Event()
        executor.submit("IBM", lambda: (started.set(), release.wait(timeout=10)))
        assert started.wait(timeout=10)
        assert not executor.is_idle()
        release.set()
        assert executor.wait_idle(timeout=10)
        assert executor.is_idle()
        executor.close()

    def test_at_least_one_worker(self):
        """No workers is a mistake, said at once."""
        with pytest.raises(ValueError, match="at least one worker"):
            SymbolExecutor(0)


class TestPacing:
    def test_paced_only_while_the_venue_has_little_left(self):
        """One request's share of the minute (60 / 200 = 0.3 s) at or under the reserve."""

        class Venue:
            rate_limit: tuple[int, int] | None = None

        venue = Venue()
        pace = pace_by_rate_limit(venue, reserve=8)
        assert pace() == 0.0  # nothing answered yet
        venue.rate_limit = (200, 150)
        assert pace() == 0.0
        venue.rate_limit = (200, 8)
        assert pace() == pytest.approx(0.3)



class TestHowManyWorkers:
    """``RunSettings.workers_for``: the default, lock-step's exception, and an explicit count."""

    @pytest.mark.parametrize(
        ("setting", "symbols", "lockstep", "workers"),
        [
            (None, 5, False, 5),  # a worker per symbol
            (None, 2_000, False, MAX_COMMAND_WORKERS),  # bounded
            (None, 5, True, 0),  # lock-step: in decision order, as the replay
            (0, 5, False, 0),  # the engine thread, asked for
            (4, 5, True, 4),  # asked for, even in lock-step
        ],
    )
    def test_workers_for(self, setting, symbols, lockstep, workers):
        settings = RunSettings(command_workers=setting)
        assert settings.workers_for(symbols, lockstep=lockstep) == workers
