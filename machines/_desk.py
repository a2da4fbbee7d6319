"""A desk: the machines of one strategy, one per symbol, with their counters in total.

The desk holds no lock of its own: each machine serialises itself, and the registry only ever
grows through an atomic ``dict.setdefault``::

    >>> from datetime import date
    >>> desk = Desk(strategy="orb", trading_date=date(2026, 11, 23))
    >>> desk.machine("AAPL").snapshot().is_flat
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from machines._events import Event
from machines._machine import Outcome, SymbolMachine
from machines._order_ids import ClientOrderId
from machines._rules import Rules, check_identity
from machines._snapshot import Counters, Snapshot

__all__ = ["Desk"]


class Desk:
    """The symbol machines of one strategy; ``symbol_rules`` override ``rules`` per symbol."""

    __slots__ = ("_machines", "rules", "strategy", "symbol_rules", "trading_date")

    def __init__(
        self,
        *,
        strategy: str,
        trading_date: date,
        rules: Rules | None = None,
        symbol_rules: Mapping[str, Rules] | None = None,
    ) -> None:
        self.strategy = strategy
        self.trading_date = trading_date
        self.rules = rules if rules is not None else Rules()
        self.symbol_rules: Mapping[str, Rules] = dict(symbol_rules or {})
        self._machines: dict[str, SymbolMachine] = {}
        check_identity(strategy, "X", self.rules)
        for symbol, own in self.symbol_rules.items():
            check_identity(strategy, symbol, own)

    def machine(self, symbol: str) -> SymbolMachine:
        """The machine of ``symbol``, created flat on first use."""
        found = self._machines.get(symbol)
        if found is not None:
            return found
        created = SymbolMachine(
            strategy=self.strategy,
            symbol=symbol,
            trading_date=self.trading_date,
            rules=self.symbol_rules.get(symbol, self.rules),
        )
        return self._machines.setdefault(symbol, created)

    def fire(self, symbol: str, event: Event) -> Outcome:
        """Fire ``event`` on the machine of ``symbol``."""
        return self.machine(symbol).fire(event)

    def decided(self, client_order_id: str) -> bool:
        """Whether one of this desk's machines decided the order with this id (it need not work
        any more); an id of another strategy, or of a symbol with no machine, was not."""
        cid = ClientOrderId.parse(client_order_id)
        if cid is None or cid.strategy != self.strategy:
            return False
        machine = self._machines.get(cid.symbol)
        return machine is not None and machine.decided(client_order_id)

    def symbols(self) -> tuple[str, ...]:
        """Every symbol with a machine, sorted."""
        return tuple(sorted(self._machines))

    def snapshots(self) -> tuple[Snapshot, ...]:
        """A snapshot of every machine, by symbol."""
        return tuple(self._machines[s].snapshot() for s in self.symbols())

    def counters(self) -> Counters:
        """Counters summed over every machine."""
        total = Counters()
        for machine in list(self._machines.values()):
            total = total + machine.counters()
        return total
