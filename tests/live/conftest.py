"""Live tests share the plugin registration of the strategies tests."""

from tests.strategies.conftest import register_signal

__all__ = ["register_signal"]
