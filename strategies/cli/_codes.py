"""The exit codes of every ``tickstate`` command."""

from __future__ import annotations

__all__ = ["EXIT_DIFFERS", "EXIT_FAULT", "EXIT_OK", "EXIT_UNREACHED", "EXIT_USAGE"]

EXIT_OK = 0
EXIT_DIFFERS = 1  # a check found a difference (diagrams out of date), or a runtime failure
EXIT_UNREACHED = 1  # a runtime failure not the user's: the venue could not be reached
EXIT_USAGE = 2  # the user's mistake: one line on stderr says which
EXIT_FAULT = 3  # a bug: the run shut down flat first, the traceback is in the log
