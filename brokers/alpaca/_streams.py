"""Alpaca's two WebSocket streams over ``websocket-client``, each on a named thread of its own.

One rule: a stream never dies of what it receives. Each ``WebSocketApp`` session runs until the
socket ends; then the thread waits a jittered exponential backoff (``ReconnectPolicy``) and
connects again: re-authenticates, re-listens / re-subscribes, and calls ``on_connect`` — after
the first connection and after every reconnection, so the runner can reconcile over REST what it
missed (the venue does not replay). A frame that cannot be read (one naming an unknown
trade-update event too) is logged (``frame_dropped``), counted and dropped; a handler that
raises is logged (``handler_failed``) and the stream goes on. Trade updates are deduplicated by
``(order id, kind, execution_id)`` in a bounded memory that survives reconnects. Only a refused
key ends the stream for good (``stream_auth_failed``).

Handlers run on the stream's thread: hand updates to a queue, never block on REST there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
import websocket

from brokers._exceptions import VenueError
from brokers._protocol import BarHandler, ConnectHandler, TradeUpdateHandler
from brokers._types import TradeUpdate, UpdateKind
from brokers.alpaca._settings import AlpacaSettings, jittered_backoff
from brokers.alpaca._wire_streams import bar_from_json, trade_update_from_json

__all__ = [
    "AlpacaBarStream",
    "AlpacaTradeStream",
    "StreamCounters",
    "WebSocketFactory",
]

_log = structlog.get_logger("tickstate.brokers.alpaca_stream")

#: Builds the ``WebSocketApp`` of one session: ``factory(url, on_open=..., on_message=...,
#: on_error=..., on_close=...)``. ``websocket.WebSocketApp`` itself by default; tests wrap it.
WebSocketFactory = Callable[..., websocket.WebSocketApp]
DedupKey = tuple[str, UpdateKind, str | None]
#: Market-data errors a reconnect cannot cure: auth failed, insufficient subscription. (406,
#: "connection limit exceeded", is cured once the other connection of the key goes away.)
_FATAL_DATA_ERRORS = (402, 409)
#: The market-data messages that carry a bar besides ``b``, and their channels.
_OTHER_BARS = {"u": "updatedBars", "d": "dailyBars"}


@dataclass(frozen=True, slots=True)
class StreamCounters:
    """What a stream has been through, for logs and metrics."""

    connects: int = 0
    reconnects: int = 0
    disconnects: int = 0
    delivered: int = 0
    duplicates: int = 0
    dropped_frames: int = 0
    handler_errors: int = 0


class _Dedup:
    """Keys seen lately, at most ``capacity`` of them (the oldest are forgotten first)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[DedupKey, None] = OrderedDict()

    def first_time(self, key: DedupKey) -> bool:
        """True the first time ``key`` is offered (within memory), False for a repeat."""
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._seen)


