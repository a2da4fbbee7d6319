"""The ``tickstate`` command line: one argparse parser, one function per subcommand.

A user's mistake ends in one line on stderr naming what is wrong and a non-zero exit code,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from machines import lifecycle_diagrams
from strategies._exceptions import SpecError
from strategies._spec import load_strategy, strategy_schema

__all__ = ["main"]

EXIT_OK, EXIT_DIFFERS, EXIT_USAGE = 0, 1, 2


def _diagram(args: argparse.Namespace) -> int:
    out: Path = args.dir
    generated = lifecycle_diagrams()
    if args.check:
        stale = []
        for name, text in generated.items():
            path = out / name
            if not path.is_file():
                stale.append(f"{path}: missing")
            elif path.read_text(encoding="utf-8") != text:
                stale.append(f"{path}: differs from what the code generates")
        for line in stale:
            print(f"tickstate diagram --check: {line}; run 'tickstate diagram'", file=sys.stderr)
        return EXIT_DIFFERS if stale else EXIT_OK
    out.mkdir(parents=True, exist_ok=True)
    for name, text in generated.items():
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    dot = shutil.which("dot")
    if dot is None:
        print("skipped lifecycle.svg: the Graphviz 'dot' binary is not installed", file=sys.stderr)
        return EXIT_OK
    svg = subprocess.run(
        [dot, "-Tsvg"], input=generated["lifecycle.dot"], capture_output=True, text=True, check=True
    ).stdout
    (out / "lifecycle.svg").write_text(svg, encoding="utf-8")
    print(f"wrote {out / 'lifecycle.svg'}")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    try:
        spec = load_strategy(args.file)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    count = len(spec.instruments)
    noun = "instrument" if count == 1 else "instruments"
    print(f"ok: {args.file} (strategy {spec.name}, {count} {noun})")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(strategy_schema(), indent=2, sort_keys=False))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tickstate``."""
    parser = argparse.ArgumentParser(
        prog="tickstate",
        description="Rule-based intraday trading on formal, thread-safe per-symbol state machines.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    diagram = commands.add_parser(
        "diagram", help="write the lifecycle diagrams (Mermaid, DOT, Markdown table, SVG)"
    )
    diagram.add_argument(
        "--dir", type=Path, default=Path("diagrams"), help="output folder (default: diagrams)"
    )
    diagram.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming each committed file that differs from the code",
    )
    diagram.set_defaults(run=_diagram)
    validate = commands.add_parser(
        "validate", help="check a strategy file; one line naming the key and the problem if wrong"
    )
    validate.add_argument("file", metavar="FILE", help="a strategy file (TOML)")
    validate.set_defaults(run=_validate)
    schema = commands.add_parser(
        "schema", help="print the JSON Schema of strategy files (for editors)"
    )
    schema.set_defaults(run=_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tickstate``; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except OSError as exc:
        print(f"tickstate {args.command}: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    sys.exit(main())
