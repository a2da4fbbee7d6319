"""The simulated exchange: Alpaca's paper endpoint (the subset we use) on one local port.

REST under ``/v2`` (trading, and the market data Alpaca serves from ``data.alpaca.markets``:
historical bars, the calendar, the clock), the trading stream at ``/stream``, the bar stream at
``/v2/{feed}``, all on one aiohttp application running on its own named thread and event loop.
Recorded bars replay on a ``VirtualClock`` at ``speed`` times real time, as Alpaca's feed sends
them: each bar once it has ended, only for the minutes (or bars) the data has, pre- and
post-market ones included. At each bar's end the matching core fills what the bar reaches
(orders placed before the bar opened), the fills go out on the trading stream, then the bar on
the bar stream; a seeded share of bars is first sent without one late print and sent whole
about 30 s later (``updatedBars``); at each session's close (the XNYS calendar: 13:00 on an
early close) DAY orders expire and the session's bar goes to ``dailyBars``. Time runs through
quiet minutes; only nights, weekends and the rest of a day whose recording ends early are
skipped. Every touch of the matching engine happens on the exchange's event loop, so it needs
no lock::

    >>> from brokers import SimExchange
    >>> with SimExchange() as sim:
    ...     sim.rest_url.startswith("http://127.0.0.1:")
    True
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web

from brokers._clock import Clock, ManualClock, SystemClock, VirtualClock
from brokers._matching import MatchingEngine
from brokers._types import Asset, Bar, Order, TradeUpdate
from brokers._venue import ALPACA_PAPER, VenueRules
from brokers.alpaca._settings import AlpacaSettings, ReconnectPolicy
from brokers.sim._calendar import NEW_YORK, SessionCalendar, new_york_calendar
from brokers.sim._data_stream import DataStreamHub
from brokers.sim._faults import FaultDice, SimFaults
from brokers.sim._lockstep import LockStep, MomentBar
from brokers.sim._market import FEEDS, MAX_LIMIT, BarHistory, SimMarket, daily_bar
from brokers.sim._rest import SimRest
from brokers.sim._streams import TradingStreamHub
from brokers.sim._timeline import Event, EventKind, bar_start, late_prints, smallest_interval

__all__ = ["SimExchange"]

T = TypeVar("T")
_WAIT = 10.0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SimExchange:
    """A local exchange speaking Alpaca's wire format; ``start()`` it, ``stop()`` it.

    ``bars`` are the recorded bars to replay (``strategies`` loads them from CSV files); a
    bar closes ``bar_interval`` after it opens (default: the smallest gap between two bars of a
    symbol, or one minute). The account holds ``cash``, buying power ``margin`` times equity.
    Without bars the exchange runs on a ``ManualClock`` (at ``start`` or now) that ``feed_bar``
    moves to each bar's end, and cancels and replaces land when it is moved (``land_requests``
    moves it just far enough). ``rate_limit`` requests per ``rate_window`` seconds of the
    exchange's clock per key; ``faults`` can be replaced at any time (the ``faults`` property).
    ``hold_until_subscribed`` holds the clock at its start and starts the replay only once a
    bar-stream client has subscribed. ``updated_bars`` is the share of replayed bars first sent
    without a late print (Alpaca's ``updatedBars`` follow); ``data_connections`` how many
    bar-stream connections a key may hold at once (Alpaca's free plan: one); ``max_bars_page``
    caps a page of historical bars (Alpaca's cap, 10,000; a test lowers it to see pagination).
    ``history`` are bars from before the replay that only the historical API serves (a live
    run's start-up reads its look-back there, as it would from Alpaca). With ``lockstep``
    (``brokers.sim.LockStep``) the replay runs in lock-step with its client: the clock is held
    at each moment until the client acknowledged it (``_lockstep``), paced at most ``speed``.

    ``rules`` are Alpaca paper's by default (``brokers.ALPACA_PAPER``: wash trades refused, buy
    stops collared, sub-penny prices refused, the pattern-day-trader rule, open orders counted in
    buying power, 10 % partial fills, cancels and replaces that take time); a focused test may
    relax one. ``assets`` lists what the venue trades (default: the recorded bars' symbols, all
    shortable and easy to borrow; without bars, any symbol).
    """

    def __init__(
        self,
        bars: Sequence[Bar] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        seed: int = 0,
        key_id: str = "K",
        secret_key: str = "S",
        allow_remote: bool = False,
        faults: SimFaults | None = None,
        rate_limit: int = 200,
        rate_window: float = 60.0,
        cash: Decimal = Decimal("100000"),
        margin: Decimal = Decimal(4),  # Alpaca's intraday buying power: 4x equity
        start: datetime | None = None,
        bar_interval: timedelta | None = None,
        session_tz: str = "America/New_York",
        hold_until_subscribed: bool = False,
        rules: VenueRules = ALPACA_PAPER,
        assets: Mapping[str, Asset] | None = None,
        updated_bars: float = 0.05,
        data_connections: int = 1,
        max_bars_page: int = MAX_LIMIT,
        history: Sequence[Bar] = (),
        lockstep: LockStep | None = None,
    ) -> None:
        if not allow_remote and not _is_loopback(host):
            raise ValueError(
                f"refusing to serve on non-loopback host {host!r} without allow_remote=True"
            )
        if not speed > 0:
            raise ValueError("speed must be positive")
        if not 0.0 <= updated_bars <= 1.0:
            raise ValueError(f"updated_bars must be a share in [0, 1], not {updated_bars}")
        if not 1 <= max_bars_page <= MAX_LIMIT:
            raise ValueError(f"max_bars_page must be 1 to {MAX_LIMIT}, not {max_bars_page}")
        self._bars = sorted(bars, key=bar_start)
        self.host = host
        self._requested_port = port
        self._speed = speed
        self._start = start
        self._interval = bar_interval or smallest_interval(self._bars)
        self._tz = ZoneInfo(session_tz)
        self._hold = hold_until_subscribed
        self._audience: asyncio.Event | None = None
        self._keys = {key_id: secret_key}
        self._rate = (rate_limit, rate_window)
        self.rules = rules
        self._dice = FaultDice(faults or SimFaults(), seed, rules.partial_fill_rate)
        if assets is None and self._bars:
            assets = {s: _asset(s) for s in sorted({b.symbol for b in self._bars})}
        self.engine = MatchingEngine(
            cash=cash,
            margin_multiplier=margin,
            seed=seed,
            fill_ratio=self._dice.fill_ratio,
            rules=rules,
            assets=assets,
            zone=self._tz,
        )
        self._settle_at: datetime | None = None  # when the armed settle timer fires
        self.clock: Clock = ManualClock(start or SystemClock().now())
        self.finished = threading.Event()
        self.refusals: collections.Counter[str] = collections.Counter()  # by error, as answered
        self.foreign_orders: list[dict[str, Any]] = []  # JSON orders someone else placed (tests)
        self.port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._replay: asyncio.Task[None] | None = None
        self._sessions = threading.Condition()
        self._listening = self._subscribed = 0
        self._trading = TradingStreamHub(
            self._check_key, self._dice, self._on_listening, keys=len(self._keys)
        )
        self._data = DataStreamHub(
            self._check_key, self._on_subscribed, connection_limit=data_connections
        )
        # The historical API serves the bars replayed (once ended) and ``history`` (read only).
        self._history = BarHistory([*history, *self._bars], self._interval)
        self._late = late_prints(self._bars, updated_bars, self._interval, seed)
        for late in self._late.values():
            self._history.hold_back(late)
        self._max_page = max_bars_page
        self._calendar: SessionCalendar | None = None
        self._lockstep = lockstep
        if lockstep is not None:
            lockstep.count_sent(lambda: self._trading.sent)
        self._stepping = lockstep is not None  # until the data ends
        self._sent: set[MomentBar] = set()  # bars sent in the current moment (lock-step)

    # --- addresses and knobs ---------------------------------------------------------------

    @property
    def _netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def rest_url(self) -> str:
        """The REST base, without ``/v2`` (what ``TradingClient(url_override=...)`` takes)."""
        return f"http://{self._netloc}"

    @property
    def trading_stream_url(self) -> str:
        """The trade-updates WebSocket."""
        return f"ws://{self._netloc}/stream"

    @property
    def data_stream_url(self) -> str:
        """The bar WebSocket for the ``iex`` feed."""
        return f"ws://{self._netloc}/v2/iex"

    @property
    def data_rest_url(self) -> str:
        """The historical market-data base (Alpaca's ``data.alpaca.markets``): the same port."""
        return self.rest_url

    @property
    def data_window(self) -> tuple[datetime, datetime] | None:
        """The first bar's start and the last bar's end of the recorded data (None: no data)."""
        if not self._bars:
            return None
        return self._bars[0].start, self._bars[-1].start + self._interval

    def client_settings(self, reconnect: ReconnectPolicy | None = None) -> AlpacaSettings:
        """Settings for an Alpaca client of this exchange: its URLs and the key it accepts."""
        ((key_id, secret_key),) = self._keys.items()
        return AlpacaSettings(
            rest_url=self.rest_url,
            trading_stream_url=self.trading_stream_url,
            data_stream_url=self.data_stream_url,
            data_rest_url=self.data_rest_url,
            key_id=key_id,
            secret_key=secret_key,
            reconnect=reconnect or ReconnectPolicy(),
        )

    @property
    def lockstep(self) -> LockStep | None:
        """The lock-step channel its client acks moments on (None: the clock runs free)."""
        return self._lockstep

    @property
    def faults(self) -> SimFaults:
        """The fault knobs in force."""
        return self._dice.faults

    @faults.setter
    def faults(self, faults: SimFaults) -> None:
        self._dice.faults = faults  # one reference swap; read on the loop thread

    def _check_key(self, key: str, secret: str) -> bool:
        return key in self._keys and self._keys[key] == secret

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> SimExchange:
        """Serve on a thread of its own; returns once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("the exchange was started already")
        if self._bars and self._follows_the_calendar:
            # Built here, before the clock runs: on the loop it would stall every request for
            # the second exchange_calendars takes, while a replay's session time ran on.
            self._calendar = new_york_calendar()
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(ready, failure), name="tickstate-sim", daemon=True
        )
        self._thread.start()
        if not ready.wait(_WAIT):
            raise RuntimeError("the simulated exchange did not start in time")
        if failure:
            self._thread.join(_WAIT)
            self._thread = None
            raise failure[0]
        return self

    def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._open())
        except BaseException as exc:
            failure.append(exc)
            loop.close()
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _open(self) -> None:
        if self._bars:
            start = self._start or self._bars[0].start
            held = self._hold or self._lockstep is not None
            self.clock = VirtualClock(start, self._speed, held=held)
        app = web.Application()
        rest = SimRest(
            engine=self.engine,
            clock=self.clock,
            keys=self._keys,
            dice=self._dice,
            trading=self._trading,
            rate_limit=self._rate[0],
            rate_window=self._rate[1],
            on_pending=self._arm_settle,
            refusals=self.refusals,
            foreign_orders=self.foreign_orders,
        )
        rest.add_routes(app)
        market = SimMarket(
            history=self._history,
            clock=self.clock,
            calendar=self._session_calendar,
            max_page=self._max_page,
        )
        market.add_routes(app)
        app.router.add_get("/stream", self._trading.handle)
        app.router.add_get("/v2/{feed:" + "|".join(FEEDS) + "}", self._data.handle)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._audience = asyncio.Event()
        if self._bars:
            self._replay = asyncio.create_task(self._play(), name="sim-replay")

    def stop(self) -> None:
        """Close every connection and the server, and end the thread (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if loop.is_running():
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(_WAIT)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(_WAIT)
        self._thread = None

    async def _close(self) -> None:
        if self._replay is not None:
            self._replay.cancel()
        await self._trading.close_all()
        await self._data.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
        current = asyncio.current_task()
        left = [task for task in asyncio.all_tasks() if task is not current]
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)

    def __enter__(self) -> SimExchange:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- from other threads ----------------------------------------------------------------

    def call(self, function: Callable[[], T]) -> T:
        """Run ``function`` on the exchange's loop (where the engine lives); its result."""

        async def run() -> T:
            return function()

        return self._await(run())

    def _on_listening(self, count: int) -> None:
        with self._sessions:
            self._listening = count
            self._sessions.notify_all()

    def _on_subscribed(self, count: int) -> None:
        with self._sessions:
            self._subscribed = count
            self._sessions.notify_all()
        if count and self._audience is not None:
            self._audience.set()

    def wait_for_listeners(self, count: int = 1, timeout: float = _WAIT) -> bool:
        """Block until ``count`` trading-stream sessions listen (False on timeout)."""
        with self._sessions:
            return self._sessions.wait_for(lambda: self._listening >= count, timeout)

    def wait_for_subscribers(self, count: int = 1, timeout: float = _WAIT) -> bool:
        """Block until ``count`` bar-stream sessions are subscribed (False on timeout)."""
        with self._sessions:
            return self._sessions.wait_for(lambda: self._subscribed >= count, timeout)

    def orders(self) -> list[Order]:
        """Every order ever placed, oldest first."""
        return self.call(self.engine.all_orders)

    def feed_bar(self, bar: Bar) -> list[TradeUpdate]:
        """Close ``bar`` now: match, publish the fills, publish the bar; returns the fills."""
        return self._await(self._bar_closed(bar))

    def close_session(self) -> list[TradeUpdate]:
        """End the session day now: every DAY order expires; returns the expirations."""
        return self.call(self._expire)

    def drop_streams(self) -> None:
        """Close every stream socket from the exchange's side (a fault)."""
        self._await(self._drop())

    async def _drop(self) -> None:
        await self._trading.close_all()
        await self._data.close_all()

    def _await(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._loop
        if loop is None or not loop.is_running():
            raise RuntimeError("the exchange is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(_WAIT)

    # --- on the loop -----------------------------------------------------------------------

    @property
    def _follows_the_calendar(self) -> bool:
        """Whether sessions close by the XNYS calendar (the twin's; New York sessions only)."""
        return self._tz.key == NEW_YORK.key

    async def _session_calendar(self) -> SessionCalendar:
        """The calendar, built on first need off the loop (it takes about a second)."""
        if self._calendar is None:
            loop = asyncio.get_running_loop()
            self._calendar = await loop.run_in_executor(None, new_york_calendar)
        return self._calendar

    async def _play(self) -> None:
        clock = self.clock
        assert isinstance(clock, VirtualClock)
        lockstep = self._lockstep
        if self._hold:
            # No bar is published before a client subscribed: a fast replay would otherwise
            # send its first bars to nobody while the runner is still connecting; the clock
            # stood at its start meanwhile and runs from now (in lock-step it stays held and
            # is stepped from moment to moment).
            assert self._audience is not None
            await self._audience.wait()
            if lockstep is None:
                clock.reset()
        calendar = await self._session_calendar() if self._follows_the_calendar else None
        first = True
        events = self._timeline(calendar)
        for i, event in enumerate(events):
            bar = event.bar
            target = bar.start if event.kind is EventKind.BAR_ENDS and bar is not None else event.at
            if first and clock.now() < target - self._interval:
                clock.jump_to(target)  # nothing recorded before the first bar
            elif self._day(clock.now()) < self._day(target):
                clock.jump_to(target)  # no bars overnight or over a weekend: skip that time
            elif event.skip_to_close:
                clock.jump_to(event.at)  # the recording of this day ended before its close
            first = False
            await asyncio.sleep(clock.real_seconds_until(event.at))
            if lockstep is not None:
                clock.jump_to(event.at)  # a held clock shows each moment, never between
            if event.kind is EventKind.BAR_ENDS and bar is not None:
                await self._bar_closed(bar)
            elif event.kind is EventKind.PRINT_RETURNS and bar is not None:
                if not self.faults.is_quiet(bar.symbol, bar.start):
                    await self._publish_bar(bar, "updatedBars")
            elif event.kind is EventKind.STRAY_BAR and bar is not None:
                await self._publish_bar(bar)
            else:
                await self._session_closed(event.day, event.at)
            last_of_moment = i + 1 == len(events) or events[i + 1].at != event.at
            if lockstep is not None and last_of_moment:
                await self._step(lockstep, event.at)
        if lockstep is not None:  # the data ended: time runs on, what is due lands on time
            self._stepping = False
            clock.reset()
            self._arm_settle()
        self.finished.set()

    def _timeline(self, calendar: SessionCalendar | None) -> list[Event]:
        """Every bar's end, every late print's return, every day's close, in time order."""
        events: list[Event] = []
        last_end: dict[date, datetime] = {}
        for i, bar in enumerate(self._bars):
            end = bar.start + self._interval
            events.append(Event(at=end, kind=EventKind.BAR_ENDS, seq=i, bar=bar))
            late = self._late.get((bar.symbol, bar.start))
            if late is not None:
                events.append(Event(at=late.whole_at, kind=EventKind.PRINT_RETURNS, seq=i, bar=bar))
            day = self._day(bar.start)
            last_end[day] = max(last_end.get(day, end), end)
        for day, end in last_end.items():
            session = calendar.session(day) if calendar is not None else None
            if session is None:  # not a session of the calendar: the day ends with its data
                events.append(Event(at=end, kind=EventKind.DAY_CLOSES, day=day))
                continue
            closes = session.closes.astimezone(end.tzinfo)
            events.append(
                Event(at=closes, kind=EventKind.DAY_CLOSES, day=day, skip_to_close=end < closes)
            )
        for i, (at, stray) in enumerate(self.faults.stray_bars):
            events.append(Event(at=at, kind=EventKind.STRAY_BAR, seq=i, bar=stray))
        events.sort(key=lambda e: (e.at, e.kind.value, e.seq))
        return events

    def _day(self, when: datetime) -> date:
        return when.astimezone(self._tz).date()

    async def _bar_closed(self, bar: Bar) -> list[TradeUpdate]:
        end = bar.start + self._interval
        if isinstance(self.clock, ManualClock):
            self.clock.set(end)
            self._history.add(bar)
        now = self.clock.now()
        # The core trades the whole bar (every print happened); the stream shows it without its
        # late print until updatedBars sends it again. The bar, then the requests due by its
        # end: bar data cannot order them, and a request losing to a fill can hurt.
        calendar = self._calendar
        regular = calendar is None or calendar.is_open(bar.start)
        fills = self.engine.on_bar(bar, now, cutoff=bar.start, regular=regular)
        self._trading.publish(fills + self.engine.settle(now))
        self._arm_settle()
        late = self._late.get((bar.symbol, bar.start))
        if not self.faults.is_quiet(bar.symbol, bar.start):
            await self._publish_bar(late.first if late is not None else bar)
        return fills

    async def _publish_bar(self, bar: Bar, channel: str = "bars") -> None:
        if await self._data.publish(bar, channel):
            self._sent.add(MomentBar(channel=channel, symbol=bar.symbol, start=bar.start))

    async def _step(self, lockstep: LockStep, at: datetime) -> None:
        """The end of a moment in lock-step: what is due lands, the streams are flushed, and
        the client is told what was sent; wait for its ack (bounded)."""
        self._trading.publish(self.engine.settle(self.clock.now()))
        await self._trading.flush()
        sent, self._sent = frozenset(self._sent), set()
        await lockstep.step(at, self._trading.sent, sent)

    def _arm_settle(self) -> None:
        """Land the next cancel or replace when it is due (on a replay's clock; a manual clock
        lands them when it is moved)."""
        due = self.engine.next_due()
        clock, loop = self.clock, self._loop
        if due is None or not isinstance(clock, VirtualClock) or loop is None:
            return
        if self._stepping:
            return  # lock-step: requests land at the next moment, after its bars matched
        if self._settle_at is not None and self._settle_at <= due:
            return  # an earlier timer will land it, and arm the next
        self._settle_at = due
        loop.call_later(clock.real_seconds_until(due), self._settle_now)

    def _settle_now(self) -> None:
        self._settle_at = None
        self._trading.publish(self.engine.settle(self.clock.now()))
        self._arm_settle()

    async def _session_closed(self, day: date, at: datetime) -> None:
        """The session's end (``at``, its time even when the loop is a moment late): DAY orders
        expire, and its bar goes to ``dailyBars``."""
        self._expire(at)
        if not self._data.wants("dailyBars") or not self._follows_the_calendar:
            return
        session = (await self._session_calendar()).session(day)
        if session is None:
            return
        for symbol in self._history.symbols():
            bar = daily_bar(self._history, symbol, session, at)
            if bar is not None:
                await self._data.publish(bar, "dailyBars")

    def _expire(self, at: datetime | None = None) -> list[TradeUpdate]:
        expired = self.engine.expire_day_orders(at or self.clock.now())
        self._trading.publish(expired)
        return expired

    def land_requests(self) -> list[TradeUpdate]:
        """Move a manual clock past every cancel and replace on its way and land them (for an
        exchange without recorded bars, whose clock only moves when told); their updates."""
        return self.call(self._land_requests)

    def _land_requests(self) -> list[TradeUpdate]:
        due = self.engine.next_due()
        if due is None:
            return []
        if isinstance(self.clock, ManualClock):
            self.clock.set(due)
        landed = self.engine.settle(self.clock.now())
        self._trading.publish(landed)
        return landed


def _asset(symbol: str) -> Asset:
    """An easy-to-borrow US equity for a symbol the recorded data trades."""
    return Asset(symbol=symbol, id=MatchingEngine.asset_id(symbol))
