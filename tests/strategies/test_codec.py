"""The journal codec: every machine event, command and snapshot survives JSON exactly."""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

import machines as m
from machines import EntryLeg, OrderRole, Side
from strategies._exceptions import CodecError, JournalError
from strategies.journal._codec import (
    COMMAND_TYPES,
    EVENT_TYPES,
    decode_command,
    decode_event,
    decode_snapshot,
    encode_command,
    encode_event,
    encode_snapshot,
)

D = Decimal
NY = ZoneInfo("America/New_York")
AT = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=NY)
IST = datetime(2026, 11, 23, 9, 15, tzinfo=timezone(timedelta(hours=5, minutes=30)))
BUY = EntryLeg(side=Side.BUY, entry_price=D("101.00"), initial_stop=D("98.99"))
SELL = EntryLeg(side=Side.SELL, entry_price=D("99.00"), initial_stop=D("101.01"))
CID = "orb-AAPL-20261123-1-buy"

#: One example per type, every field set away from its default.
EVENTS: dict[str, m.Event] = {
    "EntrySignalled": m.EntrySignalled(at=AT, qty=D("10"), legs=(BUY, SELL), mark=D("100.20")),
    "PriceMoved": m.PriceMoved(at=AT, price=D("99.40")),
    "InitialStopRevised": m.InitialStopRevised(at=IST, side=Side.SELL, stop_price=D("101.05")),
    "TrailProposed": m.TrailProposed(at=AT, stop_price=D("99.50")),
    "ExitSignalled": m.ExitSignalled(at=AT, reason="target"),
    "SquareOffReached": m.SquareOffReached(at=datetime(2026, 11, 23, 20, 15, tzinfo=UTC)),
    "DayRolledOver": m.DayRolledOver(trading_date=date(2026, 11, 24)),
    "HaltRequested": m.HaltRequested(at=AT, reason="kill_switch", flatten=True),
    "ResumeRequested": m.ResumeRequested(at=AT),
    "EntryTimedOut": m.EntryTimedOut(at=AT, attempt=2),
    "BrokerSnapshotTaken": m.BrokerSnapshotTaken(
        at=AT, position_qty=D("-25"), open_orders=("orb-AAPL-20261123-1-stop", "manual-7")
    ),
    "OrderAccepted": m.OrderAccepted(client_order_id=CID, at=AT),
    "OrderRejected": m.OrderRejected(
        client_order_id=CID, at=AT, reason="insufficient buying power"
    ),
    "OrderFilled": m.OrderFilled(
        client_order_id=CID, at=AT, filled_qty=D("4"), avg_fill_price=D("101.0100"), done=True
    ),
    "OrderCancelled": m.OrderCancelled(
        client_order_id=CID, at=AT, filled_qty=D("3"), avg_fill_price=D("101.00")
    ),
    "OrderExpired": m.OrderExpired(
        client_order_id=CID, at=IST, filled_qty=D("1"), avg_fill_price=D("100.95")
    ),
    "OrderReplaced": m.OrderReplaced(
        client_order_id="orb-AAPL-20261123-1-stop",
        new_client_order_id="orb-AAPL-20261123-1-stop-r1",
        at=AT,
    ),
}
COMMANDS: dict[str, m.Command] = {
    "PlaceEntry": m.PlaceEntry(
        client_order_id=CID, symbol="AAPL", side=Side.SELL, qty=D("10"), stop_price=D("99.00")
    ),
    "PlaceStop": m.PlaceStop(
        client_order_id="orb-AAPL-20261123-1-stop",
        symbol="AAPL",
        side=Side.SELL,
        qty=D("10"),
        stop_price=D("98.99"),
    ),
    "ReplaceStop": m.ReplaceStop(
        client_order_id="orb-AAPL-20261123-1-stop",
        new_client_order_id="orb-AAPL-20261123-1-stop-r1",
        symbol="AAPL",
        qty=D("10"),
        stop_price=D("99.50"),
    ),
    "CancelOrder": m.CancelOrder(client_order_id=CID, symbol="AAPL"),
    "ClosePosition": m.ClosePosition(
        client_order_id="orb-AAPL-20261123-1-exit", symbol="AAPL", side=Side.BUY, qty=D("7")
    ),
}


