"""Peers, measured in the same run on the same bars: tickstate's replay against backtrader and
NautilusTrader, each running the same strategy, in CPU time and wall time.

- **Opening-bar stop entry** (``benchmarks/_opening_bar.py``): tickstate's replay loop,
  backtrader (``_peers_backtrader``) and NautilusTrader's backtest engine (``_peers_nautilus``).
- **80-20** (``examples/eighty_twenty.toml``): tickstate's replay loop and backtrader.
- **Nothing**: the opening-bar strategy with ``place = false`` (its first-bar check, no order),
  all three: each framework's cost of running a strategy over the bars, for reference.
- **Whole process**: ``tickstate replay examples/eighty_twenty.toml --model plain`` against a
  ``python`` process that loads the same CSV files with backtrader's own CSV feed and runs its
  80-20 (``_peers_process``); each child's CPU time is the operating system's accounting of it.

The bars are the demo's five real symbols in ``data/intraday_5min`` (the replay benchmark's
data, without its renamed copies), loaded once before anything is timed, as each framework gets
them in memory; what is timed is each one's run over them (tickstate: ``replay_bars``, as
``tickstate replay`` times its loop; backtrader: ``cerebro.run()``; NautilusTrader:
``engine.run()``), built beforehand. Rounds alternate who goes first; each run starts after a
``gc.collect()`` with the collector on, as each framework runs by default; a figure is the
median round. Before a figure counts, the peers' trades are compared with tickstate's, trade by
trade (``compare``): backtrader's must be identical; NautilusTrader's must be the same trades,
their prices differing only by its documented fill conventions. Run: ``python -m
benchmarks.peers [--days N] [--rounds N]`` (prints JSON). Needs the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from brokers import Bar
from strategies.spec import StrategySpec

__all__ = ["available", "compare", "measure", "missing", "process", "profile", "release"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "intraday_5min"
OPENING_BAR = ROOT / "benchmarks" / "opening_bar.toml"
EIGHTY_TWENTY = ROOT / "examples" / "eighty_twenty.toml"
PEERS = {"backtrader": "backtrader", "nautilus": "nautilus_trader"}
_MINUTE = timedelta(seconds=30)


def missing() -> list[str]:
    """The peers' distributions that are not installed (``pip install -e '.[bench]'``)."""
    return [dist for dist in PEERS.values() if importlib.util.find_spec(dist) is None]


def available(peer: str) -> bool:
    """Whether ``peer`` (``backtrader`` or ``nautilus``) can be imported."""
    return importlib.util.find_spec(PEERS[peer]) is not None


def load(days: int | None = None) -> list[Bar]:
    """The demo's 5-minute bars of its five symbols (the first ``days`` sessions), in time order."""
    from strategies.run import load_bars

    bars = load_bars(DATA)
    if days is not None:
        wanted = set(sorted({b.start.date() for b in bars})[:days])
        bars = [b for b in bars if b.start.date() in wanted]
    return sorted(bars, key=lambda b: (b.start, b.symbol))


def spec_of(path: Path, symbols: Sequence[str], **signal: Any) -> StrategySpec:
    """The strategy file at ``path`` over ``symbols`` (tick 0.01), ``signal`` keys overridden."""
    from benchmarks._opening_bar import register
    from strategies.spec import validate_strategy

    register()
    data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    data["instruments"] = [{"symbol": s, "tick": "0.01"} for s in symbols]
    data["signal"].update(signal)
    return validate_strategy(data, file=str(path), base_dir=path.parent)


def calendar_of(spec: StrategySpec, bars: Sequence[Bar]) -> dict[date, Any]:
    """Each session's deadlines (entry cutoff, square-off; early closes) for the peers."""
    from strategies.run._wiring import plan_for

    plan = plan_for(spec)
    days = sorted({b.start.astimezone(plan.session.timezone).date() for b in bars})
    return {day: found for day in days if (found := plan.deadlines(day)) is not None}


# --- the contenders: each prepares (not timed), then runs (timed) to its trades ------------

Key = tuple[str, datetime, int, datetime, int]
Run = Callable[[], list[Key]]


def _minute(at: datetime) -> datetime:
    return (at + _MINUTE).replace(second=0, microsecond=0)


