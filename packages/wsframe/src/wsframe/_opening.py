"""The opening handshake as two sans-IO objects: bytes in, events out, bytes to send.

[`ServerHandshake`][wsframe.ServerHandshake] and [`ClientHandshake`][wsframe.ClientHandshake]
hold every rule of RFC 6455 section 4 (versions 13 and 8, the key, the origin header,
subprotocols, extension negotiation, the HTTP limits and the 400, 405, 414, 426, 431
and 505 answers) so that a driver only moves bytes, as wsproto's `H11Handshake` and
websockets' `ServerProtocol` / `ClientProtocol` do. Once the handshake succeeds,
[`connection`][wsframe.ServerHandshake.connection] hands over the frame
[`Connection`][wsframe.Connection], and
[`trailing_data`][wsframe.ServerHandshake.trailing_data] the bytes that arrived after
the handshake: feed them to the connection before anything read later.

The driver loop, on either side:

1. feed every chunk read to `receive_data()` (and `receive_eof()` at the end);
2. take the events with `next_event()` until it returns None, and act on each;
3. write `data_to_send()` after every call;
4. once `state` is [`OPEN`][wsframe.HandshakeState.OPEN], switch to `connection`; once it is
   [`REFUSED`][wsframe.HandshakeState.REFUSED] or
   [`FAILED`][wsframe.HandshakeState.FAILED], write what is left and close.

Timers are the driver's: the objects read no clock.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import secrets
from collections.abc import Callable, Sequence
from typing import TypeAlias

from ._connection import Connection, Role
from ._cookies import SetCookie
from ._errors import HandshakeError, InvalidState
from ._extensions import (
    ClientExtensionFactory,
    Extension,
    ServerExtensionFactory,
    negotiate_client_extensions,
    negotiate_server_extensions,
)
from ._handshake import (
    OpeningRequest,
    build_accept_response,
    build_reject_response,
    build_request,
    check_request,
    check_response,
    generate_key,
    is_upgrade_request,
)
from ._headers import format_extension_header
from ._http import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_HEAD_SIZE,
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_LINE_SIZE,
    DEFAULT_MAX_START_LINE_SIZE,
    HeadersLike,
    HttpRequest,
    HttpResponse,
    RequestParser,
    ResponseParser,
)
from ._options import ConnectionOptions, check_int

__all__ = [
    "DEFAULT_MAX_EARLY_DATA",
    "ClientHandshake",
    "HandshakeEvent",
    "HandshakeInvalid",
    "HandshakeState",
    "HttpRequestReceived",
    "RequestReceived",
    "ResponseReceived",
    "ServerHandshake",
]

#: Bytes a client may send after its upgrade request and before the server's answer
#: (RFC 6455 section 4.1 says it should send none): 64 KiB. They are kept and handed
#: over with the connection; above the limit the server refuses with 400.
DEFAULT_MAX_EARLY_DATA = 64 * 1024

_EARLY_DATA_REASON = "data received before the handshake response"
_PLAIN_REQUEST_REASON = "this server only accepts WebSocket connections"


class HandshakeState(enum.Enum):
    """Where an opening handshake stands.

    The values are the names, lowercased.
    """

    RECEIVING = "receiving"
    """Reading the peer's request (server) or response (client) head."""
    PENDING = "pending"
    """Server: a valid upgrade request waits for `accept()` or `reject()`."""
    HTTP = "http"
    """Server: a plain HTTP request (not an upgrade) was handed to the driver."""
    OPEN = "open"
    """The 101 was sent (server) or accepted (client): `connection` takes over."""
    REFUSED = "refused"
    """Server: a refusal is queued in `data_to_send()`; client: the server answered
    with a status other than 101. The driver closes the connection."""
    FAILED = "failed"
    """Client: the response was not a valid acceptance, or the connection closed before
    it was complete. The driver closes the connection."""


@dataclasses.dataclass(frozen=True, slots=True)
class RequestReceived:
    """A valid upgrade request (server side): call `accept()` or `reject()`.

    Attributes:
        request: the validated request.
    """

    request: OpeningRequest


