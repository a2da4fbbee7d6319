"""Lifecycle outcomes become structured log lines with stable names, the thread id and no secrets."""

import io
import json
import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import structlog

from machines import (
    EntryLeg,
    EntrySignalled,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    Side,
    State,
    SymbolMachine,
)
from strategies import configure_logging, log_outcome

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ENTRY_ID = "s8020-AAPL-20261123-1-buy"


def _json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _filled_long() -> SymbolMachine:
    machine = SymbolMachine(strategy="s8020", symbol="AAPL", trading_date=date(2026, 11, 23))
    leg = EntryLeg(side=Side.BUY, entry_price=Decimal("101.00"), initial_stop=Decimal("99.00"))
    log_outcome(machine.fire(EntrySignalled(at=AT, qty=Decimal(100), legs=(leg,))))
    log_outcome(machine.fire(OrderAccepted(client_order_id=ENTRY_ID, at=AT)))
    log_outcome(
        machine.fire(
            OrderFilled(
                client_order_id=ENTRY_ID,
                at=AT,
                filled_qty=Decimal(100),
                avg_fill_price=Decimal("101"),
            )
        )
    )
    return machine


class TestRaceLogging:
    def test_cancel_ack_after_fill_logs_race_detected_with_thread_id(self):
        """A cancel ack after the fill leaves in_position untouched and logs race_detected + tid."""
        stream = io.StringIO()
        configure_logging(renderer="json", stream=stream)
        machine = _filled_long()
        before = machine.snapshot()
        seen: dict[str, object] = {}

        def deliver_late_cancel() -> None:
            seen["tid"] = threading.get_ident()
            outcome = machine.fire(
                OrderCancelled(
                    client_order_id=ENTRY_ID,
                    at=AT,
                    filled_qty=Decimal(100),
                    avg_fill_price=Decimal("101"),
                )
            )
            log_outcome(outcome)  # in the thread that fired, as the engine's observer does
            seen["outcome"] = outcome

        stream_thread = threading.Thread(target=deliver_late_cancel, name="trade-updates")
        stream_thread.start()
        stream_thread.join(timeout=10)
        assert not stream_thread.is_alive()

        assert machine.state == State.IN_POSITION
        after = machine.snapshot()
        assert (after.position, after.working_orders, after.stop_price) == (
            before.position,
            before.working_orders,
            before.stop_price,
        )
        races = [line for line in _json_lines(stream) if line["event"] == "race_detected"]
        assert len(races) == 1
        race = races[0]
        assert race["tid"] == seen["tid"] != threading.get_ident()
        assert race["thread"] == "trade-updates"
        assert race["symbol"] == "AAPL"
        assert race["state"] == race["state_from"] == race["state_to"] == State.IN_POSITION
        assert race["client_order_id"] == ENTRY_ID
        assert race["reason"] == "stale_order_event"
        assert race["level"] == "warning"
        assert machine.counters().races == 1

    def test_every_line_names_symbol_state_trigger_and_thread(self):
        """transition lines carry symbol, strategy, state_from/to, trigger, tid and thread."""
        stream = io.StringIO()
        configure_logging(renderer="json", stream=stream)
        _filled_long()
        lines = _json_lines(stream)
        assert [line["event"] for line in lines] == ["transition"] * 3
        for line in lines:
            for field in (
                "symbol",
                "strategy",
                "state",
                "state_from",
                "state_to",
                "trigger",
                "tid",
                "thread",
                "timestamp",
            ):
                assert field in line, (field, line)
        assert lines[-1]["commands"] == ["PlaceStop:s8020-AAPL-20261123-1-stop"]


class TestLoggingConfiguration:
    def test_secret_fields_are_masked(self):
        """A field named like a secret is never written in clear."""
        stream = io.StringIO()
        configure_logging(renderer="json", stream=stream)
        structlog.get_logger().info("connected", api_secret_key="S3CR3T", key_id="AK123")
        line = _json_lines(stream)[0]
        assert line["api_secret_key"] == line["key_id"] == "***"
        assert "S3CR3T" not in stream.getvalue()

    def test_console_renderer_writes_readable_lines(self):
        """The console renderer writes one human line with the event name and fields."""
        stream = io.StringIO()
        configure_logging(renderer="console", stream=stream)
        structlog.get_logger().warning("race_detected", symbol="AAPL")
        text = stream.getvalue()
        assert "race_detected" in text
        assert "symbol=AAPL" in text
        assert "\x1b[" not in text  # no colours off a TTY

    def test_transitions_library_logger_is_quiet(self):
        """The transitions library logs nothing below WARNING once configured."""
        import logging

        configure_logging(renderer="json", stream=io.StringIO())
        assert logging.getLogger("transitions").getEffectiveLevel() >= logging.WARNING