def _tickstate(spec: StrategySpec, bars: Sequence[Bar]) -> Run:
    from strategies.run import build_engine, replay_bars

    engine, paper, clock = build_engine(spec, bars)

    def run() -> list[Key]:
        replay_bars(bars, engine=engine, paper=paper, clock=clock)
        return sorted(
            (
                (
                    t.symbol,
                    t.entry_time,
                    int(t.entry_price * 100),
                    t.exit_time,
                    int(t.exit_price * 100),
                )
                for t in engine.recorder.trades
            ),
            key=lambda k: (k[1], k[0]),
        )

    return run


def _keys(trades: Sequence[Any], shift: timedelta = timedelta(0)) -> list[Key]:
    return sorted(
        (
            (
                t.symbol,
                _minute(t.entry_time) - shift,
                t.entry_cents,
                _minute(t.exit_time) - shift,
                t.exit_cents,
            )
            for t in trades
        ),
        key=lambda k: (k[1], k[0]),
    )


def _backtrader(strategy: str, bars: Sequence[Bar], calendar: Mapping[date, Any]) -> Run:
    from benchmarks import _peers_backtrader as bt_peer

    if strategy == "eighty_twenty":
        cerebro = bt_peer.prepare(bt_peer.EightyTwenty, bars, calendar=calendar)
    else:
        place = strategy == "opening_bar"
        cerebro = bt_peer.prepare(bt_peer.OpeningBar, bars, calendar=calendar, place=place)
    return lambda: _keys(bt_peer.finish(cerebro))


def _nautilus(bars: Sequence[Bar], calendar: Mapping[date, Any], place: bool = True) -> Run:
    from benchmarks import _peers_nautilus as nt_peer

    engine, strategy = nt_peer.prepare(bars, calendar, place)
    _AFTER.append(engine.dispose)  # after the timing: releasing the engine is not its run

    # Its fills are stamped at the end of the bar they happened in (its bars are stamped at
    # their end): a bar's start, as tickstate and backtrader stamp them, is 5 minutes earlier.
    return lambda: _keys(nt_peer.finish(engine, strategy), shift=timedelta(minutes=5))


_AFTER: list[Callable[[], object]] = []  # what to do once a timed run is over


def _timed(run: Run) -> tuple[list[Key], float, float]:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    trades = run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    release()
    return trades, cpu, wall


def release() -> None:
    """Release what the runs so far left (NautilusTrader's engines)."""
    while _AFTER:
        _AFTER.pop()()


# --- the comparison: the same trades, or a named difference --------------------------------


def compare(
    ours: Sequence[Key], theirs: Sequence[Key], bars: Sequence[Bar], calendar: Mapping[date, Any]
) -> dict[str, Any]:
    """Trade by trade: how many are identical, and every difference explained or not.

    Explained (NautilusTrader's conventions): a stop that a bar's open went through, filled at
    its trigger price where tickstate fills at the open (``gap_at_trigger``); a square-off
    filled at the close of the bar before the deadline where tickstate fills at the open of the
    first bar after it (``square_off_at_last_close``). Anything else is ``unexplained``.
    """
    at = {(b.symbol, b.start): b for b in bars}
    mine = {(k[0], k[1]): k for k in ours}
    other = {(k[0], k[1]): k for k in theirs}
    counts = {"gap_at_trigger": 0, "square_off_at_last_close": 0}
    unexplained: list[dict[str, Any]] = []
    for key in sorted(set(mine) & set(other), key=lambda k: (k[1], k[0])):
        a, b = mine[key], other[key]
        if a == b:
            continue
        reasons = _explain(a, b, at, calendar)
        if reasons is None:
            unexplained.append({"tickstate": _shown(a), "peer": _shown(b)})
        else:
            for reason in reasons:
                counts[reason] += 1
    only = [_shown(mine[k]) for k in sorted(set(mine) - set(other), key=lambda k: (k[1], k[0]))]
    peer = [_shown(other[k]) for k in sorted(set(other) - set(mine), key=lambda k: (k[1], k[0]))]
    same = sum(1 for k in set(mine) & set(other) if mine[k] == other[k])
    return {
        "tickstate_trades": len(ours),
        "peer_trades": len(theirs),
        "identical": same,
        "explained": counts,
        "unexplained": len(unexplained) + len(only) + len(peer),
        "examples": (unexplained + [{"only_tickstate": x} for x in only])[:5]
        + [{"only_peer": x} for x in peer][:5],
        "same_trades": not unexplained and not only and not peer,
    }


def _shown(key: Key) -> list[Any]:
    return [key[0], key[1].isoformat(), key[2] / 100, key[3].isoformat(), key[4] / 100]