@dataclasses.dataclass(frozen=True, slots=True)
class HttpRequestReceived:
    """A plain HTTP request, not an upgrade (server side).

    The handshake is over: answer it yourself (its body, if any, starts the
    [`trailing_data`][wsframe.ServerHandshake.trailing_data]), or call
    [`require_upgrade`][wsframe.ServerHandshake.require_upgrade] for the 426 answer of a
    server that speaks only WebSocket.

    Attributes:
        request: the parsed request head.
    """

    request: HttpRequest


@dataclasses.dataclass(frozen=True, slots=True)
class ResponseReceived:
    """The server's answer (client side).

    A valid ``101`` leaves the handshake [`OPEN`][wsframe.HandshakeState.OPEN]; any other
    status leaves it [`REFUSED`][wsframe.HandshakeState.REFUSED] (a redirect, an error:
    the body is read, up to the parser's `max_body_size`).

    Attributes:
        response: the response.
    """

    response: HttpResponse


@dataclasses.dataclass(frozen=True, slots=True)
class HandshakeInvalid:
    """The peer broke the opening handshake's rules.

    Server side: the request is malformed, too large or not a valid upgrade, or the
    client sent too much before the answer; the refusal (with `error.status`) is queued
    in `data_to_send()`. Client side: the response is not a valid acceptance
    ([`HandshakeError`][wsframe.HandshakeError],
    [`NegotiationError`][wsframe.NegotiationError], or what an extension factory
    raised), or the connection closed before its head was complete.

    Attributes:
        error: what went wrong.
    """

    error: Exception


#: Any event of [`ServerHandshake.next_event`][wsframe.ServerHandshake.next_event] or
#: [`ClientHandshake.next_event`][wsframe.ClientHandshake.next_event].
HandshakeEvent: TypeAlias = "RequestReceived | HttpRequestReceived | ResponseReceived | HandshakeInvalid"

_Data = bytes | bytearray | memoryview


def _check_early_limit(value: int | None) -> int | None:
    check_int("max_early_data", value, minimum=0, optional=True)
    return value


