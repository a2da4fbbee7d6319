"""Venues: where a live run's orders go, one factory per ``[broker] kind``.

A ``Venue`` is everything ``run_live`` needs from the outside world — a broker, its two
streams, the clock the run keeps, the trading date it starts on — and how to let go of it. The
runner builds nothing broker-specific: it asks ``open_venue`` for the venue the strategy file
names.

- ``sim``: the simulated exchange (Alpaca's twin), started in-process on an ephemeral loopback
  port unless the file names one (started by ``tickstate sim``, whose keys then come from the
  environment, or its defaults); it replays recorded bars at
  ``speed`` on a virtual clock, and the Alpaca adapter talks to it over real sockets. Which bars,
  and the history before them, is ``first_sessions``'s choice.
- ``alpaca``: Alpaca's API at the configured endpoints, keys from the environment, wall clock.

Adding a kind is one spec model (``strategies.spec``) and one factory here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from brokers import (
    AlpacaBarStream,
    AlpacaBroker,
    AlpacaSettings,
    AlpacaTradeStream,
    Bar,
    BarStream,
    Broker,
    Clock,
    ManualClock,
    ReconnectPolicy,
    SimExchange,
    SystemClock,
    TradeUpdateStream,
)
from strategies.run._bars import daily_from_intraday
from strategies.signals import DailyBar
from strategies.spec import AlpacaBrokerSpec, SimBrokerSpec, StrategySpec

__all__ = ["Venue", "default_data", "first_sessions", "open_venue"]

_KEY_ENV, _SECRET_ENV = "APCA_API_KEY_ID", "APCA_API_SECRET_KEY"
_SIM_DEFAULT_KEYS = ("K", "S")  # what `tickstate sim` and SimExchange accept unless told


@dataclass(frozen=True, slots=True, kw_only=True)
class Venue:
    """A broker, its streams and the run's clock, as one ``[broker] kind`` provides them."""

    broker: Broker
    trade_stream: TradeUpdateStream
    bar_stream: BarStream
    clock: Clock
    trading_date: date  # the session the run starts on
    data_finished: threading.Event | None = None  # set once a replaying venue sent its last bar
    orders: Callable[[], int] | None = None  # how many orders the venue holds (a sim only)
    close: Callable[[], None]  # stop what the venue started; close what it opened


def open_venue(
    spec: StrategySpec,
    *,
    bars: Sequence[Bar] = (),
    speed: float | None = None,
    exchange: SimExchange | None = None,
) -> Venue:
    """The venue of ``spec``'s ``[broker]`` table.

    ``bars`` and ``speed`` are a simulated venue's recorded data and replay speed (default: the
    file's); ``exchange`` an already started simulated exchange to use instead (tests read its
    book afterwards; it is left running).
    """
    broker_spec = spec.broker
    if isinstance(broker_spec, SimBrokerSpec):
        return _sim_venue(spec, broker_spec, bars, speed, exchange)
    return _alpaca_venue(spec, broker_spec)


def _alpaca_venue(spec: StrategySpec, broker_spec: AlpacaBrokerSpec) -> Venue:
    settings = AlpacaSettings.from_env(
        rest_url=broker_spec.rest_url,
        trading_stream_url=broker_spec.trading_stream_url,
        data_stream_url=broker_spec.data_stream_url,
        data_rest_url=broker_spec.data_rest_url,
    )
    clock = SystemClock()
    broker = AlpacaBroker(settings)
    return Venue(
        broker=broker,
        trade_stream=AlpacaTradeStream(settings),
        bar_stream=AlpacaBarStream(settings),
        clock=clock,
        trading_date=clock.now().astimezone(spec.session.hours().timezone).date(),
        close=broker.close,
    )


