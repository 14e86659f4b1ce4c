"""The server's books: its connections in each phase, its handler tasks, its handlers.

A [`WebSocketServer`][wsserver.WebSocketServer] owns one `Registry` and hands it to
every [`ServerConnection`][wsserver.ServerConnection] it makes. A connection reports
to the registry (a handshake started or finished, a request pending, the connection
open or gone) and reads the application's handlers from it; it never calls its server.
So the dependencies point one way: the server uses the registry and its connections,
a connection uses the registry and its request, and the registry uses neither.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wsframe.asyncio import WebSocketConnection

    from ._connection import Handler, HttpHandler, ServerConnection
    from ._request import WebSocketRequest

__all__ = ["Registry"]


class Registry:
    """What a server knows of its connections, and what its connections need of it.

    Attributes:
        handler: the WebSocket handler (the server's `handler` attribute).
        http_handler: the plain HTTP handler (the server's `http_handler`).
        auto_accept: whether valid requests are accepted before the handler runs.
        max_pending: connections in their opening handshake above which new ones are
            refused; None for no limit.
        shutting_down: set by the server's shutdown: new connections are refused.
        all: every connection whose transport is not closed, in any phase.
        handshaking: connections in their opening handshake.
        connections: connections accepted and not closed yet.
        pending: requests handed to the handler and not decided yet.
        tasks: the handler tasks running.
        slow: connections that broadcasts skip (their write buffer is full).
    """

    __slots__ = (
        "all",
        "auto_accept",
        "connections",
        "handler",
        "handshaking",
        "http_handler",
        "max_pending",
        "pending",
        "shutting_down",
        "slow",
        "tasks",
    )

    def __init__(
        self,
        *,
        handler: Handler | None,
        http_handler: HttpHandler | None,
        auto_accept: bool,
        max_pending: int | None,
    ) -> None:
        self.handler = handler
        self.http_handler = http_handler
        self.auto_accept = auto_accept
        self.max_pending = max_pending
        self.shutting_down = False
        self.all: dict[ServerConnection, None] = {}
        self.handshaking: dict[ServerConnection, None] = {}
        self.connections: dict[ServerConnection, None] = {}
        self.pending: dict[WebSocketRequest, None] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.slow: set[WebSocketConnection] = set()

    def handshake_started(self, connection: ServerConnection) -> str:
        """Register a new connection; return why it must be refused, or ``""``."""
        self.all[connection] = None
        if self.shutting_down:
            return "server is shutting down"
        if self.max_pending is not None and len(self.handshaking) >= self.max_pending:
            return "too many pending handshakes"
        self.handshaking[connection] = None
        return ""

    def request_pending(self, request: WebSocketRequest) -> None:
        """The handler got `request` and has not decided yet."""
        self.pending[request] = None

    def handshake_finished(self, connection: ServerConnection) -> None:
        """The opening handshake is over, whatever its outcome."""
        self.handshaking.pop(connection, None)
        if connection.request is not None:
            self.pending.pop(connection.request, None)

    def connection_opened(self, connection: ServerConnection) -> None:
        """The 101 was sent: `connection` is open."""
        self.connections[connection] = None

    def connection_gone(self, connection: ServerConnection) -> None:
        """The transport of `connection` is closed: forget it."""
        self.handshake_finished(connection)
        self.connections.pop(connection, None)
        self.all.pop(connection, None)
        self.slow.discard(connection)

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a handler as a task that the server's shutdown waits for (and cancels)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task
