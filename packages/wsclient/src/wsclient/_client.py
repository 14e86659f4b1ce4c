"""The asyncio client: `WebSocketClient`, `connect` and the client connection.

One call to [`WebSocketClient.connect`][wsclient.WebSocketClient.connect] does, for
each hop (the first URL, then each redirect):

1. choose a proxy (argument, else environment) and build the request;
2. open TCP (or the Unix socket), to the proxy when there is one, then ``CONNECT``
   through it; TLS to the proxy for an ``https://`` proxy;
3. TLS for ``wss://`` (inside the tunnel when there is one);
4. send the opening handshake, read the answer: 101 opens the connection; a redirect
   starts the next hop on a new connection; anything else raises
   [`HandshakeFailed`][wsclient.HandshakeFailed].

`open_timeout` bounds all of it together.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl as ssl_module
import sys
import types
from collections.abc import Awaitable, Generator, Sequence
from typing import Any, Final, TypeAlias, TypeVar, cast

from wsframe import (
    ClientHandshake,
    ClientPerMessageDeflate,
    ConnectionOptions,
    HandshakeError,
    HandshakeInvalid,
    HandshakeState,
    Headers,
)
from wsframe.asyncio import WebSocketConnection
from wsframe.extensions import ClientExtensionFactory
from wsframe.http import HeadersLike, HttpResponse, ResponseParser, is_token, serialize_request
from wsframe.options import (
    DEFAULT_CLIENT_MAX_MESSAGE_SIZE,
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_FRAGMENTATION_THRESHOLD,
    DEFAULT_KEEPALIVE_GRACE,
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_MAX_QUEUE,
    DEFAULT_OPEN_TIMEOUT,
    DEFAULT_WRITE_LIMIT,
    DriverOptions,
    check_int,
    check_number,
)

from ._errors import HandshakeFailed, HandshakeInterrupted, OpenTimeout, ProxyError, RedirectError
from ._url import ProxyURL, WebSocketURL, parse_proxy_url, parse_url, proxy_from_environment

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_OPEN_TIMEOUT",
    "DEFAULT_USER_AGENT",
    "ClientConnection",
    "Connect",
    "WebSocketClient",
    "connect",
]

from . import __version__

#: Largest received message on the client: 8 MiB, as WebSocket-Node's client; the server
#: and the sans-IO core default to 1 MiB. [`wsframe.options.DEFAULT_CLIENT_MAX_MESSAGE_SIZE`][]
#: (the same object) says why they differ.
DEFAULT_MAX_MESSAGE_SIZE: Final = DEFAULT_CLIENT_MAX_MESSAGE_SIZE
#: Redirects followed before giving up.
DEFAULT_MAX_REDIRECTS: Final = 5
#: The `User-Agent` header sent unless `user_agent` or `headers` say otherwise.
DEFAULT_USER_AGENT: Final = f"Python/{sys.version_info[0]}.{sys.version_info[1]} wskit-client/{__version__}"

#: Statuses of redirects that are followed.
REDIRECT_STATUSES: Final = frozenset((301, 302, 303, 307, 308))

#: Largest head of a proxy's answer to ``CONNECT``.
_MAX_PROXY_HEAD = 16 * 1024

_T = TypeVar("_T")

Protocols: TypeAlias = "str | Sequence[str] | None"


class _Unset:
    """The type of `UNSET`: "use the client's setting"."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


