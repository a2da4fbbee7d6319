"""backtrader's whole 80-20 run as its own process: ``python -m benchmarks._peers_process DATA
DEADLINES SYMBOLS [FIRST LAST]``.

What a backtrader user's script does: load the CSV files with backtrader's own CSV feed, add the
strategy (``_peers_backtrader.EightyTwenty``), run, report. ``DEADLINES`` is a JSON file of each
session's entry cutoff and square-off (the exchange calendar's early closes, as tickstate's
calendar gives them). Prints ``PEER {"trades": N}`` on stderr.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

import backtrader as bt

from benchmarks._peers_backtrader import Broker, Deadline, EightyTwenty


def main(argv: list[str]) -> int:
    """Run backtrader's 80-20 over the CSV files of ``argv[1]``'s symbols."""
    data, deadlines, symbols = Path(argv[0]), Path(argv[1]), argv[2].split(",")
    window: dict[str, datetime] = {}
    if len(argv) > 3:
        window = {
            "fromdate": datetime.fromisoformat(argv[3]),
            "todate": datetime.fromisoformat(argv[4]).replace(hour=23, minute=59),
        }
    calendar = {
        date.fromisoformat(day): Deadline(datetime.fromisoformat(a), datetime.fromisoformat(b))
        for day, (a, b) in json.loads(deadlines.read_text(encoding="utf-8")).items()
    }
    cerebro = bt.Cerebro(stdstats=False)
    broker = Broker(checksubmit=False)
    broker.cerebro = cerebro
    cerebro.setbroker(broker)
    cerebro.broker.setcash(10_000_000.0)
    for symbol in sorted(symbols):
        feed = bt.feeds.GenericCSVData(
            dataname=str(data / f"{symbol}.csv"),
            name=symbol,
            dtformat="%Y-%m-%dT%H:%M:%SZ",
            timeframe=bt.TimeFrame.Minutes,
            compression=5,
            datetime=1,
            open=2,
            high=3,
            low=4,
            close=5,
            volume=6,
            openinterest=-1,
            **window,
        )
        cerebro.adddata(feed)
    cerebro.addstrategy(EightyTwenty, calendar=calendar)
    (strategy,) = cerebro.run()
    print("PEER " + json.dumps({"trades": len(strategy.trades)}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
