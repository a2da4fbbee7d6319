"""JSON for machine messages: every event, command and snapshot round-trips losslessly.

An encoded message is a flat object naming its class, ``{"type": "OrderFilled", ...fields}``;
``Decimal`` is a string (its exponent kept: ``"100.50"`` stays ``"100.50"``), a ``datetime`` is
ISO 8601 with its UTC offset plus, for an IANA zone, the zone's key in brackets (RFC 9557:
``"2026-11-23T10:00:00-05:00[America/New_York]"``), a ``date`` is ISO, an enum is its value, and a
nested message (an ``EntryLeg``, an ``OrderTrack``) is an object of its fields::

    >>> from datetime import UTC, datetime
    >>> from decimal import Decimal
    >>> from machines import TrailProposed
    >>> at = datetime(2026, 11, 23, 15, tzinfo=UTC)
    >>> event = TrailProposed(at=at, stop_price=Decimal("99.50"))
    >>> encode_event(event)
    {'type': 'TrailProposed', 'at': '2026-11-23T15:00:00+00:00', 'stop_price': '99.50'}
    >>> decode_event(encode_event(event)) == event
    True

The registries below are the journal's wire contract: a class is known by its name, so renaming
one needs a migration. Decoding is strict — an unknown type or field, or a value of the wrong
JSON type, raises ``CodecError`` naming it; the message's own validation runs as it is rebuilt.
A field a message no longer has is listed in ``RETIRED_FIELDS`` and skipped when an older
journal holds it (``Snapshot.attempt`` always equalled ``entries_today``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from machines import (
    BrokerSnapshotTaken,
    CancelOrder,
    ClosePosition,
    Command,
    DayRolledOver,
    EntrySignalled,
    EntryTimedOut,
    Event,
    ExitSignalled,
    HaltRequested,
    InitialStopRevised,
    LifecycleError,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    PlaceEntry,
    PlaceStop,
    PriceMoved,
    ReplaceStop,
    ResumeRequested,
    Snapshot,
    SquareOffReached,
    TrailProposed,
)
from strategies._exceptions import CodecError

__all__ = [
    "COMMAND_TYPES",
    "EVENT_TYPES",
    "RETIRED_FIELDS",
    "decode_command",
    "decode_event",
    "decode_snapshot",
    "encode_command",
    "encode_event",
    "encode_snapshot",
]

JSON = Any  # what ``json.loads`` returns
T = TypeVar("T")

#: Every event class, by the name it is journaled under.
EVENT_TYPES: Mapping[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        EntrySignalled,
        InitialStopRevised,
        PriceMoved,
        TrailProposed,
        ExitSignalled,
        SquareOffReached,
        DayRolledOver,
        HaltRequested,
        ResumeRequested,
        EntryTimedOut,
        BrokerSnapshotTaken,
        OrderAccepted,
        OrderRejected,
        OrderFilled,
        OrderCancelled,
        OrderExpired,
        OrderReplaced,
    )
}

#: Every command class, by the name it is journaled under.
COMMAND_TYPES: Mapping[str, type[Any]] = {
    cls.__name__: cls for cls in (PlaceEntry, PlaceStop, ReplaceStop, CancelOrder, ClosePosition)
}


#: Fields older journals hold that a message no longer has, by message name: read and dropped.
RETIRED_FIELDS: Mapping[str, frozenset[str]] = {"Snapshot": frozenset({"attempt"})}


# --- values ------------------------------------------------------------------------------------


def _encode_datetime(value: datetime) -> str:
    text = value.isoformat()
    if isinstance(value.tzinfo, ZoneInfo):
        text += f"[{value.tzinfo.key}]"
    return text


def _decode_datetime(value: JSON, where: str) -> datetime:
    text = _expect(value, str, where)
    zone: ZoneInfo | None = None
    if text.endswith("]") and "[" in text:
        text, key = text[:-1].split("[", 1)
        try:
            zone = ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CodecError(f"{where}: unknown time zone {key!r}") from exc
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CodecError(f"{where}: not an ISO 8601 datetime: {value!r}") from exc
    if parsed.tzinfo is None:
        raise CodecError(f"{where}: a datetime needs its UTC offset: {value!r}")
    if zone is None:
        return parsed
    # the same wall time in the zone, with the fold whose offset was written (exact even for
    # ambiguous and imaginary times); an offset the zone never has keeps the instant instead
    for fold in (0, 1):
        zoned = parsed.replace(tzinfo=zone, fold=fold)
        if zoned.utcoffset() == parsed.utcoffset():
            return zoned
    return parsed.astimezone(zone)


def _decode_date(value: JSON, where: str) -> date:
    text = _expect(value, str, where)
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CodecError(f"{where}: not an ISO 8601 date: {value!r}") from exc


def _decode_decimal(value: JSON, where: str) -> Decimal:
    text = _expect(value, str, where)
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise CodecError(f"{where}: not a decimal: {value!r}") from exc


def _expect(value: JSON, kind: type[T], where: str) -> T:
    # bool is an int in Python but never in our messages
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CodecError(f"{where}: expected a JSON {kind.__name__}, got {value!r}")
    return value


Encoder = Callable[[Any], JSON]
Decoder = Callable[[JSON, str], Any]


def _plan(hint: Any) -> tuple[Encoder, Decoder]:
    """The encoder and decoder of one annotated type; unsupported types fail at import."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        enc, dec = _plan(inner)
        return (
            lambda v: None if v is None else enc(v),
            lambda v, where: None if v is None else dec(v, where),
        )
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        enc, dec = _plan(args[0])
        return (
            lambda v: [enc(item) for item in v],
            lambda v, where: tuple(
                dec(item, f"{where}[{i}]") for i, item in enumerate(_expect(v, list, where))
            ),
        )
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        fields = _fields(hint)
        return (
            lambda v: _encode_fields(v, fields),
            lambda v, where: _decode_fields(hint, _expect(v, dict, where), fields, where),
        )
    if isinstance(hint, type) and issubclass(hint, Enum):
        enum = hint
        values = {member.value for member in enum}

        def decode_enum(v: JSON, where: str) -> Any:
            if v not in values:
                raise CodecError(f"{where}: {v!r} is not a {enum.__name__}")
            return enum(v)

        return (lambda v: v.value), decode_enum
    if hint is Decimal:
        return str, _decode_decimal
    if hint is datetime:
        return _encode_datetime, _decode_datetime
    if hint is date:
        return (lambda v: v.isoformat()), _decode_date
    if hint in (str, int, bool):
        kind = cast(type[Any], hint)
        return (lambda v: v), (lambda v, where: _expect(v, kind, where))
    raise TypeError(f"the journal codec cannot encode {hint!r}")


