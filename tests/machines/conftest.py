"""Shared fixtures for the machine tests; the builders themselves live in ``scenarios``."""

from __future__ import annotations

import pytest

from tests.machines.scenarios import Scenario


@pytest.fixture
def scenario() -> Scenario:
    """A fresh machine (three attempts a day, 09:45-15:00 New York window, US ticks)."""
    return Scenario()
