"""Where ``tickstate run`` and ``replay`` write what: people on a terminal, programs off one.

The one rule: off a terminal stdout is JSON lines only (``tickstate run … | jq .`` parses every
line): the run's log lines, then the summary as one last line (``"event": "summary"``); what
people read (tables, ``journal: …``, ``wrote …``) goes to stderr — or to stdout with
``--table``, where the log lines then stay in the log file only. On a terminal, people's output
is on stdout and the log is in the run's log file.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from strategies.engine import SymbolSummary

__all__ = ["Output", "new_run_id", "summary_record"]


@dataclass(frozen=True, slots=True)
class Output:
    """The streams of one command: ``human`` for people, ``machine`` for JSON lines (None: no
    JSON on stdout, on a terminal or under ``--table``)."""

    human: TextIO
    machine: TextIO | None

    @classmethod
    def choose(cls, *, table: bool, stdout: TextIO | None = None) -> Output:
        """Terminal: people on stdout. Otherwise JSON on stdout, people on stderr, unless
        ``table`` asks for people on stdout."""
        out = sys.stdout if stdout is None else stdout
        if out.isatty() or table:
            return cls(human=out, machine=None)
        return cls(human=sys.stderr, machine=out)

    @property
    def terminal(self) -> bool:
        """Whether people read stdout (a live screen may be drawn)."""
        return self.machine is None and self.human.isatty()

    def say(self, line: str) -> None:
        """One line for people."""
        print(line, file=self.human, flush=True)

    def emit(self, record: Mapping[str, Any]) -> None:
        """One JSON line for programs (nothing when nobody reads JSON on stdout)."""
        if self.machine is not None:
            self.machine.write(json.dumps(record, sort_keys=True, default=_plain) + "\n")
            self.machine.flush()


def _plain(value: object) -> str:
    """Decimals (money, prices) and paths as strings: exact, never a float."""
    if isinstance(value, Decimal | Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def new_run_id(strategy: str, stamp: str) -> str:
    """A run's id: the strategy, the wall-clock start (``YYYYmmdd-HHMMSS``) and 4 random hex
    digits (two runs started in the same second stay apart)."""
    return f"{strategy}-{stamp}-{secrets.token_hex(2)}"


def summary_record(
    *,
    command: str,
    strategy: str,
    summaries: Sequence[SymbolSummary],
    **fields: Any,
) -> dict[str, Any]:
    """The summary as one JSON object: every figure of the table, money as strings."""
    trades = sum(s.trades for s in summaries)
    wins = sum(s.wins for s in summaries)
    symbols = [
        {
            "symbol": s.symbol,
            "trades": s.trades,
            "wins": s.wins,
            "win_rate": str(Decimal(s.win_rate).quantize(Decimal("0.0001"))),
            "pnl": str(s.pnl),
            "max_drawdown": str(s.max_drawdown),
            "races": s.races,
            "anomalies": s.anomalies,
        }
        for s in summaries
    ]
    total = {
        "trades": trades,
        "wins": wins,
        "win_rate": str((Decimal(wins) / trades).quantize(Decimal("0.0001")) if trades else 0),
        "pnl": str(sum((s.pnl for s in summaries), Decimal(0))),
        "races": sum(s.races for s in summaries),
        "anomalies": sum(s.anomalies for s in summaries),
    }
    return {
        "event": "summary",
        "command": command,
        "strategy": strategy,
        "symbols": symbols,
        "total": total,
        **fields,
    }
