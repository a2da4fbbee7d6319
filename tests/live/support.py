"""Shared pieces of the live tests: a small 80-20 spec, the day's bars, and the order-book audit.

The audit reads only what the simulated exchange holds (its order book, fills and positions) and
what the journal holds (every outcome, its commands, and each command's result), and checks the
issue's invariants on them. It returns a list of findings (empty: all good) so a failing seed
says everything that went wrong at once.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from brokers import AlpacaBroker, Bar, Order, SimExchange, TradeUpdate
from machines import ClientOrderId, OrderRole
from strategies.run import first_sessions, load_bars
from strategies.signals import DailyBar
from strategies.spec import StrategySpec

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2012, 11, 15)  # 80-20 trades GOOG (09:40 ET) and AAPL (10:55 ET) long that day
SYMBOLS = ("AAPL", "GOOG")
#: A lock-step run's wait for its moment (``RunSettings.lockstep_timeout``) in tests where
#: nothing is lost: any expiry there is the host stalling, not a fault, and it would make the run
#: differ from its replay. Up to the exchange's own wait for an ack (10 s).
STALL_PROOF = 10.0


def spec_for(
    *,
    symbols: Iterable[str] = SYMBOLS,
    early_square_off: bool = False,
    max_attempts: int = 2,
    name: str = "s8020",
    broker: dict[str, Any] | None = None,
    square_off: str | None = None,
) -> StrategySpec:
    """The example 80-20 strategy on ``symbols``; ``early_square_off`` flattens at 11:00 ET, so
    AAPL's 10:55 position is closed by the square-off instead of its stop (``square_off``: at
    another time; entries end five minutes before it)."""
    raw: dict[str, Any] = tomllib.loads((ROOT / "examples" / "eighty_twenty.toml").read_text())
    wanted = tuple(symbols)
    raw["name"] = name
    raw["instruments"] = [i for i in raw["instruments"] if i["symbol"] in wanted]
    raw["max_attempts"] = max_attempts
    if broker is not None:
        raw["broker"] = {**raw["broker"], **broker}
    if early_square_off or square_off:
        flatten = datetime.strptime(square_off or "11:00", "%H:%M")
        last_entry = f"{flatten - timedelta(minutes=5):%H:%M}"
        raw["square_off"] = f"{flatten:%H:%M}"
        raw["entry_window"]["end"] = last_entry
        raw["signal"]["trigger_window_end"] = last_entry
    return StrategySpec.model_validate(raw)


#: The calendar days of data before a session that its look-back may read (80-20 reads at most
#: 21 sessions), and after it (a session asked for on a holiday moves to the next).
_BEFORE, _AFTER = timedelta(days=60), timedelta(days=7)


@cache
def _bars_around(symbols: tuple[str, ...], day: date) -> tuple[Bar, ...]:
    """The demo's 5-minute bars of ``symbols`` around ``day``: reading all of them took 3-5 s, in
    every child process a live test starts."""
    dates = (day - _BEFORE, day + _AFTER)
    return tuple(load_bars(ROOT / "data" / "intraday_5min", symbols=symbols, dates=dates))


def day_bars(
    spec: StrategySpec, day: date = DAY
) -> tuple[list[Bar], dict[str, tuple[DailyBar, ...]]]:
    """One session of ``spec``'s symbols and their earlier sessions as daily bars."""
    return first_sessions(_bars_around(tuple(sorted(spec.symbols)), day), spec, 1, day)


def rest_client(sim: SimExchange) -> AlpacaBroker:
    """An adapter on the exchange's REST API (for reading its books like any client would)."""
    return AlpacaBroker(sim.client_settings())


# --- what the exchange did ------------------------------------------------------------------


@dataclass
class FillLog:
    """Every execution the exchange's matching core made, with the exchange's time of it.

    Installed by wrapping the exchange's ``engine.on_bar`` (test instrumentation only); it runs
    on the exchange's loop thread and only appends.
    """

    fills: list[TradeUpdate] = field(default_factory=list)

    def install(self, sim: SimExchange) -> None:
        engine = sim.engine
        original = engine.on_bar

        def on_bar(bar: Bar, now: datetime, **kwargs: Any) -> list[TradeUpdate]:
            updates = original(bar, now, **kwargs)
            self.fills.extend(updates)
            return updates

        engine.on_bar = on_bar  # type: ignore[method-assign]

    def first_fill_at(self, client_order_id: str) -> datetime | None:
        times = [f.timestamp for f in self.fills if f.order.client_order_id == client_order_id]
        return min(times, default=None)


