"""One decision in progress: the event, a draft of the books, and the commands it produces.

Guards and effects receive a ``Decision`` and nothing else. It exists only inside one
``fire()`` call and owns its draft books, so what guards read and effects write is private to
that call; the machine changes only when ``fire()`` publishes the draft under its lock.
"""

from __future__ import annotations

from machines._books import Books
from machines._commands import Command
from machines._events import Event
from machines._rules import Rules

__all__ = ["Decision"]


class Decision:
    """The working context of one ``fire()`` call."""

    __slots__ = ("books", "commands", "event", "reason", "rules", "strategy", "symbol", "trigger")

    def __init__(
        self, *, strategy: str, symbol: str, rules: Rules, trigger: str, event: Event, books: Books
    ) -> None:
        self.strategy = strategy
        self.symbol = symbol
        self.rules = rules
        self.trigger = trigger
        self.event = event
        self.books = books
        self.commands: list[Command] = []
        self.reason: str | None = None  # an anomaly's name, when the decision handles one