def _sim_venue(
    spec: StrategySpec,
    broker_spec: SimBrokerSpec,
    bars: Sequence[Bar],
    speed: float | None,
    exchange: SimExchange | None,
) -> Venue:
    if not bars:
        raise ValueError("a simulated run needs recorded bars")
    zone = spec.session.hours().timezone
    sim = exchange
    started_here = sim is None and broker_spec.rest_url is None
    if started_here:
        sim = SimExchange(
            bars,
            speed=speed if speed is not None else broker_spec.speed,
            session_tz=str(zone),
            hold_until_subscribed=True,
        ).start()
    if sim is not None:
        urls = (sim.rest_url, sim.trading_stream_url, sim.data_stream_url, sim.data_rest_url)
        own = sim.client_settings()
        key_id, secret_key = own.key_id, own.secret_key
    else:  # one that `tickstate sim` serves, named by the file
        urls = (
            str(broker_spec.rest_url),
            str(broker_spec.trading_stream_url or ""),
            str(broker_spec.data_stream_url or ""),
            str(broker_spec.data_rest_url or broker_spec.rest_url),
        )
        key_id, secret_key = _sim_keys()
    settings = AlpacaSettings(
        rest_url=urls[0],
        trading_stream_url=urls[1],
        data_stream_url=urls[2],
        data_rest_url=urls[3],
        key_id=key_id,
        secret_key=secret_key,
        reconnect=ReconnectPolicy(initial_backoff=0.05, max_backoff=1.0),
    )
    clock = ManualClock(bars[0].start)
    broker = AlpacaBroker(settings)

    def close() -> None:
        broker.close()
        if started_here and sim is not None:
            sim.stop()

    return Venue(
        broker=broker,
        trade_stream=AlpacaTradeStream(settings),
        bar_stream=AlpacaBarStream(settings),
        clock=clock,
        trading_date=bars[0].start.astimezone(zone).date(),
        data_finished=sim.finished if sim is not None else None,
        orders=(lambda: len(sim.orders())) if sim is not None else None,
        close=close,
    )


def _sim_keys() -> tuple[str, str]:
    """The keys for a simulated exchange the file names: from ``APCA_API_KEY_ID`` and
    ``APCA_API_SECRET_KEY`` when both are set (``tickstate sim --key-id ... --secret-key ...``
    prints them), else the keys ``tickstate sim`` accepts by default."""
    key_id, secret = os.environ.get(_KEY_ENV), os.environ.get(_SECRET_ENV)
    return (key_id, secret) if key_id and secret else _SIM_DEFAULT_KEYS


def first_sessions(
    bars: Sequence[Bar], spec: StrategySpec, days: int, start: date | None = None
) -> tuple[list[Bar], dict[str, tuple[DailyBar, ...]]]:
    """The bars of ``days`` sessions from ``start`` (default: the second session in the data),
    and each symbol's earlier sessions summarised, so the first live day has its D-1."""
    tz = spec.session.hours().timezone
    wanted = set(spec.symbols)
    mine = [b for b in bars if b.symbol in wanted]
    sessions = sorted({b.start.astimezone(tz).date() for b in mine})
    if start is None:
        start = sessions[1] if len(sessions) > 1 else (sessions[0] if sessions else None)
    keep = {d for d in sessions if start is not None and d >= start}
    keep = set(sorted(keep)[:days])
    live = [b for b in mine if b.start.astimezone(tz).date() in keep]
    history: dict[str, tuple[DailyBar, ...]] = {}
    for symbol in spec.symbols:
        earlier = [
            b
            for b in mine
            if b.symbol == symbol and start is not None and b.start.astimezone(tz).date() < start
        ]
        history[symbol] = tuple(daily_from_intraday(earlier, tz))
    return live, history


def default_data(spec: StrategySpec, config: Path) -> Path | None:
    """The recorded bars a simulated run replays: ``[broker] data``, else the demo data."""
    data = getattr(spec.broker, "data", None)
    if data is not None:
        return Path(data)
    for base in (Path.cwd(), config.resolve().parent.parent):
        candidate = base / "data" / "intraday_5min"
        if candidate.is_dir():
            return candidate
    return None
