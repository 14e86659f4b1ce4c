"""The exceptions that opening a connection may raise.

```text
Exception
├── WebSocketError (wsframe)             root of every exception wskit raises on purpose
│   ├── HandshakeError (wsframe)         the server's answer is not a valid opening handshake:
│   │   │                                malformed HTTP, a 101 without the right Upgrade,
│   │   │                                Connection or Sec-WebSocket-Accept
│   │   ├── NegotiationError (wsframe)   a 101 choosing a subprotocol or extension not offered
│   │   └── HandshakeFailed              the server answered with a status other than 101:
│   │       │                            carries status, headers, body and the response
│   │       └── RedirectError            a redirect that is not followed: too many, wss to ws,
│   │                                    no or bad Location
│   ├── ProxyError                       the proxy refused CONNECT (status) or answered garbage
│   ├── OpenTimeout (also TimeoutError)  open_timeout elapsed before the connection was open
│   └── HandshakeInterrupted             the connection closed before the answer was complete
│       (also ConnectionError)
└── OSError                              network failures, raised as the standard library
    ├── ConnectionRefusedError           raises them: nothing listens there
    ├── socket.gaierror                  the host name does not resolve
    └── ssl.SSLError                     TLS failed, ssl.SSLCertVerificationError when the
                                         certificate or the host name does not check out
```

`OpenTimeout` and `HandshakeInterrupted` are both wskit errors and `OSError`s, so that
``except OSError`` catches every failure that is worth retrying later, and ``except
WebSocketError`` every failure wskit detected itself. `HandshakeFailed` is never an
`OSError`: the network worked, the server said no.
"""

from __future__ import annotations

from wsframe import HandshakeError, Headers, WebSocketError
from wsframe.http import HttpResponse

__all__ = [
    "HandshakeFailed",
    "HandshakeInterrupted",
    "OpenTimeout",
    "ProxyError",
    "RedirectError",
]


class HandshakeFailed(HandshakeError):
    """The server answered the opening handshake with a status other than 101.

    WebSocket-Node reports this with its `connectFailed` event, and hands the response
    to `httpResponse` listeners; here the exception carries the response.

    Args:
        response: the server's complete answer.
        url: the URL that was requested (without credentials).
        message: the text of the exception; by default the status and reason.

    Attributes:
        status: the HTTP status code the server answered with, such as 403.
        reason: the reason phrase of the status line, possibly empty.
        headers: the response's header lines, as ``(name, value)`` pairs.
        body: the response's body, at most 64 KiB (see `response.body_truncated`).
        response: the parsed response, whose `headers` is a case-insensitive
            [`Headers`][wsframe.Headers].
        url: the URL that was requested.
    """

    def __init__(self, response: HttpResponse, *, url: str = "", message: str | None = None) -> None:
        if message is None:
            phrase = f" {response.reason}" if response.reason else ""
            message = f"server rejected the connection with status {response.status}{phrase}"
        super().__init__(message, status=response.status, headers=response.headers.items())
        self.response = response
        self.url = url

    @property
    def reason(self) -> str:
        """The reason phrase of the status line."""
        return self.response.reason

    @property
    def body(self) -> bytes:
        """The body of the response (cut at 64 KiB)."""
        return self.response.body


class RedirectError(HandshakeFailed):
    """A redirect (301, 302, 303, 307, 308) that the client does not follow.

    Raised after `max_redirects` redirects, for a redirect from ``wss://`` to ``ws://``
    (never followed: it would send the request in clear text), and for a redirect
    without a usable `Location`. `response` is the redirect itself.
    """


class ProxyError(WebSocketError):
    """The HTTP proxy did not open the tunnel.

    Args:
        message: what went wrong.
        status: the status the proxy answered the ``CONNECT`` request with (for example
            407 when it wants credentials, 403 when it refuses the destination, 502
            when it could not reach it), or None when it did not answer with valid HTTP.
        response: the proxy's answer, when there was one.

    Attributes:
        status: as above.
        headers: the answer's header lines, empty without an answer.
        response: as above.
    """

    def __init__(self, message: str, *, status: int | None = None, response: HttpResponse | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.response = response
        self.headers: Headers = response.headers if response is not None else Headers()


class OpenTimeout(WebSocketError, TimeoutError):
    """The connection was not open after `open_timeout` seconds.

    The timeout covers everything: name resolution, TCP, TLS, the proxy's tunnel,
    every redirect and the opening handshake. Also a `TimeoutError` (an `OSError`).
    """


class HandshakeInterrupted(WebSocketError, ConnectionError):
    """The connection closed (or was reset) before the server's answer was complete.

    Typical of a server that is shutting down or restarting; the `__cause__` is the
    socket error, when there was one. Also a `ConnectionError` (an `OSError`).
    """
