"""Alpaca's error answers: ``{"code", "message"}`` out, and the typed error for an answer in.

Pure: no I/O. The mapping goes by HTTP status first, then Alpaca's code and message (a 422 can be
a duplicate client order id, a terminal order, an order not open for replacing, or a bad field).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from brokers._exceptions import (
    AuthenticationError,
    BrokerError,
    DuplicateClientOrderIdError,
    InsufficientFundsError,
    InvalidOrderError,
    NotCancelableError,
    NotFoundError,
    NotReplaceableError,
    RateLimitedError,
    RequestRejectedError,
    UnavailableError,
    UnchangedOrderError,
    VenueError,
)

__all__ = ["UNAUTHORIZED_BODY", "error_body", "error_from_response"]

#: The exact 401 body of a missing or wrong key pair.
UNAUTHORIZED_BODY: dict[str, Any] = {
    "code": 40110000,
    "message": "access key verification failed : verification failure",
}


def error_body(error: BrokerError) -> dict[str, Any]:
    """``{"code", "message"}`` for an error the venue answers with."""
    if isinstance(error, AuthenticationError):
        return dict(UNAUTHORIZED_BODY)
    return {"code": error.code if error.code is not None else 50010000, "message": error.message}


def error_from_response(status: int, body: bytes | str) -> BrokerError:
    """The typed error for an HTTP error answer, by status, Alpaca code and message."""
    code: int | None = None
    message = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        parsed = json.loads(message)
    except ValueError:
        parsed = None
    if isinstance(parsed, Mapping):
        raw_code = parsed.get("code")
        code = raw_code if isinstance(raw_code, int) else None
        message = str(parsed.get("message", message))
    kind: type[BrokerError]
    if status == 401:
        kind = AuthenticationError
    elif status == 404:
        kind = NotFoundError
    elif status == 429:
        kind = RateLimitedError
    elif status >= 500:
        kind = UnavailableError
    elif status == 403:
        kind = UnchangedOrderError if "not changed" in message else InsufficientFundsError
    elif status == 422:
        if "must be unique" in message:
            kind = DuplicateClientOrderIdError
        elif code == 42210000 or "already in" in message:
            kind = NotCancelableError
        elif "unable to replace" in message:
            kind = NotReplaceableError
        else:
            kind = InvalidOrderError
    elif 400 <= status < 500:
        kind = RequestRejectedError
    else:
        kind = VenueError
    return kind(message, status=status, code=code)
