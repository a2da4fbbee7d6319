"""The ``[signal]`` table: which signal a strategy runs, and its parameters.

The built-in signals' parameters, names and defaults are those of ``reference/strategies.md``.
Their ``entry_cutoff``, ``square_off`` and ``max_attempts`` live at the top of the file (they
are the machine's rules, the same for every signal); each signal only supplies its default
cutoff. Any other ``kind`` must be a plugin registered in the ``tickstate.signals`` entry-point
group; its parameters pass through, validated by the plugin's own ``Params`` model if it has one.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from strategies._plugins import BUILTIN_SIGNALS, load_signal
from strategies._spec_fields import FROZEN, ClockTime, Count, Ratio, describe, fail

__all__ = [
    "SIGNAL_TAGS",
    "EightyTwentySignal",
    "OpeningRangeSignal",
    "PluginSignal",
    "SignalSpec",
    "TrailingRule",
]


class TrailingRule(BaseModel):
    """How a position's stop follows the market: after which bars, and how many ticks behind."""

    model_config = FROZEN

    on: Literal["none", "completed_bar", "green_bars"]
    offset_ticks: int = 0


class EightyTwentySignal(BaseModel):
    """80-20 (Connors & Raschke): D-1 opened in one end of its range and closed in the other."""

    model_config = FROZEN
    default_entry_cutoff: ClassVar[time] = time(14, 30)

    kind: Literal["eighty_twenty"] = "eighty_twenty"
    zone: Ratio = Field(
        default=Decimal("0.20"),
        description="the top/bottom fraction of D-1's range (0 < zone < 0.5)",
    )
    zone_inclusive: bool = Field(
        default=True, description="whether a price on the zone edge counts"
    )
    trigger_ticks: Count = Field(
        default=10, ge=0, description="ticks beyond D-1's low/high that arm"
    )
    entry_offset_ticks: Count = Field(default=0, ge=0, description="entry stop ticks inside L/H")
    stop_offset_ticks: Count = Field(
        default=1, ge=0, description="initial stop ticks beyond the extreme"
    )
    trail_offset_ticks: Count = Field(
        default=0, ge=0, description="trailing stop ticks behind each bar"
    )
    trail_on: Literal["completed_bar", "green_bars"] = Field(
        default="completed_bar", description="trail after every completed bar, or only green ones"
    )
    range_filter: Literal["off", "mean_range_20"] = Field(
        default="off", description="mean_range_20: D-1's range must exceed the 20 sessions' mean"
    )
    trigger_window_end: ClockTime | None = Field(
        default=None, description="the last time a trigger may arm (default: the entry cutoff)"
    )
    rearm: Literal["retrigger", "below_entry"] = Field(
        default="retrigger", description="how a stopped-out setup arms again"
    )

    @field_validator("zone")
    @classmethod
    def _zone_inside_half(cls, zone: Decimal) -> Decimal:
        if not Decimal(0) < zone < Decimal("0.5"):
            raise PydanticCustomError(
                "zone", "must be > 0 and < 0.5, got {got}", {"got": str(zone)}
            )
        return zone

    @property
    def trailing(self) -> TrailingRule:
        """The trailing rule: ``trail_on`` and ``trail_offset_ticks``."""
        return TrailingRule(on=self.trail_on, offset_ticks=self.trail_offset_ticks)


class OpeningRangeSignal(BaseModel):
    """Opening-range breakout: a one-cancels-other stop pair around the first minutes' range."""

    model_config = FROZEN
    default_entry_cutoff: ClassVar[time] = time(11, 30)

    kind: Literal["opening_range_breakout"] = "opening_range_breakout"
    or_minutes: Count = Field(default=15, ge=1, le=390, description="minutes of the opening range")
    buffer_ticks: Count = Field(default=1, ge=0, description="entry stops this many ticks outside")
    stop: Literal["opposite_side", "midpoint"] = Field(
        default="opposite_side", description="initial stop: the range's other side, or its middle"
    )
    target_r: Ratio | None = Field(
        default=None, description="optional profit target as a multiple of the risk (> 0)"
    )
    confirm: Literal["stop_order", "close_beyond"] = Field(
        default="stop_order", description="enter on the stop order, or on a close beyond the range"
    )

    @field_validator("target_r")
    @classmethod
    def _target_positive(cls, target_r: Decimal | None) -> Decimal | None:
        if target_r is not None and not target_r > 0:
            raise PydanticCustomError("target_r", "must be > 0, got {got}", {"got": str(target_r)})
        return target_r

    @property
    def trailing(self) -> TrailingRule:
        """ORB does not trail: its stop stays where the entry put it."""
        return TrailingRule(on="none")


class PluginSignal(BaseModel):
    """A signal registered by another distribution; its parameters are its own business."""

    model_config = ConfigDict(extra="allow", frozen=True)
    default_entry_cutoff: ClassVar[time | None] = None

    kind: str = Field(
        json_schema_extra={"not": {"enum": list(BUILTIN_SIGNALS)}},
        description="the name a plugin registered in the tickstate.signals entry-point group",
    )
    _parsed: BaseModel | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _registered(self) -> PluginSignal:
        try:
            plugin = load_signal(self.kind)
        except LookupError as exc:
            raise fail("kind", str(exc)) from None
        except Exception as exc:  # a broken plugin is the plugin's fault: say so in one line
            raise fail("kind", f'cannot load signal "{self.kind}": {exc}') from None
        if plugin.params_model is not None:
            try:
                self._parsed = plugin.params_model.model_validate(self.params)
            except ValidationError as exc:
                first = exc.errors()[0]
                at = ".".join(str(part) for part in first["loc"]) or "kind"
                problem = "unknown key" if first["type"] == "extra_forbidden" else describe(first)
                raise fail(at, problem) from None
        return self

    @property
    def params(self) -> dict[str, Any]:
        """The signal table without ``kind``, as written."""
        return dict(self.model_extra or {})

    @property
    def parsed(self) -> BaseModel | None:
        """The parameters as the plugin's ``Params`` model, if it has one."""
        return self._parsed

    @property
    def trailing(self) -> TrailingRule:
        """A plugin's trailing is its own: the spec declares none."""
        return TrailingRule(on="none")


def _signal_tag(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if kind in BUILTIN_SIGNALS else "plugin"


#: The tags pydantic puts in an error's location after ``signal``; dropped from key paths.
SIGNAL_TAGS = (*BUILTIN_SIGNALS, "plugin")

SignalSpec = Annotated[
    Annotated[EightyTwentySignal, Tag("eighty_twenty")]
    | Annotated[OpeningRangeSignal, Tag("opening_range_breakout")]
    | Annotated[PluginSignal, Tag("plugin")],
    Discriminator(_signal_tag),
]