def _explain(
    a: Key, b: Key, at: Mapping[tuple[str, datetime], Bar], calendar: Mapping[date, Any]
) -> list[str] | None:
    reasons = []
    if a[2] != b[2]:  # the entry: a buy stop through the open
        bar = at.get((a[0], a[1]))
        if bar is None or int(bar.open * 100) != a[2] or not b[2] < a[2]:
            return None
        reasons.append("gap_at_trigger")
    if (a[3], a[4]) != (b[3], b[4]):
        deadlines = calendar.get(a[3].date())
        square = deadlines.square_off.astimezone(UTC) if deadlines is not None else None
        exit_bar = at.get((a[0], a[3]))
        if square is not None and a[3] >= square and b[3] < a[3]:
            before = at.get((b[0], b[3]))  # the peer's exit: the bar before the deadline
            if before is None or int(before.close * 100) != b[4]:
                return None
            reasons.append("square_off_at_last_close")
        elif (
            a[3] == b[3]
            and exit_bar is not None
            and int(exit_bar.open * 100) == a[4]
            and b[4] > a[4]
        ):
            reasons.append("gap_at_trigger")  # a sell stop through the open
        else:
            return None
    return reasons


# --- the measurement -----------------------------------------------------------------------


def _summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4)}


def race(
    contenders: Mapping[str, Callable[[], Run]],
    bars: Sequence[Bar],
    calendar: Mapping[date, Any],
    rounds: int,
) -> dict[str, Any]:
    """Every contender's CPU and wall time over ``rounds`` alternating rounds, its trades
    compared with tickstate's (the first contender)."""
    names = list(contenders)
    cpu: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    trades: dict[str, list[Key]] = {}
    orders = []
    for i in range(rounds):
        order = names[i % len(names) :] + names[: i % len(names)]  # each takes each place
        orders.append(order)
        for name in order:
            found, c, w = _timed(contenders[name]())
            cpu[name].append(c)
            wall[name].append(w)
            trades.setdefault(name, found)
    ours = names[0]
    result: dict[str, Any] = {"bars": len(bars), "rounds": rounds, "order_of_rounds": orders}
    for name in names:
        entry: dict[str, Any] = {
            "cpu_s": _summary(cpu[name]),
            "wall_s": _summary(wall[name]),
            "bars_per_cpu_s": round(len(bars) / statistics.median(cpu[name])),
            "bars_per_wall_s": round(len(bars) / statistics.median(wall[name])),
            "trades": len(trades[name]),
            "cpu_rounds": [round(x, 4) for x in cpu[name]],
            "wall_rounds": [round(x, 4) for x in wall[name]],
        }
        if name != ours:
            entry["cpu_ratio"] = round(
                statistics.median(cpu[name]) / statistics.median(cpu[ours]), 3
            )
            entry["wall_ratio"] = round(
                statistics.median(wall[name]) / statistics.median(wall[ours]), 3
            )
            entry["trades_check"] = compare(trades[ours], trades[name], bars, calendar)
        result[name] = entry
    return result


def measure(days: int | None = None, rounds: int = 3) -> dict[str, Any]:
    """Both strategies, every installed peer, ``rounds`` rounds each (see the module)."""
    bars = load(days)
    symbols = sorted({b.symbol for b in bars})
    result: dict[str, Any] = {"symbols": symbols, "data": str(DATA.relative_to(ROOT))}
    have = {peer: available(peer) for peer in PEERS}
    for strategy, path, signal in (
        ("opening_bar", OPENING_BAR, {}),
        ("eighty_twenty", EIGHTY_TWENTY, {}),
        ("nothing", OPENING_BAR, {"place": False}),
    ):
        spec = spec_of(path, symbols, **signal)
        calendar = calendar_of(spec, bars)
        contenders: dict[str, Callable[[], Run]] = {"tickstate": partial(_tickstate, spec, bars)}
        if have["backtrader"]:
            contenders["backtrader"] = partial(_backtrader, strategy, bars, calendar)
        if have["nautilus"] and strategy != "eighty_twenty":
            contenders["nautilus"] = partial(_nautilus, bars, calendar, strategy != "nothing")
        result[strategy] = race(contenders, bars, calendar, rounds)
    result["versions"] = _versions()
    return result


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for dist in PEERS.values():
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return found


