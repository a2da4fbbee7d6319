"""Strategy files: the examples load, defaults are strategies.md's, each mistake is one exact line."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from machines import NSE_TICKS, FixedTick
from strategies._exceptions import SpecError
from strategies.signals._eighty_twenty import EightyTwentyParams
from strategies.signals._opening_range import OpeningRangeParams
from strategies.spec import load_strategy, validate_strategy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BAD = Path(__file__).parent / "specs" / "bad"

# Every malformed file and the exact line after "{file}: ".
EXPECTED = {
    "broker_kind_unknown": 'broker.kind: must be one of "sim", "alpaca", got "ibkr"',
    "broker_secret_in_file": "broker.secret_key: unknown key; credentials never go in a strategy "
    "file (set them in the environment)",
    "client_order_id_too_long": "instruments[1].symbol: client order ids for "
    "'eighty_twenty_daily'/'BRK.B_TEST' would reach 52 characters (limit 48): "
    "shorten the strategy name",
    "daily_loss_limit_not_money": 'daily_loss_limit: must be a decimal number such as "0.05", '
    'got "five hundred"',
    "daily_loss_limit_zero": "daily_loss_limit: must be > 0, got 0",
    "duplicate_symbol": "instruments[1].symbol: AAPL is already instruments[0]",
    "entry_before_open": "entry_window.start: must not be before the open 09:30",
    "fractional_trigger_ticks": "signal.trigger_ticks: must be an integer, got 10.5",
    "max_attempts_zero": "max_attempts: must be >= 1, got 0",
    "missing_signal": "signal: is required",
    "misspelled_parameter": 'signal.trigger_tick: unknown key; did you mean "trigger_ticks"?',
    "name_with_dash": "name: must be letters, digits or _ (it starts every client order id), "
    'got "s80-20"',
    "negative_tick": 'instruments[0].tick: must be a positive decimal such as "0.01", or "nse" '
    "for the NSE price bands, got -0.01",
    "no_instruments": "instruments: must have at least 1 entry",
    "orb_range_not_whole_bars": "signal.or_minutes: must be a multiple of bar_minutes (5), got 17",
    "orb_target_zero": "signal.target_r: must be > 0, got 0",
    "risk_not_money": 'sizing.risk_per_trade: must be a decimal number such as "0.05", got "a lot"',
    "sizing_both": "sizing: set exactly one of fixed_qty or risk_per_trade",
    "square_off_after_close": "square_off: must be before the close 16:00",
    "square_off_before_cutoff": "square_off: must be after the entry cutoff 14:30",
    "stream_url_not_websocket": "broker.trading_stream_url: must start with ws:// or wss://, "
    'got "https://paper-api.alpaca.markets/stream"',
    "tick_not_a_number": 'instruments[1].tick: must be a positive decimal such as "0.01", or "nse" '
    'for the NSE price bands, got "0.0.1"',
    "time_without_leading_zero": 'session.open: must be a time of day "HH:MM", got "9:30"',
    "timezone_not_the_calendars": "session.timezone: XNYS trades in America/New_York, "
    'got "Europe/London"',
    "toml_syntax_error": "line 4, column 16: invalid TOML: expected newline or end of document "
    "after a statement",
    "trail_on_not_an_option": 'signal.trail_on: must be "completed_bar" or "green_bars", '
    'got "every_bar"',
    "trigger_window_after_cutoff": "signal.trigger_window_end: must be after 09:30 and not after "
    "the entry cutoff 14:30",
    "unknown_calendar": "session.calendar: unknown trading calendar; use XNYS, XNSE or an "
    'exchange_calendars name, got "NYSE_TYPO"',
    "unknown_signal": 'signal.kind: unknown signal "ninety_ten"; did you mean "eighty_twenty"?',
    "zone_too_wide": "signal.zone: must be > 0 and < 0.5, got 0.6",
}

MINIMAL_8020 = {
    "name": "m",
    "signal": {"kind": "eighty_twenty"},
    "session": {"calendar": "XNYS"},
    "sizing": {"fixed_qty": 1},
    "instruments": [{"symbol": "AAPL", "tick": "0.01"}],
}


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return load_strategy(path)


class TestMalformedFiles:
    def test_every_bad_file_has_an_expected_line(self):
        """The table above covers exactly the files under specs/bad/ (at least twelve)."""
        assert sorted(p.stem for p in BAD.glob("*.toml")) == sorted(EXPECTED)
        assert len(EXPECTED) >= 12

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    def test_malformed_file_fails_with_its_exact_line(self, name):
        """Each malformed file raises SpecError: one line naming the file, the key and the problem."""
        path = BAD / f"{name}.toml"
        with pytest.raises(SpecError) as caught:
            load_strategy(path)
        assert str(caught.value) == f"{path}: {EXPECTED[name]}"
        assert "\n" not in str(caught.value)

    def test_missing_file_names_the_file_and_the_os_reason(self, tmp_path):
        """A file that does not exist is one line too."""
        missing = tmp_path / "nope.toml"
        with pytest.raises(SpecError) as caught:
            load_strategy(missing)
        assert str(caught.value) == f"{missing}: cannot read the file: No such file or directory"

    def test_binary_file_is_refused_as_not_text(self, tmp_path):
        """Bytes that are not UTF-8 are reported, not decoded into nonsense."""
        path = tmp_path / "b.toml"
        path.write_bytes(b"\xff\xfe\x00name")
        with pytest.raises(SpecError) as caught:
            load_strategy(path)
        assert str(caught.value) == f"{path}: cannot read the file: it is not UTF-8 text"

    def test_unknown_top_level_key_lists_the_known_ones(self):
        """With no near match, an unknown key's error lists the keys that exist."""
        with pytest.raises(SpecError) as caught:
            validate_strategy({**MINIMAL_8020, "colour": "red"}, file="f.toml")
        assert str(caught.value) == (
            "f.toml: colour: unknown key; expected one of: name, signal, instruments, session, "
            "bar_minutes, entry_window, square_off, max_attempts, sizing, daily_loss_limit, "
            "halt_scope, stop_time_in_force, broker, notify, costs"
        )


