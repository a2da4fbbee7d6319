"""The ``[notify]`` table of a strategy file: where a run posts what an operator must hear of.

A webhook URL is a credential (Slack's, Discord's and most chat services' carry their token in
the path), so no message here — nor any log line of the notifier — ever shows more of it than
its scheme and host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from strategies._fields import FROZEN, fail

__all__ = ["NotifySpec", "receiver_of"]


def receiver_of(url: str) -> str:
    """What of a webhook URL may be shown: ``scheme://host[:port]``, never its path, query or
    credentials."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


class NotifySpec(BaseModel):
    """``[notify]``: a JSON POST for every fill, halt, kill switch and ``data_stale``."""

    model_config = FROZEN

    webhook_url: str = Field(
        description="http:// or https:// URL that receives one JSON POST per notification "
        "(fills, halts, the kill switch, data_stale); never logged beyond its host"
    )
    timeout: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="seconds a POST may take before it counts as failed (the engine never waits)",
    )

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str) -> str:
        # Never echo the URL: it may hold the receiver's token.
        if not value.startswith(("http://", "https://")):
            raise fail("", "must be an http:// or https:// URL")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises for a port out of range or not a number)
        except ValueError:
            raise fail("", "is not a URL (its host or port cannot be read)") from None
        if not parts.hostname:
            raise fail("", "names no host")
        return value
