"""Shared fixtures: structlog configuration is global, so every test starts from the defaults;
Graphviz for the tests that lay diagrams out; Chromium for the ones that open a page."""

import os
import shutil
from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture
def graphviz() -> str:
    """The path of Graphviz's ``dot``: a test that lays diagrams out skips without it on a
    developer's machine, and fails without it under CI (``.ci/run`` installs it, sets ``CI``)."""
    dot = shutil.which("dot")
    if dot is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz's dot is not installed, and CI must lay the diagrams out")
        pytest.skip("Graphviz's dot is not installed")
    return dot


@pytest.fixture
def chromium() -> str:
    """The path of the distribution's Chromium: a test that opens a page in it skips without it
    on a developer's machine, and fails without it under CI (``.ci/run`` installs it)."""
    found = next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser")) if p is not None), None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed, and CI must render the HTML report")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    return found
