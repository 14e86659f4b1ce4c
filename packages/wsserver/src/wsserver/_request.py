"""What the application receives: WebSocket upgrade requests, plain HTTP requests, responses."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ._frame import ExtensionHeader, Headers, HeadersLike, HttpRequest, InvalidState, OpeningRequest, SetCookie

if TYPE_CHECKING:
    from ._connection import ServerConnection

__all__ = ["Request", "Response", "WebSocketRequest", "Answerer", "record_server_rejection"]


class Answerer(Protocol):
    """What a request needs of the side that answers the client: wsserver's connection.

    The request calls it when the application decides; the connection never sets the
    request's state itself, except through `record_server_rejection()`.
    """

    def connection(self) -> ServerConnection | None:
        """The connection, while it exists."""

    def accept(
        self,
        request: WebSocketRequest,
        subprotocol: str | None,
        origin: str | None,
        cookies: Sequence[SetCookie],
        headers: HeadersLike,
    ) -> ServerConnection:
        """Send the 101 and open the connection; raise ValueError for invalid arguments."""

    def reject(
        self, request: WebSocketRequest, status: int, reason: str | None, headers: HeadersLike, body: bytes | None
    ) -> None:
        """Send the refusal; raise ValueError for invalid arguments."""


def record_server_rejection(request: WebSocketRequest, reason: str) -> None:
    """Record that the server rejected `request` on its own (a timeout, the shutdown, a
    handler that failed or returned without deciding); nothing if it was decided."""
    if not request._outcome:
        request._outcome = "rejected"
        request._rejected_by = reason


class WebSocketRequest:
    """A valid WebSocket opening handshake, waiting for the application's decision.

    The server hands one to the handler for every valid upgrade request. Inspect it, then
    call [`accept`][wsserver.WebSocketRequest.accept] (which returns the connection) or
    [`reject`][wsserver.WebSocketRequest.reject], exactly once. A handler that returns
    without doing either rejects the request with 404 ("no handler accepted the request").

    Attributes:
        origin: `Origin` (version 13) or `Sec-WebSocket-Origin` (version 8), None when
            absent (non-browser clients may omit it). Never checked by wsserver: compare it
            with the origins you serve before accepting, or any web page can open a
            connection with the visitor's cookies (cross-site WebSocket hijacking).
        host: the `Host` header, port included when the client sent one.
        resource: the request target as sent, query included (``"/chat?room=1"``).
        path: the path of the target, not percent-decoded (``"/chat"``).
        query: the parsed query: ``{"room": ["1"]}`` (percent-decoded, blank values kept).
        headers: every request header (case-insensitive lookups).
        cookies: the ``(name, value)`` pairs of the `Cookie` header, in order, not decoded.
        requested_protocols: the subprotocols the client offers, in its order of
            preference, with its spelling.
        requested_extensions: the parsed `Sec-WebSocket-Extensions` offers:
            ``[("permessage-deflate", [("client_max_window_bits", None)])]``. The server
            negotiates the extensions it is configured with; this is for information.
        version: the protocol version, 13 or 8.
        remote_address: the client's IP address. It is the socket peer's, unless that
            peer is one of the server's `trusted_proxies`: then it comes from
            `X-Forwarded-For` (see [`WebSocketServer`][wsserver.WebSocketServer]). None
            for a Unix socket peer without a trusted forwarded address.
        socket_address: the socket peer as the transport reports it: ``(host, port)``,
            ``(host, port, flowinfo, scope_id)`` for IPv6, or a Unix socket's name.
        forwarded_for: the entries of `X-Forwarded-For`, in order (never trusted by
            themselves).
        secure: True when the request came over TLS.
        opening: the validated request as wsframe parsed it.
        connection: the connection, once the request is accepted (with `auto_accept`,
            before the handler is called); None until then. The request refers to its
            connection weakly (the connection refers to its request), so a closed
            connection is freed as soon as nothing else refers to it: a request kept
            alone after its connection is gone reports None.
    """

    def __init__(
        self,
        opening: OpeningRequest,
        answerer: Answerer,
        *,
        remote_address: str | None,
        socket_address: Any,
        forwarded_for: list[str],
        secure: bool,
    ) -> None:
        self.origin: str | None = opening.origin
        self.host: str = opening.host
        self.resource: str = opening.target
        self.path: str = opening.path
        self.query: dict[str, list[str]] = opening.query
        self.headers: Headers = opening.headers
        self.cookies: list[tuple[str, str]] = opening.cookies
        self.requested_protocols: list[str] = opening.subprotocols
        self.requested_extensions: ExtensionHeader = opening.extensions
        self.version: int = opening.version
        self.remote_address: str | None = remote_address
        self.socket_address: Any = socket_address
        self.forwarded_for: list[str] = forwarded_for
        self.secure: bool = secure
        self.opening: OpeningRequest = opening
        # The answerer refers to the connection weakly: the connection holds this request
        # (`connection.request`), and a cycle would keep every closed connection, its TLS
        # buffers and deflate contexts included, until the cycle collector runs. The
        # handler's task holds the connection while the handler runs.
        self._answerer = answerer
        self._outcome = ""  # "", "accepted" or "rejected"
        self._rejected_by = ""  # why the server rejected it on its own (timeout, shutdown)

    @property
    def connection(self) -> ServerConnection | None:
        """The connection once the request is accepted, else None (see the class doc)."""
        if self._outcome != "accepted":
            return None
        return self._answerer.connection()

    @property
    def cookie_dict(self) -> dict[str, str]:
        """The cookies as a dict; for a name sent twice, the first value (browsers send the
        cookie with the most specific path first)."""
        result: dict[str, str] = {}
        for name, value in self.cookies:
            result.setdefault(name, value)
        return result

    @property
    def accepted(self) -> bool:
        """True once [`accept`][wsserver.WebSocketRequest.accept] returned."""
        return self._outcome == "accepted"

    @property
    def rejected(self) -> bool:
        """True once the request was rejected, by the application or by the server
        (open timeout, shutdown, handler error)."""
        return self._outcome == "rejected"

    @property
    def resolved(self) -> bool:
        """True once the request was accepted or rejected."""
        return bool(self._outcome)

    def _check_unresolved(self) -> None:
        if self._outcome == "accepted":
            raise InvalidState("request was already accepted; accept() and reject() are allowed once")
        if self._outcome == "rejected":
            by = f" ({self._rejected_by})" if self._rejected_by else ""
            raise InvalidState(f"request was already rejected{by}; accept() and reject() are allowed once")

    def accept(
        self,
        subprotocol: str | None = None,
        *,
        origin: str | None = None,
        cookies: Sequence[SetCookie] = (),
        headers: HeadersLike = (),
        protocol: str | None = None,
    ) -> ServerConnection:
        """Accept the request: send ``101 Switching Protocols`` and return the connection.

        Use the connection in the same handler, for example
        ``async for message in connection: await connection.send(message)``. When the
        handler returns, the server closes it with 1000 if it is still open.

        If the client disconnected before the call, the connection returned is already
        closed (code 1006), as in WebSocket-Node: its `recv()` raises
        [`ConnectionClosedError`][wsframe.ConnectionClosedError], which the server does
        not log as a handler failure.

        Args:
            subprotocol: the subprotocol to use; it must be one of `requested_protocols`,
                compared case-insensitively; the response (and `connection.subprotocol`)
                uses the client's spelling. None selects no subprotocol (a browser that
                offered some then fails the connection).
            origin: echoed as `Sec-WebSocket-Origin` to a version 8 client, as that draft
                requires; RFC 6455 (version 13) has no such response header, so it is not
                sent then.
            cookies: cookies to set with the response, distinct names.
            headers: extra response headers. `Upgrade`, `Connection`, `Content-Length`,
                `Transfer-Encoding` and `Sec-WebSocket-*` are the handshake's own.
            protocol: the former name of `subprotocol` (deprecated: "protocol" also
                names the protocol version and the asyncio protocol).

        Returns:
            The open connection.

        Raises:
            ValueError: the subprotocol was not requested, a cookie name is repeated, or
                a header is invalid or reserved (CR and LF never reach the wire). The
                request stays unresolved, so the handler can still reject it properly.
            TypeError: a cookie is not a [`SetCookie`][wsserver.SetCookie].
            InvalidState: the request was already accepted or rejected.
        """
        if protocol is not None:
            if subprotocol is not None:
                raise TypeError("accept() takes subprotocol or protocol (its former name), not both")
            warnings.warn(
                "WebSocketRequest.accept(protocol=...) is deprecated: use accept(subprotocol=...)",
                DeprecationWarning,
                stacklevel=2,
            )
            subprotocol = protocol
        self._check_unresolved()
        connection = self._answerer.accept(self, subprotocol, origin, cookies, headers)
        self._outcome = "accepted"
        return connection

    def reject(
        self,
        status: int = 403,
        reason: str | None = None,
        *,
        headers: HeadersLike = (),
        body: bytes | None = None,
    ) -> None:
        """Refuse the request with an HTTP error and close the connection.

        Args:
            status: 300 to 599 (a redirect with a `Location` header, or an error).
            reason: a short explanation, sent as `X-WebSocket-Reject-Reason` (as
                WebSocket-Node does) and, unless `body` is given, as a text body. Never
                put internal details here: the client sees it.
            headers: extra response headers (not `Connection`, `Content-Length` or
                `Transfer-Encoding`).
            body: the response body, instead of the reason.

        Raises:
            ValueError: the status is out of range or the reason or a header is invalid
                (CR and LF never reach the wire). The request stays unresolved.
            InvalidState: the request was already accepted or rejected.
        """
        self._check_unresolved()
        self._answerer.reject(self, status, reason, headers, body)
        self._outcome = "rejected"

    def __repr__(self) -> str:
        state = self._outcome or "pending"
        return f"<WebSocketRequest {self.resource!r} from {self.remote_address} {state}>"


@dataclasses.dataclass(slots=True)
class Request:
    """A plain HTTP request (not an upgrade), handed to the server's `http_handler`.

    Attributes:
        method: the method, such as ``"GET"``.
        target: the request target as sent, query included.
        path: the path of the target, not percent-decoded.
        query: the parsed query, as in [`WebSocketRequest`][wsserver.WebSocketRequest].
        headers: every request header.
        body: the body (at most 64 KiB, announced with `Content-Length`).
        remote_address: the client's IP address, as in `WebSocketRequest`.
        socket_address: the socket peer as the transport reports it.
        secure: True when the request came over TLS.
        http: the request head as wsframe parsed it.
    """

    method: str
    target: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes
    remote_address: str | None
    socket_address: Any
    secure: bool
    http: HttpRequest = dataclasses.field(repr=False)


@dataclasses.dataclass(slots=True)
class Response:
    """A plain HTTP response, returned by an `http_handler`.

    The server adds `Content-Length` and `Connection: close` (it answers one request per
    connection), and sends no body to a ``HEAD`` request.

    Attributes:
        status: the status code, 200 to 599 (1xx, 204 and 304 take no body).
        headers: the response headers (no `Content-Length`, `Transfer-Encoding` or
            `Connection`: the server sets them).
        body: the body; a `str` is encoded as UTF-8 and, without a `Content-Type`
            header, sent as ``text/plain; charset=utf-8``.

    Example:
        ```python
        async def http_handler(request: wsserver.Request) -> wsserver.Response | None:
            if request.path == "/":
                return Response(200, [("Content-Type", "text/html; charset=utf-8")], PAGE)
            return None  # 404
        ```

    """

    status: int = 200
    headers: HeadersLike = ()
    body: bytes | str = b""
