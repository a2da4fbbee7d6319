"""The peers benchmark: its shape at a quick size, and the peers taking tickstate's trades.

Needs the ``bench`` extra (``pip install -e '.[bench]'``); skipped without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import peers
from benchmarks.__main__ import QUICK, run_all
from benchmarks._common import table, write_results
from strategies.signals import _registry, signal_names


@pytest.fixture(autouse=True)
def _forget_the_benchmark_signal() -> Iterator[None]:
    """The benchmark registers ``opening_bar`` in the running process: forget it after each
    test, so the tests that follow (the schema reference, the registry) see the installed
    signals only."""
    yield
    _registry._entry_points.cache_clear()
    _registry.signal_kind.cache_clear()


def test_the_opening_bar_signal_runs_in_tickstate_without_the_extra() -> None:
    """tickstate's side of the comparison needs no peer: one entry a day at most, all long."""
    bars = peers.load(days=3)
    spec = peers.spec_of(peers.OPENING_BAR, sorted({b.symbol for b in bars}))
    trades = peers._tickstate(spec, bars)()
    days = {(k[0], k[1].date()) for k in trades}
    assert trades
    assert len(days) == len(trades)  # one attempt a symbol a day
    assert all(k[3] >= k[1] for k in trades)  # every exit at or after its entry


def test_backtrader_takes_tickstates_trades_on_both_strategies() -> None:
    """Twenty sessions: every backtrader trade is tickstate's, entry and exit, time and price."""
    pytest.importorskip("backtrader", reason="the bench extra is not installed")
    bars = peers.load(days=20)
    symbols = sorted({b.symbol for b in bars})
    for path, strategy in (
        (peers.OPENING_BAR, "opening_bar"),
        (peers.EIGHTY_TWENTY, "eighty_twenty"),
    ):
        spec = peers.spec_of(path, symbols)
        calendar = peers.calendar_of(spec, bars)
        ours = peers._tickstate(spec, bars)()
        theirs = peers._backtrader(strategy, bars, calendar)()
        assert ours, strategy
        assert theirs == ours, strategy


def test_nautilus_takes_the_same_trades_its_fill_conventions_aside() -> None:
    pytest.importorskip("nautilus_trader", reason="the bench extra is not installed")
    bars = peers.load(days=20)
    spec = peers.spec_of(peers.OPENING_BAR, sorted({b.symbol for b in bars}))
    calendar = peers.calendar_of(spec, bars)
    ours = peers._tickstate(spec, bars)()
    theirs = peers._nautilus(bars, calendar)()
    peers.release()
    check = peers.compare(ours, theirs, bars, calendar)
    assert check["same_trades"], check["examples"]
    assert check["tickstate_trades"] == check["peer_trades"] == len(ours) > 0
    explained = sum(check["explained"].values())
    assert check["identical"] + check["unexplained"] <= len(ours)
    assert check["unexplained"] == 0
    assert explained >= len(ours) - check["identical"]


def test_compare_names_a_trade_only_one_side_took() -> None:
    bars = peers.load(days=3)
    spec = peers.spec_of(peers.OPENING_BAR, sorted({b.symbol for b in bars}))
    ours = peers._tickstate(spec, bars)()
    check = peers.compare(ours, ours[1:], bars, peers.calendar_of(spec, bars))
    assert not check["same_trades"]
    assert check["unexplained"] == 1
    assert check["examples"] == [{"only_tickstate": peers._shown(ours[0])}]


def test_the_peers_figures_carry_cpu_and_wall_baseline_target_and_verdict(
    tmp_path: Path,
) -> None:
    pytest.importorskip("backtrader", reason="the bench extra is not installed")
    pytest.importorskip("nautilus_trader", reason="the bench extra is not installed")
    figures, extra = run_all(QUICK, only=["peers"], log=lambda _: None)
    names = [f.name for f in figures]
    assert len(figures) == 6, names
    assert sum("places nothing" in n for n in names) == 2  # the floor, against both peers
    assert any("vs backtrader, opening-bar" in n for n in names)
    assert any("vs NautilusTrader, opening-bar" in n for n in names)
    assert any("vs backtrader, 80-20" in n for n in names)
    assert any("process vs backtrader" in n for n in names)
    for f in figures:
        assert f.value > 0
        assert f.baseline is not None
        assert f.baseline > 0
        assert f.ratio is not None
        assert f.ratio > 0
        assert f.wall_value is not None
        assert f.wall_baseline is not None
        assert f.wall_ratio is not None
        assert f.target
    race = figures[0].details
    assert race["tickstate"]["trades"] == race["backtrader"]["trades"]
    assert race["backtrader"]["trades_check"]["same_trades"]
    json_path, _ = write_results(figures, tmp_path, extra)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert {"wall_value", "wall_baseline", "wall_ratio"} <= set(document["figures"][0])
    assert " CPU; " in table(document)


def test_without_the_extra_the_peers_are_skipped_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(peers, "missing", lambda: ["backtrader", "nautilus_trader"])
    figures, extra = run_all(QUICK, only=["peers"], log=lambda _: None)
    assert (figures, extra) == ([], {})
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "skipped" in out[0]
    assert "[bench]" in out[0]


def test_the_benchmark_signal_is_forgotten_after_a_test() -> None:
    """Runs after the tests above (file order): ``opening_bar`` is no installed signal."""
    assert "opening_bar" not in signal_names()
