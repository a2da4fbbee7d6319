"""``tickstate verify``: the model check from the command line, its flags and its report.

Bad flags and bad strategy files are one line on stderr, exit 2; a violation exits 1 after the
report (each shown as a shortest sequence, optionally written as pytest regressions). The
exploration itself lives in ``strategies.verify`` and loads only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from strategies._exceptions import SpecError

__all__ = ["add_verify_arguments", "run_verify"]

EXIT_OK, EXIT_DIFFERS, EXIT_USAGE = 0, 1, 2


def add_verify_arguments(verify: argparse.ArgumentParser) -> None:
    """The flags of ``tickstate verify``."""
    verify.add_argument(
        "--depth", default="8", metavar="N", help="steps per sequence, 1 or more (default: 8)"
    )
    verify.add_argument(
        "--broker",
        default="faithful",
        metavar="faithful|hostile",
        help="faithful: only what a venue could send for the commands issued, delivered late "
        "per order; hostile: also duplicated, re-delivered, reordered and lost (default: "
        "faithful)",
    )
    verify.add_argument(
        "--strategy",
        type=Path,
        default=None,
        metavar="FILE",
        help="take the machine's rules from this strategy file (its first symbol)",
    )
    verify.add_argument(
        "--in-flight",
        default="2",
        metavar="N",
        help="at most N venue events waiting for delivery at once (default: 2)",
    )
    verify.add_argument(
        "--emit-test",
        type=Path,
        default=None,
        metavar="DIR",
        help="write each violation as a pytest regression into DIR",
    )


def _whole(text: str, least: int) -> int | None:
    """``text`` as a whole number of at least ``least``, or None (the caller says why)."""
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value >= least else None


def run_verify(args: argparse.Namespace) -> int:
    """Explore, report, and exit 0 (every property holds), 1 (a violation) or 2 (bad input)."""
    depth = _whole(args.depth, 1)
    in_flight = _whole(args.in_flight, 0)
    problem = None
    if depth is None:
        problem = f"--depth must be a whole number of steps, 1 or more, got {args.depth!r}"
    elif in_flight is None:
        problem = f"--in-flight must be a whole number, 0 or more, got {args.in_flight!r}"
    elif args.broker not in ("faithful", "hostile"):
        problem = f"--broker must be faithful or hostile, got {args.broker!r}"
    if problem is not None or depth is None or in_flight is None:
        print(f"tickstate verify: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from strategies.verify import Progress, VerifySetup, emit_tests, explore, report_lines

    setup = VerifySetup()
    if args.strategy is not None:
        from strategies.spec import load_strategy

        try:
            setup = VerifySetup.of(load_strategy(args.strategy))
        except SpecError as exc:
            print(exc, file=sys.stderr)
            return EXIT_USAGE
    tty = sys.stderr.isatty()

    def progress(p: Progress) -> None:
        print(
            f"\r  depth {p.level}/{depth}: {p.states:,} states, {p.transitions:,} transitions,"
            f" {p.seconds:.1f} s ",
            end="",
            file=sys.stderr,
            flush=True,
        )

    result = explore(
        setup, args.broker, depth, in_flight=in_flight, progress=progress if tty else None
    )
    if tty:
        print(file=sys.stderr)
    for line in report_lines(result, setup, in_flight):
        print(line)
    if args.emit_test is not None and result.violations:
        for path in emit_tests(result, setup, in_flight, args.emit_test):
            print(f"wrote {path}")
    return EXIT_OK if result.ok else EXIT_DIFFERS
