"""The server: listening sockets, the handler, tunables, the connection registry, shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from wsframe.asyncio import WebSocketConnection
from wsframe.close import check_close_code

from ._connection import Handler, HttpHandler, ServerConnection, Settings, refuse_handshake
from ._frame import (
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_FRAGMENTATION_THRESHOLD,
    DEFAULT_KEEPALIVE_GRACE,
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_MAX_HEAD_SIZE,
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_LINE_SIZE,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_QUEUE,
    DEFAULT_MAX_START_LINE_SIZE,
    DEFAULT_OPEN_TIMEOUT,
    DEFAULT_WRITE_LIMIT,
    CloseCode,
    ConnectionClosed,
    ConnectionOptions,
    DriverOptions,
    InvalidState,
    ServerExtensionFactory,
    ServerPerMessageDeflate,
    State,
    check_int,
    check_number,
)
from ._memory import DEFAULT_MEMORY_RELEASE_INTERVAL, HeapReleaser
from ._proxies import TrustedProxies
from ._registry import Registry
from ._request import WebSocketRequest

if TYPE_CHECKING:
    import ssl as _ssl

__all__ = [
    "DEFAULT_BACKLOG",
    "DEFAULT_MAX_PENDING_HANDSHAKES",
    "DEFAULT_OPEN_TIMEOUT",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "WebSocketServer",
]

#: Connections still in their opening handshake above which new ones get 503 at once.
DEFAULT_MAX_PENDING_HANDSHAKES = 1024
#: Seconds `shutdown()` waits for connections to close and handlers to return.
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
#: Length of the listening sockets' accept queue.
DEFAULT_BACKLOG = 128


class WebSocketServer:
    """An asyncio WebSocket server: listens, hands each upgrade to the application.

    Example:
        ```python
        async def handler(request: wsserver.WebSocketRequest) -> None:
            if request.origin not in ("https://example.com", None):
                request.reject(403, "origin not allowed")
                return
            connection = request.accept("chat" if "chat" in request.requested_protocols else None)
            async for message in connection:
                await connection.send(message)

        async with wsserver.WebSocketServer(handler) as server:
            await server.listen("127.0.0.1", 8080)
            await server.serve_forever()
        ```

    The handler receives a [`WebSocketRequest`][wsserver.WebSocketRequest] and accepts or
    rejects it. When it returns, an accepted connection still open is closed with 1000;
    if it raises, the error is logged and the connection closed with 1011 (a request not
    accepted yet is rejected with 500, without details). A handler that returns without
    accepting or rejecting rejects the request with 404 ("no handler accepted the
    request"). Without a handler, every upgrade is rejected with 404 ("no handler is
    configured to accept the connection"). `ConnectionClosed` escaping the handler
    (the client went away) is not an error.

    Args:
        handler: `async def handler(request: WebSocketRequest) -> None`. Also the
            public attribute `handler`, which may be replaced or set to None at any time
            (wsrouter attaches itself there); requests already being handled keep theirs.
        auto_accept: accept every valid request before calling the handler, with the
            first subprotocol the client offers; the handler finds the connection in
            `request.connection`. This skips the origin check, so any web page a user
            visits can open a connection to this server with the user's cookies and
            credentials (browsers send `Origin` precisely so that servers can refuse
            that): use it only for servers that no browser-held credential protects.
            Without a handler, requests are still rejected with 404.
        http_handler: `async def http_handler(request: Request) -> Response | None`,
            for plain HTTP requests (not upgrades); None answers 404. One request per
            connection: the server closes it after the response. Bodies must be
            announced with `Content-Length`, at most 64 KiB (411 for chunked bodies, 413
            above). Without an http_handler, plain requests get 426 Upgrade Required.

        max_message_size: largest message received, in bytes, after decompression; above
            it the connection fails with 1009. Default 1 MiB; None for no limit (trusted
            peers only). WebSocket-Node: `maxReceivedMessageSize`.
        max_frame_size: largest frame received, in bytes; None (default) bounds frames by
            `max_message_size` only. WebSocket-Node's separate 64 KiB frame limit
            rejected large single-frame messages that its 1 MiB message limit allowed,
            its most reported surprise; set this only to refuse large frames on purpose.
        assemble_fragments: False delivers each frame as a [`Fragment`][wsserver.Fragment]
            through `recv_fragment()` / `fragments()`, still UTF-8 and size checked.
        fragment_outgoing_messages: split sent messages longer than
            `fragmentation_threshold`.
        fragmentation_threshold: payload bytes per outgoing fragment (default 64 KiB,
            the largest frame WebSocket-Node peers accept by default).
        permessage_deflate: True (default) accepts permessage-deflate with
            [`ServerPerMessageDeflate`][wsserver.ServerPerMessageDeflate]'s defaults
            (12-bit windows: about 50 KiB per busy connection, nothing until the
            first message); False refuses it; or a configured factory.
        extensions: further extension factories, negotiated after permessage-deflate in
            the client's order of preference.

        keepalive_interval: seconds without receiving anything before a ping (default
            20); None turns keepalive off.
        keepalive_grace: seconds to wait for any data after that ping before dropping the
            connection (default 10; close code 1006); None only pings.
        close_timeout: seconds to wait for the closing handshake before the transport is
            aborted (default 5): no half-open socket lingers.
        open_timeout: seconds for the whole opening handshake, from the TCP (or TLS)
            connection to the application's decision (default 10). A request head not
            complete by then gets 408; a handler that has not accepted or rejected by
            then is cancelled and the client gets 503. Also bounds the TLS handshake.
            None: no limit (not advised).
        max_queue: received messages waiting for the application before reading pauses
            (default 16).
        write_limit: bytes in a connection's write buffer above which `send()` waits
            (default 64 KiB); `broadcast()` skips connections above it.

        max_start_line_size: longest request line (default 8 KiB; 414 above).
        max_header_count: most header lines (default 128; 431 above).
        max_head_size: largest header section (default 16 KiB; 431 above).
        max_header_line_size: longest header line (default 8 KiB; 431 above).
        max_pending_handshakes: connections still in their opening handshake above which
            new connections get 503 and are closed (default 1024); None for no limit.

        trusted_proxies: addresses or networks (``"10.0.0.0/8"``) of reverse proxies whose
            `X-Forwarded-For` names the client, and ``"unix"`` for peers on a Unix
            socket. Default: none, so `remote_address` is always the socket peer's and
            no client can spoof it (WebSocket-Node trusted the header by default).
        logger: where the server and its connections log; default the ``wsserver.server``
            and ``wsserver.connection`` loggers. Nothing is configured or printed.
        memory_release_interval: seconds between two checks of the memory that closed
            connections freed (default 2): where glibc's `malloc` keeps more than 4 MiB
            of it, `malloc_trim(0)` gives it back to the system, so that RSS comes back
            down after a burst instead of staying at its peak. None turns it off. It
            acts on the whole process, and does nothing elsewhere than glibc.

    The shared options (limits, fragmentation, timeouts, flow control) are validated by
    [`ConnectionOptions`][wsframe.ConnectionOptions] and
    [`DriverOptions`][wsframe.options.DriverOptions], the others by the same validators
    ([`wsframe.options`][wsframe.options]); their defaults are in one table,
    [Configuration](../reference/configuration.md#shared-options).

    Raises:
        ValueError: a tunable out of its range; the message names it.
        TypeError: a tunable of the wrong type (a bool where a number is expected
            included), `permessage_deflate` neither a bool nor a
            `ServerPerMessageDeflate`, or an entry of `extensions` not a
            `ServerExtensionFactory`; the message names it.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        auto_accept: bool = False,
        http_handler: HttpHandler | None = None,
        # WebSocket
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        max_frame_size: int | None = None,
        assemble_fragments: bool = True,
        fragment_outgoing_messages: bool = True,
        fragmentation_threshold: int = DEFAULT_FRAGMENTATION_THRESHOLD,
        permessage_deflate: bool | ServerPerMessageDeflate = True,
        extensions: Sequence[ServerExtensionFactory] = (),
        # Timeouts
        keepalive_interval: float | None = DEFAULT_KEEPALIVE_INTERVAL,
        keepalive_grace: float | None = DEFAULT_KEEPALIVE_GRACE,
        close_timeout: float | None = DEFAULT_CLOSE_TIMEOUT,
        open_timeout: float | None = DEFAULT_OPEN_TIMEOUT,
        # Flow control
        max_queue: int = DEFAULT_MAX_QUEUE,
        write_limit: int = DEFAULT_WRITE_LIMIT,
        # HTTP limits
        max_start_line_size: int | None = DEFAULT_MAX_START_LINE_SIZE,
        max_header_count: int | None = DEFAULT_MAX_HEADER_COUNT,
        max_head_size: int | None = DEFAULT_MAX_HEAD_SIZE,
        max_header_line_size: int | None = DEFAULT_MAX_HEADER_LINE_SIZE,
        max_pending_handshakes: int | None = DEFAULT_MAX_PENDING_HANDSHAKES,
        # Addresses and logging
        trusted_proxies: Iterable[str] = (),
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
        memory_release_interval: float | None = DEFAULT_MEMORY_RELEASE_INTERVAL,
    ) -> None:
        options = ConnectionOptions(
            max_message_size=max_message_size,
            max_frame_size=max_frame_size,
            assemble_fragments=assemble_fragments,
            fragment_outgoing_messages=fragment_outgoing_messages,
            fragmentation_threshold=fragmentation_threshold,
        )
        driver = DriverOptions(
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            keepalive_interval=keepalive_interval,
            keepalive_grace=keepalive_grace,
            max_queue=max_queue,
            write_limit=write_limit,
        )
        factories: list[ServerExtensionFactory] = []
        if isinstance(permessage_deflate, ServerPerMessageDeflate):
            factories.append(permessage_deflate)
        elif permessage_deflate is True:
            factories.append(ServerPerMessageDeflate())
        elif permessage_deflate is not False:
            raise TypeError(
                f"permessage_deflate must be a bool or a ServerPerMessageDeflate, not {permessage_deflate!r}"
            )
        for factory in extensions:
            if not isinstance(factory, ServerExtensionFactory):
                raise TypeError(f"extensions must be ServerExtensionFactory objects, not {factory!r}")
            factories.append(factory)
        for name, value in (
            ("max_start_line_size", max_start_line_size),
            ("max_header_count", max_header_count),
            ("max_head_size", max_head_size),
            ("max_header_line_size", max_header_line_size),
            ("max_pending_handshakes", max_pending_handshakes),
        ):
            check_int(name, value, minimum=1, optional=True)
        check_number("memory_release_interval", memory_release_interval, optional=True)

        self._registry = Registry(
            handler=handler,
            http_handler=http_handler,
            auto_accept=bool(auto_accept),
            max_pending=max_pending_handshakes,
        )
        self.logger: logging.Logger | logging.LoggerAdapter[Any] = (
            logger if logger is not None else logging.getLogger("wsserver.server")
        )
        """Where the server logs (connections log to ``wsserver.connection`` unless `logger` is given)."""
        self._settings = Settings(
            options=options,
            factories=tuple(factories),
            driver=driver,
            max_start_line_size=max_start_line_size,
            max_header_count=max_header_count,
            max_head_size=max_head_size,
            max_header_line_size=max_header_line_size,
            trusted_proxies=TrustedProxies(trusted_proxies),
            logger=logger if logger is not None else logging.getLogger("wsserver.connection"),
        )
        self._servers: list[asyncio.Server] = []
        self._shutdown_task: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self._releaser = (
            HeapReleaser(memory_release_interval, self.logger) if memory_release_interval is not None else None
        )

    @property
    def handler(self) -> Handler | None:
        """The WebSocket handler; replace it or set it to None at any time."""
        return self._registry.handler

    @handler.setter
    def handler(self, handler: Handler | None) -> None:
        self._registry.handler = handler

    @property
    def http_handler(self) -> HttpHandler | None:
        """The plain HTTP handler; replace it or set it to None at any time."""
        return self._registry.http_handler

    @http_handler.setter
    def http_handler(self, handler: HttpHandler | None) -> None:
        self._registry.http_handler = handler

    @property
    def auto_accept(self) -> bool:
        """Whether valid requests are accepted before the handler is called."""
        return self._registry.auto_accept

    @auto_accept.setter
    def auto_accept(self, value: bool) -> None:
        self._registry.auto_accept = bool(value)

    # ------------------------------------------------------------ listening

    async def listen(
        self,
        host: str | None = "127.0.0.1",
        port: int = 0,
        *,
        ssl: _ssl.SSLContext | None = None,
        backlog: int = DEFAULT_BACKLOG,
        reuse_port: bool = False,
    ) -> list[Any]:
        """Listen on a TCP address, with TLS when `ssl` is given.

        Call it several times to listen on several addresses, plain and TLS at once.

        Args:
            host: an IPv4 or IPv6 address, or a name (``"localhost"`` may bind both
                ``127.0.0.1`` and ``::1``); None or ``""`` for every interface.
            port: the port; 0 picks a free one (see `addresses`).
            ssl: a server-side `ssl.SSLContext` for wss://.
            backlog: the accept queue length.
            reuse_port: set SO_REUSEPORT, so several processes share the port.

        Returns:
            The bound socket addresses, such as ``[("127.0.0.1", 54321)]``.

        Raises:
            OSError: the address cannot be bound.
            InvalidState: the server is shutting down.
        """
        self._check_running()
        loop = asyncio.get_running_loop()
        secure = ssl is not None
        server = await loop.create_server(
            lambda: ServerConnection(self._registry, self._settings, secure=secure),
            host,
            port,
            ssl=ssl,
            backlog=backlog,
            reuse_port=reuse_port or None,
            ssl_handshake_timeout=self._settings.driver.open_timeout if secure else None,
        )
        return self._listening(server, "wss" if secure else "ws")

    async def listen_unix(
        self, path: str, *, ssl: _ssl.SSLContext | None = None, backlog: int = DEFAULT_BACKLOG
    ) -> list[Any]:
        """Listen on a Unix socket (a stale socket file at `path` is replaced).

        Args:
            path: the socket's file name.
            ssl: a server-side `ssl.SSLContext`, for TLS over the Unix socket.
            backlog: the accept queue length.

        Returns:
            The bound addresses (``[path]``).

        Raises:
            OSError: the socket cannot be bound.
            InvalidState: the server is shutting down.
        """
        self._check_running()
        loop = asyncio.get_running_loop()
        secure = ssl is not None
        server = await loop.create_unix_server(
            lambda: ServerConnection(self._registry, self._settings, secure=secure),
            path,
            ssl=ssl,
            backlog=backlog,
            ssl_handshake_timeout=self._settings.driver.open_timeout if secure else None,
        )
        return self._listening(server, "wss+unix" if secure else "ws+unix")

    def _listening(self, server: asyncio.Server, scheme: str) -> list[Any]:
        self._servers.append(server)
        if self._releaser is not None:
            self._releaser.start()
        addresses = [sock.getsockname() for sock in server.sockets]
        for address in addresses:
            self.logger.info("listening on %s", _format_address(scheme, address))
        return addresses

    def _check_running(self) -> None:
        if self._registry.shutting_down:
            raise InvalidState("the server is shutting down")

    @property
    def addresses(self) -> list[Any]:
        """Every bound socket address: ``(host, port)``, ``(host, port, flow, scope)`` or a path."""
        return [sock.getsockname() for server in self._servers for sock in server.sockets]

    @property
    def connections(self) -> list[ServerConnection]:
        """The accepted connections whose transport is not closed yet, oldest first (a copy)."""
        return list(self._registry.connections)

    @property
    def pending_requests(self) -> list[WebSocketRequest]:
        """Upgrade requests handed to the handler and not accepted or rejected yet (a copy)."""
        return list(self._registry.pending)

    async def serve_forever(self) -> None:
        """Wait until [`shutdown`][wsserver.WebSocketServer.shutdown] finishes.

        Cancelling this call (Ctrl-C under `asyncio.run`) shuts the server down first.

        Raises:
            InvalidState: the server is not listening anywhere.
        """
        if not self._servers:
            raise InvalidState("the server is not listening: call listen() first")
        try:
            await self._stopped.wait()
        except asyncio.CancelledError:
            await self.shutdown()
            raise

    async def __aenter__(self) -> WebSocketServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    # ------------------------------------------------------------- shutdown

    async def shutdown(
        self,
        code: int = CloseCode.GOING_AWAY,
        reason: str = "",
        *,
        timeout: float | None = DEFAULT_SHUTDOWN_TIMEOUT,
    ) -> None:
        """Stop listening, close every connection, wait, then abort what is left.

        In order: the listening sockets close; connections still in their opening
        handshake get 503 ("server is shutting down") and their handlers are cancelled;
        every open connection is closed with `code` (1001, going away, by default);
        the server waits up to `timeout` seconds for the connections to close and the
        handlers to return, then aborts the remaining transports and cancels the
        remaining handlers. Calling it again waits for the first call to finish.

        Args:
            code: the close code sent to every connection.
            reason: the close reason (at most 123 bytes of UTF-8).
            timeout: seconds to wait before aborting; None waits as long as it takes
                (each connection still aborts itself after its `close_timeout`).

        Raises:
            ValueError: a close code that may not be sent, or a reason too long.
        """
        check_close_code(code, reason)
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.ensure_future(self._shutdown(code, reason, timeout))
        await asyncio.shield(self._shutdown_task)

    async def _shutdown(self, code: int, reason: str, timeout: float | None) -> None:
        self._registry.shutting_down = True
        self.logger.info(
            "shutting down: %d connections, %d handshakes",
            len(self._registry.connections),
            len(self._registry.handshaking),
        )
        for server in self._servers:
            server.close()
        for connection in list(self._registry.handshaking):
            refuse_handshake(connection, 503, "server is shutting down")
        closers = [
            asyncio.ensure_future(connection.close(code, reason))
            for connection in list(self._registry.connections)
            if connection.state is State.OPEN
        ]
        waiting: list[asyncio.Future[Any]] = [*closers, *self._registry.tasks]
        if waiting:
            await asyncio.wait(waiting, timeout=timeout)
            for future in closers:
                if not future.done():
                    future.cancel()
        remaining = list(self._registry.all)
        if remaining:
            self.logger.info("shutdown: aborting %d connections", len(remaining))
            for connection in remaining:
                connection.abort("server shutdown")
            await asyncio.wait([asyncio.ensure_future(c.wait_closed()) for c in remaining], timeout=1.0)
        tasks = [task for task in self._registry.tasks if not task.done()]
        if tasks:
            self.logger.info("shutdown: cancelling %d handlers", len(tasks))
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks, timeout=1.0)
        for server in self._servers:
            await server.wait_closed()
        if self._releaser is not None:
            self._releaser.stop()
        self._stopped.set()
        self.logger.info("server stopped")

    # ------------------------------------------------------------ broadcast

    def broadcast(
        self,
        message: str | bytes | bytearray | memoryview,
        *,
        connections: Iterable[WebSocketConnection] | None = None,
    ) -> int:
        """Send a message to many connections without ever waiting for one of them.

        Each open connection whose write buffer holds at most `write_limit` bytes gets
        the message at once (compressed separately when it negotiated
        permessage-deflate). A slow connection, whose buffer is above that limit, is
        skipped: the message is not sent to it, and not queued for later, so one client
        that stops reading costs at most `write_limit` plus one message of memory and
        never delays the others. A warning is logged when a connection starts being
        skipped; close slow clients yourself if they must not miss messages. Connections
        that are closing are skipped too.

        Args:
            message: `str` for a text message, bytes-like for a binary one.
            connections: the recipients; default every connection of this server.

        Returns:
            How many connections the message was sent to.

        Raises:
            TypeError: `message` is neither str nor bytes-like.
        """
        if not isinstance(message, (str, bytes, bytearray, memoryview)):
            raise TypeError(f"message must be str or bytes-like, not {type(message).__name__}")
        if isinstance(message, memoryview):
            message = bytes(message)
        targets = list(self._registry.connections) if connections is None else list(connections)
        slow = self._registry.slow
        sent = 0
        for connection in targets:
            if connection.state is not State.OPEN:
                continue
            if connection.buffered_amount > connection.write_limit:
                if connection not in slow:
                    slow.add(connection)
                    self.logger.warning("broadcast: skipping slow connection %d", connection.id)
                continue
            slow.discard(connection)
            try:
                connection.send_nowait(message)
            except (ConnectionClosed, InvalidState):
                continue
            sent += 1
        return sent

    def __repr__(self) -> str:
        return f"<WebSocketServer {self.addresses} {len(self._registry.connections)} connections>"


def _format_address(scheme: str, address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = address[0]
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{address[1]}"
    return f"{scheme}:{address}"