def _message_classes_in_machines() -> set[type]:
    """Every public dataclass of ``machines`` that is an event (has a trigger or a kind)."""
    found = set()
    for name in m.__all__:
        obj = getattr(m, name)
        # a class-level str (a ClassVar), not a slotted field like Outcome.trigger
        tagged = isinstance(getattr(obj, "trigger", None), str) or isinstance(
            getattr(obj, "kind", None), str
        )
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and tagged:
            found.add(obj)
    return found


def _same(a: object, b: object) -> bool:
    """Equal and identical in repr: Decimal exponents and time zones survive too."""
    return a == b and type(a) is type(b) and repr(a) == repr(b)


class TestCoverage:
    def test_every_event_type_of_machines_has_a_codec_entry(self):
        """A new event in machines fails here until the codec registers it."""
        union = set(typing.get_args(m.Event))
        assert union | _message_classes_in_machines() <= set(EVENT_TYPES.values())
        assert set(EVENT_TYPES.values()) == union

    def test_every_command_type_of_machines_has_a_codec_entry(self):
        """A new command in the Command union fails here until the codec registers it."""
        assert set(COMMAND_TYPES.values()) == set(typing.get_args(m.Command))

    def test_every_registered_type_has_an_example_with_every_field_set(self):
        """The round-trip examples cover each type, and no field is left at its default."""
        assert set(EVENTS) == set(EVENT_TYPES)
        assert set(COMMANDS) == set(COMMAND_TYPES)
        for example in (*EVENTS.values(), *COMMANDS.values()):
            for f in dataclasses.fields(example):
                if f.default is not dataclasses.MISSING:
                    assert getattr(example, f.name) != f.default, (type(example), f.name)

    def test_registered_names_are_the_class_names(self):
        """A type is journaled under its class name (the wire contract)."""
        for name, cls in {**EVENT_TYPES, **COMMAND_TYPES}.items():
            assert cls.__name__ == name


class TestRoundTrip:
    @pytest.mark.parametrize("name", sorted(EVENTS))
    def test_event_round_trips_through_json_text(self, name):
        """encode → json text → decode gives back the same event, field for field."""
        event = EVENTS[name]
        encoded = encode_event(event)
        assert encoded["type"] == name
        back = decode_event(json.loads(json.dumps(encoded)))
        assert _same(back, event)
        for f in dataclasses.fields(event):
            assert _same(getattr(back, f.name), getattr(event, f.name))

    @pytest.mark.parametrize("name", sorted(COMMANDS))
    def test_command_round_trips_through_json_text(self, name):
        """encode → json text → decode gives back the same command."""
        command = COMMANDS[name]
        encoded = encode_command(command)
        assert encoded["type"] == name
        assert _same(decode_command(json.loads(json.dumps(encoded))), command)

    def test_wire_shapes_are_plain_json(self):
        """Decimals are strings, times ISO with offset (and zone), enums by value, legs nested."""
        encoded = encode_event(EVENTS["EntrySignalled"])
        assert encoded == {
            "type": "EntrySignalled",
            "at": "2026-11-23T10:00:00.123456-05:00[America/New_York]",
            "qty": "10",
            "legs": [
                {"side": "buy", "entry_price": "101.00", "initial_stop": "98.99"},
                {"side": "sell", "entry_price": "99.00", "initial_stop": "101.01"},
            ],
            "mark": "100.20",
        }
        assert encode_event(EVENTS["DayRolledOver"])["trading_date"] == "2026-11-24"
        assert encode_event(EVENTS["InitialStopRevised"])["at"] == "2026-11-23T09:15:00+05:30"

    def test_a_position_only_snapshot_of_an_older_journal_still_reads(self):
        """A ``BrokerSnapshotTaken`` journaled before open orders were reported has none."""
        old = {"type": "BrokerSnapshotTaken", "at": "2026-11-23T15:00:00+00:00", "position_qty": "5"}
        assert decode_event(old) == m.BrokerSnapshotTaken(
            at=datetime(2026, 11, 23, 15, tzinfo=UTC), position_qty=D("5")
        )

    def test_a_snapshot_journaled_before_alarms_reads_without_one(self):
        """A ``Snapshot`` journaled before ``alarm`` existed decodes with no alarm."""
        machine = m.SymbolMachine(strategy="orb", symbol="AAPL", trading_date=date(2026, 11, 23))
        encoded = encode_snapshot(machine.snapshot())
        del encoded["alarm"]
        assert decode_snapshot(json.loads(json.dumps(encoded))).alarm is None

    def test_snapshot_with_working_orders_round_trips(self):
        """A real machine's snapshot (nested OrderTracks, enums, None) decodes to an equal one."""
        machine = m.SymbolMachine(strategy="orb", symbol="AAPL", trading_date=date(2026, 11, 23))
        machine.fire(EVENTS["EntrySignalled"])
        snapshot = machine.snapshot()
        assert snapshot.working_orders
        encoded = encode_snapshot(snapshot)
        assert encoded["working_orders"][0]["role"] == OrderRole.ENTRY.value
        assert _same(decode_snapshot(json.loads(json.dumps(encoded))), snapshot)

    @given(
        qty=st.decimals(min_value=D("0.000001"), max_value=D("1e9"), allow_nan=False, places=6),
        price=st.decimals(min_value=D("0.0001"), allow_nan=False, allow_infinity=False),
        when=st.datetimes(timezones=st.timezones()),
    )
    def test_any_decimal_and_aware_time_round_trips(self, qty, price, when):
        """Arbitrary decimals (exponent kept) and times in any zone, even imaginary ones."""
        event = m.OrderFilled(client_order_id=CID, at=when, filled_qty=qty, avg_fill_price=price)
        back = decode_event(json.loads(json.dumps(encode_event(event))))
        assert _same(back.filled_qty, qty)
        assert _same(back.avg_fill_price, price)
        assert back.at == when
        assert back.at.tzinfo == when.tzinfo
        assert (back.at.replace(tzinfo=None), back.at.utcoffset()) == (
            when.replace(tzinfo=None),
            when.utcoffset(),
        )


