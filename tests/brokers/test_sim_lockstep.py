"""The simulated exchange's lock-step channel: moments posted, acked, and never waited on forever."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from brokers import Bar, LockStep, Moment, MomentBar, SimExchange, VirtualClock

T0 = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


def _bar(minute: int, symbol: str = "AAPL") -> Bar:
    return Bar(
        symbol=symbol,
        start=T0.replace(minute=30 + minute),
        open=Decimal(100),
        high=Decimal(101),
        low=Decimal(99),
        close=Decimal(100),
        volume=Decimal(1000),
    )


class TestLockStep:
    def test_a_step_without_a_listener_goes_on_at_once(self) -> None:
        """No client listens: the exchange does not wait (nothing could ack)."""
        lockstep = LockStep(timeout=5.0)
        assert asyncio.run(lockstep.step(T0, 0, frozenset())) is True
        assert lockstep.timeouts == 0

    def test_a_step_waits_for_its_ack(self) -> None:
        """The exchange goes on once the client acks the moment it was posted."""
        lockstep = LockStep(timeout=5.0)
        posted: list[Moment] = []

        def listen(moment: Moment) -> None:
            posted.append(moment)
            threading.Thread(target=lockstep.ack, args=(moment.seq,)).start()

        lockstep.listen(listen)
        assert asyncio.run(lockstep.step(T0, 3, frozenset())) is True
        (moment,) = posted
        assert (moment.seq, moment.at, moment.updates_sent) == (1, T0, 3)
        assert lockstep.acked == 1
        assert lockstep.timeouts == 0

    def test_an_ack_that_never_comes_is_a_counted_timeout_not_a_hang(self) -> None:
        """A client that never acks costs the exchange ``timeout``, counted; then it goes on."""
        lockstep = LockStep(timeout=0.01)
        lockstep.listen(lambda moment: None)
        assert asyncio.run(lockstep.step(T0, 0, frozenset())) is False
        assert lockstep.timeouts == 1

    def test_a_closed_channel_waits_no_more(self) -> None:
        """Once the client closed the channel (its run ended), steps go on at once."""
        lockstep = LockStep(timeout=5.0)
        lockstep.listen(lambda moment: None)
        lockstep.close()
        assert asyncio.run(lockstep.step(T0, 0, frozenset())) is True


class TestExchangeInLockStep:
    def test_the_clock_is_held_at_each_moment_until_the_client_acks(self) -> None:
        """The exchange's clock shows each moment and stays there until the ack: bars end,
        the client is told what was sent, and only its ack lets the clock move on."""
        lockstep = LockStep(timeout=5.0)
        bars = [_bar(0), _bar(1), _bar(2)]
        sim = SimExchange(bars, speed=1e9, lockstep=lockstep, updated_bars=0.0)
        seen: list[tuple[Moment, datetime]] = []
        done = threading.Event()

        def listen(moment: Moment) -> None:  # on the exchange's loop: hand over to a thread
            threading.Thread(target=check, args=(moment,)).start()

        def check(moment: Moment) -> None:
            clock = sim.clock
            assert isinstance(clock, VirtualClock)
            seen.append((moment, clock.now()))
            lockstep.ack(moment.seq)
            if len(seen) >= 4:
                done.set()

        lockstep.listen(listen)
        with sim:
            assert done.wait(10.0)
            assert sim.finished.wait(10.0)
        ends = [m.at for m, _ in seen]
        assert ends[:3] == [T0.replace(minute=31), T0.replace(minute=32), T0.replace(minute=33)]
        assert all(moment.at == shown for moment, shown in seen)  # held at the moment
        assert lockstep.timeouts == 0
        # No client subscribed to the bar stream: nothing was sent, so nothing listed.
        assert all(moment.bars == frozenset() for moment, _ in seen)


@pytest.mark.parametrize("channel", ["bars", "updatedBars"])
def test_a_moment_bar_names_its_channel(channel: str) -> None:
    """A moment lists the bars it sent by channel, symbol and start (hashable, comparable)."""
    one = MomentBar(channel=channel, symbol="AAPL", start=T0)
    assert one == MomentBar(channel=channel, symbol="AAPL", start=T0)
    assert len({one, MomentBar(channel=channel, symbol="MSFT", start=T0)}) == 2