class _Stream:
    """The reconnect loop and the frame plumbing shared by both streams.

    Only the stream's own thread writes the counters and the session state; ``stop()`` reads
    the current app (one reference) and closes it from the caller's thread.
    """

    _thread_name = "tickstate-stream"

    def __init__(
        self,
        url: str,
        settings: AlpacaSettings,
        ws_factory: WebSocketFactory,
        rng: random.Random | None,
    ) -> None:
        self._url = url
        self._settings = settings
        self._policy = settings.reconnect
        self._factory = ws_factory
        self._rng = rng or random.Random()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._app: websocket.WebSocketApp | None = None
        self._on_connect: ConnectHandler = _nothing
        self._ready = False  # this session finished its handshake
        self._fatal = False
        self._log = _log.bind(stream=self._thread_name, url=url)
        self._connects = self._disconnects = self._delivered = 0
        self._duplicates = self._dropped = self._handler_errors = 0

    # --- life ------------------------------------------------------------------------------

    @property
    def counters(self) -> StreamCounters:
        """A snapshot of the counters."""
        return StreamCounters(
            connects=self._connects,
            reconnects=max(0, self._connects - 1),
            disconnects=self._disconnects,
            delivered=self._delivered,
            duplicates=self._duplicates,
            dropped_frames=self._dropped,
            handler_errors=self._handler_errors,
        )

    @property
    def is_alive(self) -> bool:
        """Whether the stream's thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def _begin(self, on_connect: ConnectHandler) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self._thread_name} was started already")
        self._on_connect = on_connect
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the socket and end the thread, waiting at most ``stop_timeout``."""
        self._stopping.set()
        app = self._app
        if app is not None:
            _interrupt(app)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._policy.stop_timeout)
            if thread.is_alive():
                self._log.warning("stream_stop_timeout", timeout=self._policy.stop_timeout)

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            self._ready = False
            try:
                self._session()
            except Exception as exc:  # a failing factory or socket must not end the thread
                self._log.warning("stream_session_failed", error=type(exc).__name__)
            finally:
                self._app = None
            if self._ready:
                self._disconnects += 1
                attempt = 0
            if self._stopping.is_set() or self._fatal:
                break
            delay = jittered_backoff(
                attempt, self._policy.initial_backoff, self._policy.max_backoff, self._rng
            )
            attempt += 1
            # Not asked to stop: the socket went away under us, an anomaly worth a warning.
            self._log.warning("stream_disconnected", attempt=attempt, delay=round(delay, 4))
            if self._stopping.wait(delay):
                break
        self._log.info("stream_stopped", **_as_fields(self.counters))

    def _session(self) -> None:
        """One WebSocket session, from connecting until the socket ends."""
        app = self._factory(
            self._url,
            on_open=self._opened,
            on_message=self._received,
            on_error=self._errored,
            on_close=self._closed,
        )
        self._app = app
        if self._stopping.is_set():
            return
        pinging = self._policy.ping_interval > 0
        app.run_forever(
            ping_interval=self._policy.ping_interval,
            ping_timeout=self._policy.ping_timeout if pinging else None,
            reconnect=0,
        )

    # --- websocket-client callbacks (on the stream's thread) -------------------------------

    def _opened(self, app: websocket.WebSocketApp) -> None:
        if self._stopping.is_set():
            app.close(timeout=self._policy.close_timeout)
            return
        self._on_open(app)

    def _errored(self, app: websocket.WebSocketApp, error: Any) -> None:
        # While stopping, an error is the socket being closed; otherwise it is the venue's.
        level = "info" if self._stopping.is_set() else "warning"
        getattr(self._log, level)("stream_error", error=type(error).__name__)

    def _closed(self, app: websocket.WebSocketApp, code: Any, reason: Any) -> None:
        level = "info" if self._stopping.is_set() else "warning"
        getattr(self._log, level)("stream_closed", code=code)

    def _received(self, app: websocket.WebSocketApp, frame: str | bytes) -> None:
        """One text or binary frame: decode it, then let the stream handle the message."""
        try:
            text = frame.decode("utf-8") if isinstance(frame, bytes) else frame
            message = json.loads(text)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            self._drop("not JSON", exc, frame)
            return
        try:
            self._on_message(app, message)
        except VenueError as exc:
            self._drop(exc.message, exc, frame)
        except Exception as exc:  # never fatal: a frame we cannot handle is dropped
            self._drop("unreadable", exc, frame)

    def _drop(self, reason: str, exc: BaseException, frame: str | bytes) -> None:
        self._dropped += 1
        self._log.warning("frame_dropped", reason=reason, error=type(exc).__name__, size=len(frame))

    def _send(self, app: websocket.WebSocketApp, message: dict[str, Any]) -> None:
        app.send(json.dumps(message, separators=(",", ":")))

    def _connected(self) -> None:
        """The handshake is done: count it, log it, tell the owner."""
        self._ready = True
        self._connects += 1
        event = "stream_connected" if self._connects == 1 else "stream_reconnected"
        self._log.info(event, connects=self._connects)
        self._call(self._on_connect)

    def _refused(self, app: websocket.WebSocketApp, detail: str) -> None:
        """The venue refused the keys: retrying cannot help, so the stream ends."""
        self._fatal = True
        self._log.error("stream_auth_failed", detail=detail)
        app.close(timeout=self._policy.close_timeout)

    def _call(self, handler: Callable[..., None], *args: Any) -> bool:
        try:
            handler(*args)
        except Exception:
            self._handler_errors += 1
            self._log.exception("handler_failed", handler=getattr(handler, "__name__", "?"))
            return False
        return True

    # --- per stream ------------------------------------------------------------------------

    def _on_open(self, app: websocket.WebSocketApp) -> None:
        raise NotImplementedError

    def _on_message(self, app: websocket.WebSocketApp, message: Any) -> None:
        raise NotImplementedError


