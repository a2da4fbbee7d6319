"""The adapter's HTTP session reads the environment once (proxies, CA bundle), not per request."""

from __future__ import annotations

import pytest

from brokers.alpaca._rest import rest_session


def test_proxies_and_the_ca_bundle_come_from_the_environment_when_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate.pem")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = rest_session("https://paper-api.alpaca.markets", connections=32)
    assert session.proxies["https"] == "http://proxy.example:3128"
    assert session.verify == "/etc/ssl/corporate.pem"
    assert session.trust_env is False  # so requests does not scan os.environ on every request
    adapter = session.get_adapter("https://paper-api.alpaca.markets")
    assert adapter._pool_maxsize == 32  # type: ignore[attr-defined]


def test_no_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    session = rest_session("http://127.0.0.1:8080")
    assert session.proxies == {}
