"""Errors raised by ``machines`` — only ever at build time, never by ``fire()``.

The lifecycle itself never raises for an unexpected event: every (state, event) pair is declared.
These errors say that a *value* could not be built, so the caller made a mistake::

    LifecycleError
     ├── InvalidEventError     an event or command with impossible fields (negative qty, stop on
     │                         the wrong side of the entry, naive timestamp, ...)
     └── InvalidRulesError     a machine's rules or identity cannot work (client order ids would
                               pass 48 characters, max_attempts < 1, empty symbol, ...)
"""

from __future__ import annotations

__all__ = ["InvalidEventError", "InvalidRulesError", "LifecycleError"]


class LifecycleError(Exception):
    """Base of every error raised by ``machines``."""


class InvalidEventError(LifecycleError, ValueError):
    """An event or command was built with fields that cannot be true."""


class InvalidRulesError(LifecycleError, ValueError):
    """A machine's rules or identity are unusable."""