class TestExamples:
    @pytest.mark.parametrize("name", ["eighty_twenty.toml", "opening_range.toml"])
    def test_example_validates(self, name):
        """Both shipped examples are valid strategies."""
        assert load_strategy(EXAMPLES / name).name

    def test_eighty_twenty_example_trades_four_us_equities_on_the_nyse(self):
        """The 80-20 example: AAPL, IBM, MSFT, GOOG on XNYS, 5-minute bars, the sim broker."""
        spec = load_strategy(EXAMPLES / "eighty_twenty.toml")
        assert spec.symbols == ("AAPL", "IBM", "MSFT", "GOOG")
        assert (spec.session.calendar, spec.session.timezone) == ("XNYS", "America/New_York")
        assert spec.bar_minutes == 5
        assert spec.broker.kind == "sim"

    def test_rules_carry_tick_attempts_window_and_timezone_per_symbol(self):
        """spec.rules() gives each symbol the machine Rules of its tick and the strategy's limits."""
        orb = load_strategy(EXAMPLES / "opening_range.toml").rules()
        assert list(orb) == ["AAPL", "MSFT", "GOOG", "IBM", "FB"]
        assert orb["FB"].entry_window == (time(9, 30), time(11, 30))
        assert orb["FB"].timezone == "America/New_York"
        nse = validate_strategy(
            {
                **MINIMAL_8020,
                "session": {"calendar": "XNSE"},
                "instruments": [{"symbol": "SBIN", "tick": "nse"}],
            }
        ).rules()
        assert nse["SBIN"].tick == NSE_TICKS
        assert nse["SBIN"].entry_window == (time(9, 15), time(14, 30))
        assert nse["SBIN"].timezone == "Asia/Kolkata"
        us = load_strategy(EXAMPLES / "eighty_twenty.toml").rules()["AAPL"]
        assert (us.tick, us.max_attempts) == (FixedTick(Decimal("0.01")), 1)


