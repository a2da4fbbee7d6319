"""What a fill costs: commission per order and slippage on stop and market fills.

One model, applied by the trade recorder to the fills the engine takes — the same fills in a
replay (paper broker, either fill model) and in a lock-step run on the simulated exchange — so
both charge the same costs, trade by trade. The venue's fill prices are left as the venue
reported them: a trade's gross PnL is what the fills moved, its costs are commission plus
slippage, and its net PnL is gross minus costs.

- commission, per order: ``per_share`` times the shares it filled + ``percent`` % of their
  notional, at least ``minimum`` once it filled anything, rounded to the cent (half up); a
  partly filled order is charged what its fills so far cost, so the minimum is paid once;
- slippage, per share of a stop or market fill: ``ticks`` ticks of the symbol at that price, or
  ``bps`` basis points of the price, moved against the trader (a buy up, a sell down) and
  rounded to the tick toward the trader's loss (a buy's price up, a sell's down).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from machines import TickRule, ceil_to_tick, floor_to_tick

__all__ = ["CostModel"]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class CostModel:
    """Commission and slippage; every figure zero by default (nothing charged)."""

    commission_per_share: Decimal = _ZERO
    commission_minimum: Decimal = _ZERO
    commission_percent: Decimal = _ZERO
    slippage_ticks: int = 0
    slippage_bps: Decimal = _ZERO

    def __post_init__(self) -> None:
        figures = (
            self.commission_per_share,
            self.commission_minimum,
            self.commission_percent,
            self.slippage_bps,
        )
        if any(f < 0 for f in figures) or self.slippage_ticks < 0:
            raise ValueError("CostModel: costs must not be negative")
        if self.slippage_ticks and self.slippage_bps:
            raise ValueError("CostModel: slippage in ticks or in basis points, not both")

    @property
    def free(self) -> bool:
        """Whether nothing is charged."""
        return not (
            self.commission_per_share
            or self.commission_minimum
            or self.commission_percent
            or self.slippage_ticks
            or self.slippage_bps
        )

    def commission(self, qty: Decimal, notional: Decimal) -> Decimal:
        """What an order that has filled ``qty`` shares worth ``notional`` pays in all."""
        if qty <= 0:
            return _ZERO
        raw = self.commission_per_share * qty + self.commission_percent * notional / _HUNDRED
        return max(self.commission_minimum, raw).quantize(_CENT, rounding=ROUND_HALF_UP)

    def slipped(self, price: Decimal, *, buy: bool, tick: TickRule) -> Decimal:
        """The price a stop or market fill at ``price`` is charged at: worse by the slippage,
        on the tick (a buy rounded up, a sell down)."""
        if self.slippage_ticks:
            raw = self.slippage_ticks * tick.size_at(price)
        elif self.slippage_bps:
            raw = price * self.slippage_bps / _BPS
        else:
            return price
        return ceil_to_tick(price + raw, tick) if buy else floor_to_tick(price - raw, tick)
