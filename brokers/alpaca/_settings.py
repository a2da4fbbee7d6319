"""The Alpaca adapter's settings: four endpoints, the keys, timeouts, retry and reconnect policy.

One rule: the secret never leaves through ``repr``/``str`` (nor does the key id), so a settings
value can be logged or shown in a traceback safely. Keys come from the environment
(``APCA_API_KEY_ID``, ``APCA_API_SECRET_KEY``) through ``from_env`` or are passed explicitly.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "DATA_REST_URL",
    "PAPER_DATA_STREAM_URL",
    "PAPER_REST_URL",
    "PAPER_TRADING_STREAM_URL",
    "AlpacaSettings",
    "ReconnectPolicy",
    "RetryPolicy",
    "jittered_backoff",
]

PAPER_REST_URL = "https://paper-api.alpaca.markets"
PAPER_TRADING_STREAM_URL = "wss://paper-api.alpaca.markets/stream"
PAPER_DATA_STREAM_URL = "wss://stream.data.alpaca.markets/v2/iex"
#: Historical market data: one host for paper and live accounts.
DATA_REST_URL = "https://data.alpaca.markets"

_KEY_ID_ENV = "APCA_API_KEY_ID"
_SECRET_ENV = "APCA_API_SECRET_KEY"
_SECRET_FIELDS = frozenset({"key_id", "secret_key"})


def jittered_backoff(attempt: int, initial: float, maximum: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(maximum, initial * 2**attempt)].

    ``attempt`` counts from 0. The same formula as tenacity's ``wait_random_exponential``, which
    the REST side uses; the streams' reconnect loop is not a retry of one call, so it uses this.
    """
    ceiling = min(maximum, initial * (2.0 ** min(attempt, 62)))
    return rng.uniform(0.0, ceiling)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """REST retries: at most ``max_attempts`` tries, jittered exponential waits between them."""

    max_attempts: int = 5
    initial_backoff: float = 0.25
    max_backoff: float = 8.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < self.initial_backoff:
            raise ValueError("RetryPolicy needs 0 <= initial_backoff <= max_backoff")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectPolicy:
    """Streams: ping cadence, reconnect backoff (bounded), dedup memory, stop timeouts."""

    ping_interval: float = 20.0
    ping_timeout: float = 10.0
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    dedup_capacity: int = 10_000
    close_timeout: float = 1.0
    stop_timeout: float = 5.0

    def __post_init__(self) -> None:
        if self.ping_interval and self.ping_interval <= self.ping_timeout:
            raise ValueError("ReconnectPolicy needs ping_interval > ping_timeout (or 0: no ping)")
        if self.ping_timeout <= 0:
            raise ValueError("ReconnectPolicy.ping_timeout must be positive")
        if self.initial_backoff < 0 or self.max_backoff < self.initial_backoff:
            raise ValueError("ReconnectPolicy needs 0 <= initial_backoff <= max_backoff")
        if self.dedup_capacity < 1:
            raise ValueError("ReconnectPolicy.dedup_capacity must be at least 1")


@dataclass(frozen=True, kw_only=True, repr=False)
class AlpacaSettings:
    """Where and how the adapter talks to Alpaca (or to the simulated exchange).

    ``rest_url`` is the REST base without ``/v2``; ``data_rest_url`` the historical market-data
    base, also without ``/v2`` (the simulated exchange serves both on one port).
    ``connect_timeout``/``read_timeout`` bound
    every HTTP request. Without a client order id a submit gets one of ``uuid4`` form when
    ``assign_client_order_ids`` is on, so it can be recovered after a lost answer; with it off
    such a submit is sent once and never retried.
    """

    rest_url: str = PAPER_REST_URL
    trading_stream_url: str = PAPER_TRADING_STREAM_URL
    data_stream_url: str = PAPER_DATA_STREAM_URL
    data_rest_url: str = DATA_REST_URL
    key_id: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    assign_client_order_ids: bool = True

    def __post_init__(self) -> None:
        for name in ("rest_url", "data_rest_url"):
            url = getattr(self, name).rstrip("/")
            object.__setattr__(self, name, url)
            if url.endswith("/v2"):
                raise ValueError(f"AlpacaSettings.{name} is the base without /v2")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("AlpacaSettings timeouts must be positive")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> AlpacaSettings:
        """Keys from ``APCA_API_KEY_ID`` / ``APCA_API_SECRET_KEY``; other fields as given.

        Raises ``ValueError`` naming the missing variable (never its value).
        """
        env = os.environ if environ is None else environ
        missing = [name for name in (_KEY_ID_ENV, _SECRET_ENV) if not env.get(name)]
        if missing:
            raise ValueError(f"missing environment variable(s): {', '.join(missing)}")
        return cls(key_id=env[_KEY_ID_ENV], secret_key=env[_SECRET_ENV], **overrides)

    @property
    def rest_headers(self) -> dict[str, str]:
        """The auth headers of every REST request (do not log them)."""
        return {"APCA-API-KEY-ID": self.key_id, "APCA-API-SECRET-KEY": self.secret_key}

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS:
                shown.append(f"{f.name}={'***' if value else ''!r}")
            else:
                shown.append(f"{f.name}={value!r}")
        return f"AlpacaSettings({', '.join(shown)})"

    __str__ = __repr__