class ClientConnection(WebSocketConnection):
    """A WebSocket connection opened by the client.

    The API is the server side's: `send`, `recv`, ``async for``, `ping`, `close`,
    `recv_fragment` when fragments are streamed. It is also an async context manager
    that closes the connection on exit: ``async with await client.connect(url) as ws``.

    Applications get instances from [`connect`][wsclient.connect] or
    [`WebSocketClient.connect`][wsclient.WebSocketClient.connect]; they do not build
    them. A subclass may be given to `WebSocketClient(connection_factory=...)`.

    The opening handshake is wsframe's sans-IO
    [`ClientHandshake`][wsframe.ClientHandshake]: this class writes its request, feeds
    it the answer and, once it is open, switches to the frame connection it hands over.

    Attributes:
        url: the URL of the connection, after redirects, without credentials.
        response: the server's ``101 Switching Protocols`` response (its
            `headers` hold cookies the server set, for example).
        subprotocol: the subprotocol the server chose, or None.
        extensions: names of the negotiated extensions, such as
            ``["permessage-deflate"]``.
        request: the opening handshake request as sent (bytes).
    """

    # Slots, as WebSocketConnection's (which keeps __dict__ and __weakref__ available).
    __slots__ = (
        "_handshake",
        "_opening",
        "request",
        "response",
        "url",
    )

    def __init__(
        self,
        *,
        url: WebSocketURL,
        request: bytes | ClientHandshake,
        key: str,
        subprotocols: Sequence[str],
        factories: Sequence[ClientExtensionFactory],
        options: ConnectionOptions,
        close_timeout: float | None = DEFAULT_CLOSE_TIMEOUT,
        keepalive_interval: float | None = DEFAULT_KEEPALIVE_INTERVAL,
        keepalive_grace: float | None = DEFAULT_KEEPALIVE_GRACE,
        max_queue: int = DEFAULT_MAX_QUEUE,
        write_limit: int = DEFAULT_WRITE_LIMIT,
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
    ) -> None:
        super().__init__(
            close_timeout=close_timeout,
            keepalive_interval=keepalive_interval,
            keepalive_grace=keepalive_grace,
            max_queue=max_queue,
            write_limit=write_limit,
            logger=logger if logger is not None else logging.getLogger("wsclient"),
        )
        # `request` is the client's handshake; request bytes built with
        # wsframe.handshake.build_request (and their key, subprotocols and factories) also do.
        if isinstance(request, ClientHandshake):
            handshake = request
        else:
            handshake = ClientHandshake.from_request(
                request, key=key, subprotocols=subprotocols, extensions=factories, options=options
            )
        self.url = str(url)
        self.request = handshake.request
        self.response: HttpResponse | None = None
        self._handshake = handshake
        self._opening: asyncio.Future[HttpResponse] = self.loop.create_future()

    # ------------------------------------------------------------ handshake

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the opening handshake request."""
        super().connection_made(transport)
        cast(asyncio.Transport, transport).write(self._handshake.data_to_send())  # always a stream transport

    def handshake_data_received(self, data: bytes) -> None:
        if self._opening.done():
            return  # failed already: the transport is being aborted
        self._handshake.receive_data(data)
        self._handshake_event()

    def _handshake_event(self, closed: Exception | None = None, *, eof: bool = False) -> None:
        """Act on the handshake's answer, if it has one; `eof` when the connection closed."""
        handshake = self._handshake
        event = handshake.next_event()
        if event is None:
            return
        response = self.response = handshake.response
        if isinstance(event, HandshakeInvalid):
            error = event.error
            if eof and isinstance(error, HandshakeError):
                error = HandshakeInterrupted("connection closed during the opening handshake")
                error.__cause__ = closed
            self._fail_handshake(error)
            return
        assert response is not None  # ResponseReceived
        self._opening.set_result(response)
        if handshake.state is HandshakeState.OPEN:
            self.subprotocol = handshake.subprotocol
            self.extensions = [extension.name for extension in handshake.extensions]
            self.handshake_complete(handshake.connection, handshake.trailing_data)
        elif (transport := self.transport) is not None:  # refused: a redirect or an error, read with its body
            transport.close()

    def _fail_handshake(self, exc: BaseException) -> None:
        if not self._opening.done():
            self._opening.set_exception(exc)
            self._opening.exception()  # retrieved: the opener may have been cancelled
        if (transport := self.transport) is not None:
            transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        """End a pending handshake, then do what every connection does."""
        if not self._opening.done():
            self._handshake.receive_eof()  # a refusal whose body lasted until the close, or a cut head
            self._handshake_event(exc, eof=True)
        super().connection_lost(exc)

    async def _wait_handshake(self) -> HttpResponse:
        return await self._opening

    # ------------------------------------------------------ context manager


