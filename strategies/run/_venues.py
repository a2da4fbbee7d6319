"""Venues: where a live run's orders go, one factory per ``[broker] kind``.

A ``Venue`` is everything ``run_live`` needs from the outside world — a broker, its two
streams, the clock the run keeps, the trading date it starts on — and how to let go of it. The
runner builds nothing broker-specific: it asks ``open_venue`` for the venue the strategy file
names.

- ``sim``: the simulated exchange (Alpaca's twin), started in-process on an ephemeral loopback
  port unless the file names one (started by ``tickstate sim``, whose keys then come from the
  environment, or its defaults); it replays recorded bars at
  ``speed`` on a virtual clock, and the Alpaca adapter talks to it over real sockets. Which bars
  it replays, and which earlier ones its historical API serves, is ``first_sessions``'s choice.
- ``alpaca``: Alpaca's API at the configured endpoints, keys from the environment, wall clock.

Adding a kind is one spec model (``strategies.spec``) and one factory here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from brokers import (
    AlpacaBarStream,
    AlpacaBroker,
    AlpacaMarketData,
    AlpacaSettings,
    AlpacaTradeStream,
    Bar,
    BarStream,
    Broker,
    Clock,
    LockStep,
    ManualClock,
    ReconnectPolicy,
    SimExchange,
    SystemClock,
    TradeUpdateStream,
    VirtualClock,
)
from strategies.engine import interval_of
from strategies.run._history import BarSource
from strategies.run._twin import TWIN_CASH, TWIN_MARGIN
from strategies.spec import AlpacaBrokerSpec, SimBrokerSpec, StrategySpec

__all__ = [
    "BarRelay",
    "Venue",
    "open_venue",
]

_KEY_ENV, _SECRET_ENV = "APCA_API_KEY_ID", "APCA_API_SECRET_KEY"
_SIM_DEFAULT_KEYS = ("K", "S")  # what `tickstate sim` and SimExchange accept unless told


class BarRelay:
    """Hands bars to ``handler`` once one is set: the bar stream is built before the runner
    that listens for its ``updatedBars``."""

    def __init__(self) -> None:
        self.handler: Callable[[Bar], None] | None = None

    def __call__(self, bar: Bar) -> None:
        handler = self.handler
        if handler is not None:
            handler(bar)


@dataclass(frozen=True, slots=True, kw_only=True)
class Venue:
    """A broker, its streams and the run's clock, as one ``[broker] kind`` provides them."""

    broker: Broker
    trade_stream: TradeUpdateStream
    bar_stream: BarStream
    market_data: BarSource  # the historical bars (a start-up's look-back)
    clock: Clock
    trading_date: date  # the session the run starts on
    data_finished: threading.Event | None = None  # set once a replaying venue sent its last bar
    bar_size: timedelta = timedelta(minutes=1)  # the bars the stream sends (Alpaca: 1 minute)
    updated_bars: BarRelay  # ``updatedBars`` go to its ``handler`` once one is set
    orders: Callable[[], int] | None = None  # how many orders the venue holds (a sim only)
    lockstep: LockStep | None = None  # an in-process exchange in lock-step with the run
    simulated: bool = False  # a simulated exchange (its clock may run free: late orders)
    close: Callable[[], None]  # stop what the venue started; close what it opened


def open_venue(
    spec: StrategySpec,
    *,
    bars: Sequence[Bar] = (),
    speed: float | None = None,
    exchange: SimExchange | None = None,
    history_bars: Sequence[Bar] = (),
    realtime: bool = False,
    seed: int | None = None,
    connections: int = 10,
) -> Venue:
    """The venue of ``spec``'s ``[broker]`` table; its broker keeps ``connections`` open (as
    many as threads send at once).

    ``bars`` and ``speed`` are a simulated venue's recorded data and replay speed (default: the
    file's; ``seed`` its seed, default the file's), ``history_bars`` the earlier bars its
    historical API serves; ``exchange`` an already started simulated exchange to use instead
    (tests read its book afterwards; it is left running). A simulated exchange started here
    runs in lock-step with the run (``LockStep``: its clock moves to the next moment once the
    run applied the last one) unless ``realtime``; a given ``exchange`` runs as it was built;
    one that ``tickstate sim`` serves runs free.
    """
    broker_spec = spec.broker
    if isinstance(broker_spec, SimBrokerSpec):
        seed = broker_spec.seed if seed is None else seed
        return _sim_venue(
            spec, broker_spec, bars, speed, exchange, history_bars, realtime, seed, connections
        )
    return _alpaca_venue(spec, broker_spec, connections)


