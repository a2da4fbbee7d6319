"""The HTML report (``--report``): one self-contained file, drawn in headless Chromium without
a console error, its index leading to each symbol-day's chart."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from strategies.cli import main
from strategies.run import load_bars, run_replay
from strategies.run._report import to_json
from strategies.spec import load_strategy
from tests.browser import Page

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "intraday_5min"
EXAMPLES = ROOT / "examples"


def _replay(example: str, tmp_path: Path) -> tuple[Path, object]:
    spec = load_strategy(EXAMPLES / example)
    bars = load_bars(DATA, symbols=("AAPL", "IBM"), dates=(date(2012, 1, 1), date(2012, 3, 31)))
    report = tmp_path / "report.html"
    result = run_replay(spec, bars, out_dir=tmp_path, model="plain", report_path=report)
    return report, result


@pytest.fixture(scope="module")
def eighty_twenty(tmp_path_factory) -> tuple[Path, object]:
    """80-20's report over AAPL and IBM, January to March 2012 (made once for the module)."""
    return _replay("eighty_twenty.toml", tmp_path_factory.mktemp("report"))


def _document(report: Path) -> dict:
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>',
                      report.read_text(encoding="utf-8"), re.S)  # fmt: skip
    assert found is not None
    return json.loads(found[1].replace("<\\/", "</"))


class TestReportFile:
    def test_decimals_are_written_as_their_own_digits(self):
        """A price goes into the page as the books hold it, never through a float."""
        assert to_json({"p": Decimal("0.1000"), "n": [1, None, "a"]}) == '{"p":0.1000,"n":[1,null,"a"]}'

    def test_the_page_is_self_contained_with_plotly_once(self, eighty_twenty):
        """Nothing is fetched at view time: no external script or style, plotly.js inline once."""
        report, result = eighty_twenty
        page = report.read_text(encoding="utf-8")
        assert not re.search(r"<(script|link)[^>]+(src|href)=", page)
        assert page.count("plotly.js v") >= 1
        assert page.count("<script>") == 2
        document = _document(report)
        zone = load_strategy(EXAMPLES / "eighty_twenty.toml").session.hours().timezone
        days = {(t.symbol, t.entry_time.astimezone(zone).date().isoformat()) for t in result.trades}
        assert {(c["symbol"], c["day"]) for c in document["charts"]} >= days
        assert len(document["trades"]) == len(result.trades) > 0
        assert document["summary"] == json.loads(result.summary_path.read_text())
        # 80-20 draws D-1's levels on every day but a symbol's first
        assert all(c["lines"] and c["lines"][0][0] == "D-1 high" for c in document["charts"][1:])

    def test_the_opening_range_is_drawn_for_orb(self, tmp_path):
        """ORB's chart carries the range's window: from the open, or_minutes long, low <= high."""
        report, _ = _replay("opening_range.toml", tmp_path)
        charts = _document(report)["charts"]
        assert charts
        for chart in charts:
            start, end, low, high = chart["window"]
            assert (start, end) == (9 * 60 + 30, 9 * 60 + 45)
            assert low <= high

    def test_replay_report_flag_writes_the_page(self, tmp_path, capsys):
        """``tickstate replay --report FILE`` writes it and says where."""
        data = tmp_path / "bars.csv"
        rows = (DATA / "AAPL.csv").read_text().splitlines()
        data.write_text("\n".join([rows[0], *[r for r in rows[1:] if ",2012-01-" in r]]) + "\n")
        report = tmp_path / "out" / "r.html"
        code = main(["replay", str(EXAMPLES / "eighty_twenty.toml"), "--data", str(data),
                     "--out", str(tmp_path / "out"), "--model", "plain", "--report", str(report)])  # fmt: skip
        assert code == 0
        out, err = capsys.readouterr()  # off a terminal: people's lines on stderr, JSON on stdout
        assert f"report: {report}" in err
        assert str(report) in json.loads(out.splitlines()[-1])["written"]
        assert report.stat().st_size > 1_000_000  # plotly.js is in it


class TestReportInChromium:
    def test_report_renders_without_console_errors(self, chromium, eighty_twenty, tmp_path):
        """Headless Chromium draws the page: no console error or exception, the equity plot and
        the first chart drawn, the index's next day replaces the chart, a screenshot taken."""
        report, result = eighty_twenty
        with Page(chromium, width=1400, height=1000) as page:
            page.open(report)
            charts = page.evaluate("window.reportReady")
            assert charts == len(_document(report)["charts"]) > 1
            assert page.evaluate("document.querySelectorAll('.js-plotly-plot').length") == 2
            first = page.evaluate("document.getElementById('chart-title').textContent")
            page.evaluate("document.getElementById('day-1').click()")
            page.wait_for("Page.navigatedWithinDocument")
            second = page.evaluate(
                "new Promise(r => requestAnimationFrame(() => "
                "r(document.getElementById('chart-title').textContent)))"
            )
            assert second != first
            chart = "document.getElementById('chart')"
            assert page.evaluate(f"{chart}.data.map(t => t.type).join()") == (
                "candlestick,scatter,scatter,scatter"
            )
            assert page.evaluate(f"{chart}.querySelectorAll('.boxlayer path').length") > 10
            rows = page.evaluate("document.querySelectorAll('#trades tr').length")
            assert rows == len(result.trades) + 1
            shot = page.screenshot(tmp_path / "report.png")
            assert page.errors == []
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