def profile(strategy: str = "opening_bar", days: int | None = None, top: int = 12) -> Any:
    """Where tickstate's replay loop spends its time on the peers' bars (cProfile, own time)."""
    import cProfile

    from benchmarks.dispatch import top_frames
    from strategies.run import build_engine, replay_bars

    bars = load(days)
    path = OPENING_BAR if strategy == "opening_bar" else EIGHTY_TWENTY
    spec = spec_of(path, sorted({b.symbol for b in bars}))
    engine, paper, clock = build_engine(spec, bars)
    profiler = cProfile.Profile()
    profiler.enable()
    replay_bars(bars, engine=engine, paper=paper, clock=clock)
    profiler.disable()
    return top_frames(profiler, top)


# --- whole processes -----------------------------------------------------------------------


def process(repeats: int = 3, days: int | None = None) -> dict[str, Any]:
    """``tickstate replay`` of the 80-20 example (plain model) against backtrader's 80-20 in
    its own process on the same files: CPU (user + system) and wall of each, alternating."""
    from benchmarks.startup import _PROBE, _child, _warm_up

    spec = spec_of(EIGHTY_TWENTY, ["AAPL", "IBM", "MSFT", "GOOG"])
    bars = load(days)
    calendar = calendar_of(spec, bars)
    deadlines = {
        day.isoformat(): [d.entry_cutoff.isoformat(), d.square_off.isoformat()]
        for day, d in calendar.items()
    }
    runs: list[dict[str, float]] = []
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "deadlines.json").write_text(json.dumps(deadlines), encoding="utf-8")
        # The CLI as ``tickstate replay`` runs it, reporting the CPU its replay loop took
        # (``startup._PROBE``: a wrapper around ``strategies.cli.main``, nothing else).
        ours = [sys.executable, "-c", _PROBE, "replay", str(EIGHTY_TWENTY)]
        ours += ["--data", str(DATA), "--model", "plain", "--out", str(out / "run")]
        if days is not None:
            first = min(calendar)
            ours += ["--start", first.isoformat(), "--days", str(days)]
        theirs = [sys.executable, "-m", "benchmarks._peers_process", str(DATA)]
        theirs += [str(out / "deadlines.json"), "AAPL,IBM,MSFT,GOOG"]
        if days is not None:
            theirs += [min(calendar).isoformat(), max(calendar).isoformat()]
        _warm_up(ours)  # warm-up of both: the calendar, page and bytecode caches
        _warm_up(theirs)
        for i in range(repeats):
            row: dict[str, float] = {}
            for name, args in (("tickstate", ours), ("backtrader", theirs))[:: 1 if i % 2 else -1]:
                cpu, wall, stderr = _child(args)
                row[f"{name}_cpu_s"], row[f"{name}_wall_s"] = cpu, wall
                if name == "backtrader":
                    line = next(x for x in stderr.splitlines() if x.startswith("PEER "))
                    counts["backtrader"] = json.loads(line.removeprefix("PEER "))["trades"]
                else:
                    line = next(x for x in stderr.splitlines() if x.startswith("STARTUP "))
                    row["tickstate_loop_cpu_s"] = json.loads(line.removeprefix("STARTUP "))[
                        "loop_cpu_s"
                    ]
            runs.append(row)
        rows = (out / "run" / "trades.csv").read_text(encoding="utf-8").splitlines()
        counts["tickstate"] = len(rows) - 1
    med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    return {
        "strategy": str(EIGHTY_TWENTY.relative_to(ROOT)),
        "data": str(DATA.relative_to(ROOT)),
        "trades": counts,
        "same_trade_count": counts["tickstate"] == counts["backtrader"],
        **{key: _summary([r[key] for r in runs]) for key in runs[0]},
        "cpu_ratio": round(med["backtrader_cpu_s"] / med["tickstate_cpu_s"], 3),
        "wall_ratio": round(med["backtrader_wall_s"] / med["tickstate_wall_s"], 3),
        "runs": [{k: round(v, 4) for k, v in r.items()} for r in runs],
    }


def main(argv: list[str] | None = None) -> int:
    """Print the peers' figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--process", action="store_true", help="also the whole processes")
    args = parser.parse_args(argv)
    absent = missing()
    if "backtrader" in absent:
        print(f"peers: {', '.join(absent)} not installed: pip install -e '.[bench]'")
        return 1
    found = measure(args.days, args.rounds)
    if args.process:
        found["process"] = process(days=args.days)
    print(json.dumps(found, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
