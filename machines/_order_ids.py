"""Client order ids: the one format, and the one way to read an id back.

An id is fixed inside the transition that decides the order, before any I/O, so a retried submit
is harmless (the broker refuses a reused id) and a restarted runner can find its orders::

    {strategy}-{symbol}-{yyyymmdd}-{attempt}-{tag}[-r{seq}]

``tag`` is the side of an entry leg (``buy``/``sell``: a one-cancels-other pair has one of each)
or the role of any other order (``stop``, ``exit``); ``-r{seq}`` numbers the later orders of a
role in one attempt (a stop's replacements, a second exit). A strategy name has no ``-``; a
symbol may (``BRK-B``), so an id is read from the right, where the tail has a fixed format::

    >>> from datetime import date
    >>> cid = ClientOrderId.parse("s8020-BRK-B-20261123-1-stop-r2")
    >>> cid.symbol, cid.role, cid.seq
    ('BRK-B', <OrderRole.STOP: 'stop'>, 2)
    >>> str(cid)
    's8020-BRK-B-20261123-1-stop-r2'

Every reader above the machine (routing, reconciliation, trades, status) goes through
``ClientOrderId.parse``; nothing else splits an id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from machines._orders import OrderRole, Side

__all__ = ["MAX_CLIENT_ORDER_ID", "ClientOrderId", "client_order_id"]

#: The longest client order id a broker accepts (Alpaca: 48 characters).
MAX_CLIENT_ORDER_ID = 48

_ENTRY_TAGS = {side.value: side for side in Side}
_ROLE_TAGS = {OrderRole.STOP.value: OrderRole.STOP, OrderRole.EXIT.value: OrderRole.EXIT}


def client_order_id(
    strategy: str,
    symbol: str,
    trading_date: date,
    attempt: int,
    tag: Side | OrderRole,
    seq: int = 0,
) -> str:
    """The id of the ``seq``-th order tagged ``tag`` in an attempt (an entry leg by its side)."""
    if tag is OrderRole.ENTRY:
        raise ValueError("an entry leg's id is tagged by its side, not by its role")
    base = f"{strategy}-{symbol}-{_day_tag(trading_date)}-{attempt}-{tag.value}"
    return f"{base}-r{seq}" if seq else base


@lru_cache(maxsize=64)
def _day_tag(trading_date: date) -> str:
    # ``strftime`` costs more than the rest of an order id; a run touches a handful of dates.
    return f"{trading_date:%Y%m%d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOrderId:
    """A client order id read into its parts; ``str()`` formats it back exactly."""

    strategy: str
    symbol: str
    trading_date: date
    attempt: int
    role: OrderRole
    side: Side | None = None  # an entry leg's side (its tag); None for a stop or an exit
    seq: int = 0

    def __post_init__(self) -> None:
        if (self.role is OrderRole.ENTRY) != (self.side is not None):
            raise ValueError("an entry leg's id names its side; a stop's or an exit's does not")

    @property
    def tag(self) -> Side | OrderRole:
        """What the id is tagged with: the entry leg's side, or the order's role."""
        return self.side if self.side is not None else self.role

    def __str__(self) -> str:
        return client_order_id(
            self.strategy, self.symbol, self.trading_date, self.attempt, self.tag, self.seq
        )

    @classmethod
    def parse(cls, text: str) -> ClientOrderId | None:
        """The parts of ``text``, or None when it is not an id of this format (a foreign order's).

        Only an exact round trip counts: ``str(ClientOrderId.parse(text)) == text``.
        """
        # The runner reads the id of every trade update and command result; an order's id comes
        # back several times (accepted, filled, cancelled), and the parts are immutable.
        return _parse(text) if cls is ClientOrderId else cls._read(text)

    @classmethod
    def _read(cls, text: str) -> ClientOrderId | None:
        parts = text.split("-")
        seq = 0
        if len(parts) > 5 and parts[-1][:1] == "r" and _is_number(parts[-1][1:]):
            seq = int(parts.pop()[1:])
        if len(parts) < 5:
            return None
        strategy, *symbol, day, attempt, tag = parts
        side = _ENTRY_TAGS.get(tag)
        role = OrderRole.ENTRY if side is not None else _ROLE_TAGS.get(tag)
        if role is None or not strategy or not _is_number(attempt) or not _is_day(day):
            return None
        try:
            parsed = cls(
                strategy=strategy,
                symbol="-".join(symbol),
                trading_date=date(int(day[:4]), int(day[4:6]), int(day[6:])),
                attempt=int(attempt),
                role=role,
                side=side,
                seq=seq,
            )
        except ValueError:  # not a calendar date
            return None
        return parsed if parsed.symbol and str(parsed) == text else None


# Sized for a 10,000-symbol desk's bar close (an order or two a symbol, each id read again by
# its events): at 4,096 such a close missed on every id (the scale benchmark's growth per symbol
# 1.22x, 1.03x with room). An entry is an id and its parse, a few hundred bytes.
@lru_cache(maxsize=16_384)
def _parse(text: str) -> ClientOrderId | None:
    return ClientOrderId._read(text)


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _is_day(text: str) -> bool:
    return len(text) == 8 and _is_number(text)
