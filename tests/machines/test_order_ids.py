"""Client order ids: one format, read back from the right, so dashed and dotted symbols survive."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import machines as m
from machines import ClientOrderId, OrderRole, Side
from tests.machines.scenarios import DAY, STRATEGY

STOP, EXIT, ENTRY = OrderRole.STOP, OrderRole.EXIT, OrderRole.ENTRY


class TestFormat:
    def test_client_order_id_function(self):
        """The id function is deterministic and appends ``-r{n}`` only for later orders."""
        assert m.client_order_id("s", "X", date(2026, 1, 2), 3, STOP) == "s-X-20260102-3-stop"
        assert m.client_order_id("s", "X", date(2026, 1, 2), 3, STOP, 4) == "s-X-20260102-3-stop-r4"

    def test_an_entry_leg_is_tagged_by_its_side(self):
        """The two legs of a one-cancels-other pair carry their sides, never the role."""
        assert m.client_order_id("s", "X", DAY, 1, Side.SELL).endswith("-1-sell")
        with pytest.raises(ValueError, match="side"):
            m.client_order_id("s", "X", DAY, 1, ENTRY)


class TestParse:
    @pytest.mark.parametrize("symbol", ["AAPL", "BRK-B", "BF.B", "X-r1", "A-20240105-1-buy"])
    @pytest.mark.parametrize(
        ("role", "side", "seq"),
        [
            (ENTRY, Side.BUY, 0),
            (ENTRY, Side.SELL, 0),
            (STOP, None, 0),
            (STOP, None, 12),
            (EXIT, None, 1),
        ],
    )
    def test_every_kind_of_id_round_trips(self, symbol, role, side, seq):
        """Whatever the symbol holds, the fixed-format tail is read from the right."""
        cid = ClientOrderId(
            strategy="s8020",
            symbol=symbol,
            trading_date=DAY,
            attempt=2,
            role=role,
            side=side,
            seq=seq,
        )
        assert ClientOrderId.parse(str(cid)) == cid

    def test_a_dashed_symbol_is_not_cut_at_its_dash(self):
        """``BRK-B``'s ids name ``BRK-B``, not ``BRK`` (the bug this codec replaced)."""
        parsed = ClientOrderId.parse("s8020-BRK-B-20261123-1-buy")
        assert parsed is not None
        assert (parsed.strategy, parsed.symbol, parsed.side) == ("s8020", "BRK-B", Side.BUY)
        assert (parsed.role, parsed.tag) == (ENTRY, Side.BUY)

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "someone-else-1",
            "a1b2c3d4-manual",
            "s8020-AAPL-20261123-1-target",  # an unknown tag
            "s8020-AAPL-20261332-1-buy",  # not a calendar date
            "s8020-AAPL-2026112-1-buy",  # seven digits
            "s8020-AAPL-20261123-x-buy",
            "s8020-AAPL-20261123-01-buy",  # not how the machine writes an attempt
            "s8020-AAPL-20261123-1-stop-r0",  # no -r0: the first order has no suffix
            "s8020-20261123-1-buy",  # no symbol
            "-AAPL-20261123-1-buy",  # no strategy
            "s8020-AAPL-20261123-\u0661-buy",  # a digit, but not an ASCII one
        ],
    )
    def test_an_id_of_another_format_is_foreign(self, text):
        """Anything the machine would not have written parses to None."""
        assert ClientOrderId.parse(text) is None

    @given(
        symbol=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.&_/-]{0,8}", fullmatch=True),
        attempt=st.integers(0, 99),
        seq=st.integers(0, 9999),
        day=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
        tag=st.sampled_from([Side.BUY, Side.SELL, STOP, EXIT]),
    )
    def test_any_symbol_a_strategy_file_allows_round_trips(self, symbol, attempt, seq, day, tag):
        """For every symbol a strategy file accepts, parse(format(x)) == x."""
        side = tag if isinstance(tag, Side) else None
        role = ENTRY if side is not None else tag
        seq = 0 if side is not None else seq
        cid = ClientOrderId(
            strategy="s",
            symbol=symbol,
            trading_date=day,
            attempt=attempt,
            role=role,
            side=side,
            seq=seq,
        )
        assert ClientOrderId.parse(str(cid)) == cid

    def test_a_role_and_a_side_must_agree(self):
        """An entry names its side; a stop or an exit does not."""
        with pytest.raises(ValueError, match="side"):
            ClientOrderId(strategy="s", symbol="X", trading_date=DAY, attempt=1, role=ENTRY)
        with pytest.raises(ValueError, match="side"):
            ClientOrderId(
                strategy="s", symbol="X", trading_date=DAY, attempt=1, role=STOP, side=Side.SELL
            )


class TestIdentity:
    def test_identity_fitting_48_characters_is_accepted(self):
        """The widest possible id (``-r9999``) may reach exactly 48 characters."""
        strategy = "s" * 21  # 21 + len("-AAPL-20000101-1-stop-r9999") == 48
        assert len(m.client_order_id(strategy, "AAPL", DAY, 1, STOP, 9999)) == 48
        m.SymbolMachine(strategy=strategy, symbol="AAPL", trading_date=DAY)

    def test_identity_passing_48_characters_is_refused(self):
        """One character more and the machine cannot be built."""
        with pytest.raises(m.InvalidRulesError, match="48"):
            m.SymbolMachine(strategy="s" * 22, symbol="AAPL", trading_date=DAY)

    def test_more_attempts_widen_the_id(self):
        """``max_attempts=10`` adds a digit to the widest id."""
        with pytest.raises(m.InvalidRulesError):
            m.SymbolMachine(
                strategy="s" * 21, symbol="AAPL", trading_date=DAY,
                rules=m.Rules(max_attempts=10),
            )  # fmt: skip

    def test_desk_checks_its_strategy_name(self):
        """A desk refuses a strategy name that cannot fit even a one-letter symbol."""
        with pytest.raises(m.InvalidRulesError):
            m.Desk(strategy="s" * 30, trading_date=DAY)

    def test_a_dash_in_the_strategy_name_is_refused(self):
        """The strategy ends at the first ``-`` of an id, so its name cannot hold one."""
        with pytest.raises(m.InvalidRulesError, match="'-'"):
            m.SymbolMachine(strategy="my-orb", symbol="AAPL", trading_date=DAY)

    @pytest.mark.parametrize(
        ("strategy", "symbol"), [("", "AAPL"), (STRATEGY, ""), ("my strategy", "AAPL")]
    )
    def test_empty_or_spaced_identity_is_refused(self, strategy, symbol):
        """Strategy and symbol are non-empty and carry no whitespace."""
        with pytest.raises(m.InvalidRulesError):
            m.SymbolMachine(strategy=strategy, symbol=symbol, trading_date=DAY)

    @pytest.mark.parametrize(
        "params",
        [
            {"max_attempts": 0},
            {"entry_window": (time(15, 0), time(9, 45))},
            {"timezone": "Mars/Olympus"},
        ],
    )
    def test_unusable_rules_are_refused(self, params):
        """Rules that cannot work cannot be built."""
        with pytest.raises(m.InvalidRulesError):
            m.Rules(**params)
