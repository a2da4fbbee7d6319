"""A journaled desk driven through realistic trading days by an echo broker, in one thread.

``Driver`` fires strategy events into a ``Desk``, records every outcome in a ``Journal``
(before any command runs), then "sends" each command: it records the result ``sent``
and queues the broker's answer (accepted, replaced, cancelled, filled), which it fires in turn.
``trading_day`` scripts one symbol's day: an entry, a partial fill, a duplicate fill (a race), the
full fill, a tightened trail (replace), a looser trail (declined), and an exit by stop or
square-off. Run as a script (``python -m tests.strategies.journaling JOURNAL``) it trades day
after day forever, printing each journaled seq — the crash test kills it with SIGKILL.
"""

from __future__ import annotations

import sys
from collections import deque
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import machines as m
from machines import Desk, OrderRole, Outcome, Rules, Side
from strategies.journal import Journal

D = Decimal
NY = ZoneInfo("America/New_York")
STRATEGY = "jt"
SYMBOLS = ("AAPL", "IBM", "MSFT")
FIRST_DAY = date(2026, 11, 23)
RULES = Rules(max_attempts=2, timezone="America/New_York")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def new_desk() -> Desk:
    """The desk every journaled run and every rebuild uses."""
    return Desk(strategy=STRATEGY, trading_date=FIRST_DAY, rules=RULES)


class Driver:
    """A desk, its journal, and an echo broker answering every command."""

    def __init__(self, journal: Journal, *, echo: bool = True, announce: bool = False) -> None:
        self.journal = journal
        self.echo = echo
        self.announce = announce
        self.desk = new_desk()
        self.outcomes: list[Outcome] = []
        self._last: int | None = None
        self._inbox: deque[tuple[str, m.Event]] = deque()

    def listen(self, outcome: Outcome) -> None:
        """Journal the outcome before its commands run."""
        self._last = self.journal.record(outcome)
        self.outcomes.append(outcome)
        if self.announce:
            print(self._last, flush=True)

    def fire(self, symbol: str, event: m.Event) -> Outcome:
        """Fire ``event``, then every broker answer it leads to, in order."""
        self._inbox.append((symbol, event))
        first: Outcome | None = None
        while self._inbox:
            name, queued = self._inbox.popleft()
            outcome = self.desk.fire(name, queued)
            self.listen(outcome)
            seq = self._last
            assert seq is not None
            first = first or outcome
            for command in outcome.commands:
                self.journal.record_result(seq, command, "sent")
                if self.echo:
                    self._inbox.extend((name, answer) for answer in _answers(command, queued))
        assert first is not None
        return first

    def stop_id(self, symbol: str) -> str:
        (stop,) = [
            o.client_order_id
            for o in self.desk.machine(symbol).snapshot().working_orders
            if o.role is OrderRole.STOP
        ]
        return stop

    def entry_id(self, symbol: str) -> str:
        (entry,) = [
            o.client_order_id
            for o in self.desk.machine(symbol).snapshot().working_orders
            if o.role is OrderRole.ENTRY
        ]
        return entry


def _answers(command: m.Command, cause: m.Event) -> list[m.Event]:
    when = getattr(cause, "at", None) or at(FIRST_DAY, 9, 30)
    cid = command.client_order_id
    if isinstance(command, m.PlaceEntry | m.PlaceStop):
        return [m.OrderAccepted(client_order_id=cid, at=when)]
    if isinstance(command, m.ReplaceStop):
        new = command.new_client_order_id
        return [
            m.OrderReplaced(client_order_id=cid, new_client_order_id=new, at=when),
            m.OrderAccepted(client_order_id=new, at=when),
        ]
    if isinstance(command, m.CancelOrder):
        return [m.OrderCancelled(client_order_id=cid, at=when)]
    assert isinstance(command, m.ClosePosition)
    return [
        m.OrderFilled(client_order_id=cid, at=when, filled_qty=command.qty, avg_fill_price=D(100))
    ]


def trading_day(driver: Driver, symbol: str, day: date, *, stopped: bool) -> None:
    """One symbol's day: entry, partial + duplicate + full fill, trails, exit."""
    if day != FIRST_DAY:
        driver.fire(symbol, m.DayRolledOver(trading_date=day))
    leg = m.EntryLeg(side=Side.BUY, entry_price=D("101.00"), initial_stop=D("99.00"))
    driver.fire(symbol, m.EntrySignalled(at=at(day, 10), qty=D(100), legs=(leg,)))
    entry = driver.entry_id(symbol)
    partial = m.OrderFilled(
        client_order_id=entry, at=at(day, 10, 5), filled_qty=D(40), avg_fill_price=D("101.00")
    )
    driver.fire(symbol, partial)
    driver.fire(symbol, partial)  # a duplicate: ignored as a race
    driver.fire(
        symbol,
        m.OrderFilled(
            client_order_id=entry,
            at=at(day, 10, 10),
            filled_qty=D(100),
            avg_fill_price=D("101.00"),
        ),
    )
    driver.fire(symbol, m.TrailProposed(at=at(day, 11), stop_price=D("99.50")))
    driver.fire(symbol, m.TrailProposed(at=at(day, 11, 5), stop_price=D("99.20")))  # looser
    if stopped:
        driver.fire(
            symbol,
            m.OrderFilled(
                client_order_id=driver.stop_id(symbol),
                at=at(day, 12),
                filled_qty=D(100),
                avg_fill_price=D("99.50"),
            ),
        )
    else:
        driver.fire(symbol, m.SquareOffReached(at=at(day, 15, 15)))


def trade_days(driver: Driver, days: int) -> None:
    """``days`` trading days of every symbol, alternating stop-outs and square-offs."""
    for n in range(days):
        day = FIRST_DAY + timedelta(days=n)
        for i, symbol in enumerate(SYMBOLS):
            trading_day(driver, symbol, day, stopped=(n + i) % 2 == 0)


if __name__ == "__main__":
    # The crash test's child: trade until killed, printing each journaled seq once committed.
    with Journal(sys.argv[1]) as journal:
        journal.begin_run(strategy=STRATEGY, trading_date=FIRST_DAY)
        trade_days(Driver(journal, announce=True), 10_000)