# --- what the journal holds ---------------------------------------------------------------


@dataclass
class JournalView:
    """The journal read back: outcomes (event, commands, snapshot) and command results."""

    transitions: list[dict[str, Any]]
    results: list[dict[str, Any]]

    @classmethod
    def read(cls, path: Path) -> JournalView:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            db.row_factory = sqlite3.Row
            transitions = [
                {
                    **dict(r),
                    "event": json.loads(r["event"]),
                    "commands": json.loads(r["commands"]),
                    "snapshot": json.loads(r["snapshot"]),
                }
                for r in db.execute("SELECT * FROM transitions ORDER BY seq")
            ]
            results = [dict(r) for r in db.execute("SELECT * FROM command_results ORDER BY seq")]
        return cls(transitions, results)

    def placed_ids(self) -> set[str]:
        """Client order ids of every order a journaled command asked for."""
        ids = set()
        for t in self.transitions:
            for c in t["commands"]:
                if c["type"] == "ReplaceStop":
                    ids.add(c["new_client_order_id"])
                elif c["type"] != "CancelOrder":
                    ids.add(c["client_order_id"])
        return ids

    def last_snapshots(self) -> dict[str, dict[str, Any]]:
        """Each symbol's snapshot after the last outcome its machine applied."""
        last: dict[str, tuple[int, int, dict[str, Any]]] = {}
        for t in self.transitions:
            key = (t["ordinal"], t["seq"])
            held = last.get(t["symbol"])
            if held is None or key >= held[:2]:
                last[t["symbol"]] = (*key, t["snapshot"])
        return {s: v[2] for s, v in last.items()}

    def filled_by_journal(self) -> dict[str, Decimal]:
        """Per client order id, the largest cumulative fill an applied outcome carried."""
        filled: dict[str, Decimal] = defaultdict(Decimal)
        for t in self.transitions:
            if t["kind"] not in ("accepted", "anomaly"):
                continue
            event = t["event"]
            cid, qty = event.get("client_order_id"), event.get("filled_qty")
            if cid and qty is not None:
                filled[cid] = max(filled[cid], Decimal(str(qty)))
        return dict(filled)

    def halted(self) -> dict[str, str]:
        return {
            s: snap["halt_reason"]
            for s, snap in self.last_snapshots().items()
            if snap.get("halt_reason")
        }


# --- the audit ------------------------------------------------------------------------------


def _parts(client_order_id: str) -> ClientOrderId:
    """The parts of one of the strategy's client order ids, read by the machine's own codec."""
    parts = ClientOrderId.parse(client_order_id)
    assert parts is not None, client_order_id
    return parts


def _attempt_of(cid: ClientOrderId) -> tuple[str, date, int]:
    return cid.symbol, cid.trading_date, cid.attempt


