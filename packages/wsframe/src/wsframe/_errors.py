"""The exception tree of wskit.

```text
WebSocketError
├── ProtocolError            the peer broke RFC 6455 (close code 1002 unless a subclass says otherwise)
│   ├── InvalidData          a payload that is not what it claims to be: bad UTF-8, undecompressible data (1007)
│   └── MessageTooBig        a frame or message above the configured limit (1009)
├── InvalidState             an operation that the connection's state does not allow (send after close, ...)
├── HandshakeError           the opening handshake failed; carries the HTTP status to answer with
│   └── NegotiationError     a subprotocol or extension could not be agreed on
└── ConnectionClosed         raised to the application once the connection is closed
    ├── ConnectionClosedOK     closed with 1000 or 1001 after a complete close handshake
    └── ConnectionClosedError  any other ending (1006 when the transport was lost)
```

Every exception names what was wrong in a short lower-case message without a final period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "HandshakeError",
    "InvalidData",
    "InvalidState",
    "MessageTooBig",
    "NegotiationError",
    "ProtocolError",
    "WebSocketError",
]


class WebSocketError(Exception):
    """Root of every exception that wskit raises on purpose."""


class ProtocolError(WebSocketError):
    """The peer violated the WebSocket protocol.

    Attributes:
        code: the close code that the connection is failed with (RFC 6455 section 7.4.1).
    """

    code: int = 1002

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def reason(self) -> str:
        """The text sent as the close reason: the message itself, at most 123 bytes of UTF-8."""
        text = str(self)
        data = text.encode()
        if len(data) <= 123:
            return text
        return data[:123].decode(errors="ignore")


class InvalidData(ProtocolError):
    """A payload whose content is invalid: text that is not UTF-8, data that does not decompress (1007)."""

    code = 1007


class MessageTooBig(ProtocolError):
    """A frame or message larger than the configured limit (1009).

    The limit is checked against the length announced in the frame header,
    before any of the payload is buffered.
    """

    code = 1009


class InvalidState(WebSocketError):
    """The operation is not allowed in the connection's current state."""


class HandshakeError(WebSocketError):
    """The opening handshake is invalid or was refused.

    Attributes:
        status: the HTTP status that a server answers with (400 unless stated).
        headers: extra response headers that go with that status
            (for example `Sec-WebSocket-Version: 13` with 426).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        headers: Sequence[tuple[str, str]] | Mapping[str, str] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        items = headers.items() if isinstance(headers, Mapping) else headers
        self.headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in items]


class NegotiationError(HandshakeError):
    """A subprotocol or an extension could not be negotiated."""


class ConnectionClosed(WebSocketError):
    """The connection is closed; raised by operations that need an open connection.

    Attributes:
        code: the close code the connection ended with: the peer's code, 1005 when its
            close frame carried none, 1006 when the transport was lost without a close frame.
        reason: the peer's close reason, or ``""``.
        was_clean: True when both close frames were exchanged (the W3C `wasClean`).
    """

    def __init__(self, code: int, reason: str = "", *, was_clean: bool = False) -> None:
        self.code = code
        self.reason = reason
        self.was_clean = was_clean
        super().__init__(code, reason)

    def __str__(self) -> str:
        text = f"connection closed with code {self.code}"
        if self.reason:
            text += f" ({self.reason})"
        if not self.was_clean:
            text += ", close handshake incomplete"
        return text

    @staticmethod
    def for_close(code: int, reason: str = "", *, was_clean: bool) -> ConnectionClosed:
        """The right subclass for a connection that ended with `code`."""
        if was_clean and code in (1000, 1001):
            return ConnectionClosedOK(code, reason, was_clean=True)
        return ConnectionClosedError(code, reason, was_clean=was_clean)


class ConnectionClosedOK(ConnectionClosed):
    """The connection ended normally: close code 1000 or 1001, both close frames exchanged."""


class ConnectionClosedError(ConnectionClosed):
    """The connection ended with an error code, or without a complete close handshake."""
