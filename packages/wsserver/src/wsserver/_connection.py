"""The server side of one TCP (or TLS, or Unix socket) connection.

[`ServerConnection`][wsserver.ServerConnection] is the `asyncio.Protocol` that the server
creates for every accepted socket. It reads the HTTP request head, hands a valid upgrade
to the application as a [`WebSocketRequest`][wsserver.WebSocketRequest] (or a plain
request to the `http_handler`), writes the answer and, once a request is accepted,
becomes the WebSocket connection the application uses: everything after the handshake
(recv, send, close, keepalive, flow control) is wsframe's shared
[`WebSocketConnection`][wsframe.asyncio.WebSocketConnection].

The opening handshake itself (parsing, every check, the answers to invalid requests,
extension negotiation) is wsframe's sans-IO [`ServerHandshake`][wsframe.ServerHandshake]:
this class moves bytes between it and the transport, and adds what a server decides on
its own (timeouts, limits on pending handshakes, plain HTTP requests).

Handshake phases: reading the head (bounded by the parser's limits), reading a plain
request's body (at most 64 KiB), waiting for the application, then either open (101
sent) or answered (any other status sent: the connection half-closes, discards what the
client still sends, and is aborted after `close_timeout` if the client does not close).
The whole handshake is bounded by `open_timeout`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import urllib.parse
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from wsframe.asyncio import WebSocketConnection

from ._frame import (
    CloseCode,
    ConnectionClosed,
    ConnectionOptions,
    DriverOptions,
    HandshakeEvent,
    HandshakeInvalid,
    HandshakeState,
    Headers,
    HeadersLike,
    HttpRequest,
    HttpRequestReceived,
    InvalidState,
    OpeningRequest,
    RequestReceived,
    ServerExtensionFactory,
    ServerHandshake,
    SetCookie,
    State,
    build_reject_response,
    serialize_response,
)
from ._proxies import TrustedProxies, split_forwarded_for
from ._request import Request, Response, WebSocketRequest, record_server_rejection

if TYPE_CHECKING:
    from ._registry import Registry

__all__ = [
    "MAX_HTTP_BODY_SIZE",
    "Handler",
    "HttpHandler",
    "ServerConnection",
    "Settings",
    "refuse_handshake",
]

Handler = Callable[[WebSocketRequest], Awaitable[None]]
"""`async def handler(request: WebSocketRequest) -> None`."""

HttpHandler = Callable[[Request], Awaitable[Response | None]]
"""`async def http_handler(request: Request) -> Response | None` (None answers 404)."""

#: Largest body of a plain HTTP request, announced with `Content-Length` (413 above).
MAX_HTTP_BODY_SIZE = 64 * 1024

# Handshake phases.
_HEAD = 0  # reading the request head
_BODY = 1  # reading a plain request's body
_WAITING = 2  # the application decides
_ANSWERED = 3  # a non-101 response was written; lingering until the client closes
_OPEN = 4  # 101 written: WebSocketConnection does the rest


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """What every connection of one server shares (built by the server)."""

    options: ConnectionOptions
    factories: tuple[ServerExtensionFactory, ...]
    driver: DriverOptions
    max_start_line_size: int | None
    max_header_count: int | None
    max_head_size: int | None
    max_header_line_size: int | None
    trusted_proxies: TrustedProxies
    logger: logging.Logger | logging.LoggerAdapter[Any]


def _plain_response(status: int, text: str, headers: HeadersLike = ()) -> bytes:
    """A short text/plain response that closes the connection (no internal details)."""
    lines = Headers(headers)
    lines.add("Connection", "close")
    lines.add("Content-Type", "text/plain; charset=utf-8")
    return serialize_response(status, None, lines, text.encode() + b"\n")


def _serialize(response: Response, *, head: bool) -> bytes:
    """Serialize an `http_handler`'s response; ValueError or TypeError when it is invalid."""
    if not isinstance(response, Response):
        raise TypeError(f"http_handler must return a Response or None, not {type(response).__name__}")
    status = response.status
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        raise ValueError(f"status must be an int from 200 to 599, not {status!r}")
    raw = response.body
    body = raw.encode() if isinstance(raw, str) else bytes(raw)
    headers = Headers(response.headers)
    if "Connection" in headers:
        del headers["Connection"]
    headers.add("Connection", "close")
    if isinstance(raw, str) and "Content-Type" not in headers:
        headers.add("Content-Type", "text/plain; charset=utf-8")
    data = serialize_response(status, None, headers, body)
    if head and body:
        data = data[: len(data) - len(body)]
    return data