class TestDefaults:
    def test_eighty_twenty_defaults_are_strategies_md(self):
        """zone 0.20, trigger 10 ticks, offsets 0/1/0, completed-bar trail, no filter, retrigger."""
        signal = EightyTwentyParams()
        assert signal.zone == Decimal("0.20")
        assert (signal.trigger_ticks, signal.entry_offset_ticks) == (10, 0)
        assert (signal.stop_offset_ticks, signal.trail_offset_ticks) == (1, 0)
        assert (signal.trail_on, signal.range_filter, signal.rearm) == (
            "completed_bar",
            "off",
            "retrigger",
        )
        assert signal.zone_inclusive is True
        assert signal.trigger_window_end is None  # meaning: the entry cutoff

    def test_opening_range_defaults_are_strategies_md(self):
        """or_minutes 15, buffer 1 tick, opposite-side stop, no target, stop-order confirmation."""
        signal = OpeningRangeParams()
        assert (signal.or_minutes, signal.buffer_ticks) == (15, 1)
        assert (signal.stop, signal.target_r, signal.confirm) == (
            "opposite_side",
            None,
            "stop_order",
        )

    def test_minimal_eighty_twenty_file_gets_the_strategy_md_times(self):
        """Left out: cutoff 14:30 (the trigger window ends with it), square-off 15:15, 1 attempt."""
        spec = validate_strategy(MINIMAL_8020)
        assert spec.entry_window.start == time(9, 30)  # the calendar's open
        assert spec.entry_window.end == time(14, 30)
        assert spec.signal.params.trigger_window_end is None  # meaning: the entry cutoff
        assert (spec.square_off, spec.max_attempts) == (time(15, 15), 1)
        assert (spec.session.open, spec.session.close) == (time(9, 30), time(16, 0))
        assert spec.broker.kind == "sim"

    def test_minimal_orb_file_cuts_entries_at_half_past_eleven(self):
        """ORB's default entry cutoff is 11:30; on XNSE the session is 09:15-15:30 India time."""
        spec = validate_strategy(
            {
                **MINIMAL_8020,
                "signal": {"kind": "opening_range_breakout"},
                "session": {"calendar": "XNSE"},
            }
        )
        assert spec.entry_window.start == time(9, 15)
        assert spec.entry_window.end == time(11, 30)
        assert spec.session.timezone == "Asia/Kolkata"

    def test_the_signal_gets_its_own_params_model(self):
        """[signal] of 80-20 is validated into the signal's Params, defaults filled in."""
        spec = validate_strategy(
            {**MINIMAL_8020, "signal": {"kind": "eighty_twenty", "trail_on": "green_bars"}}
        )
        assert spec.signal.params == EightyTwentyParams(trail_on="green_bars")


