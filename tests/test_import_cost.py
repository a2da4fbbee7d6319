"""What importing costs: the core loads no network library, ``tickstate --help`` only the parser.

Measured by what ends up in ``sys.modules`` of a fresh interpreter, never by a clock (a timed
test passes only on a quiet machine). ``python -X importtime -c "import strategies.cli"`` shows
the figures; ``benchmarks`` holds the timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

NETWORK = ("requests", "websocket", "aiohttp", "tenacity", "msgpack", "urllib3")
HEAVY = (*NETWORK, "pydantic", "structlog", "rich", "prometheus_client", "transitions", "pandas")


def loaded_after(
    code: str, env: dict[str, str] | None = None, *, modules: bool = False
) -> set[str]:
    """The top-level packages (or, with ``modules``, every module) a fresh interpreter holds
    after running ``code``."""
    name = "m" if modules else "m.split('.')[0]"
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{{name} for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=None if env is None else {**os.environ, **env},
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


class TestImportCost:
    def test_the_help_of_tickstate_loads_only_the_standard_library_and_the_parser(self):
        """``tickstate --help`` builds the parser: no validation, broker or logging library."""
        loaded = loaded_after("from strategies.cli import build_parser\nbuild_parser()")
        assert loaded & set(HEAVY) == set()
        assert {"machines", "brokers"} & loaded == set()

    @pytest.mark.parametrize(
        "code",
        [
            "import machines",
            "import strategies",
            "from machines import Desk, State, ClientOrderId",
        ],
    )
    def test_the_core_loads_no_network_library(self, code):
        """The machine and the package roots load no HTTP or WebSocket library."""
        assert loaded_after(code) & set(NETWORK) == set()

    def test_a_replay_loads_no_network_library_nor_the_live_runner(self):
        """What ``tickstate replay`` imports (either fill model) holds no HTTP or WebSocket
        library, and none of the live runner's modules: its threads, journal or venues."""
        code = (
            "from strategies.run import load_bars, run_replay, around_the_sessions\n"
            "from strategies.run import daily_history, split_sessions\n"
            "import strategies.run._twin, strategies.cli._tables"
        )
        assert loaded_after(code) & set(NETWORK) == set()
        project = loaded_after(code, modules=True)
        live = {"strategies.run._live", "strategies.run._runner", "strategies.run._venues"}
        assert project & (live | {"brokers.sim._exchange", "brokers.alpaca"}) == set()

    def test_the_replay_command_logs_without_loading_the_metrics(self):
        """``tickstate replay`` configures its logging from ``strategies.observe``: that loads
        neither Prometheus nor, through the metrics' stream counters, any network library."""
        code = "from strategies.observe import MarketTime, configure_logging\nMarketTime()"
        assert loaded_after(code) & {*NETWORK, "prometheus_client"} == set()

    def test_a_cached_calendar_needs_no_pandas(self, tmp_path):
        """Once a calendar is built (and cached), the next process reads it without pandas."""
        env = {"TICKSTATE_CACHE_DIR": str(tmp_path)}
        build = "from strategies._sessions import TradingCalendar\nTradingCalendar.for_name('XNYS')"
        assert "pandas" in loaded_after(build, env)
        assert loaded_after(build, env) & {"pandas", "exchange_calendars"} == set()
