#!/usr/bin/env python3
"""Screenshot the overview's Mermaid the way a browser draws it: mermaid-cli in headless Chromium.

The README shows the overview as Mermaid (GitHub draws it in the reader's browser), so its
rendering is looked at, not only Graphviz's. Building and testing tickstate never needs this;
run it after the overview changes, because ``tickstate diagram --check`` names the screenshot as
drawn from an older ``overview.mmd`` until then. It needs Node with ``@mermaid-js/mermaid-cli``
and a Chromium, both of which work offline once installed::

    apt-get install -y chromium
    PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix /tmp/mmdc @mermaid-js/mermaid-cli
    python scripts/screenshot_mermaid.py --mmdc /tmp/mmdc/node_modules/.bin/mmdc

It writes ``diagrams/screenshots/overview-mermaid.png`` and records it in ``diagrams/RENDERED``.
A problem is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "overview.mmd"
PICTURE = "screenshots/overview-mermaid.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mmdc", required=True, help="the mermaid-cli executable (mmdc)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="a Chromium executable")
    parser.add_argument("--dir", type=Path, default=ROOT / "diagrams", help="the diagrams folder")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from strategies.cli._diagram import generated_files, record_picture

    source = generated_files()[SOURCE]
    on_disk = args.dir / SOURCE
    if not on_disk.is_file() or on_disk.read_text(encoding="utf-8") != source:
        print(
            f"{on_disk}: differs from what the code generates; run 'tickstate diagram'",
            file=sys.stderr,
        )
        return 2
    out = args.dir / PICTURE
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "puppeteer.json"
        browser = {
            "executablePath": args.chromium,
            "args": ["--no-sandbox", "--headless", "--disable-gpu"],
        }
        config.write_text(json.dumps(browser), encoding="utf-8")
        command = [
            args.mmdc,
            "-p",
            str(config),
            "-i",
            str(on_disk),
            "-o",
            str(out),
            "-b",
            "white",
            "-s",
            "1.5",
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            version = subprocess.run(
                [args.mmdc, "--version"], capture_output=True, text=True, check=False
            )
        except OSError as exc:
            print(f"{args.mmdc}: {exc.strerror}", file=sys.stderr)
            return 2
    if done.returncode != 0 or not out.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"{args.mmdc}: failed: {last}", file=sys.stderr)
        return 2
    record_picture(args.dir, PICTURE, SOURCE, source, f"mermaid-cli {version.stdout.strip()}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
