"""The peers' figures: tickstate's replay against backtrader and NautilusTrader, row by row.

Measured by ``benchmarks/peers.py`` (same bars, same strategies, same run); here each race
becomes a ``Figure``: CPU time decides, the same run's wall time beside it, and a figure passes
only when the peer took the same trades.
"""

from __future__ import annotations

from typing import Any

from benchmarks._common import Figure

__all__ = ["PEER_NAMES", "PEER_STRATEGIES", "fig_peers"]

PEER_NAMES = {"backtrader": "backtrader", "nautilus": "NautilusTrader"}
PEER_STRATEGIES = {
    "opening_bar": "opening-bar stop entry",
    "eighty_twenty": "80-20",
    "nothing": "a strategy that places nothing",
}


def fig_peers(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """tickstate's replay against backtrader and NautilusTrader on the same bars with the same
    strategies (CPU time gates, wall time beside it; same trades checked), and a whole
    ``tickstate replay`` process against backtrader's (``benchmarks/peers.py``)."""
    from benchmarks import peers

    absent = peers.missing()
    if "backtrader" in absent:
        print(f"  peers: skipped, {' and '.join(absent)} not installed (pip install -e '.[bench]')")
        return [], {}
    if absent:
        print(f"  peers: {' and '.join(absent)} not installed: its figure is skipped")
    result = peers.measure(sizes["peers_days"], sizes["peers_rounds"])
    versions = result["versions"]
    where = peers.profile("opening_bar", sizes["peers_days"]) if sizes["profile"] else None
    figures = []
    for strategy, label in PEER_STRATEGIES.items():
        race = result[strategy]
        ours = race["tickstate"]
        for peer, shown in PEER_NAMES.items():
            if peer not in race:
                continue
            theirs = race[peer]
            check = theirs["trades_check"]
            version = versions.get(peers.PEERS[peer], "?")
            details: dict[str, Any] = {
                "symbols": result["symbols"],
                "data": result["data"],
                "bars": race["bars"],
                "rounds": race["rounds"],
                "tickstate": ours,
                peer: theirs,
            }
            if where is not None and strategy == "opening_bar":
                details["tickstate_profile"] = where
            figures.append(
                Figure(
                    name=f"replay bars/s vs {shown}, {label}, {len(result['symbols'])} symbols",
                    value=ours["bars_per_cpu_s"],
                    unit="bars/s",
                    baseline=theirs["bars_per_cpu_s"],
                    baseline_name=f"{shown} {version}, same bars, same run",
                    ratio=theirs["cpu_ratio"],
                    target=(
                        f">= 8x {shown} (CPU, same run; same trades)"
                        if strategy != "nothing"
                        else "— (reported: each framework's floor, no order)"
                    ),
                    passed=check["same_trades"]
                    and (strategy == "nothing" or theirs["cpu_ratio"] >= 8),
                    details=details,
                    wall_value=ours["bars_per_wall_s"],
                    wall_baseline=theirs["bars_per_wall_s"],
                    wall_ratio=theirs["wall_ratio"],
                )
            )
    whole = peers.process(sizes["peers_process_repeats"], sizes["peers_days"])
    figures.append(
        Figure(
            name="tickstate replay process vs backtrader's, 80-20 example, data/intraday_5min",
            value=whole["tickstate_cpu_s"]["median"],
            unit="s",
            baseline=whole["backtrader_cpu_s"]["median"],
            baseline_name=f"backtrader {versions.get('backtrader', '?')} process, its CSV feed",
            ratio=whole["cpu_ratio"],
            target=">= 4x backtrader's whole process (CPU; ratio = speed-up)",
            passed=whole["cpu_ratio"] >= 4 and whole["same_trade_count"],
            details=whole,
            wall_value=whole["tickstate_wall_s"]["median"],
            wall_baseline=whole["backtrader_wall_s"]["median"],
            wall_ratio=whole["wall_ratio"],
        )
    )
    return figures, {}
