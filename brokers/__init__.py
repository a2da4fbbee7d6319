"""tickstate's brokers: the broker protocol, paper broker, simulated exchange and Alpaca adapter.

Imports neither ``machines`` nor ``strategies``. (The implementations land with the brokers issue.)
"""

__all__: list[str] = []
