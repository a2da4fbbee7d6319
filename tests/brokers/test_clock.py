"""Clocks: a held virtual clock stands at its start until it is let run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from brokers import VirtualClock

START = datetime(2012, 11, 23, 14, 30, tzinfo=UTC)


def test_a_held_clock_stands_at_its_start_until_reset() -> None:
    """While held, every reading is the start (an exchange waiting for its first client); after
    ``reset`` it runs from the start, never before it."""
    clock = VirtualClock(START, speed=1e6, held=True)
    assert clock.held
    assert clock.now() == clock.now() == START
    clock.reset()
    assert not clock.held
    assert clock.now() >= START


def test_jumping_skips_ahead_and_never_back() -> None:
    """``jump_to`` moves a clock forward at once and ignores a time it has passed."""
    clock = VirtualClock(START, held=True)
    clock.jump_to(START + timedelta(hours=17))
    assert clock.now() >= START + timedelta(hours=17)
    clock.jump_to(START)
    assert clock.now() >= START + timedelta(hours=17)
