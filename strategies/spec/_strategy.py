"""A strategy file, TOML validated into a frozen ``StrategySpec``; each mistake is one line.

``load_strategy(path)`` reads, parses and validates; anything wrong raises ``SpecError`` whose
``str()`` is ``{file}: {key.path}: {problem}``, e.g.
``examples/bad.toml: signal.zone: must be > 0 and < 0.5, got 0.6``. Unknown keys are refused.
Prices, ticks and money are ``Decimal`` read from the literal text (see ``_spec_fields``).

Defaults left out of a file: the session's timezone and hours come from its calendar; the entry
window runs from the session open to the signal's entry cutoff (80-20 14:30, ORB 11:30); the
80-20 trigger window ends at the entry cutoff; ``square_off`` is 15:15; ``max_attempts`` is 1;
no ``daily_loss_limit`` (no kill switch on losses).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from machines import NSE_TICKS, FixedTick, InvalidRulesError, Rules, SymbolMachine, TickRule
from strategies._exceptions import CalendarError, SpecError
from strategies._fields import FROZEN, ClockTime, Count, Money, TickSpec, fail, shown
from strategies._policy import MAX_QTY, MAX_RISK, MIN_RISK, HaltScope
from strategies._sessions import Session, TradingCalendar
from strategies.signals import StrategyTimes, signal_kind
from strategies.spec._broker import BrokerSpec, SimBrokerSpec
from strategies.spec._costs import CostsSpec
from strategies.spec._errors import locate
from strategies.spec._notify import NotifySpec
from strategies.spec._signal import SignalTable, signal_schema

__all__ = [
    "EntryWindow",
    "Instrument",
    "SessionSpec",
    "Sizing",
    "StrategySpec",
    "load_strategy",
    "strategy_schema",
    "validate_strategy",
]

_NAME = re.compile(r"[A-Za-z0-9_]+")
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9.&_/-]*")
_ANY_DAY = date(2000, 1, 3)  # client order ids have the same length on every date


class Instrument(BaseModel):
    """One symbol the strategy trades, with its tick rule."""

    model_config = FROZEN

    symbol: str = Field(description="the broker's symbol, e.g. AAPL or RELIANCE")
    tick: TickSpec

    @field_validator("symbol")
    @classmethod
    def _plain_symbol(cls, symbol: str) -> str:
        if not _SYMBOL.fullmatch(symbol):
            raise PydanticCustomError(
                "symbol",
                "must be letters and digits (and . & _ / -), no spaces, got {got}",
                {"got": shown(symbol)},
            )
        return symbol

    def tick_rule(self) -> TickRule:
        """The machine's tick rule: a fixed tick, or the NSE price bands."""
        return NSE_TICKS if self.tick == "nse" else FixedTick(Decimal(self.tick))


def _calendar(name: object) -> TradingCalendar | None:
    try:
        return TradingCalendar.for_name(name) if isinstance(name, str) else None
    except CalendarError:
        return None


class SessionSpec(BaseModel):
    """The exchange's calendar and the session hours, local to its timezone."""

    model_config = FROZEN

    calendar: str = Field(
        description="exchange calendar: XNYS, XNSE, or an exchange_calendars name"
    )
    timezone: str = Field(description="IANA timezone; default: the calendar's")
    open: ClockTime = Field(description="session open; default: the calendar's regular open")
    close: ClockTime = Field(description="session close; default: the calendar's regular close")

    @model_validator(mode="before")
    @classmethod
    def _from_calendar(cls, data: Any) -> Any:
        if not isinstance(data, dict) or (found := _calendar(data.get("calendar"))) is None:
            return data
        return {
            "timezone": found.timezone.key,
            "open": found.regular_open,
            "close": found.regular_close,
            **data,
        }

    @field_validator("calendar")
    @classmethod
    def _known_calendar(cls, name: str) -> str:
        try:
            TradingCalendar.for_name(name)
        except CalendarError:
            raise PydanticCustomError(
                "calendar",
                "unknown trading calendar; use XNYS, XNSE or an exchange_calendars name, got {got}",
                {"got": shown(name)},
            ) from None
        return name

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            import difflib
            from zoneinfo import available_timezones

            close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise PydanticCustomError(
                "timezone",
                "unknown IANA timezone, got {got}{hint}",
                {"got": shown(name), "hint": hint},
            ) from None
        return name

    @model_validator(mode="after")
    def _consistent(self) -> SessionSpec:
        calendar = TradingCalendar.for_name(self.calendar)
        if self.timezone != calendar.timezone.key:
            raise fail(
                "timezone",
                f"{self.calendar} trades in {calendar.timezone.key}, got {shown(self.timezone)}",
            )
        if not self.open < self.close:
            raise fail(
                "close", f"must be after the open {shown(self.open)}, got {shown(self.close)}"
            )
        if self.open < calendar.regular_open:
            raise fail(
                "open",
                f"{self.calendar} opens at {shown(calendar.regular_open)}, got {shown(self.open)}",
            )
        if self.close > calendar.regular_close:
            raise fail(
                "close",
                f"{self.calendar} closes at {shown(calendar.regular_close)}, "
                f"got {shown(self.close)}",
            )
        return self

    def hours(self) -> Session:
        """The session on its calendar: open/close per date, previous/next session."""
        return Session(
            calendar=TradingCalendar.for_name(self.calendar), open=self.open, close=self.close
        )