class TestDecimals:
    def test_unquoted_toml_decimal_is_read_exactly(self, tmp_path):
        """zone = 0.1 and tick = 0.05 become Decimal('0.1') and Decimal('0.05'): no binary float."""
        text = (EXAMPLES / "eighty_twenty.toml").read_text(encoding="utf-8")
        text = text.replace("zone = 0.20", "zone = 0.1").replace('tick = "0.01"', "tick = 0.05")
        spec = _load(tmp_path, text)
        assert spec.signal.params.zone == Decimal("0.1")
        assert str(spec.instruments[0].tick) == "0.05"

    def test_quoted_and_unquoted_decimals_mean_the_same(self, tmp_path):
        """risk_per_trade = "250.10" and risk_per_trade = 250.10 are both Decimal('250.10')."""
        base = (EXAMPLES / "opening_range.toml").read_text(encoding="utf-8")
        quoted = _load(tmp_path, base.replace('"500.00"', '"250.10"'))
        bare = _load(tmp_path, base.replace('"500.00"', "250.10"))
        assert quoted.sizing.risk_per_trade == bare.sizing.risk_per_trade == Decimal("250.10")
        assert str(bare.sizing.risk_per_trade) == "250.10"

    def test_daily_loss_limit_is_optional_money(self):
        """No daily_loss_limit by default; given, it is an exact Decimal (quoted or not)."""
        assert validate_strategy(MINIMAL_8020).daily_loss_limit is None
        quoted = validate_strategy({**MINIMAL_8020, "daily_loss_limit": "500.00"})
        bare = validate_strategy({**MINIMAL_8020, "daily_loss_limit": Decimal("500.00")})
        assert quoted.daily_loss_limit == bare.daily_loss_limit == Decimal("500.00")
        assert str(quoted.daily_loss_limit) == "500.00"

    def test_toml_nan_is_not_a_price(self, tmp_path):
        """A TOML nan is refused where a decimal is wanted."""
        text = (EXAMPLES / "opening_range.toml").read_text(encoding="utf-8")
        with pytest.raises(SpecError, match=r"sizing.risk_per_trade: must be a decimal number"):
            _load(tmp_path, text.replace('"500.00"', "nan"))

    def test_native_toml_time_is_accepted(self, tmp_path):
        """square_off = 15:00:00 (a TOML local time) works like "15:00"."""
        text = (EXAMPLES / "eighty_twenty.toml").read_text(encoding="utf-8")
        spec = _load(tmp_path, text.replace('square_off = "15:15"', "square_off = 15:00:00"))
        assert spec.square_off == time(15, 0)


class TestBrokerTable:
    def test_relative_sim_data_path_is_resolved_beside_the_file(self, tmp_path):
        """broker.data = "bars.csv" means the bars.csv next to the strategy file."""
        text = (EXAMPLES / "eighty_twenty.toml").read_text(encoding="utf-8")
        spec = _load(tmp_path, text.replace("speed = 60 ", 'data = "bars.csv"\nspeed = 60 '))
        assert spec.broker.data == tmp_path / "bars.csv"

    def test_alpaca_defaults_to_its_paper_endpoints(self):
        """kind = "alpaca" without URLs talks to Alpaca's paper API and IEX feed."""
        spec = validate_strategy({**MINIMAL_8020, "broker": {"kind": "alpaca"}})
        assert spec.broker.rest_url == "https://paper-api.alpaca.markets"
        assert spec.broker.feed == "iex"

    def test_broker_table_without_kind_is_the_sim(self):
        """A [broker] table that only sets sim knobs needs no kind."""
        spec = validate_strategy({**MINIMAL_8020, "broker": {"speed": 10}})
        assert (spec.broker.kind, spec.broker.speed) == ("sim", 10.0)


class _GapFadeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gap_pct: Decimal = Field(gt=0)


class GapFade:
    """A fake third-party signal with its own parameter model."""

    Params = _GapFadeParams


class FreeForm:
    """A fake third-party signal without a parameter model."""


