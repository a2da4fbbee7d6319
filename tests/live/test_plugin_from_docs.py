"""A plugin written from ``docs/`` alone replays and runs live (issue 18).

Two plugins, each a package as ``docs/writing-a-signal.md`` describes it: the guide's example
(``examples/gap_fade``) and one freshly written by ``tickstate new-signal``. Each is installed as
``pip install -e`` would install it — its ``pyproject.toml``'s entry points in a ``.dist-info``
on ``sys.path``, its folder importable — so the registry discovers it exactly as it discovers
any distribution's signal. Then, through the command line only: ``validate``; ``replay`` of one
session; ``run`` of the same session against the simulated exchange in lock-step (real
sockets, the Alpaca adapter) at a high speed, whose ``trades.csv`` must be the replay's byte for
byte. The bars are the demo data's 1-minute bars of that session and the one before it.
"""

from __future__ import annotations

import gzip
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from strategies.cli import main
from strategies.signals import ENTRY_POINT_GROUP, _registry
from tests.live.support import ROOT

#: Monday 2012-11-19: every demo stock opened above the Friday's high (a gap the fade sells).
DAY = "2012-11-19"
DATES = ("2012-11-16", DAY)

Install = Callable[[Path], None]


def _forget() -> None:
    _registry._entry_points.cache_clear()
    _registry.signal_kind.cache_clear()


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """``install(package)``: what ``pip install -e package`` leaves behind, for this test."""
    site = tmp_path / "site"

    def install(package: Path) -> None:
        project = tomllib.loads((package / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        entries = project["entry-points"][ENTRY_POINT_GROUP]
        info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
        )
        (info / "entry_points.txt").write_text(
            f"[{ENTRY_POINT_GROUP}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items())
        )
        monkeypatch.syspath_prepend(str(site))
        monkeypatch.syspath_prepend(str(package))
        _forget()

    yield install
    monkeypatch.undo()
    _forget()


@pytest.fixture(scope="module")
def two_sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data's 1-minute bars of 2012-11-16 (the look-back) and 2012-11-19."""
    out = tmp_path_factory.mktemp("data")
    for source in sorted((ROOT / "data" / "intraday_1min").glob("*.csv.gz")):
        with gzip.open(source, "rt", encoding="utf-8") as lines:
            kept = [line for i, line in enumerate(lines) if i == 0 or line.split(",")[1][:10] in DATES]
        (out / source.name.removesuffix(".gz")).write_text("".join(kept), encoding="utf-8")
    return out


def _replays_and_runs_live(config: Path, data: Path, out: Path, capsys) -> bytes:
    """validate, replay one session, run it live in lock-step: the same trades, byte for byte."""
    assert main(["validate", str(config), "--data", str(data)]) == 0
    assert main(["replay", str(config), "--data", str(data), "--start", DAY, "--out", str(out / "replay")]) == 0
    replayed = (out / "replay" / "trades.csv").read_bytes()
    assert len(replayed.splitlines()) > 1, "the session must trade for the comparison to mean much"
    capsys.readouterr()
    code = main(
        [
            "run", str(config), "--data", str(data), "--start", DAY, "--speed", "1000000",
            "--journal", str(out / "journal.sqlite"), "--out", str(out / "live"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.out + captured.err
    assert (out / "live" / "trades.csv").read_bytes() == replayed
    return replayed


def test_the_guides_example_plugin_replays_and_runs_live(install, two_sessions, tmp_path, capsys):
    """examples/gap_fade, installed from its own pyproject.toml: its strategy fades the
    Monday's gaps in replay, and a lock-step run trades exactly the same."""
    package = ROOT / "examples" / "gap_fade"
    install(package)
    trades = _replays_and_runs_live(package / "gap_fade.toml", two_sessions, tmp_path, capsys)
    assert b"fade-GOOG-20121119-1-sell" in trades


def test_a_scaffolded_plugin_replays_and_runs_live_as_written(install, two_sessions, tmp_path, capsys):
    """tickstate new-signal writes a package that, installed untouched, validates, replays and
    runs live with the same trades."""
    assert main(["new-signal", "first_break", "--dir", str(tmp_path)]) == 0
    package = tmp_path / "first_break"
    install(package)
    trades = _replays_and_runs_live(package / "first_break.toml", two_sessions, tmp_path / "out", capsys)
    assert b"first_break-AAPL-20121119-1-buy" in trades