class EntryWindow(BaseModel):
    """When new entries may be decided: ``[start, end)``; ``end`` is the entry cutoff."""

    model_config = FROZEN

    start: ClockTime = Field(description="default: the session open")
    end: ClockTime = Field(
        description="the entry cutoff; default: the signal's (80-20 14:30, ORB 11:30)"
    )


class Sizing(BaseModel):
    """How many shares an entry asks for: a fixed quantity, or what risks a fixed amount."""

    model_config = FROZEN

    fixed_qty: Count | None = Field(default=None, ge=1, le=MAX_QTY, description="shares per entry")
    risk_per_trade: Money | None = Field(
        default=None,
        description="money lost if the initial stop is hit: qty = risk / (entry - stop) "
        f"({MIN_RISK} to {MAX_RISK:,})",
    )

    @field_validator("risk_per_trade")
    @classmethod
    def _an_order_size(cls, risk: Decimal | None) -> Decimal | None:
        if risk is not None and not MIN_RISK <= risk <= MAX_RISK:
            raise PydanticCustomError(
                "risk",
                "must be from {low} to {high}, got {got}",
                {"low": str(MIN_RISK), "high": f"{MAX_RISK:,}", "got": shown(str(risk))},
            )
        return risk

    @model_validator(mode="after")
    def _exactly_one(self) -> Sizing:
        if (self.fixed_qty is None) == (self.risk_per_trade is None):
            raise fail("", "set exactly one of fixed_qty or risk_per_trade")
        return self


class StrategySpec(BaseModel):
    """A whole strategy file, validated; see the module docstring for the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="tickstate strategy")

    name: str = Field(
        description="short name that starts every client order id (letters, digits, _)"
    )
    signal: SignalTable
    instruments: list[Instrument] = Field(min_length=1)
    session: SessionSpec
    bar_minutes: Count = Field(default=5, ge=1, le=60, description="the bar size signals read")
    entry_window: EntryWindow
    square_off: ClockTime = Field(default=time(15, 15), description="flatten every position at")
    max_attempts: Count = Field(default=1, ge=1, description="entries per symbol per day")
    sizing: Sizing
    daily_loss_limit: Money | None = Field(
        default=None,
        description="kill switch: when the session's realised loss across all symbols reaches "
        "this amount, every symbol is halted and flattened (for the session, or until resumed: "
        "halt_scope)",
    )
    halt_scope: HaltScope = Field(
        default=HaltScope.SESSION,
        description="how long a halted symbol stays halted: 'session' (at the next session a "
        "halted symbol that is flat and settled trades again) or 'until_resumed' (until "
        "tickstate resume JOURNAL SYMBOL)",
    )
    stop_time_in_force: Literal["gtc", "day"] = Field(
        default="gtc",
        description="protective stops: 'gtc' keeps a position protected if the runner is down "
        "at the close (the square-off cancels them on a normal day); 'day' lets them expire",
    )
    broker: BrokerSpec = Field(default_factory=SimBrokerSpec)
    notify: NotifySpec | None = Field(
        default=None, description="a webhook for fills, halts, the kill switch and data_stale"
    )
    costs: CostsSpec = Field(
        default_factory=CostsSpec,
        description="commissions, slippage and the account (cash, leverage); none by default",
    )

    @model_validator(mode="before")
    @classmethod
    def _window_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        window = data.get("entry_window", {})
        signal, session = data.get("signal"), data.get("session")
        if not isinstance(window, dict):
            return data
        window = dict(window)
        cutoff = _default_cutoff(signal.get("kind") if isinstance(signal, dict) else None)
        if cutoff is not None:
            window.setdefault("end", cutoff)
        if isinstance(session, dict):
            found = _calendar(session.get("calendar"))
            start = session.get("open", found.regular_open if found else None)
            if start is not None:
                window.setdefault("start", start)
        return {**data, "entry_window": window}

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not _NAME.fullmatch(name):
            raise PydanticCustomError(
                "name",
                "must be letters, digits or _ (it starts every client order id), got {got}",
                {"got": shown(name)},
            )
        return name

    @model_validator(mode="after")
    def _consistent(self) -> StrategySpec:
        self._check_times()
        self._check_instruments()
        return self

    def _check_times(self) -> None:
        start, end, session = self.entry_window.start, self.entry_window.end, self.session
        if not start < end:
            raise fail("entry_window", f"start {shown(start)} must be before end {shown(end)}")
        if start < session.open:
            raise fail("entry_window.start", f"must not be before the open {shown(session.open)}")
        if not end < self.square_off:
            raise fail("square_off", f"must be after the entry cutoff {shown(end)}")
        if not self.square_off < session.close:
            raise fail("square_off", f"must be before the close {shown(session.close)}")
        times = StrategyTimes(
            session_open=session.open,
            entry_start=start,
            entry_cutoff=end,
            bar_minutes=self.bar_minutes,
        )
        check = getattr(self.signal.params, "check_times", None)
        problem = check(times) if callable(check) else None
        if problem is not None:
            key, text = problem
            raise fail(f"signal.{key}", text)

    def _check_instruments(self) -> None:
        try:
            SymbolMachine(
                strategy=self.name,
                symbol="X",
                trading_date=_ANY_DAY,
                rules=Rules(max_attempts=self.max_attempts),
            )
        except InvalidRulesError as exc:
            raise fail("name", str(exc)) from None
        rules = self.rules()
        seen: dict[str, int] = {}
        for index, instrument in enumerate(self.instruments):
            at = f"instruments[{index}].symbol"
            if instrument.symbol in seen:
                raise fail(
                    at, f"{instrument.symbol} is already instruments[{seen[instrument.symbol]}]"
                )
            seen[instrument.symbol] = index
            try:
                SymbolMachine(
                    strategy=self.name,
                    symbol=instrument.symbol,
                    trading_date=_ANY_DAY,
                    rules=rules[instrument.symbol],
                )
            except InvalidRulesError as exc:
                raise fail(at, str(exc)) from None

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols, in file order."""
        return tuple(instrument.symbol for instrument in self.instruments)

    def rules(self) -> dict[str, Rules]:
        """The machine's rules per symbol: its tick rule, max_attempts, entry window, timezone,
        and the plan its broker kind's venue needs (``BrokerSpec.venue``): where it refuses an
        order opposite a working one (Alpaca's wash-trade rule; both kinds do), the stop waits
        for the entry remainder's cancel and a one-cancels-other pair rests one leg at a time.
        A replay follows the same plan, so its trades are the live run's."""
        window = (self.entry_window.start, self.entry_window.end)
        refuses_opposite = self.broker.venue.wash_trades
        return {
            instrument.symbol: Rules(
                tick=instrument.tick_rule(),
                max_attempts=self.max_attempts,
                entry_window=window,
                timezone=self.session.timezone,
                stop_waits_for_entry=refuses_opposite,
                one_resting_leg=refuses_opposite,
            )
            for instrument in self.instruments
        }


