"""The journal: an append-only SQLite record of every outcome, durable before its commands run.

``Journal`` writes and rebuilds; the status reads (``read_latest``, ``newest_journal``) open
their own read-only connections; the codec turns machine messages into JSON and back.
"""

from strategies.journal._codec import (
    decode_command,
    decode_event,
    decode_snapshot,
    encode_command,
    encode_event,
    encode_snapshot,
)
from strategies.journal._journal import CommandResult, Journal, OperatorRequest, PendingCommand
from strategies.journal._status import (
    Liveness,
    SymbolStatus,
    newest_journal,
    read_latest,
    read_liveness,
)

__all__ = [
    "CommandResult",
    "Journal",
    "Liveness",
    "OperatorRequest",
    "PendingCommand",
    "SymbolStatus",
    "decode_command",
    "decode_event",
    "decode_snapshot",
    "encode_command",
    "encode_event",
    "encode_snapshot",
    "newest_journal",
    "read_latest",
    "read_liveness",
]
