"""The asyncio driver that wsserver and wsclient share.

The sans-IO core (`wsframe` itself) never imports this package; drivers do. It holds
[`WebSocketConnection`][wsframe.asyncio.WebSocketConnection], the connection object
both sides hand to applications, so that the server and the client offer one API and
one implementation of flow control, keepalive and the closing handshake.
"""

from __future__ import annotations

from ._connection import (
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_KEEPALIVE_GRACE,
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_MAX_QUEUE,
    DEFAULT_WRITE_LIMIT,
    Data,
    WebSocketConnection,
)

__all__ = [
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_KEEPALIVE_GRACE",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_WRITE_LIMIT",
    "Data",
    "WebSocketConnection",
]