#: Keys a file may leave out although their models declare no default: a "before" validator
#: fills them in (the session's hours from its calendar, the entry window from the open and the
#: signal's cutoff), so the schema must not demand them ("" is the top level).
_FILLED_IN = {
    "": ("entry_window",),
    "SessionSpec": ("timezone", "open", "close"),
    "EntryWindow": ("start", "end"),
}


def strategy_schema() -> dict[str, Any]:
    """The JSON Schema of a strategy file (for editors; TOML tables are JSON objects), with the
    parameters of every registered signal, built-in or plugin."""
    schema = StrategySpec.model_json_schema()
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    defs["SignalTable"] = signal_schema(defs)
    for definition, keys in _FILLED_IN.items():
        table = defs[definition] if definition else schema
        table["required"] = [key for key in table.get("required", ()) if key not in keys]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _default_cutoff(kind: object) -> time | None:
    """The entry cutoff the signal ``kind`` supplies (None if it has none or is unknown: the
    signal's own validation reports that)."""
    if not isinstance(kind, str):
        return None
    try:
        return signal_kind(kind).default_entry_cutoff
    except Exception:  # an unknown or broken signal is reported where [signal] is validated
        return None


def load_strategy(path: str | os.PathLike[str]) -> StrategySpec:
    """Read, parse and validate a strategy file; raise ``SpecError`` (one line) on any mistake."""
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(file, None, f"cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SpecError(file, None, "cannot read the file: it is not UTF-8 text") from None
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise SpecError(file, None, "invalid TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        found = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", str(exc))
        if found is None:
            raise SpecError(file, None, f"invalid TOML: {exc}") from None
        problem = found[1][:1].lower() + found[1][1:]
        raise SpecError(
            file, f"line {found[2]}, column {found[3]}", f"invalid TOML: {problem}"
        ) from None
    return validate_strategy(data, file=file, base_dir=Path(file).parent)


def validate_strategy(
    data: Mapping[str, Any], *, file: str = "<strategy>", base_dir: Path | None = None
) -> StrategySpec:
    """Validate already-parsed TOML data; ``file`` only names it in errors."""
    try:
        return StrategySpec.model_validate(dict(data), context={"base_dir": base_dir})
    except ValidationError as exc:
        path, problem = locate(exc.errors()[0], StrategySpec)
        raise SpecError(file, path or "(top level)", problem) from None