class ServerHandshake:
    """The server side of the opening handshake (RFC 6455 section 4.2), without I/O.

    Feed it what the client sends; it parses the request head within the HTTP limits,
    validates the upgrade (versions 13 and 8), negotiates extensions, and answers
    invalid requests by itself. A valid request comes out as a
    [`RequestReceived`][wsframe.RequestReceived] event: decide with
    [`accept`][wsframe.ServerHandshake.accept] or [`reject`][wsframe.ServerHandshake.reject],
    then write [`data_to_send`][wsframe.ServerHandshake.data_to_send].

    Example:
        ```python
        handshake = ServerHandshake()
        while handshake.state is HandshakeState.RECEIVING:
            handshake.receive_data(sock.recv(65536))
            for event in iter(handshake.next_event, None):
                if isinstance(event, RequestReceived):
                    handshake.accept()  # or handshake.reject(403, "go away")
                elif isinstance(event, HttpRequestReceived):
                    handshake.require_upgrade()
            sock.sendall(handshake.data_to_send())
        if handshake.state is HandshakeState.OPEN:
            connection = handshake.connection
            events = connection.receive_data(handshake.trailing_data)
        ```

    Args:
        extensions: the extensions the server supports, negotiated in the client's
            order of preference.
        options: the options of the [`Connection`][wsframe.Connection] handed over;
            default `ConnectionOptions()`.
        max_start_line_size: longest request line, in bytes (414 above); None: no limit.
        max_header_count: most header lines (431 above); None: no limit.
        max_head_size: largest header section, in bytes, line ends included (431
            above); None: no limit.
        max_header_line_size: longest header line, in bytes (431 above); None: no limit.
        max_early_data: bytes the client may send after its request before the answer
            (default 64 KiB; 400 above); None: no limit.

    Raises:
        ValueError: a limit is out of range.
        TypeError: a limit is not an int or None, or an extension is not a
            `ServerExtensionFactory`.
    """

    __slots__ = (
        "_connection",
        "_early",
        "_events",
        "_ext_answer",
        "_extensions",
        "_factories",
        "_max_early_data",
        "_options",
        "_out",
        "_parser",
        "eof_received",
        "http_request",
        "request",
        "state",
        "subprotocol",
    )

    def __init__(
        self,
        *,
        extensions: Sequence[ServerExtensionFactory] = (),
        options: ConnectionOptions | None = None,
        max_start_line_size: int | None = DEFAULT_MAX_START_LINE_SIZE,
        max_header_count: int | None = DEFAULT_MAX_HEADER_COUNT,
        max_head_size: int | None = DEFAULT_MAX_HEAD_SIZE,
        max_header_line_size: int | None = DEFAULT_MAX_HEADER_LINE_SIZE,
        max_early_data: int | None = DEFAULT_MAX_EARLY_DATA,
    ) -> None:
        for factory in extensions:
            if not isinstance(factory, ServerExtensionFactory):
                raise TypeError(f"extensions must be ServerExtensionFactory objects, not {factory!r}")
        self._factories = tuple(extensions)
        self._options = options
        self._max_early_data = _check_early_limit(max_early_data)
        self._parser: RequestParser | None = RequestParser(
            max_start_line_size=max_start_line_size,
            max_header_count=max_header_count,
            max_head_size=max_head_size,
            max_header_line_size=max_header_line_size,
        )
        self._events: collections.deque[HandshakeEvent] = collections.deque()
        self._out: list[bytes] = []
        self._early = bytearray()
        self._ext_answer: str | None = None
        self._extensions: list[Extension] = []
        self._connection: Connection | None = None
        self.state = HandshakeState.RECEIVING
        """Where the handshake stands."""
        self.request: OpeningRequest | None = None
        """The validated upgrade request, once received."""
        self.http_request: HttpRequest | None = None
        """The plain HTTP request, when the client sent one instead of an upgrade."""
        self.subprotocol: str | None = None
        """The accepted subprotocol, spelled as the client offered it, or None."""
        self.eof_received = False
        """True once [`receive_eof`][wsframe.ServerHandshake.receive_eof] was called."""

    # ------------------------------------------------------------ bytes in

    def receive_data(self, data: _Data) -> None:
        """Consume bytes received from the client; then call `next_event()`.

        While reading the head, each limit is checked as soon as it is exceeded. Bytes
        after a valid request are kept (up to `max_early_data`) and handed over with the
        connection. After a refusal, bytes are discarded.

        Args:
            data: the next bytes, of any size.

        Raises:
            InvalidState: the handshake is open, or a plain request was handed over:
                the bytes belong to the connection or to the driver.
        """
        state = self.state
        if state is HandshakeState.RECEIVING:
            parser = self._parser
            assert parser is not None
            try:
                request = parser.feed(data)
            except HandshakeError as exc:
                self._invalid(exc)
                return
            if request is not None:
                self._parser = None
                self._on_request(request, parser.trailing_data)
        elif state is HandshakeState.PENDING:
            self._early += data
        elif state is HandshakeState.REFUSED:
            return
        else:
            raise InvalidState(f"handshake is {state.value}: the bytes are no longer the handshake's")

    def receive_eof(self) -> None:
        """Record that the client closed its side.

        No event follows: a request still being read will never complete, and a pending
        one may still be answered (the driver decides whether to wait for the answer).
        """
        self.eof_received = True

    def next_event(self) -> HandshakeEvent | None:
        """The next event, or None when there is none for now.

        Events: [`RequestReceived`][wsframe.RequestReceived] (decide with `accept()` or
        `reject()`), [`HttpRequestReceived`][wsframe.HttpRequestReceived], and
        [`HandshakeInvalid`][wsframe.HandshakeInvalid] (the refusal is queued). Call it
        until it returns None after every `receive_data()`: a pending request is checked
        against `max_early_data` here, after the application had its chance to decide.

        Returns:
            An event or None.
        """
        if self._events:
            return self._events.popleft()
        limit = self._max_early_data
        if self.state is HandshakeState.PENDING and limit is not None and len(self._early) > limit:
            error = HandshakeError(_EARLY_DATA_REASON, status=400)
            self._refuse(build_reject_response(400, _EARLY_DATA_REASON))
            return HandshakeInvalid(error)
        return None

    # --------------------------------------------------------- decisions

    def accept(
        self,
        subprotocol: str | None = None,
        *,
        origin: str | None = None,
        cookies: Sequence[SetCookie] = (),
        headers: HeadersLike = (),
    ) -> None:
        """Accept the pending request: queue ``101 Switching Protocols``.

        Afterwards the handshake is [`OPEN`][wsframe.HandshakeState.OPEN]: write
        `data_to_send()`, then use [`connection`][wsframe.ServerHandshake.connection] and
        feed it [`trailing_data`][wsframe.ServerHandshake.trailing_data] first.

        Args:
            subprotocol: one of the offered subprotocols, compared case-insensitively;
                the response echoes the client's spelling. None selects none.
            origin: echoed as `Sec-WebSocket-Origin` to a version 8 client; not sent to
                version 13 clients (RFC 6455 has no such response header).
            cookies: cookies to set, with distinct names.
            headers: extra response headers (not the handshake's own: `Upgrade`,
                `Connection`, `Content-Length`, `Transfer-Encoding`, `Sec-WebSocket-*`).

        Raises:
            ValueError: the subprotocol was not offered, a cookie name repeats, or a
                header is invalid or reserved; the request stays pending.
            TypeError: a cookie is not a [`SetCookie`][wsframe.cookies.SetCookie].
            InvalidState: no request is pending.
        """
        request = self.request
        if self.state is not HandshakeState.PENDING or request is None:
            raise InvalidState(f"cannot accept: handshake is {self.state.value}")
        response = build_accept_response(
            request,
            subprotocol=subprotocol,
            extensions=self._ext_answer,
            origin=origin,
            cookies=cookies,
            headers=headers,
        )
        if subprotocol is not None:
            wanted = subprotocol.lower()
            self.subprotocol = next(p for p in request.subprotocols if p.lower() == wanted)
        self._out.append(response)
        self._connection = Connection(Role.SERVER, self._options, extensions=self._extensions)
        self.state = HandshakeState.OPEN

    def reject(
        self,
        status: int = 403,
        reason: str | None = None,
        *,
        headers: HeadersLike = (),
        body: bytes | None = None,
    ) -> None:
        """Refuse the handshake: queue an HTTP error (or a redirect) and close.

        Allowed while the request is pending, and also while its head is still being
        read (a driver's own refusal: a deadline passed, the server shuts down).

        Args:
            status: 300 to 599.
            reason: sent as `X-WebSocket-Reject-Reason` and, unless `body` is given, as a
                text body.
            headers: extra headers (not `Connection`, `Content-Length` or
                `Transfer-Encoding`).
            body: the body, instead of the reason.

        Raises:
            ValueError: the status is out of range, or the reason or a header is
                invalid; the state does not change.
            InvalidState: the handshake is already answered or handed over.
        """
        if self.state not in (HandshakeState.RECEIVING, HandshakeState.PENDING):
            raise InvalidState(f"cannot reject: handshake is {self.state.value}")
        self._refuse(build_reject_response(status, reason, headers, body))

    def require_upgrade(self) -> None:
        """Answer a plain HTTP request with ``426 Upgrade Required``.

        The answer of a server that speaks only WebSocket: `Sec-WebSocket-Version: 13`,
        `Upgrade: websocket`, and the reason "this server only accepts WebSocket
        connections".

        Raises:
            InvalidState: the request is not a plain HTTP request.
        """
        if self.state is not HandshakeState.HTTP:
            raise InvalidState(f"cannot require an upgrade: handshake is {self.state.value}")
        self._refuse(build_reject_response(426, _PLAIN_REQUEST_REASON, [("Sec-WebSocket-Version", "13")]))

    # ----------------------------------------------------------- bytes out

    def data_to_send(self) -> bytes:
        """The bytes to write to the client now (the answer, once there is one).

        Returns:
            The bytes, possibly empty; each byte is returned once.
        """
        out, self._out = self._out, []
        return b"".join(out)

    # ------------------------------------------------------------ handover

    @property
    def extensions(self) -> list[Extension]:
        """The negotiated extensions, once a valid request is received."""
        return list(self._extensions)

    @property
    def connection(self) -> Connection:
        """The frame connection, once the request is accepted.

        Raises:
            InvalidState: the handshake is not open.
        """
        if self._connection is None:
            raise InvalidState(f"no connection: handshake is {self.state.value}")
        return self._connection

    @property
    def trailing_data(self) -> bytes:
        """The bytes received after the request head.

        Open: the first frames, to feed to `connection` before anything read later.
        After a plain HTTP request: its body (if any) and whatever followed.
        """
        return bytes(self._early)

    # ------------------------------------------------------------- inside

    def _invalid(self, error: HandshakeError) -> None:
        try:
            response = build_reject_response(error.status, str(error), error.headers)
        except ValueError:
            status = error.status if 300 <= error.status <= 599 else 400
            response = build_reject_response(status, "invalid request")
        self._refuse(response)
        self._events.append(HandshakeInvalid(error))

    def _refuse(self, response: bytes) -> None:
        self._out.append(response)
        self._early = bytearray()
        self._parser = None
        self.state = HandshakeState.REFUSED

    def _on_request(self, request: HttpRequest, trailing: bytes) -> None:
        self._early = bytearray(trailing)
        if not is_upgrade_request(request):
            self.http_request = request
            self.state = HandshakeState.HTTP
            self._events.append(HttpRequestReceived(request))
            return
        try:
            opening = check_request(request)
            answers, extensions = negotiate_server_extensions(opening.extensions, self._factories)
        except HandshakeError as exc:
            self._invalid(exc)
            return
        self._ext_answer = format_extension_header(answers) if answers else None
        self._extensions = extensions
        self.request = opening
        self.state = HandshakeState.PENDING
        self._events.append(RequestReceived(opening))

    def __repr__(self) -> str:
        target = f" {self.request.target}" if self.request is not None else ""
        return f"<ServerHandshake {self.state.name}{target}>"