class AlpacaTradeStream(_Stream):
    """The ``trade_updates`` stream (``TradeUpdateStream``), deduplicated, on its own thread.

    ``ws_factory`` builds each session's ``WebSocketApp`` (the WebSocket seam); ``rng`` draws
    the reconnect jitter.
    """

    _thread_name = "tickstate-trade-stream"

    def __init__(
        self,
        settings: AlpacaSettings,
        ws_factory: WebSocketFactory = websocket.WebSocketApp,
        *,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(settings.trading_stream_url, settings, ws_factory, rng)
        self._on_update: TradeUpdateHandler = _ignore_update
        self._dedup = _Dedup(settings.reconnect.dedup_capacity)

    def start(self, on_update: TradeUpdateHandler, on_connect: ConnectHandler) -> None:
        """Connect on the stream's thread and deliver every update once."""
        self._on_update = on_update
        self._begin(on_connect)

    def _on_open(self, app: websocket.WebSocketApp) -> None:
        data = {"key_id": self._settings.key_id, "secret_key": self._settings.secret_key}
        self._send(app, {"action": "authenticate", "data": data})

    def _on_message(self, app: websocket.WebSocketApp, message: Any) -> None:
        if not isinstance(message, dict):
            raise VenueError("a trading-stream message must be a JSON object")
        stream = message.get("stream")
        data = message.get("data")
        if stream == "trade_updates":
            self._update(trade_update_from_json(message))
        elif stream == "authorization" and isinstance(data, dict):
            if data.get("status") == "authorized":
                self._send(app, {"action": "listen", "data": {"streams": ["trade_updates"]}})
            else:
                self._refused(app, f"authorization {data.get('status')!r}")
        elif stream == "listening" and isinstance(data, dict):
            streams = data.get("streams")
            if isinstance(streams, list) and "trade_updates" in streams:
                self._connected()
            else:
                self._log.warning("stream_listen_refused", error=str(data.get("error", "")))
                app.close(timeout=self._policy.close_timeout)
        else:
            raise VenueError(f"unexpected trading-stream message {stream!r}")

    def _update(self, update: TradeUpdate) -> None:
        if not self._dedup.first_time((update.order.id, update.kind, update.execution_id)):
            self._duplicates += 1
            self._log.debug(
                "duplicate_dropped",
                kind=update.kind.value,
                order_id=update.order.id,
                client_order_id=update.order.client_order_id,
            )
            return
        self._delivered += 1
        self._call(self._on_update, update)


class AlpacaBarStream(_Stream):
    """The market-data bar stream (``BarStream``) in JSON text frames, on its own thread.

    It subscribes to ``bars`` only, unless asked for more: ``on_updated_bar`` subscribes to
    ``updatedBars`` (a bar sent again after a late print) and ``on_daily_bar`` to ``dailyBars``;
    each gets those bars, on the stream's thread like ``on_bar``.
    """

    _thread_name = "tickstate-bar-stream"

    def __init__(
        self,
        settings: AlpacaSettings,
        ws_factory: WebSocketFactory = websocket.WebSocketApp,
        *,
        rng: random.Random | None = None,
        on_updated_bar: BarHandler | None = None,
        on_daily_bar: BarHandler | None = None,
    ) -> None:
        super().__init__(settings.data_stream_url, settings, ws_factory, rng)
        self._symbols: list[str] = []
        self._on_bar: BarHandler = _ignore_bar
        self._also = {
            channel: handler
            for channel, handler in (("updatedBars", on_updated_bar), ("dailyBars", on_daily_bar))
            if handler is not None
        }

    def start(self, symbols: Sequence[str], on_bar: BarHandler, on_connect: ConnectHandler) -> None:
        """Connect on the stream's thread, subscribe to ``symbols``' bars, and deliver them."""
        if not symbols:
            raise ValueError("a bar stream needs at least one symbol")
        self._symbols = list(symbols)
        self._on_bar = on_bar
        self._begin(on_connect)

    def _on_open(self, app: websocket.WebSocketApp) -> None:
        """The venue speaks first (``connected``); nothing to send yet."""

    def _on_message(self, app: websocket.WebSocketApp, message: Any) -> None:
        if not isinstance(message, list):
            raise VenueError("a market-data message must be a JSON array")
        for item in message:
            try:
                self._item(app, item)
            except VenueError as exc:
                self._drop(exc.message, exc, json.dumps(item, default=str))

    def _item(self, app: websocket.WebSocketApp, item: Any) -> None:
        kind = item.get("T") if isinstance(item, dict) else None
        if kind == "b":
            self._delivered += 1
            self._call(self._on_bar, bar_from_json(item))
        elif kind in _OTHER_BARS and _OTHER_BARS[kind] in self._also:
            self._delivered += 1
            self._call(self._also[_OTHER_BARS[kind]], bar_from_json(item))
        elif kind == "success" and item.get("msg") == "connected":
            key, secret = self._settings.key_id, self._settings.secret_key
            self._send(app, {"action": "auth", "key": key, "secret": secret})
        elif kind == "success" and item.get("msg") == "authenticated":
            channels = {name: self._symbols for name in ("bars", *self._also)}
            self._send(app, {"action": "subscribe", **channels})
        elif kind == "subscription":
            self._connected()
        elif kind == "error":
            code = item.get("code")
            if code in _FATAL_DATA_ERRORS:
                self._refused(app, f"error {code}: {item.get('msg')!r}")
            else:
                self._log.warning("stream_venue_error", code=code, msg=str(item.get("msg")))
        else:
            raise VenueError(f"unexpected market-data message {kind!r}")


def _interrupt(app: websocket.WebSocketApp) -> None:
    """End a session from another thread at once: say goodbye, then shut the socket down.

    ``WebSocketApp.close`` from another thread would wait for the peer's close frame while the
    session's thread waits in ``select`` on a socket that no longer wakes it (until the ping
    timeout); shutting the socket down wakes it now, and ``keep_running`` tells it to end.
    """
    app.keep_running = False
    ws = app.sock
    if ws is None:
        return
    with contextlib.suppress(Exception):
        ws.send_close()
    raw = ws.sock
    if raw is not None:
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)


def _nothing() -> None:
    """The default ``on_connect``."""


def _ignore_update(update: TradeUpdate) -> None:
    """The default trade-update handler (replaced by ``start``)."""


def _ignore_bar(bar: Any) -> None:
    """The default bar handler (replaced by ``start``)."""


def _as_fields(counters: StreamCounters) -> dict[str, int]:
    return dataclasses.asdict(counters)