_Fields = tuple[tuple[str, Encoder, Decoder], ...]
_FIELDS: dict[type[Any], _Fields] = {}


def _fields(cls: type[Any]) -> _Fields:
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = tuple(
            (f.name, *_plan(hints[f.name])) for f in dataclasses.fields(cls) if f.init
        )
    return _FIELDS[cls]


def _encode_fields(value: Any, fields: _Fields) -> dict[str, JSON]:
    return {name: enc(getattr(value, name)) for name, enc, _ in fields}


def _decode_fields(cls: type[T], obj: Mapping[str, JSON], fields: _Fields, where: str) -> T:
    known = {name for name, _, _ in fields}
    unknown = sorted(set(obj) - known - {"type"} - RETIRED_FIELDS.get(cls.__name__, frozenset()))
    if unknown:
        raise CodecError(f"{where}: unknown field {unknown[0]!r} for {cls.__name__}")
    kwargs = {name: dec(obj[name], f"{where}.{name}") for name, _, dec in fields if name in obj}
    try:
        return cls(**kwargs)
    except (LifecycleError, TypeError, ValueError) as exc:
        raise CodecError(f"{where}: not a valid {cls.__name__}: {exc}") from exc


# Build every plan now: a message with a field type the codec cannot handle fails at import.
for _cls in (*EVENT_TYPES.values(), *COMMAND_TYPES.values(), Snapshot):
    _fields(_cls)


# --- messages ----------------------------------------------------------------------------------


def _encode(value: Any, registry: Mapping[str, type[Any]], what: str) -> dict[str, JSON]:
    name = type(value).__name__
    if registry.get(name) is not type(value):
        raise CodecError(f"the journal codec does not know the {what} type {name!r}")
    return {"type": name, **_encode_fields(value, _fields(type(value)))}


def _decode(obj: JSON, registry: Mapping[str, type[T]], what: str) -> T:
    if not isinstance(obj, dict):
        raise CodecError(f"an encoded {what} must be a JSON object, got {obj!r}")
    name = obj.get("type")
    cls = registry.get(name) if isinstance(name, str) else None
    if cls is None:
        raise CodecError(f"unknown {what} type {name!r}")
    return _decode_fields(cls, obj, _fields(cls), str(name))


def encode_event(event: Event) -> dict[str, JSON]:
    """``event`` as a JSON-ready object: ``{"type": ClassName, ...fields}``."""
    return _encode(event, EVENT_TYPES, "event")


def decode_event(obj: JSON) -> Event:
    """The event ``obj`` encodes; ``CodecError`` naming an unknown type or bad field."""
    return cast(Event, _decode(obj, EVENT_TYPES, "event"))


def encode_command(command: Command) -> dict[str, JSON]:
    """``command`` as a JSON-ready object: ``{"type": ClassName, ...fields}``."""
    return _encode(command, COMMAND_TYPES, "command")


def decode_command(obj: JSON) -> Command:
    """The command ``obj`` encodes; ``CodecError`` naming an unknown type or bad field."""
    return cast(Command, _decode(obj, COMMAND_TYPES, "command"))


def encode_snapshot(snapshot: Snapshot) -> dict[str, JSON]:
    """``snapshot`` as a JSON-ready object, its working orders nested."""
    return _encode(snapshot, {"Snapshot": Snapshot}, "snapshot")


def decode_snapshot(obj: JSON) -> Snapshot:
    """The snapshot ``obj`` encodes."""
    return _decode(obj, {"Snapshot": Snapshot}, "snapshot")