def audit(
    *,
    spec: StrategySpec,
    orders: list[Order],
    positions: dict[str, Decimal],
    journal: JournalView | None,
    fills: FillLog | None = None,
    speed: float | None = None,
    stop_within: float = 3.0,
) -> list[str]:
    """Every invariant of the issue's chaos list, checked on the exchange's books; findings."""
    found: list[str] = []
    ids = [o.client_order_id for o in orders]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        found.append(f"client order ids used twice: {twice}")
    ours = [
        o
        for o in orders
        if (cid := ClientOrderId.parse(o.client_order_id)) is not None and cid.strategy == spec.name
    ]
    if len(ours) != len(orders):
        found.append("orders at the exchange that are not the strategy's")

    # entries per symbol per day <= max_attempts; at most one filled entry per attempt
    entries: dict[tuple[str, date], set[int]] = defaultdict(set)
    for o in ours:
        cid = _parts(o.client_order_id)
        if cid.role is OrderRole.ENTRY:
            entries[(cid.symbol, cid.trading_date)].add(cid.attempt)
    for (symbol, day), attempts in entries.items():
        if len(attempts) > spec.max_attempts:
            found.append(f"{symbol} {day}: {len(attempts)} entries > {spec.max_attempts}")

    by_id = {o.id: o for o in ours}
    by_attempt: dict[tuple[str, date, int], list[Order]] = defaultdict(list)
    for o in ours:
        by_attempt[_attempt_of(_parts(o.client_order_id))].append(o)

    for key, group in by_attempt.items():
        filled_entries = [
            o
            for o in group
            if _parts(o.client_order_id).role is OrderRole.ENTRY and o.filled_qty > 0
        ]
        if len(filled_entries) > 1:
            found.append(f"{key}: {len(filled_entries)} filled entries in one attempt")
        stops = sorted(  # in lock-step a moment's orders share its time: then by replacement
            (o for o in group if _parts(o.client_order_id).role is OrderRole.STOP),
            key=lambda o: (o.created_at, _parts(o.client_order_id).seq),
        )
        exits = [o for o in group if _parts(o.client_order_id).role is OrderRole.EXIT]
        # every filled entry protected within a bounded (real) time of its first fill: by a
        # stop, or by a closing order (an entry that fills after the square-off or during the
        # shutdown is flattened at once instead)
        guards = sorted(o.created_at for o in [*stops, *exits])
        for entry in filled_entries:
            if not guards:
                found.append(f"{entry.client_order_id} filled and never protected")
                continue
            first_fill = fills.first_fill_at(entry.client_order_id) if fills else None
            first_fill = first_fill or entry.filled_at or entry.updated_at
            if speed is not None:
                lag = (guards[0] - first_fill).total_seconds() / speed
                if lag > stop_within:
                    found.append(
                        f"{entry.client_order_id}: protected {lag:.2f} s (real) after its fill"
                    )
        # stops only tightened: a long's (sell) stops never lower, a short's never higher
        prices = [o.stop_price for o in stops if o.stop_price is not None]
        if stops:
            sell = stops[0].side.value == "sell"
            for before, after in itertools.pairwise(prices):
                if (after < before) if sell else (after > before):
                    found.append(f"{key}: stop loosened {before} -> {after}")
        # never two live stops of one position: each stop after the first replaces the previous
        for before, after in itertools.pairwise(stops):
            if after.replaces is None or by_id.get(after.replaces) is not before:
                found.append(
                    f"{key}: {after.client_order_id} is not a replace of {before.client_order_id}"
                )
        if not filled_entries and stops:
            found.append(f"{key}: a stop with no filled entry")

    # flat after square-off, nothing left working
    for symbol, qty in positions.items():
        if qty != 0:
            found.append(f"{symbol}: position {qty} left open")
    still_open = [o.client_order_id for o in ours if o.is_open]
    if still_open:
        found.append(f"orders still open: {still_open}")

    if journal is not None:
        placed = journal.placed_ids()
        unjournaled = sorted(o.client_order_id for o in ours if o.client_order_id not in placed)
        if unjournaled:
            found.append(f"orders at the exchange with no journaled command: {unjournaled}")
        last = journal.last_snapshots()
        for symbol in spec.symbols:
            snap = last.get(symbol)
            held = positions.get(symbol, Decimal(0))
            if snap is None:
                continue
            if Decimal(str(snap["position"])) != held:
                found.append(f"{symbol}: journal position {snap['position']}, exchange {held}")
            if snap["working_orders"]:
                found.append(f"{symbol}: journal still has working orders")
        journal_fills = journal.filled_by_journal()
        for o in ours:
            if o.filled_qty and journal_fills.get(o.client_order_id, Decimal(0)) != o.filled_qty:
                found.append(
                    f"{o.client_order_id}: exchange filled {o.filled_qty},"
                    f" journal {journal_fills.get(o.client_order_id, Decimal(0))}"
                )
        at_exchange = set(ids)
        for r in journal.results:
            command = json.loads(r["command"])
            cid = command.get("new_client_order_id") or command["client_order_id"]
            if (
                r["result"] == "sent"
                and command["type"] != "CancelOrder"
                and cid not in at_exchange
            ):
                found.append(f"journal says {cid} was sent; the exchange never had it")
    return found


def positions_of(sim: SimExchange, symbols: Iterable[str]) -> dict[str, Decimal]:
    """The exchange's net position per symbol (0 when it holds none)."""
    held = {p.symbol: p.qty for p in sim.call(sim.engine.positions)}
    return {s: held.get(s, Decimal(0)) for s in symbols}


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (for state held by another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        threading.Event().wait(step)
    return predicate()


def update_line(update: TradeUpdate) -> str:
    """The line saying the engine applied ``update`` (the harness knows it by the same line)."""
    filled = format(update.order.filled_qty.normalize(), "f")
    return f"update {update.order.client_order_id} {update.kind.value} {filled}"