class _TunnelProtocol(asyncio.Protocol):
    """Reads a proxy's answer to ``CONNECT``; the transport is handed over afterwards."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.answer: asyncio.Future[tuple[HttpResponse, bytes]] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._searched = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # always a stream transport

    def _fail(self, exc: BaseException) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)
            self.answer.exception()
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.answer.done():
            return
        buffer = self._buffer
        buffer += data
        # The head ends at the first empty line (CRLF CRLF, or bare LFs).
        start = max(0, self._searched - 3)
        ends = [i for i in (buffer.find(b"\r\n\r\n", start), buffer.find(b"\n\n", start)) if i >= 0]
        self._searched = len(buffer)
        if not ends:
            if len(buffer) > _MAX_PROXY_HEAD:
                self._fail(ProxyError("answer of the proxy is too large"))
            return
        end = min(ends)
        end += 4 if buffer[end : end + 4] == b"\r\n\r\n" else 2
        parser = ResponseParser()
        try:
            response = parser.feed(bytes(buffer[:end]))
            if response is None:
                # A 2xx answer to CONNECT has no body (RFC 9110 section 9.3.6): the head is all.
                response = parser.feed_eof()
        except HandshakeError as exc:
            self._fail(ProxyError(f"invalid answer from the proxy: {exc}"))
            return
        assert self.transport is not None
        self.transport.pause_reading()
        self.answer.set_result((response, bytes(buffer[end:])))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.answer.done():
            error = HandshakeInterrupted("proxy closed the connection before answering")
            error.__cause__ = exc
            self.answer.set_exception(error)
            self.answer.exception()


class _Progress:
    """What the opening is doing, for the message of an `OpenTimeout`."""

    __slots__ = ("stage",)

    def __init__(self) -> None:
        self.stage = "connecting"


def _normalize_protocols(protocols: Protocols) -> tuple[str, ...]:
    if protocols is None or protocols == "":
        return ()
    if isinstance(protocols, str):
        protocols = [protocols]
    result = tuple(protocols)
    for name in result:
        if not isinstance(name, str) or not is_token(name):
            raise ValueError(f"subprotocol {name!r} is not a token")
    if len(set(result)) != len(result):
        raise ValueError("protocols must be distinct")
    return result


def _join_location(url: WebSocketURL, location: str) -> WebSocketURL:
    """Resolve a `Location` against `url`; http(s) targets become ws(s)."""
    import urllib.parse

    base = f"{'https' if url.secure else 'http'}://{url.host_header}{url.target}"
    joined = urllib.parse.urljoin(base, location.strip())
    scheme, sep, rest = joined.partition("://")
    mapped = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(scheme.lower())
    if not sep or mapped is None:
        raise ValueError(f"scheme {scheme!r} is not ws, wss, http or https")
    return parse_url(f"{mapped}://{rest.partition('#')[0]}")


_default_ssl_context: ssl_module.SSLContext | None = None


class WebSocketClient:
    """Opens WebSocket connections with shared settings (WebSocket-Node's `WebSocketClient`).

    Every argument is keyword-only and has a default suited to a client talking to
    servers it does not control. The limits, fragmentation and timeouts have the same
    names and meanings as on the server side.

    Args:
        version: the protocol version to speak, 13 (RFC 6455) or 8 (hybi-10, for old
            servers; only the origin header's name differs).
        permessage_deflate: offer compression (RFC 7692): True (the default) offers it
            with [`ClientPerMessageDeflate`][wsframe.ClientPerMessageDeflate]'s defaults;
            a `ClientPerMessageDeflate` offers it with its settings; False does not
            offer it.
        extensions: further extension factories to offer, after permessage-deflate.
        user_agent: the `User-Agent` header; None sends none. A `User-Agent` in the
            `headers` of a `connect` call wins.
        max_message_size: largest received message in bytes, after decompression
            (default 8 MiB, as WebSocket-Node's client, where the server's is 1 MiB:
            [`DEFAULT_CLIENT_MAX_MESSAGE_SIZE`][wsframe.options.DEFAULT_CLIENT_MAX_MESSAGE_SIZE]
            says why); None for no limit.
        max_frame_size: largest received frame payload, or None (the default) for the
            `max_message_size` bound alone. WebSocket-Node's client: 1 MiB.
        assemble_fragments: True to receive whole messages with `recv()`; False to
            stream each frame with `recv_fragment()`.
        fragment_outgoing_messages: split outgoing messages larger than
            `fragmentation_threshold`.
        fragmentation_threshold: payload size of outgoing fragments (64 KiB).
        max_queue: received messages that may wait for the application before
            reading pauses.
        write_limit: write buffer size above which `send()` waits (64 KiB).
        open_timeout: seconds to open a connection, everything included (DNS, TCP,
            TLS, proxy, redirects, handshake); None waits forever. Default 10.
        close_timeout: seconds to wait for the closing handshake (default 5).
        keepalive_interval: seconds of silence from the server before a ping (default
            20); None turns keepalive off. On by default, unlike WebSocket-Node's
            client: long-lived clients sit behind NATs and proxies that drop idle
            connections, and a dead server is only noticed by a ping that is not
            answered. The ping goes out only after that much silence, so a busy
            connection never sends one.
        keepalive_grace: seconds to wait for any data after that ping before the
            connection is dropped with 1006 (default 10); None only pings.
        max_redirects: redirects (301, 302, 303, 307, 308) followed, each on a new
            connection; ``wss://`` never redirects to ``ws://``; 0 follows none.
        logger: where the client logs; default ``logging.getLogger("wsclient")``.
        connection_factory: the class of the connections made (a `ClientConnection`
            subclass).

    The shared options are validated by [`ConnectionOptions`][wsframe.ConnectionOptions]
    (`options`) and [`DriverOptions`][wsframe.options.DriverOptions] (`driver`), the others
    by the same validators ([`wsframe.options`][wsframe.options]).

    Raises:
        ValueError: a setting out of its range, named.
        TypeError: a setting of the wrong type (a bool where a number is expected
            included), named.
    """

    def __init__(
        self,
        *,
        version: int = 13,
        # Extensions
        permessage_deflate: bool | ClientPerMessageDeflate = True,
        extensions: Sequence[ClientExtensionFactory] = (),
        # HTTP
        user_agent: str | None = DEFAULT_USER_AGENT,
        # Limits and fragmentation
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        max_frame_size: int | None = None,
        assemble_fragments: bool = True,
        fragment_outgoing_messages: bool = True,
        fragmentation_threshold: int = DEFAULT_FRAGMENTATION_THRESHOLD,
        max_queue: int = DEFAULT_MAX_QUEUE,
        write_limit: int = DEFAULT_WRITE_LIMIT,
        # Timeouts
        open_timeout: float | None = DEFAULT_OPEN_TIMEOUT,
        close_timeout: float | None = DEFAULT_CLOSE_TIMEOUT,
        keepalive_interval: float | None = DEFAULT_KEEPALIVE_INTERVAL,
        keepalive_grace: float | None = DEFAULT_KEEPALIVE_GRACE,
        # Redirects
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        # Logging and subclassing
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
        connection_factory: type[ClientConnection] = ClientConnection,
    ) -> None:
        check_int("version", version)
        if version not in (13, 8):
            raise ValueError(f"version must be 13 or 8, not {version!r}")
        if isinstance(permessage_deflate, bool):
            deflate: list[ClientExtensionFactory] = [ClientPerMessageDeflate()] if permessage_deflate else []
        elif isinstance(permessage_deflate, ClientPerMessageDeflate):
            deflate = [permessage_deflate]
        else:
            raise TypeError(
                f"permessage_deflate must be a bool or a ClientPerMessageDeflate, not {permessage_deflate!r}"
            )
        for factory in extensions:
            if not isinstance(factory, ClientExtensionFactory):
                raise TypeError(f"extensions must be ClientExtensionFactory objects, not {factory!r}")
        names = [factory.name.lower() for factory in [*deflate, *extensions]]
        if len(set(names)) != len(names):
            raise ValueError("extensions must not offer the same extension twice")
        if user_agent is not None:
            Headers([("User-Agent", user_agent)])  # validates: ValueError on CR/LF
        driver = DriverOptions(
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            keepalive_interval=keepalive_interval,
            keepalive_grace=keepalive_grace,
            max_queue=max_queue,
            write_limit=write_limit,
        )
        check_int("max_redirects", max_redirects, minimum=0)
        if not (isinstance(connection_factory, type) and issubclass(connection_factory, ClientConnection)):
            raise TypeError(f"connection_factory must be a ClientConnection subclass, not {connection_factory!r}")

        self.version = version
        self.factories: tuple[ClientExtensionFactory, ...] = (*deflate, *extensions)
        """The extension factories offered, in order."""
        self.user_agent = user_agent
        self.options = ConnectionOptions(
            max_message_size=max_message_size,
            max_frame_size=max_frame_size,
            assemble_fragments=assemble_fragments,
            fragment_outgoing_messages=fragment_outgoing_messages,
            fragmentation_threshold=fragmentation_threshold,
        )
        """The sans-IO connection options (limits and fragmentation), validated."""
        self.driver = driver
        """The timers and flow control of each connection, validated."""
        self.max_queue = driver.max_queue
        self.write_limit = driver.write_limit
        self.open_timeout = driver.open_timeout
        self.close_timeout = driver.close_timeout
        self.keepalive_interval = driver.keepalive_interval
        self.keepalive_grace = driver.keepalive_grace
        self.max_redirects = max_redirects
        self.logger: logging.Logger | logging.LoggerAdapter[Any] = (
            logger if logger is not None else logging.getLogger("wsclient")
        )
        self.connection_factory = connection_factory

    # ----------------------------------------------------------------- TLS

    def default_ssl_context(self) -> ssl_module.SSLContext:
        """The TLS context used for ``wss://`` and ``https://`` proxies unless one is given.

        `ssl.create_default_context()`: certificates verified against the system's
        trust store, host names checked; ALPN offers ``http/1.1``. Made once per
        process (loading the trust store takes milliseconds) and shared by every
        client: do not modify it; pass your own context with `ssl=` instead.

        Returns:
            The context.
        """
        global _default_ssl_context
        if _default_ssl_context is None:
            context = ssl_module.create_default_context()
            context.set_alpn_protocols(["http/1.1"])
            _default_ssl_context = context
        return _default_ssl_context

    # -------------------------------------------------------------- connect

    async def connect(
        self,
        url: str | WebSocketURL,
        protocols: Protocols = None,
        origin: str | None = None,
        headers: HeadersLike | None = None,
        *,
        ssl: ssl_module.SSLContext | None = None,
        server_hostname: str | None = None,
        unix_socket: str | None = None,
        proxy: str | bool | None = True,
        proxy_ssl: ssl_module.SSLContext | None = None,
        open_timeout: float | _Unset | None = UNSET,
    ) -> ClientConnection:
        """Open a connection (WebSocket-Node's `connect`, minus the events).

        Args:
            url: ``ws://`` or ``wss://`` URL (or one parsed by
                [`parse_url`][wsclient.parse_url]). A userinfo (``wss://user:pw@host/``) is sent
                as `Authorization: Basic`, and not to another host after a redirect.
            protocols: subprotocols to offer, preferred first: a sequence of tokens, or
                one as a string. The server may choose none of them: check
                `connection.subprotocol`.
            origin: the `Origin` header (`Sec-WebSocket-Origin` for version 8); none by
                default, as non-browser clients do.
            headers: extra request headers (cookies, authorization, ...): a
                [`Headers`][wsframe.Headers], a mapping or ``(name, value)`` pairs. A
                `Host` here replaces the URL's. `Upgrade`, `Connection` and
                `Sec-WebSocket-*` are refused.
            ssl: the TLS context for ``wss://``; by default
                [`default_ssl_context()`][wsclient.WebSocketClient.default_ssl_context]
                (system trust store, host name checked). Not allowed with ``ws://``.
            server_hostname: the name sent with SNI and checked against the server's
                certificate, instead of the URL's host (``wss://`` only).
            unix_socket: path of a Unix socket to connect to instead of the URL's host
                and port; the URL still gives `Host`, the target and ``ws``/``wss``.
            proxy: True (the default) for the proxy the environment sets
                (`https_proxy` for ``wss://``, `http_proxy` for ``ws://``, `all_proxy`,
                `no_proxy`); a ``http://`` or ``https://`` proxy URL, with credentials
                for `Proxy-Authorization: Basic` if needed; None or False for none.
            proxy_ssl: the TLS context for an ``https://`` proxy; by default
                `default_ssl_context()`.
            open_timeout: overrides the client's `open_timeout` for this call.

        Returns:
            The open connection.

        Raises:
            HandshakeFailed: the server answered with a status other than 101 (carries
                status, headers and body); `RedirectError` for a redirect not followed.
            HandshakeError: the answer is not a valid opening handshake (bad
                `Sec-WebSocket-Accept`, `Upgrade` or `Connection`, malformed HTTP).
            NegotiationError: the server chose a subprotocol or extension that was
                not offered, or refused an extension's parameters.
            ProxyError: the proxy refused to open the tunnel.
            OpenTimeout: `open_timeout` elapsed.
            HandshakeInterrupted: the connection closed before the server answered.
            OSError: the network failed: `ConnectionRefusedError`, `socket.gaierror`,
                `ssl.SSLCertVerificationError` (certificate or host name), ...
            ValueError: an invalid URL or argument, named.
            TypeError: an argument of the wrong type, named.
        """
        target = url if isinstance(url, WebSocketURL) else parse_url(url)
        subprotocols = _normalize_protocols(protocols)
        extra = Headers(headers) if headers is not None else Headers()
        if origin is not None:
            Headers([("Origin", origin)])  # validates: ValueError on CR/LF
        if ssl is not None and not isinstance(ssl, ssl_module.SSLContext):
            raise TypeError(f"ssl must be an ssl.SSLContext or None, not {ssl!r}")
        if ssl is not None and not target.secure:
            raise ValueError("ssl is given for a ws:// url; use wss://")
        if server_hostname is not None and not target.secure:
            raise ValueError("server_hostname is given for a ws:// url; use wss://")
        if proxy_ssl is not None and not isinstance(proxy_ssl, ssl_module.SSLContext):
            raise TypeError(f"proxy_ssl must be an ssl.SSLContext or None, not {proxy_ssl!r}")
        explicit_proxy: ProxyURL | None = None
        if isinstance(proxy, str):
            explicit_proxy = parse_proxy_url(proxy)
        elif proxy is not None and not isinstance(proxy, bool):
            raise TypeError(f"proxy must be a url, True, False or None, not {proxy!r}")
        use_env_proxy = proxy is True and unix_socket is None
        if unix_socket is not None and explicit_proxy is not None:
            raise ValueError("unix_socket and proxy cannot be used together")
        timeout = self.open_timeout if isinstance(open_timeout, _Unset) else open_timeout
        check_number("open_timeout", timeout, optional=True)

        progress = _Progress()
        opening = self._open(
            target,
            subprotocols,
            origin,
            extra,
            ssl=ssl,
            server_hostname=server_hostname,
            unix_socket=unix_socket,
            explicit_proxy=explicit_proxy,
            use_env_proxy=use_env_proxy,
            proxy_ssl=proxy_ssl,
            progress=progress,
        )
        return await _with_timeout(opening, timeout, progress)

    async def _open(
        self,
        url: WebSocketURL,
        subprotocols: tuple[str, ...],
        origin: str | None,
        headers: Headers,
        *,
        ssl: ssl_module.SSLContext | None,
        server_hostname: str | None,
        unix_socket: str | None,
        explicit_proxy: ProxyURL | None,
        use_env_proxy: bool,
        proxy_ssl: ssl_module.SSLContext | None,
        progress: _Progress,
    ) -> ClientConnection:
        """Connect, following redirects."""
        first = url
        redirects = 0
        while True:
            proxy = explicit_proxy
            if use_env_proxy:
                env_proxy = proxy_from_environment(url)
                if env_proxy is not None:
                    try:
                        proxy = parse_proxy_url(env_proxy)
                    except ValueError as exc:
                        raise ProxyError(f"invalid proxy in the environment: {exc}") from None
            same_origin = url.origin == first.origin
            hop_headers = headers if same_origin else _without_credentials(headers)
            connection = await self._connect_once(
                url,
                subprotocols,
                origin,
                hop_headers,
                ssl=ssl,
                server_hostname=server_hostname if url.host == first.host else None,
                unix_socket=unix_socket,
                proxy=proxy,
                proxy_ssl=proxy_ssl,
                progress=progress,
            )
            response = connection.response
            assert response is not None
            if response.status == 101:
                self.logger.debug("connection %d: open to %s", connection.id, connection.url)
                return connection
            if response.status not in REDIRECT_STATUSES:
                raise HandshakeFailed(response, url=str(url))
            if redirects >= self.max_redirects:
                raise RedirectError(
                    response, url=str(url), message=f"too many redirects ({self.max_redirects} allowed)"
                )
            location = response.headers.get("Location")
            if not location:
                raise RedirectError(response, url=str(url), message=f"redirect {response.status} without Location")
            try:
                next_url = _join_location(url, location)
            except ValueError as exc:
                raise RedirectError(
                    response, url=str(url), message=f"redirect to an invalid Location {location[:60]!r}: {exc}"
                ) from None
            if url.secure and not next_url.secure:
                raise RedirectError(response, url=str(url), message=f"refusing redirect from wss to {next_url}")
            if unix_socket is not None and next_url.origin != url.origin:
                raise RedirectError(
                    response, url=str(url), message=f"refusing redirect to another host over a unix socket: {next_url}"
                )
            if next_url.username is None and next_url.origin == url.origin:
                next_url = dataclasses.replace(next_url, username=url.username, password=url.password)
            redirects += 1
            self.logger.info("redirect %d from %s to %s", response.status, url, next_url)
            url = next_url

    async def _connect_once(
        self,
        url: WebSocketURL,
        subprotocols: tuple[str, ...],
        origin: str | None,
        headers: Headers,
        *,
        ssl: ssl_module.SSLContext | None,
        server_hostname: str | None,
        unix_socket: str | None,
        proxy: ProxyURL | None,
        proxy_ssl: ssl_module.SSLContext | None,
        progress: _Progress,
    ) -> ClientConnection:
        """One hop: transport, TLS, handshake; returns once the answer is read."""
        loop = asyncio.get_running_loop()
        request_headers = headers.copy()
        if "Authorization" not in request_headers and url.authorization is not None:
            request_headers.add("Authorization", url.authorization)
        if "User-Agent" not in request_headers and self.user_agent is not None:
            request_headers.add("User-Agent", self.user_agent)
        handshake = ClientHandshake(
            url.host_header,
            url.target,
            version=self.version,
            subprotocols=subprotocols,
            extensions=self.factories,
            origin=origin,
            headers=request_headers,
            options=self.options,
        )
        connection = self.connection_factory(
            url=url,
            request=handshake,
            key=handshake.key,
            subprotocols=subprotocols,
            factories=self.factories,
            options=self.options,
            close_timeout=self.close_timeout,
            keepalive_interval=self.keepalive_interval,
            keepalive_grace=self.keepalive_grace,
            max_queue=self.max_queue,
            write_limit=self.write_limit,
            logger=self.logger,
        )
        context = (ssl if ssl is not None else self.default_ssl_context()) if url.secure else None
        sni = (server_hostname or url.host) if context is not None else None
        if proxy is not None and proxy.secure and context is not None and sys.version_info < (3, 11):
            # asyncio's start_tls() cannot wrap a TLS transport before Python 3.11.
            raise ProxyError("wss:// through an https:// proxy needs Python 3.11 or later")
        try:
            if proxy is not None:
                transport, extra = await self._tunnel(url, proxy, proxy_ssl, progress)
                if context is not None:
                    progress.stage = f"TLS handshake with {url.authority} through the proxy"
                    try:
                        tls = await loop.start_tls(transport, connection, context, server_hostname=sni)
                    except BaseException:
                        transport.abort()
                        raise
                    if tls is None:  # pragma: no cover - only when the loop is closing
                        transport.abort()
                        raise HandshakeInterrupted("connection closed during the TLS handshake")
                    progress.stage = "opening handshake"
                    connection.connection_made(tls)
                else:
                    progress.stage = "opening handshake"
                    transport.set_protocol(connection)
                    connection.connection_made(transport)
                    if extra:
                        connection.data_received(extra)
                    transport.resume_reading()
            elif unix_socket is not None:
                progress.stage = f"connecting to {unix_socket}"
                await loop.create_unix_connection(lambda: connection, unix_socket, ssl=context, server_hostname=sni)
            else:
                progress.stage = f"connecting to {url.authority}"
                await loop.create_connection(lambda: connection, url.host, url.port, ssl=context, server_hostname=sni)
            progress.stage = "opening handshake"
            await connection._wait_handshake()
        except BaseException:
            connection.abort()
            raise
        return connection

    async def _tunnel(
        self,
        url: WebSocketURL,
        proxy: ProxyURL,
        proxy_ssl: ssl_module.SSLContext | None,
        progress: _Progress,
    ) -> tuple[asyncio.Transport, bytes]:
        """Open a tunnel to `url` through `proxy`; reading is paused on return."""
        loop = asyncio.get_running_loop()
        context = (proxy_ssl if proxy_ssl is not None else self.default_ssl_context()) if proxy.secure else None
        progress.stage = f"connecting to proxy {proxy}"
        transport, tunnel = await loop.create_connection(
            lambda: _TunnelProtocol(loop),
            proxy.host,
            proxy.port,
            ssl=context,
            server_hostname=proxy.host if context is not None else None,
        )
        try:
            headers = Headers([("Host", url.authority)])
            if proxy.authorization is not None:
                headers.add("Proxy-Authorization", proxy.authorization)
            if self.user_agent is not None:
                headers.add("User-Agent", self.user_agent)
            progress.stage = f"CONNECT {url.authority} through proxy {proxy}"
            transport.write(serialize_request("CONNECT", url.authority, headers))
            response, extra = await tunnel.answer
            if not 200 <= response.status < 300:
                phrase = f" {response.reason}" if response.reason else ""
                raise ProxyError(
                    f"proxy refused to connect to {url.authority}: {response.status}{phrase}",
                    status=response.status,
                    response=response,
                )
        except BaseException:
            transport.abort()
            raise
        return transport, extra


def _without_credentials(headers: Headers) -> Headers:
    """`headers` without `Authorization` and `Cookie`, for a redirect to another origin."""
    result = headers.copy()
    for name in ("Authorization", "Cookie"):
        if name in result:
            del result[name]
    return result


async def _with_timeout(opening: Awaitable[_T], timeout: float | None, progress: _Progress) -> _T:
    """Await `opening`, raising `OpenTimeout` after `timeout` seconds."""
    if timeout is None:
        return await opening
    if sys.version_info >= (3, 11):
        context = asyncio.timeout(timeout)
        try:
            async with context:
                return await opening
        except TimeoutError as exc:
            if not context.expired():
                raise
            raise OpenTimeout(f"timed out after {timeout:g} s during {progress.stage}") from exc
    else:  # pragma: no cover - Python 3.10
        try:
            return await asyncio.wait_for(opening, timeout)
        except asyncio.TimeoutError as exc:
            raise OpenTimeout(f"timed out after {timeout:g} s during {progress.stage}") from exc


#: Keyword arguments of `WebSocketClient()`, as opposed to those of `connect()`.
CLIENT_ARGUMENTS: Final = frozenset(
    {
        "version",
        "permessage_deflate",
        "extensions",
        "user_agent",
        "max_message_size",
        "max_frame_size",
        "assemble_fragments",
        "fragment_outgoing_messages",
        "fragmentation_threshold",
        "max_queue",
        "write_limit",
        "open_timeout",
        "close_timeout",
        "keepalive_interval",
        "keepalive_grace",
        "max_redirects",
        "logger",
        "connection_factory",
    }
)
#: Keyword-only arguments of `WebSocketClient.connect()`.
CONNECT_ARGUMENTS: Final = frozenset({"ssl", "server_hostname", "unix_socket", "proxy", "proxy_ssl"})


def split_arguments(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split keyword arguments into those of `WebSocketClient()` and of `connect()`.

    Raises:
        TypeError: an argument that neither takes, named.
    """
    client_kwargs: dict[str, Any] = {}
    connect_kwargs: dict[str, Any] = {}
    for name, value in kwargs.items():
        if name in CLIENT_ARGUMENTS:
            client_kwargs[name] = value
        elif name in CONNECT_ARGUMENTS:
            connect_kwargs[name] = value
        else:
            raise TypeError(f"connect() got an unexpected keyword argument {name!r}")
    return client_kwargs, connect_kwargs


class Connect:
    """What [`connect`][wsclient.connect] returns: await it, or use it with ``async with``.

    ``ws = await connect(url)`` gives the open connection, which you close yourself;
    ``async with connect(url) as ws:`` closes it when the block ends.
    """

    def __init__(
        self,
        url: str,
        protocols: Protocols = None,
        origin: str | None = None,
        headers: HeadersLike | None = None,
        **kwargs: Any,
    ) -> None:
        client_kwargs, connect_kwargs = split_arguments(kwargs)
        self.client = WebSocketClient(**client_kwargs)
        """The client that opens the connection."""
        self._args = (url, protocols, origin, headers)
        self._connect_kwargs = connect_kwargs
        self.connection: ClientConnection | None = None
        """The connection, once open."""

    async def _connect(self) -> ClientConnection:
        url, protocols, origin, headers = self._args
        self.connection = await self.client.connect(url, protocols, origin, headers, **self._connect_kwargs)
        return self.connection

    def __await__(self) -> Generator[Any, None, ClientConnection]:
        return self._connect().__await__()

    async def __aenter__(self) -> ClientConnection:
        return await self._connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        if self.connection is not None:
            await self.connection.close()


def connect(
    url: str,
    protocols: Protocols = None,
    origin: str | None = None,
    headers: HeadersLike | None = None,
    **kwargs: Any,
) -> Connect:
    """Open a WebSocket connection: ``async with connect(url) as ws:`` or ``ws = await connect(url)``.

    A shortcut for ``WebSocketClient(**settings).connect(url, ...)``: the keyword
    arguments are those of [`WebSocketClient`][wsclient.WebSocketClient] (limits,
    timeouts, extensions, ...) and the keyword-only ones of
    [`WebSocketClient.connect`][wsclient.WebSocketClient.connect] (`ssl`,
    `server_hostname`, `unix_socket`, `proxy`, `proxy_ssl`).

    Example:
        ```python
        async with connect("wss://echo.example/chat", ["chat.v1"]) as ws:
            await ws.send("hello")
            print(await ws.recv())
        ```

    Args:
        url: ``ws://`` or ``wss://`` URL.
        protocols: subprotocols to offer, preferred first.
        origin: the `Origin` header, if any.
        headers: extra request headers.
        **kwargs: settings of the client and of the connection.

    Returns:
        An awaitable async context manager that gives the open
        [`ClientConnection`][wsclient.ClientConnection]; it raises what
        `WebSocketClient.connect` raises.

    Raises:
        TypeError: an unknown keyword argument, or a setting of the wrong type.
        ValueError: a setting out of its range.
    """
    return Connect(url, protocols, origin, headers, **kwargs)