class TestPluginSignals:
    def test_registered_signal_is_accepted_with_its_own_params(self, register_signal):
        """kind = "gap_fade" from an entry point: its Params model validates the table."""
        register_signal("gap_fade", f"{__name__}:GapFade")
        spec = validate_strategy(
            {
                **MINIMAL_8020,
                "signal": {"kind": "gap_fade", "gap_pct": "1.5"},
                "entry_window": {"end": "11:00"},
            }
        )
        assert spec.signal.kind == "gap_fade"
        assert spec.signal.params == _GapFadeParams(gap_pct=Decimal("1.5"))

    def test_plugin_params_error_names_the_key(self, register_signal):
        """A value the plugin's model refuses is reported at signal.<key>."""
        register_signal("gap_fade", f"{__name__}:GapFade")
        with pytest.raises(SpecError) as caught:
            validate_strategy(
                {
                    **MINIMAL_8020,
                    "signal": {"kind": "gap_fade", "gap_pct": "-1"},
                    "entry_window": {"end": "11:00"},
                },
                file="f.toml",
            )
        assert str(caught.value) == 'f.toml: signal.gap_pct: must be > 0, got "-1"'

    def test_plugin_unknown_key_gets_a_suggestion_like_a_builtin(self, register_signal):
        """A misspelt plugin key reads as a built-in's does: the nearest key is suggested."""
        register_signal("gap_fade", f"{__name__}:GapFade")
        with pytest.raises(SpecError) as caught:
            validate_strategy(
                {
                    **MINIMAL_8020,
                    "signal": {"kind": "gap_fade", "gap_pct": "1", "gap_pc": "1"},
                    "entry_window": {"end": "11:00"},
                },
                file="f.toml",
            )
        assert str(caught.value) == 'f.toml: signal.gap_pc: unknown key; did you mean "gap_pct"?'

    def test_plugin_without_params_model_passes_the_table_through(self, register_signal):
        """Without Params, any parameters are kept as written."""
        register_signal("free", f"{__name__}:FreeForm")
        spec = validate_strategy(
            {
                **MINIMAL_8020,
                "signal": {"kind": "free", "anything": [1, 2]},
                "entry_window": {"end": "11:00"},
            }
        )
        assert spec.signal.params == {"anything": [1, 2]}

    def test_plugin_signal_needs_an_explicit_entry_cutoff(self, register_signal):
        """A plugin without a default cutoff: entry_window.end is required."""
        register_signal("free", f"{__name__}:FreeForm")
        with pytest.raises(SpecError) as caught:
            validate_strategy({**MINIMAL_8020, "signal": {"kind": "free"}}, file="f.toml")
        assert str(caught.value) == "f.toml: entry_window.end: is required"

    def test_plugin_cannot_take_a_builtin_name(self, register_signal):
        """A second distribution registering eighty_twenty makes the name ambiguous: refused,
        naming both, rather than silently running either."""
        register_signal("eighty_twenty", f"{__name__}:FreeForm")
        with pytest.raises(SpecError, match="registered more than once"):
            validate_strategy(MINIMAL_8020)

    def test_name_registered_twice_is_ambiguous(self, register_signal):
        """Two distributions registering one name: refused, naming both targets."""
        register_signal("free", f"{__name__}:FreeForm")
        register_signal("free", f"{__name__}:GapFade")
        with pytest.raises(SpecError) as caught:
            validate_strategy({**MINIMAL_8020, "signal": {"kind": "free"}}, file="f.toml")
        assert str(caught.value) == (
            f'f.toml: signal.kind: signal "free" is registered more than once '
            f"({__name__}:FreeForm, {__name__}:GapFade)"
        )

    def test_unloadable_plugin_is_one_line(self, register_signal):
        """A plugin whose module cannot be imported is reported at signal.kind."""
        register_signal("ghost", "no_such_module_xyz:Ghost")
        with pytest.raises(SpecError) as caught:
            validate_strategy({**MINIMAL_8020, "signal": {"kind": "ghost"}}, file="f.toml")
        assert str(caught.value) == (
            "f.toml: signal.kind: cannot load signal \"ghost\": No module named 'no_such_module_xyz'"
        )

    def test_unknown_kind_lists_registered_plugins(self, register_signal):
        """The unknown-signal message names the built-ins and every registered plugin."""
        register_signal("gap_fade", f"{__name__}:GapFade")
        with pytest.raises(
            SpecError, match="expected one of: eighty_twenty, gap_fade, opening_range_breakout"
        ):
            validate_strategy({**MINIMAL_8020, "signal": {"kind": "nope"}})
