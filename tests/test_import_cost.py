"""What importing costs: the core loads no network library, ``tickstate --help`` only the parser.

Measured by what ends up in ``sys.modules`` of a fresh interpreter, never by a clock (a timed
test passes only on a quiet machine). ``python -X importtime -c "import strategies.cli"`` shows
the figures; ``benchmarks`` holds the timings.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

NETWORK = ("requests", "websocket", "aiohttp", "tenacity", "msgpack", "urllib3")
HEAVY = (*NETWORK, "pydantic", "structlog", "rich", "prometheus_client", "transitions", "pandas")


def loaded_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
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
