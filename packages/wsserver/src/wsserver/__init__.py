"""wsserver: an asyncio WebSocket server built on the wsframe sans-IO core.

A [`WebSocketServer`][wsserver.WebSocketServer] listens on TCP (IPv4, IPv6), TLS and Unix
sockets and hands every valid upgrade request to the application as a
[`WebSocketRequest`][wsserver.WebSocketRequest], which it accepts (getting a
[`ServerConnection`][wsserver.ServerConnection]) or rejects, as with WebSocket-Node;
the connection itself reads like `websockets`: `async for message in connection`,
`await connection.send(message)`.

```python
import asyncio
import wsserver

async def handler(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:
        await connection.send(message)

async def main() -> None:
    async with wsserver.WebSocketServer(handler) as server:
        await server.listen("127.0.0.1", 8080)
        await server.serve_forever()

asyncio.run(main())
```

`python -m wsserver` runs an echo server (see `python -m wsserver --help`).
"""

from __future__ import annotations

from wsframe import (
    CloseCode,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    Fragment,
    HandshakeError,
    Headers,
    InvalidState,
)

from ._connection import MAX_HTTP_BODY_SIZE, Handler, HttpHandler, ServerConnection
from ._frame import ServerPerMessageDeflate, SetCookie
from ._request import Request, Response, WebSocketRequest
from ._server import (
    DEFAULT_BACKLOG,
    DEFAULT_MAX_PENDING_HANDSHAKES,
    DEFAULT_OPEN_TIMEOUT,
    DEFAULT_SHUTDOWN_TIMEOUT,
    WebSocketServer,
)

__all__ = [
    # _server
    "DEFAULT_BACKLOG",
    "DEFAULT_MAX_PENDING_HANDSHAKES",
    "DEFAULT_OPEN_TIMEOUT",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "WebSocketServer",
    # _request
    "Request",
    "Response",
    "WebSocketRequest",
    # _connection
    "MAX_HTTP_BODY_SIZE",
    "Handler",
    "HttpHandler",
    "ServerConnection",
    # from wsframe, the same objects
    "CloseCode",
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "Fragment",
    "HandshakeError",
    "Headers",
    "InvalidState",
    "ServerPerMessageDeflate",
    "SetCookie",
]

__version__ = "0.1.0.dev0"
