"""The ``[costs]`` table: commissions, slippage and the account a strategy trades on.

Every figure is an exact ``Decimal`` and every default is nothing (zero costs, the venue's own
account), so a file without the table replays as it always did. Commissions are charged per
order — ``commission_per_share`` times the shares it filled plus ``commission_percent`` of its
notional, at least ``commission_minimum`` — and slippage on every stop and market fill, adverse
to the trader (``slippage_ticks`` ticks of the symbol, or ``slippage_bps`` basis points of the
price rounded to the tick toward the loss; at most one of them). ``cash`` and ``leverage`` are
the account: both the paper broker and the simulated exchange hold it (buying power = equity times
leverage, less what is held and working), and an entry whose notional exceeds what is left is
declined before it is sent (``buying_power_blocked``).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field, model_validator

from strategies._fields import FROZEN, Count, Money, Ratio, fail

__all__ = ["CostsSpec"]

_ZERO = Decimal(0)


class CostsSpec(BaseModel):
    """What trading costs and how much the account may buy; zero and the venue's by default."""

    model_config = FROZEN

    commission_per_share: Ratio = Field(
        default=_ZERO, ge=0, description="commission per share filled, e.g. 0.005"
    )
    commission_minimum: Ratio = Field(
        default=_ZERO, ge=0, description="the least commission an order with a fill pays"
    )
    commission_percent: Ratio = Field(
        default=_ZERO, ge=0, lt=100, description="commission in percent of the notional filled"
    )
    slippage_ticks: Count = Field(
        default=0, ge=0, le=1000, description="ticks every stop and market fill slips against us"
    )
    slippage_bps: Ratio = Field(
        default=_ZERO,
        ge=0,
        lt=10000,
        description="basis points of the price every stop and market fill slips against us "
        "(rounded to the tick toward the loss)",
    )
    cash: Money | None = Field(
        default=None,
        description="the account's starting cash; default the venue's ($100,000 on the twin, "
        "$1,000,000 for --model plain)",
    )
    leverage: Ratio | None = Field(
        default=None,
        gt=0,
        le=4,
        description="buying power = equity x leverage (1: a cash account); default the "
        "venue's 4 (Alpaca's intraday margin)",
    )

    @model_validator(mode="after")
    def _one_slippage(self) -> CostsSpec:
        if self.slippage_ticks and self.slippage_bps:
            raise fail("slippage_bps", "set slippage_ticks or slippage_bps, not both")
        return self

    @property
    def limits_buying_power(self) -> bool:
        """Whether the file names the account, so entries beyond its buying power are declined
        before they are sent (without it the venue's own account and refusals apply)."""
        return self.cash is not None or self.leverage is not None

    @property
    def charges(self) -> bool:
        """Whether any commission or slippage is charged."""
        return bool(
            self.commission_per_share
            or self.commission_minimum
            or self.commission_percent
            or self.slippage_ticks
            or self.slippage_bps
        )
