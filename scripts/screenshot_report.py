#!/usr/bin/env python3
"""Screenshot a replay's HTML report as headless Chromium draws it, for the README.

Replays the 80-20 example over the demo year's 5-minute bars (``--model plain``) with
``--report``, opens the page in the distribution's Chromium (``apt-get install -y chromium``)
over the DevTools protocol (``tests/browser.py``), shows the symbol-day ``--day`` and writes
``docs/screens/report.png``. Any console error in the page is one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="a Chromium executable")
    parser.add_argument("--day", default="AAPL/2012-01-09", help="the symbol-day to show")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens" / "report.png")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from strategies.cli import main as tickstate
    from tests.browser import Page

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.html"
        code = tickstate(["replay", str(ROOT / "examples" / "eighty_twenty.toml"),
                          "--data", str(ROOT / "data" / "intraday_5min"), "--model", "plain",
                          "--out", tmp, "--report", str(report)])  # fmt: skip
        if code:
            return code
        with Page(args.chromium, width=1400, height=1000) as page:
            page.open(report)
            page.evaluate("window.reportReady")
            page.evaluate(f"location.hash = {args.day!r}")
            page.wait_for("Page.navigatedWithinDocument")
            page.evaluate("new Promise(r => requestAnimationFrame(() => r(0)))")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(args.out)
            if page.errors:
                print(f"{report}: console error: {page.errors[0]}", file=sys.stderr)
                return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
