"""The public defaults of `WebSocketConnection`'s arguments."""

from __future__ import annotations

__all__ = [
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_KEEPALIVE_GRACE",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_WRITE_LIMIT",
]

#: Seconds to wait for the peer's close frame and TCP close once ours is sent (seed: 5 s).
DEFAULT_CLOSE_TIMEOUT = 5.0
#: Seconds without receiving anything before a keepalive ping (seed: 20 s).
DEFAULT_KEEPALIVE_INTERVAL = 20.0
#: Seconds to wait for any data after a keepalive ping before dropping the peer (seed: 10 s).
DEFAULT_KEEPALIVE_GRACE = 10.0
#: Received messages that may wait for the application before reading pauses.
DEFAULT_MAX_QUEUE = 16
#: Bytes in the transport's write buffer above which `send()` waits (the low mark is a quarter).
DEFAULT_WRITE_LIMIT = 64 * 1024