class ClientHandshake:
    """The client side of the opening handshake (RFC 6455 section 4.1), without I/O.

    Built with the request's pieces, it queues the request at once: write
    [`data_to_send`][wsframe.ClientHandshake.data_to_send], then feed it the server's
    answer. A [`ResponseReceived`][wsframe.ResponseReceived] event reports the answer:
    a valid ``101`` leaves the handshake [`OPEN`][wsframe.HandshakeState.OPEN], with the
    chosen `subprotocol` and the negotiated
    extensions; any other status leaves it [`REFUSED`][wsframe.HandshakeState.REFUSED].
    An invalid answer gives [`HandshakeInvalid`][wsframe.HandshakeInvalid].

    Example:
        ```python
        handshake = ClientHandshake("example.com", "/chat", subprotocols=["chat"])
        sock.sendall(handshake.data_to_send())
        while handshake.state is HandshakeState.RECEIVING:
            data = sock.recv(65536)
            handshake.receive_data(data) if data else handshake.receive_eof()
        event = handshake.next_event()  # ResponseReceived or HandshakeInvalid
        if handshake.state is HandshakeState.OPEN:
            connection = handshake.connection
            events = connection.receive_data(handshake.trailing_data)
        ```

    Args:
        host: the `Host` value, with ``:port`` when not the scheme's default.
        target: the resource, path and query (``"/chat?room=1"``).
        key: the `Sec-WebSocket-Key`; by default a new one from `random`.
        random: the source of randomness for the key, called with 16.
        version: 13, or 8 for servers that speak only that draft.
        subprotocols: the subprotocols to offer, preferred first.
        extensions: the extensions to offer, in order.
        origin: sent as `Origin` (version 13) or `Sec-WebSocket-Origin` (version 8).
        headers: extra request headers, as [`build_request`][wsframe.handshake.build_request] takes.
        options: the options of the [`Connection`][wsframe.Connection] handed over.
        max_start_line_size: longest status line, in bytes (an error above); None: no limit.
        max_header_count: most header lines; None: no limit.
        max_head_size: largest header section, in bytes; None: no limit.
        max_header_line_size: longest header line, in bytes; None: no limit.
        max_body_size: most bytes kept of a refusal's body; None: no limit.

    Raises:
        ValueError: an invalid argument or header (see `build_request`) or limit.
        TypeError: a limit is not an int or None, or an extension is not a
            `ClientExtensionFactory`.
    """

    __slots__ = (
        "_connection",
        "_events",
        "_extensions",
        "_factories",
        "_offered",
        "_options",
        "_out",
        "_parser",
        "key",
        "request",
        "response",
        "state",
        "subprotocol",
    )

    state: HandshakeState
    """Where the handshake stands."""
    request: bytes
    """The request, as sent."""
    key: str
    """The `Sec-WebSocket-Key` of the request."""
    response: HttpResponse | None
    """The server's response, once read (also when it is not a valid acceptance)."""
    subprotocol: str | None
    """The subprotocol the server chose, or None."""

    def __init__(
        self,
        host: str,
        target: str,
        *,
        key: str | None = None,
        random: Callable[[int], bytes] = secrets.token_bytes,
        version: int = 13,
        subprotocols: Sequence[str] = (),
        extensions: Sequence[ClientExtensionFactory] = (),
        origin: str | None = None,
        headers: HeadersLike = (),
        options: ConnectionOptions | None = None,
        max_start_line_size: int | None = DEFAULT_MAX_START_LINE_SIZE,
        max_header_count: int | None = DEFAULT_MAX_HEADER_COUNT,
        max_head_size: int | None = DEFAULT_MAX_HEAD_SIZE,
        max_header_line_size: int | None = DEFAULT_MAX_HEADER_LINE_SIZE,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        _check_client_factories(extensions)
        if key is None:
            key = generate_key(random)
        offers = [(factory.name, factory.offer()) for factory in extensions]
        request = build_request(
            host,
            target,
            key,
            version=version,
            subprotocols=subprotocols,
            extensions=format_extension_header(offers) if offers else None,
            origin=origin,
            headers=headers,
        )
        self._setup(
            request,
            key,
            subprotocols,
            extensions,
            options,
            ResponseParser(
                max_start_line_size=max_start_line_size,
                max_header_count=max_header_count,
                max_head_size=max_head_size,
                max_header_line_size=max_header_line_size,
                max_body_size=max_body_size,
            ),
        )

    @classmethod
    def from_request(
        cls,
        request: bytes,
        *,
        key: str,
        subprotocols: Sequence[str] = (),
        extensions: Sequence[ClientExtensionFactory] = (),
        options: ConnectionOptions | None = None,
    ) -> ClientHandshake:
        """A handshake for a request already built with [`build_request`][wsframe.handshake.build_request].

        The request is sent as given; the answer is checked against `key`, the offered
        `subprotocols` and the `extensions` whose offers the request carries, and read
        within the default HTTP limits.

        Args:
            request: the request bytes.
            key: the `Sec-WebSocket-Key` of the request.
            subprotocols: the subprotocols the request offers.
            extensions: the factories whose offers the request carries.
            options: the options of the [`Connection`][wsframe.Connection] handed over.

        Returns:
            The handshake, with `request` queued.

        Raises:
            TypeError: `request` is not bytes, or an extension is not a
                `ClientExtensionFactory`.
        """
        if not isinstance(request, (bytes, bytearray)):
            raise TypeError(f"request must be bytes, not {type(request).__name__}")
        _check_client_factories(extensions)
        handshake = cls.__new__(cls)
        handshake._setup(bytes(request), key, subprotocols, extensions, options, ResponseParser())
        return handshake

    def _setup(
        self,
        request: bytes,
        key: str,
        subprotocols: Sequence[str],
        factories: Sequence[ClientExtensionFactory],
        options: ConnectionOptions | None,
        parser: ResponseParser,
    ) -> None:
        self.request = request
        self.key = key
        self._offered = tuple(subprotocols)
        self._factories = tuple(factories)
        self._options = options
        self._parser = parser
        self._events: collections.deque[HandshakeEvent] = collections.deque()
        self._out = [request]
        self._extensions: list[Extension] = []
        self._connection: Connection | None = None
        self.state = HandshakeState.RECEIVING
        self.response = None
        self.subprotocol = None

    # ------------------------------------------------------------ bytes in

    def receive_data(self, data: _Data) -> None:
        """Consume bytes received from the server; then call `next_event()`.

        Args:
            data: the next bytes, of any size. Once the handshake is refused or failed,
                bytes are discarded.

        Raises:
            InvalidState: the handshake is open: the bytes belong to `connection`.
        """
        state = self.state
        if state is HandshakeState.RECEIVING:
            try:
                response = self._parser.feed(data)
            except HandshakeError as exc:
                self._fail(exc)
                return
            if response is not None:
                self._on_response(response)
        elif state is HandshakeState.OPEN:
            raise InvalidState("handshake is open: the bytes are the connection's")

    def receive_eof(self) -> None:
        """Record that the server closed the connection.

        A refusal whose body lasts until the close is complete now
        ([`ResponseReceived`][wsframe.ResponseReceived]); a head cut short gives
        [`HandshakeInvalid`][wsframe.HandshakeInvalid] with a
        [`HandshakeError`][wsframe.HandshakeError]. Nothing happens in other states.
        """
        if self.state is not HandshakeState.RECEIVING:
            return
        try:
            response = self._parser.feed_eof()
        except HandshakeError as exc:
            self._fail(exc)
            return
        self._on_response(response)

    def next_event(self) -> HandshakeEvent | None:
        """The next event, or None when there is none for now.

        Events: [`ResponseReceived`][wsframe.ResponseReceived] and
        [`HandshakeInvalid`][wsframe.HandshakeInvalid], at most one of them.

        Returns:
            An event or None.
        """
        return self._events.popleft() if self._events else None

    # ----------------------------------------------------------- bytes out

    def data_to_send(self) -> bytes:
        """The bytes to write to the server now: the request, the first time.

        Returns:
            The bytes, possibly empty; each byte is returned once.
        """
        out, self._out = self._out, []
        return b"".join(out)

    # ------------------------------------------------------------ handover

    @property
    def extensions(self) -> list[Extension]:
        """The negotiated extensions, once open."""
        return list(self._extensions)

    @property
    def connection(self) -> Connection:
        """The frame connection, once the server accepted.

        Raises:
            InvalidState: the handshake is not open.
        """
        if self._connection is None:
            raise InvalidState(f"no connection: handshake is {self.state.value}")
        return self._connection

    @property
    def trailing_data(self) -> bytes:
        """The bytes received after the ``101`` response: the first frames, to feed to
        `connection` before anything read later. Empty in other states."""
        if self.state is not HandshakeState.OPEN:
            return b""
        return self._parser.trailing_data

    # ------------------------------------------------------------- inside

    def _fail(self, error: Exception) -> None:
        self.state = HandshakeState.FAILED
        self._events.append(HandshakeInvalid(error))

    def _on_response(self, response: HttpResponse) -> None:
        self.response = response
        if response.status != 101:
            self.state = HandshakeState.REFUSED
            self._events.append(ResponseReceived(response))
            return
        try:
            subprotocol, answers = check_response(response, key=self.key, subprotocols=self._offered)
            extensions = negotiate_client_extensions(answers, self._factories)
            connection = Connection(Role.CLIENT, self._options, extensions=extensions)
        except Exception as exc:  # HandshakeError, NegotiationError, or a broken extension factory
            self._fail(exc)
            return
        self.subprotocol = subprotocol
        self._extensions = extensions
        self._connection = connection
        self.state = HandshakeState.OPEN
        self._events.append(ResponseReceived(response))

    def __repr__(self) -> str:
        status = f" {self.response.status}" if self.response is not None else ""
        return f"<ClientHandshake {self.state.name}{status}>"


def _check_client_factories(extensions: Sequence[ClientExtensionFactory]) -> None:
    for factory in extensions:
        if not isinstance(factory, ClientExtensionFactory):
            raise TypeError(f"extensions must be ClientExtensionFactory objects, not {factory!r}")