def _alpaca_venue(spec: StrategySpec, broker_spec: AlpacaBrokerSpec, connections: int) -> Venue:
    settings = AlpacaSettings.from_env(
        rest_url=broker_spec.rest_url,
        trading_stream_url=broker_spec.trading_stream_url,
        data_stream_url=broker_spec.data_stream_url,
        data_rest_url=broker_spec.data_rest_url,
    )
    clock = SystemClock()
    broker = AlpacaBroker(settings, connections=connections)
    market_data = AlpacaMarketData(settings)
    updated = BarRelay()

    def close() -> None:
        broker.close()
        market_data.close()

    return Venue(
        broker=broker,
        trade_stream=AlpacaTradeStream(settings),
        bar_stream=AlpacaBarStream(settings, on_updated_bar=updated),
        market_data=market_data,
        updated_bars=updated,
        clock=clock,
        trading_date=clock.now().astimezone(spec.session.hours().timezone).date(),
        close=close,
    )


def _sim_venue(
    spec: StrategySpec,
    broker_spec: SimBrokerSpec,
    bars: Sequence[Bar],
    speed: float | None,
    exchange: SimExchange | None,
    history_bars: Sequence[Bar],
    realtime: bool,
    seed: int,
    connections: int,
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
            history=history_bars,
            lockstep=None if realtime else LockStep(),
            seed=seed,
            cash=spec.costs.cash or TWIN_CASH,  # the file's account, as its replay holds
            margin=spec.costs.leverage or TWIN_MARGIN,
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
    # The exchange's own clock when it runs in this process: deadlines then pass on the time
    # the venue keeps, with or without bars; otherwise (and in lock-step, where the run moves
    # it to each moment it applies) a clock the bars move.
    lockstep = sim.lockstep if sim is not None else None
    clock: Clock = (
        sim.clock
        if sim is not None and isinstance(sim.clock, VirtualClock) and lockstep is None
        else ManualClock(bars[0].start)
    )
    broker = AlpacaBroker(settings, connections=connections)
    market_data = AlpacaMarketData(settings)

    def close() -> None:
        broker.close()
        market_data.close()
        if started_here and sim is not None:
            sim.stop()

    updated = BarRelay()
    return Venue(
        broker=broker,
        trade_stream=AlpacaTradeStream(settings),
        bar_stream=AlpacaBarStream(settings, on_updated_bar=updated),
        market_data=market_data,
        updated_bars=updated,
        bar_size=interval_of(bars) or timedelta(minutes=1),
        clock=clock,
        trading_date=bars[0].start.astimezone(zone).date(),
        data_finished=sim.finished if sim is not None else None,
        orders=(lambda: len(sim.orders())) if sim is not None else None,
        lockstep=lockstep,
        simulated=True,
        close=close,
    )


def _sim_keys() -> tuple[str, str]:
    """The keys for a simulated exchange the file names: from ``APCA_API_KEY_ID`` and
    ``APCA_API_SECRET_KEY`` when both are set (``tickstate sim --key-id ... --secret-key ...``
    prints them), else the keys ``tickstate sim`` accepts by default."""
    key_id, secret = os.environ.get(_KEY_ENV), os.environ.get(_SECRET_ENV)
    return (key_id, secret) if key_id and secret else _SIM_DEFAULT_KEYS
