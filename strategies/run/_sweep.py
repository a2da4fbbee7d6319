"""Parameter sweeps: one replay per combination of a grid, run as Ray tasks (``tickstate sweep``).

A grid key is a dotted path into the strategy file (``signal.zone``, ``max_attempts``,
``sizing.fixed_qty``); each value is read as a TOML value (``0.2``, ``3``, ``"14:00"``, ``true``;
a bare word is a string). Every combination is validated by the strategy schema before anything
runs, so a bad key or value is one line naming it. Each task is ``replay_combination``: the same
``run_replay`` a ``tickstate replay`` runs, in a temporary folder on whichever node Ray chose,
returning the files' text — so the driver writes every result, local cluster or remote.

Walk-forward splits the sessions into folds: ``in_sample`` sessions, then the ``out_of_sample``
sessions after them, rolling forward by ``out_of_sample``; the best combination in sample (by the
chosen metric) is replayed out of sample. Each window's look-back (D-1 for 80-20) is the
sessions before it, as ``tickstate replay --start`` reads it (``--model twin``; the bar-level
``plain`` model reads none, so its first session of a window has no D-1).
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from brokers import Bar
from strategies._exceptions import SpecError
from strategies.signals import DailyBar

__all__ = [
    "Combination",
    "Fold",
    "GridAxis",
    "SweepError",
    "SweepOutcome",
    "SweepTask",
    "better_first",
    "combinations",
    "folds",
    "metric_of",
    "pack_bars",
    "parse_grid",
    "ray_session",
    "replay_combination",
    "run_tasks",
    "unpack_bars",
    "window",
]


class SweepError(ValueError):
    """A sweep cannot run as asked (a grid, a metric, a walk-forward); ``str()`` is one line."""


@dataclass(frozen=True, slots=True)
class GridAxis:
    """One ``--grid key=v1,v2,...``: the key path and its values (as typed, and as read)."""

    key: str
    texts: tuple[str, ...]
    values: tuple[Any, ...]


def _value(text: str) -> Any:
    """A TOML value (``0.25`` is a Decimal, as strategy files read it), or a bare word as text."""
    try:
        return tomllib.loads(f"v = {text}", parse_float=Decimal)["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_grid(texts: Sequence[str]) -> list[GridAxis]:
    """``key=v1,v2,...`` each; a key twice, an empty key or no value is a ``SweepError``."""
    axes: list[GridAxis] = []
    for text in texts:
        key, equals, values = text.partition("=")
        key = key.strip()
        if not equals or not key:
            raise SweepError(f"--grid {text}: expected key=v1,v2,... (e.g. signal.zone=0.1,0.2)")
        words = tuple(word.strip() for word in values.split(","))
        if not all(words):
            raise SweepError(f"--grid {text}: a value is empty")
        if any(axis.key == key for axis in axes):
            raise SweepError(f"--grid {key}: given twice; list all its values in one --grid")
        axes.append(GridAxis(key, words, tuple(_value(word) for word in words)))
    if not axes:
        raise SweepError("--grid: at least one is needed")
    return axes


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    """Set the dotted ``key`` in parsed TOML ``data``; tables on the way are made if absent."""
    *tables, last = key.split(".")
    here = data
    for name in tables:
        nested = here.setdefault(name, {})
        if not isinstance(nested, dict):
            raise SweepError(f"--grid {key}: {name} is not a table in the strategy file")
        here = nested
    if isinstance(here.get(last), dict | list):
        raise SweepError(f"--grid {key}: is a table in the strategy file, not a value")
    here[last] = value


@dataclass(frozen=True, slots=True)
class Combination:
    """One point of the grid: its number (from 1), the values as typed, the strategy's data."""

    number: int
    params: tuple[tuple[str, str], ...]
    data: dict[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        """Its folder in the sweep's output: ``combo-01``."""
        return f"combo-{self.number:02d}"


def combinations(
    data: Mapping[str, Any], axes: Sequence[GridAxis], *, file: str, base_dir: Path
) -> list[Combination]:
    """Every combination of ``axes`` over the parsed strategy ``data``, each validated by the
    schema (the first that fails is a ``SweepError`` naming the grid values and the key)."""
    from strategies.spec import validate_strategy

    found = []
    for number, picked in enumerate(itertools.product(*(range(len(a.values)) for a in axes)), 1):
        changed = copy.deepcopy(dict(data))
        for axis, index in zip(axes, picked, strict=True):
            _set(changed, axis.key, axis.values[index])
        params = tuple((a.key, a.texts[i]) for a, i in zip(axes, picked, strict=True))
        try:
            validate_strategy(changed, file=file, base_dir=base_dir)
        except SpecError as exc:
            where = ", ".join(f"{k}={v}" for k, v in params)
            raise SweepError(f"--grid {where}: {exc.path}: {exc.problem}") from None
        found.append(Combination(number, params, changed))
    return found


@dataclass(frozen=True, slots=True)
class Fold:
    """A walk-forward fold: its number, in-sample sessions, then out-of-sample sessions."""

    number: int
    in_sample: tuple[date, ...]
    out_of_sample: tuple[date, ...]


def folds(sessions: Sequence[date], in_sample: int, out_of_sample: int) -> list[Fold]:
    """Consecutive folds over ``sessions``, rolling forward by ``out_of_sample`` sessions; a last
    window too short for both parts is left out. None fit: a ``SweepError``."""
    days = sorted(set(sessions))
    found: list[Fold] = []
    start = 0
    while start + in_sample + out_of_sample <= len(days):
        inside = tuple(days[start : start + in_sample])
        after = tuple(days[start + in_sample : start + in_sample + out_of_sample])
        found.append(Fold(len(found) + 1, inside, after))
        start += out_of_sample
    if not found:
        raise SweepError(
            f"--walk-forward {in_sample},{out_of_sample}: the data has {len(days)} sessions, "
            f"fewer than the {in_sample + out_of_sample} one fold needs"
        )
    return found


def window(
    bars: Sequence[Bar], sessions: Sequence[date], spec: Any
) -> tuple[list[Bar], dict[str, tuple[DailyBar, ...]]]:
    """The bars of ``sessions`` (each from 30 minutes before its open to 30 after its close) and
    the look-back before the first of them, as ``tickstate replay --start`` reads them."""
    from strategies.run._history import daily_history
    from strategies.run._selection import around_the_sessions

    zone = spec.session.hours().timezone
    first, wanted = min(sessions), set(sessions)
    inside = [bar for bar in bars if bar.start.astimezone(zone).date() in wanted]
    before = [bar for bar in bars if bar.start.astimezone(zone).date() < first]
    return around_the_sessions(spec, inside), daily_history(spec, before)


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepTask:
    """What one replay of a sweep needs besides its bars (which travel once, by reference)."""

    key: str  # the driver's name for it: combo-01, fold-1/in/combo-01, fold-1/out
    data: dict[str, Any] = field(repr=False)
    file: str
    base_dir: Path
    model: str = "twin"
    seed: int = 0
    report: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepOutcome:
    """One replay's files, as text: what ``tickstate replay`` would have written."""

    key: str
    trades_csv: str
    summary_json: str
    report_html: str | None
    cpu_seconds: float = 0.0  # the replay's CPU time where it ran (for the benchmark)

    @property
    def summary(self) -> dict[str, Any]:
        """``summary.json``, parsed."""
        parsed: dict[str, Any] = json.loads(self.summary_json)
        return parsed


def replay_combination(
    task: SweepTask,
    bars: Sequence[Bar],
    history: Mapping[str, tuple[DailyBar, ...]] | None = None,
) -> SweepOutcome:
    """Run one replay as ``tickstate replay`` does and hand back its files (a Ray task's body;
    also what a sequential sweep calls)."""
    from strategies.run._replay import run_replay
    from strategies.spec import validate_strategy

    cpu = time.process_time()
    spec = validate_strategy(task.data, file=task.file, base_dir=task.base_dir)
    with tempfile.TemporaryDirectory(prefix="tickstate-sweep-") as tmp:
        out = Path(tmp)
        report = out / "report.html" if task.report else None
        result = run_replay(
            spec,
            bars,
            out_dir=out,
            model=task.model,
            history=history or None,
            seed=task.seed,
            report_path=report,
        )
        return SweepOutcome(
            key=task.key,
            trades_csv=result.trades_path.read_text(encoding="utf-8"),
            summary_json=result.summary_path.read_text(encoding="utf-8"),
            report_html=None if report is None else report.read_text(encoding="utf-8"),
            cpu_seconds=time.process_time() - cpu,
        )


Batch = tuple[Sequence[SweepTask], Sequence[Bar], Mapping[str, tuple[DailyBar, ...]] | None]


@contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[None]:
    """Ray for a sweep: join ``address`` (``auto``: the cluster this machine belongs to), or
    start a local cluster of ``num_cpus`` (default: every core) and shut it down after; an
    already initialised Ray (a test's, a notebook's) is used as it is and left running."""
    import ray

    if ray.is_initialized():
        yield
        return
    ray.init(
        address=address,
        num_cpus=None if address else num_cpus,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
    )
    try:
        yield
    finally:
        ray.shutdown()


_Row = tuple[str, str, str, str, str, str, str, int, str | None]


def pack_bars(bars: Sequence[Bar]) -> list[_Row]:
    """Bars as rows of text and ints: Ray pickles these in C, where pickling ``Bar`` objects
    (a Python-level ``__reduce__`` per ``Decimal`` and per bar) took 7.5 s for a year of four
    symbols' 5-minute bars on the 2-core host, and unpickling 3.4 s in every task."""
    return [
        (b.symbol, b.start.isoformat(), str(b.open), str(b.high), str(b.low), str(b.close),
         str(b.volume), b.trade_count, None if b.vwap is None else str(b.vwap))
        for b in bars
    ]  # fmt: skip


def unpack_bars(rows: Sequence[_Row]) -> list[Bar]:
    """``pack_bars``'s rows back into the same bars (every digit and offset kept)."""
    number, moment = Decimal, datetime.fromisoformat
    return [
        Bar(symbol=s, start=moment(t), open=number(o), high=number(h), low=number(lo),
            close=number(c), volume=number(v), trade_count=n,
            vwap=None if w is None else number(w))
        for s, t, o, h, lo, c, v, n, w in rows
    ]  # fmt: skip


# A worker keeps the bars of the batches it last ran, so a batch's bars are rebuilt once per
# worker process rather than once per task (building a Bar validates it: ~3 s for a year).
_UNPACKED: dict[str, list[Bar]] = {}


def _replay_on_worker(
    task: SweepTask, boxed: list[Any], history: Mapping[str, tuple[DailyBar, ...]]
) -> SweepOutcome:
    """A Ray task's body: the batch's bars (from this worker's cache, or fetched and rebuilt
    once; ``boxed`` holds their reference unresolved), then ``replay_combination``."""
    import ray

    (ref,) = boxed
    key = ref.hex()
    bars = _UNPACKED.get(key)
    if bars is None:
        bars = unpack_bars(ray.get(ref))
        while len(_UNPACKED) >= 2:  # a walk-forward's windows come and go
            _UNPACKED.pop(next(iter(_UNPACKED)))
        _UNPACKED[key] = bars
    return replay_combination(task, bars, history)


def run_tasks(
    batches: Sequence[Batch], *, progress: Callable[[SweepOutcome], None] | None = None
) -> list[SweepOutcome]:
    """Every task of every batch as a Ray task (one CPU each), inside a ``ray_session``; the
    outcomes in the order given. Each batch's bars and look-back go into Ray's object store
    once (packed) and are passed by reference."""
    import ray

    # Ray's stubs type a remote function by arity and cannot follow the boxed reference.
    remote: Any = ray.remote(num_cpus=1)(_replay_on_worker)
    refs = []
    for tasks, bars, history in batches:
        bars_ref, history_ref = ray.put(pack_bars(bars)), ray.put(dict(history or {}))
        refs += [remote.remote(task, [bars_ref], history_ref) for task in tasks]
    waiting = list(refs)
    while waiting:
        done, waiting = ray.wait(waiting, num_returns=1)
        if progress is not None:
            progress(ray.get(done[0]))
    outcomes: list[SweepOutcome] = ray.get(refs)
    return outcomes


_LOWER_IS_BETTER = ("drawdown", "cost", "loss", "anomalies", "races")


def metric_of(summary: Mapping[str, Any], metric: str) -> Decimal | None:
    """The total's ``metric`` in a ``summary.json`` as a number (None: absent or not a number);
    read defensively, so figures added to the summary later rank as they come."""
    total = summary.get("total", {})
    value = total.get(metric) if isinstance(total, Mapping) else None
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def better_first(metric: str) -> Callable[[Decimal | None], tuple[int, Decimal]]:
    """A sort key ranking ``metric``'s best value first (lower is better for drawdowns, costs,
    losses, races and anomalies), missing values last."""
    lower = any(word in metric for word in _LOWER_IS_BETTER)

    def key(value: Decimal | None) -> tuple[int, Decimal]:
        if value is None:
            return (1, Decimal(0))
        return (0, value if lower else -value)

    return key
