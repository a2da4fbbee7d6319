"""The ``[broker]`` table: where ``tickstate run`` sends a strategy's orders. No credentials.

``sim`` (the default) is the local simulated exchange, ``alpaca`` Alpaca's API (its paper
endpoints by default; keys come from the environment). Each kind has one venue factory
(``strategies.run``) that builds its broker, streams and clock. ``tickstate replay`` always
runs on the in-process paper broker and ignores this table. Relative ``data`` paths are resolved
against the strategy file's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from brokers import ALPACA_PAPER, VenueRules
from strategies._fields import FROZEN, shown
from strategies._policy import MAX_SPEED, MIN_SPEED

__all__ = ["BROKER_TAGS", "AlpacaBrokerSpec", "BrokerSpec", "SimBrokerSpec"]

Feed = Literal["iex", "sip"]


def _url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if not value.startswith(tuple(f"{s}://" for s in schemes)):
        expected = " or ".join(f"{s}://" for s in schemes)
        raise PydanticCustomError(
            "url",
            "must start with {expected}, got {got}",
            {"expected": expected, "got": shown(value)},
        )
    try:  # what requests and websocket-client will parse: a host, a port that is a port
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises for a port out of range or not a number)
    except ValueError as exc:
        raise PydanticCustomError(
            "url", "is not a URL ({why}), got {got}", {"why": str(exc), "got": shown(value)}
        ) from None
    if not parts.hostname:
        raise PydanticCustomError("url", "names no host, got {got}", {"got": shown(value)})
    return value


class _Endpoints(BaseModel):
    model_config = FROZEN

    rest_url: str | None = Field(default=None, description="REST base URL (no /v2)")
    trading_stream_url: str | None = Field(default=None, description="trade-updates WebSocket URL")
    data_stream_url: str | None = Field(default=None, description="market-data WebSocket URL")
    data_rest_url: str | None = Field(
        default=None, description="historical market-data REST base URL (no /v2)"
    )
    feed: Feed = Field(default="iex", description="market-data feed")

    @field_validator("rest_url", "data_rest_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        return _url(value, ("http", "https"))

    @field_validator("trading_stream_url", "data_stream_url")
    @classmethod
    def _ws(cls, value: str | None) -> str | None:
        return _url(value, ("ws", "wss"))


class SimBrokerSpec(_Endpoints):
    """The local simulated exchange; URLs default to the one the runner starts (one that
    ``tickstate sim`` serves when they are named: its keys come from APCA_API_KEY_ID /
    APCA_API_SECRET_KEY when set, else its default ones; its data REST base is ``rest_url``)."""

    kind: Literal["sim"] = Field(default="sim", description="the local simulated exchange")
    #: The venue's rules: the twin plays Alpaca paper's (``ALPACA_PAPER``).
    venue: ClassVar[VenueRules] = ALPACA_PAPER
    speed: float = Field(
        default=1.0,
        ge=MIN_SPEED,
        le=MAX_SPEED,
        allow_inf_nan=False,
        description="replay speed: 60 plays an hour a minute (0.001 to 1e9)",
    )
    data: Path | None = Field(default=None, description="recorded bars to replay")
    seed: int = Field(
        default=0, description="the exchange's seed: its partial fills and late prints"
    )

    @field_validator("data")
    @classmethod
    def _beside_the_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        base = (info.context or {}).get("base_dir")
        if value is None or value.is_absolute() or base is None:
            return value
        return Path(base) / value


class AlpacaBrokerSpec(_Endpoints):
    """Alpaca's API; keys come from APCA_API_KEY_ID / APCA_API_SECRET_KEY, never from the file."""

    kind: Literal["alpaca"] = Field(description="Alpaca's trading and market-data APIs")
    #: The venue's rules: Alpaca's own (``docs/alpaca-behaviours.md``).
    venue: ClassVar[VenueRules] = ALPACA_PAPER
    rest_url: str | None = Field(
        default="https://paper-api.alpaca.markets", description="REST base URL (no /v2)"
    )
    trading_stream_url: str | None = Field(
        default="wss://paper-api.alpaca.markets/stream", description="trade-updates WebSocket URL"
    )
    data_stream_url: str | None = Field(
        default="wss://stream.data.alpaca.markets/v2/iex", description="market-data WebSocket URL"
    )
    data_rest_url: str | None = Field(
        default="https://data.alpaca.markets",
        description="historical market-data REST base URL (no /v2)",
    )


def _broker_tag(value: Any) -> str:
    if isinstance(value, dict):
        kind = value.get("kind", "sim")
        return kind if isinstance(kind, str) else shown(kind)
    return str(getattr(value, "kind", "sim"))


#: The tags pydantic puts in an error's location after ``broker``; dropped from key paths.
BROKER_TAGS = ("sim", "alpaca")

BrokerSpec = Annotated[
    Annotated[SimBrokerSpec, Tag("sim")] | Annotated[AlpacaBrokerSpec, Tag("alpaca")],
    Discriminator(_broker_tag),
]
