#!/usr/bin/env python3
"""Screenshot ``tickstate run``'s live screen from a real terminal, at 60, 80 and 120 columns.

Each width runs the README's main job (``tickstate run examples/eighty_twenty.toml --start
2012-11-15 --speed 600``, lock-step, so every run trades alike) inside a detached tmux of that
size, waits until the screen shows a position held after a closed trade (the market's clock
past 10:58, a symbol ``in_position``), captures the pane with its colours
(``tmux capture-pane -e -p``), and draws the capture as rich draws a terminal (``Text.from_ansi``,
then ``Console.export_svg``), rasterised by headless Chromium. The 80-column run is then
stopped with Ctrl-C, as a user would, and its last frame and summary are captured too.

Building and testing tickstate never needs this; it needs tmux and Chromium (``apt-get install
-y tmux chromium``) and the project installed (``pip install -e .``)::

    python scripts/screenshot_screen.py

writes ``docs/screens/60.png``, ``80.png``, ``120.png``, ``80-stopped.png`` and, when a poll
lands in the second the stop takes, ``80-stopping.png`` (and the SVGs beside them). A problem
is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screens"
HEIGHT = 40  # rows of the terminal: room for the last frame and the summary after Ctrl-C
COMMAND = "tickstate run {config} --start 2012-11-15 --speed 600"
#: The moment to capture: a symbol in a position, after 10:58 on the market's clock (GOOG's
#: trade of the morning is closed by then, AAPL's entry of 10:55 is held).
AFTER = (10, 58)
TIMEOUT = 180.0  # seconds for one run to reach that moment (a loaded host is slow to start)


class ScreenshotError(Exception):
    """Something this script needs is missing or did not happen."""


SOCKET = "tickstate-screens"  # a tmux server of its own: nobody else's sessions or settings


def _tmux(*args: str) -> str:
    command = ["tmux", "-L", SOCKET, "-f", "/dev/null", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ScreenshotError(f"tmux {args[0]}: {done.stderr.strip()}")
    return done.stdout


def _market_time(plain: str) -> tuple[int, int] | None:
    found = re.search(r"\b(\d\d):(\d\d):\d\d E[SD]T\b", plain)
    return None if found is None else (int(found[1]), int(found[2]))


def _wait(session: str, ready: object, timeout: float) -> str:
    """Poll the pane until ``ready(plain text)`` holds; the capture, colours and all."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        plain = _tmux("capture-pane", "-p", "-t", session)
        if ready(plain):  # type: ignore[operator]
            return _tmux("capture-pane", "-e", "-p", "-t", session)
        time.sleep(0.1)
    raise ScreenshotError(f"{session}: the screen never showed what was waited for")


def _holding(plain: str) -> bool:
    when = _market_time(plain)
    return when is not None and when >= AFTER and " in_position " in plain


def _finished(plain: str) -> bool:
    return "journal: " in plain and "(stopped by user)" in plain


def _svg(ansi: str, width: int, title: str) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system="256")
    text = Text.from_ansi(ansi.rstrip("\n"))
    console.print(text, crop=False, soft_wrap=True)
    return console.export_svg(title=title)


def _png(svg: Path, png: Path, chromium: str) -> None:
    """Rasterise ``svg`` at its own size (its viewBox), at twice the pixels for sharp text."""
    found = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text(encoding="utf-8"))
    if found is None:
        raise ScreenshotError(f"{svg}: no viewBox")
    width, height = (int(float(v)) + 1 for v in found.groups())
    page = svg.with_suffix(".html")
    page.write_text(
        "<html><body style='margin:0;background:#0c0c0c'>"
        f"<img src='{svg.name}' width='{width}' height='{height}'></body></html>",
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=2",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    page.unlink()
    if done.returncode != 0 or not png.exists():
        raise ScreenshotError(f"chromium: {done.stderr.strip()[-300:]}")


def shoot(width: int, *, work: Path, chromium: str, stop: bool) -> list[tuple[str, str]]:
    """Run the main job at ``width`` columns; the captures (name, ANSI text) it yields."""
    session = f"tickstate-screen-{width}"
    config = ROOT / "examples" / "eighty_twenty.toml"
    # This interpreter's tickstate (a venv's), whatever PATH the tmux server was started with.
    here = Path(sys.executable).parent / "tickstate"
    run = COMMAND.format(config=config).replace(
        "tickstate", str(here) if here.exists() else "tickstate", 1
    )
    shell = f"cd {work} && TERM=xterm-256color {run}; echo; sleep 600"
    _tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(HEIGHT), shell)
    try:
        shots = [(f"{width}", _wait(session, _holding, TIMEOUT))]
        if stop:
            _tmux("send-keys", "-t", session, "C-c")
            # The stop's own line lasts as long as the flattening (about a second): caught if
            # a poll lands in it, else left out.
            stopping = _wait(session, lambda plain: "stopping:" in plain or _finished(plain), 60.0)
            if "stopping:" in stopping:
                shots.append((f"{width}-stopping", stopping))
            shots.append((f"{width}-stopped", _wait(session, _finished, 60.0)))
        return shots
    finally:
        subprocess.run(
            ["tmux", "-L", SOCKET, "kill-session", "-t", session], capture_output=True, check=False
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the pictures go")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)
    try:
        for tool in ("tmux", "tickstate", args.chromium):
            if shutil.which(tool) is None:
                raise ScreenshotError(f"{tool} is not installed (see this script's docstring)")
        args.out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="tickstate-screens-") as work:
            for width in (60, 80, 120):
                for name, ansi in shoot(width, work=Path(work), chromium=args.chromium,
                                        stop=width == 80):  # fmt: skip
                    title = f"tickstate run — {width} columns"
                    if name.endswith("stopping"):
                        title += ", stopping after Ctrl-C"
                    elif name.endswith("stopped"):
                        title += ", after Ctrl-C"
                    svg = args.out / f"{name}.svg"
                    svg.write_text(_svg(ansi, width, title), encoding="utf-8")
                    _png(svg, args.out / f"{name}.png", args.chromium)
                    print(f"wrote {args.out / name}.png")
    except ScreenshotError as exc:
        print(f"screenshot_screen: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