class TestErrors:
    def test_unknown_event_type_is_named(self):
        """An event type the codec does not know: CodecError naming it."""
        with pytest.raises(CodecError, match="unknown event type 'StopLossMoved'"):
            decode_event({"type": "StopLossMoved", "at": "2026-11-23T10:00:00+00:00"})

    def test_unknown_command_type_is_named(self):
        """A command type the codec does not know: CodecError naming it."""
        with pytest.raises(CodecError, match="unknown command type 'SubmitBracket'"):
            decode_command({"type": "SubmitBracket"})

    def test_codec_errors_are_journal_errors(self):
        """A bad record in a journal is a JournalError, one line."""
        assert issubclass(CodecError, JournalError)

    def test_missing_type_unknown_field_and_wrong_json_types_are_refused(self):
        """Strict decoding: each problem names the type and field."""
        good = encode_event(EVENTS["OrderFilled"])
        with pytest.raises(CodecError, match="unknown event type None"):
            decode_event({k: v for k, v in good.items() if k != "type"})
        with pytest.raises(CodecError, match="unknown field 'venue' for OrderFilled"):
            decode_event({**good, "venue": "IEX"})
        with pytest.raises(CodecError, match=r"OrderFilled\.filled_qty: expected a JSON str"):
            decode_event({**good, "filled_qty": 4.0})
        with pytest.raises(CodecError, match=r"OrderFilled\.at: a datetime needs its UTC offset"):
            decode_event({**good, "at": "2026-11-23T10:00:00"})
        with pytest.raises(CodecError, match=r"EntryTimedOut\.attempt: expected a JSON int"):
            decode_event({**encode_event(EVENTS["EntryTimedOut"]), "attempt": True})
        with pytest.raises(CodecError, match="is not a Side"):
            decode_command({**encode_command(COMMANDS["PlaceEntry"]), "side": "short"})
        with pytest.raises(CodecError, match="must be a JSON object"):
            decode_event([good])

    def test_an_invalid_message_cannot_be_decoded_into_existence(self):
        """The message's own validation runs: a long's stop above its entry is refused."""
        encoded = encode_event(EVENTS["EntrySignalled"])
        encoded["legs"][0]["initial_stop"] = "102.00"
        with pytest.raises(CodecError, match="not a valid EntryLeg"):
            decode_event(encoded)

    def test_encoding_an_unregistered_object_is_refused(self):
        """Only registered message types are encoded."""
        with pytest.raises(CodecError, match="does not know the event type 'EntryLeg'"):
            encode_event(BUY)  # type: ignore[arg-type]
