"""The ``tickstate`` command line: one parser, one function per subcommand, tables for people.

A user's mistake ends in one line on stderr naming what is wrong and a non-zero exit code,
never a traceback. Subcommands import what they need when they run, so ``tickstate --help``
loads no more than the parser.
"""

from strategies.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