class ServerConnection(WebSocketConnection):
    """A connection to the server: first its opening handshake, then the WebSocket.

    Applications get one from [`WebSocketRequest.accept`][wsserver.WebSocketRequest.accept]
    (or `request.connection` with `auto_accept`) and use the methods inherited from
    [`WebSocketConnection`][wsframe.asyncio.WebSocketConnection]: `recv()`,
    `async for`, `send()`, `ping()`, `close()`, `abort()`. They never build one.

    Attributes:
        request: the upgrade request this connection answered.
        subprotocol: the chosen subprotocol, spelled as the client offered it, or None.
        extensions: the names of the negotiated extensions, such as
            ``["permessage-deflate"]``.
        remote_address: the socket peer, as the transport reports it (a proxy's address
            behind a proxy; `request.remote_address` has the client's).
    """

    # Slots, as WebSocketConnection's (which keeps __dict__ and __weakref__ available).
    __slots__ = (
        "_body_needed",
        "_early",
        "_handshake",
        "_http_request",
        "_linger_handle",
        "_open_handle",
        "_peer_eof",
        "_phase",
        "_registry",
        "_settings",
        "_task",
        "request",
        "secure",
    )

    def __init__(self, registry: Registry, settings: Settings, *, secure: bool) -> None:
        driver = settings.driver
        super().__init__(
            close_timeout=driver.close_timeout,
            keepalive_interval=driver.keepalive_interval,
            keepalive_grace=driver.keepalive_grace,
            max_queue=driver.max_queue,
            write_limit=driver.write_limit,
            logger=settings.logger,
        )
        self.request: WebSocketRequest | None = None
        """The upgrade request, once its head is parsed."""
        self.secure = secure
        """True when the connection runs over TLS."""
        self._registry = registry
        self._settings = settings
        self._phase = _HEAD
        # The sans-IO opening handshake; None once it is answered or open.
        self._handshake: ServerHandshake | None = ServerHandshake(
            extensions=settings.factories,
            options=settings.options,
            max_start_line_size=settings.max_start_line_size,
            max_header_count=settings.max_header_count,
            max_head_size=settings.max_head_size,
            max_header_line_size=settings.max_header_line_size,
        )
        self._early = bytearray()  # a plain request's body, while it arrives
        self._body_needed = 0
        self._http_request: HttpRequest | None = None
        self._task: asyncio.Task[None] | None = None
        self._open_handle: asyncio.TimerHandle | None = None
        self._linger_handle: asyncio.TimerHandle | None = None
        self._peer_eof = False

    # ------------------------------------------------------------ transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the handshake: set TCP_NODELAY, count it, arm the open timeout."""
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        refusal = self._registry.handshake_started(self)
        if refusal:
            self.logger.info("connection %d refused: %s", self.id, refusal)
            self._answer(_plain_response(503, refusal))
            return
        timeout = self._settings.driver.open_timeout
        if timeout is not None:
            self._open_handle = self.loop.call_later(timeout, self._open_timed_out)

    def eof_received(self) -> bool | None:
        """The client closed its side; a plain request being handled is still answered."""
        if self.sansio is not None:
            return super().eof_received()
        if self._handshake is not None:
            self._handshake.receive_eof()
        if self._phase == _WAITING and self._http_request is not None:
            self._peer_eof = True
            return True  # keep the transport open to write the response
        return None

    def connection_closed(self) -> None:
        for handle in (self._open_handle, self._linger_handle):
            if handle is not None:
                handle.cancel()
        self._open_handle = self._linger_handle = None
        self._early = bytearray()
        self._registry.connection_gone(self)

    # ------------------------------------------------------------ handshake

    def handshake_data_received(self, data: bytes) -> None:
        phase = self._phase
        if phase == _BODY:
            self._early += data
            if len(self._early) >= self._body_needed:
                self._start_http(bytes(self._early[: self._body_needed]))
            return
        handshake = self._handshake
        if handshake is None or self._http_request is not None or phase not in (_HEAD, _WAITING):
            return  # answered (or one plain request per connection): discard until the client closes
        handshake.receive_data(data)
        while self._handshake is handshake and (event := handshake.next_event()) is not None:
            self._handshake_event(event)

    def _handshake_event(self, event: HandshakeEvent) -> None:
        handshake = self._handshake
        assert handshake is not None
        if isinstance(event, HandshakeInvalid):
            request = self.request
            if request is None:
                status = getattr(event.error, "status", 400)
                self.logger.debug("connection %d: invalid request: %s (%d)", self.id, event.error, status)
            else:  # the client sent too much before the answer
                self._reject_request(request, str(event.error))
            self._answer(handshake.data_to_send())
        elif isinstance(event, HttpRequestReceived):
            self._on_http_request(event.request, handshake.trailing_data)
        elif isinstance(event, RequestReceived):
            self._on_request(handshake, event.request)
        # ResponseReceived: a client's event only.

    def _on_request(self, handshake: ServerHandshake, opening: OpeningRequest) -> None:
        forwarded = split_forwarded_for(opening.headers.get_all("X-Forwarded-For"))
        ws_request = WebSocketRequest(
            opening,
            _Answerer(self),
            remote_address=self._settings.trusted_proxies.client_address(self.remote_address, forwarded),
            socket_address=self.remote_address,
            forwarded_for=forwarded,
            secure=self.secure,
        )
        self.request = ws_request
        self._phase = _WAITING
        registry = self._registry
        handler = registry.handler
        if handler is None:
            self._server_reject(404, "no handler is configured to accept the connection")
            return
        # The bytes that came with the request, checked against the early-data limit.
        event = handshake.next_event()
        if event is not None:
            self._handshake_event(event)
            return
        self.logger.debug("connection %d: request %s", self.id, ws_request.resource)
        registry.request_pending(ws_request)
        self._task = registry.spawn(self._run_handler(ws_request, handler))

    def _open_timed_out(self) -> None:
        self._open_handle = None
        if self._phase in (_HEAD, _BODY):
            self.logger.debug("connection %d: request not received within open_timeout", self.id)
            status, reason = 408, "request not received in time"
        elif self._phase == _WAITING:
            self.logger.warning("connection %d: the handler did not answer within open_timeout", self.id)
            status, reason = 503, "the server did not answer in time"
        else:
            return
        self._server_reject(status, reason)

    def _reject_request(self, request: WebSocketRequest, reason: str, *, cancel: bool = True) -> None:
        """Mark a request still undecided as rejected by the server; cancel its handler."""
        record_server_rejection(request, reason)
        task = self._task
        if cancel and task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    def _server_reject(self, status: int, reason: str, *, cancel: bool = True) -> None:
        """Reject on the server's own account; cancel a handler still deciding."""
        request = self.request
        if request is not None:
            self._reject_request(request, reason, cancel=cancel)
        handshake = self._handshake
        if self._http_request is not None:
            self._answer(_plain_response(status, reason))
        elif handshake is not None and handshake.state in (HandshakeState.RECEIVING, HandshakeState.PENDING):
            handshake.reject(status, reason)
            self._answer(handshake.data_to_send())
        else:
            self._answer(build_reject_response(status, reason))

    def _answer(self, response: bytes) -> None:
        """Write a final non-101 response, then half-close and linger until the client closes."""
        if self._phase in (_ANSWERED, _OPEN):
            return
        self._phase = _ANSWERED
        self._early = bytearray()
        self._handshake = None
        if self._open_handle is not None:
            self._open_handle.cancel()
            self._open_handle = None
        self._registry.handshake_finished(self)
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(response)
        # Closing at once would reset the connection if the client is still sending,
        # and a reset can destroy the response before the client reads it. Half-close
        # instead, and discard what arrives until the client closes too, at most
        # close_timeout seconds.
        if transport.can_write_eof() and not self._peer_eof:
            try:
                transport.write_eof()
            except (OSError, RuntimeError):
                transport.abort()
                return
            transport.resume_reading()
            linger = self.close_timeout if self.close_timeout is not None else 5.0
            self._linger_handle = self.loop.call_later(linger, self._linger_expired)
        else:
            transport.close()

    def _linger_expired(self) -> None:
        self._linger_handle = None
        transport = self.transport
        if transport is not None:
            transport.abort()

    # -------------------------------------------------------- accept/reject

    def _accept(
        self,
        request: WebSocketRequest,
        protocol: str | None,
        origin: str | None,
        cookies: Sequence[SetCookie],
        headers: HeadersLike,
    ) -> ServerConnection:
        handshake = self._handshake
        assert handshake is not None  # the request is pending
        handshake.accept(protocol, origin=origin, cookies=cookies, headers=headers)
        self.subprotocol = handshake.subprotocol
        self.extensions = [extension.name for extension in handshake.extensions]
        self._handshake = None
        transport = self.transport
        if transport is None or transport.is_closing() or self._phase != _WAITING:
            self._registry.handshake_finished(self)
            self.abort("connection lost before the handshake completed")
            return self
        transport.write(handshake.data_to_send())
        self._phase = _OPEN
        if self._open_handle is not None:
            self._open_handle.cancel()
            self._open_handle = None
        self._registry.handshake_finished(self)
        self._registry.connection_opened(self)
        self.logger.debug(
            "connection %d open: %s from %s (subprotocol %s, extensions %s)",
            self.id,
            request.resource,
            request.remote_address,
            self.subprotocol,
            self.extensions,
        )
        self.handshake_complete(handshake.connection, handshake.trailing_data)
        return self

    def _reject(
        self,
        request: WebSocketRequest,
        status: int,
        reason: str | None,
        headers: HeadersLike,
        body: bytes | None,
    ) -> None:
        handshake = self._handshake
        assert handshake is not None  # the request is pending
        handshake.reject(status, reason, headers=headers, body=body)
        self.logger.debug("connection %d: request %s rejected with %d", self.id, request.resource, status)
        self._answer(handshake.data_to_send())

    async def _run_handler(self, request: WebSocketRequest, handler: Handler) -> None:
        """Run the application's handler for `request`, then close what it left open."""
        try:
            if self._registry.auto_accept:
                request.accept(request.requested_protocols[0] if request.requested_protocols else None)
            await handler(request)
        except ConnectionClosed as exc:
            # The peer went away while the handler used the connection: routine.
            self.logger.debug("connection %d: handler ended by %s", self.id, exc)
        except Exception:
            self.logger.exception("connection %d: handler failed", self.id)
            if request.accepted:
                if self.state is State.OPEN:
                    await self.close(CloseCode.INTERNAL_ERROR)
            elif not request.resolved:
                self._server_reject(500, "internal server error", cancel=False)
            return
        if not request.resolved:
            self._server_reject(404, "no handler accepted the request", cancel=False)
        elif request.accepted and self.state is State.OPEN:
            await self.close(CloseCode.NORMAL_CLOSURE)

    # ------------------------------------------------------ plain HTTP requests

    def _on_http_request(self, request: HttpRequest, trailing: bytes) -> None:
        handler = self._registry.http_handler
        if handler is None:
            self.logger.debug("connection %d: plain HTTP request %s %s: 426", self.id, request.method, request.target)
            handshake = self._handshake
            assert handshake is not None
            handshake.require_upgrade()
            self._answer(handshake.data_to_send())
            return
        self._http_request = request
        headers = request.headers
        if "Transfer-Encoding" in headers:
            self._answer(_plain_response(411, "send the request body with Content-Length"))
            return
        lengths = headers.get_all("Content-Length")
        length = 0
        if lengths:
            value = lengths[0]
            if any(other != value for other in lengths) or not (value.isascii() and value.isdigit()) or len(value) > 18:
                self._answer(_plain_response(400, "invalid Content-Length"))
                return
            length = int(value)
            if length > MAX_HTTP_BODY_SIZE:
                self._answer(_plain_response(413, f"request body larger than {MAX_HTTP_BODY_SIZE} bytes"))
                return
        if len(trailing) >= length:
            self._start_http(trailing[:length])
        else:
            self._early = bytearray(trailing)
            self._body_needed = length
            self._phase = _BODY

    def _start_http(self, body: bytes) -> None:
        request = self._http_request
        handler = self._registry.http_handler
        assert request is not None
        self._phase = _WAITING
        self._early = bytearray()
        if handler is None:  # detached meanwhile
            self._answer(_plain_response(404, "not found"))
            return
        target = request.target
        path, _, query = target.partition("?")
        forwarded = split_forwarded_for(request.headers.get_all("X-Forwarded-For"))
        plain = Request(
            method=request.method,
            target=target,
            path=path,
            query=_parse_query(query),
            headers=request.headers,
            body=body,
            remote_address=self._settings.trusted_proxies.client_address(self.remote_address, forwarded),
            socket_address=self.remote_address,
            secure=self.secure,
            http=request,
        )
        self._task = self._registry.spawn(self._run_http(plain, handler))

    async def _run_http(self, request: Request, handler: HttpHandler) -> None:
        try:
            result = await handler(request)
        except Exception:
            self.logger.exception("connection %d: http_handler failed", self.id)
            self._answer(_plain_response(500, "internal server error"))
            return
        if result is None:
            data = _plain_response(404, "not found")
        else:
            try:
                data = _serialize(result, head=request.method == "HEAD")
            except (TypeError, ValueError):
                self.logger.exception("connection %d: invalid response from http_handler", self.id)
                data = _plain_response(500, "internal server error")
        self.logger.debug(
            "connection %d: %s %s: %s", self.id, request.method, request.target, data[9:12].decode("ascii")
        )
        self._answer(data)

    def __repr__(self) -> str:
        resource = self.request.resource if self.request is not None else ""
        return f"<ServerConnection {self.id} {self.state.name} {resource} {self.remote_address}>"


