"""Field types of strategy files: exact decimals, clock times, tick counts, tick rules.

Prices, ticks and money are ``Decimal`` from end to end. ``load_strategy`` reads the file with
``tomllib``'s ``parse_float=Decimal``, so an unquoted ``0.05`` becomes ``Decimal("0.05")`` from
its literal text and a binary float never exists; ``"0.05"`` (quoted) means the same. Times of day
are ``"HH:MM"`` strings (a TOML local time such as ``09:30:00`` is accepted too).
"""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator, ConfigDict, PlainSerializer, Strict, WithJsonSchema
from pydantic_core import ErrorDetails, PydanticCustomError

__all__ = [
    "FROZEN",
    "ClockTime",
    "Count",
    "Money",
    "Ratio",
    "TickSpec",
    "describe",
    "fail",
    "shown",
]

#: Every model of the file: unknown keys are refused, values never change once validated.
FROZEN: Final = ConfigDict(extra="forbid", frozen=True)

_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?")
_DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"


def fail(at: str, problem: str) -> PydanticCustomError:
    """An error about the key ``at`` (dotted, relative to the model raising it)."""
    return PydanticCustomError("tickstate", "{at}: {problem}", {"at": at, "problem": problem})


def shown(value: object) -> str:
    """A value as a TOML file would spell it, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, time):
        return value.isoformat(timespec="minutes" if not value.second else "seconds")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


_PLAIN: Final = {
    "missing": "is required",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dict_type": "must be a table",
    "list_type": "must be an array",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
}
_BOUNDS: Final = {
    "greater_than": "> {gt}",
    "greater_than_equal": ">= {ge}",
    "less_than": "< {lt}",
    "less_than_equal": "<= {le}",
}


def describe(error: ErrorDetails) -> str:
    """One error of pydantic's as a short problem: "must be >= 1, got 0"."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "missing":
        return "is required"
    if kind in _BOUNDS:
        problem = "must be " + _BOUNDS[kind].format(**ctx)
    elif kind == "too_short":
        return f"must have at least {ctx['min_length']} entry"
    elif kind == "literal_error":
        problem = "must be " + str(ctx["expected"]).replace("'", '"')
    elif kind in _PLAIN:
        problem = _PLAIN[kind]
    else:
        message = error["msg"].removeprefix("Value error, ")
        problem = message.replace("Input should be ", "must be ", 1)
        problem = problem[:1].lower() + problem[1:]
    if " got " in problem or kind in {"model_type", "dict_type"}:
        return problem
    return f"{problem}, got {shown(error['input'])}"


def _exact_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, float):  # only from Python callers: take its shortest decimal form
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = Decimal("NaN")
    else:
        number = Decimal("NaN")
    if not number.is_finite():
        raise PydanticCustomError(
            "decimal", 'must be a decimal number such as "0.05", got {got}', {"got": shown(value)}
        )
    return number


def _positive_decimal(value: object) -> Decimal:
    number = _exact_decimal(value)
    if not number > 0:
        raise PydanticCustomError("decimal", "must be > 0, got {got}", {"got": shown(value)})
    return number


def _ratio(value: object) -> Decimal:
    return _exact_decimal(value)


# A tick finer than a hundredth of a cent is no market's (Alpaca's finest is $0.0001 below $1),
# and one above $1,000 none either; past them, prices round to nonsense or to nothing.
_TICK_RANGE = (Decimal("0.0001"), Decimal("1000"))


def _tick(value: object) -> Decimal | str:
    if isinstance(value, str) and value.strip().lower() == "nse":
        return "nse"
    try:
        tick = _positive_decimal(value)
    except PydanticCustomError:
        raise PydanticCustomError(
            "tick",
            'must be a positive decimal such as "0.01", or "nse" for the NSE price bands, '
            "got {got}",
            {"got": shown(value)},
        ) from None
    low, high = _TICK_RANGE
    if not low <= tick <= high:
        raise PydanticCustomError(
            "tick",
            "must be from {low} to {high}, got {got}",
            {"low": str(low), "high": str(high), "got": shown(value)},
        )
    return tick


def _clock(value: object) -> time:
    if isinstance(value, time) and value.tzinfo is None and not value.microsecond:
        return value
    if isinstance(value, str) and _CLOCK.fullmatch(value):
        return time.fromisoformat(value)
    raise PydanticCustomError(
        "clock_time", 'must be a time of day "HH:MM", got {got}', {"got": shown(value)}
    )


def _clock_text(value: time) -> str:
    return value.isoformat(timespec="minutes" if not value.second else "seconds")


_DECIMAL_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": _DECIMAL_PATTERN}]
}

#: A positive amount of money, exact.
Money = Annotated[
    Decimal,
    BeforeValidator(_positive_decimal),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({**_DECIMAL_SCHEMA, "description": 'a positive decimal, e.g. "500.00"'}),
]

#: A dimensionless parameter (a fraction, a multiple of risk), exact; bounds checked by the field.
Ratio = Annotated[
    Decimal,
    BeforeValidator(_ratio),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({**_DECIMAL_SCHEMA, "description": "a decimal number, e.g. 0.20"}),
]

#: The tick of an instrument: a fixed size, or ``"nse"`` for the NSE price bands.
TickSpec = Annotated[
    Decimal | Literal["nse"],
    BeforeValidator(_tick),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _DECIMAL_PATTERN},
                {"type": "number", "exclusiveMinimum": 0},
                {"const": "nse"},
            ],
            "description": 'a fixed tick such as "0.01", or "nse" for the NSE price bands',
        }
    ),
]

#: A time of day, local to the session's timezone.
ClockTime = Annotated[
    time,
    BeforeValidator(_clock),
    PlainSerializer(_clock_text, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
            "description": 'a time of day "HH:MM" in the session timezone',
        }
    ),
]

#: A whole number (of ticks, attempts, minutes, shares): TOML integers only.
Count = Annotated[int, Strict()]