def _parse_query(query: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(query, keep_blank_values=True)


class _Answerer:
    """A request's way back to its connection (see `wsserver._request.Answerer`).

    It refers to the connection weakly: the connection holds the request, and the
    request holds this.
    """

    __slots__ = ("_connection",)

    def __init__(self, connection: ServerConnection) -> None:
        self._connection = weakref.ref(connection)

    def connection(self) -> ServerConnection | None:
        return self._connection()

    def _alive(self) -> ServerConnection:
        connection = self._connection()
        if connection is None:
            raise InvalidState("the connection of this request is gone")
        return connection

    def accept(
        self,
        request: WebSocketRequest,
        subprotocol: str | None,
        origin: str | None,
        cookies: Sequence[SetCookie],
        headers: HeadersLike,
    ) -> ServerConnection:
        return self._alive()._accept(request, subprotocol, origin, cookies, headers)

    def reject(
        self, request: WebSocketRequest, status: int, reason: str | None, headers: HeadersLike, body: bytes | None
    ) -> None:
        self._alive()._reject(request, status, reason, headers, body)


def refuse_handshake(connection: ServerConnection, status: int, reason: str) -> None:
    """Refuse a connection still in its opening handshake on the server's own account
    (the server's shutdown): answer `status`, reject its request, cancel its handler."""
    connection._server_reject(status, reason)
