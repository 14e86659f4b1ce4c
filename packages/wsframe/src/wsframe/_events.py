"""Events that [`Connection.receive_data`][wsframe.Connection.receive_data] returns."""

from __future__ import annotations

import dataclasses
from typing import TypeAlias

from ._errors import ProtocolError

__all__ = [
    "BinaryMessage",
    "CloseReceived",
    "ConnectionFailed",
    "ConnectionEvent",
    "Event",
    "Fragment",
    "Ping",
    "Pong",
    "TextMessage",
]


def _elide(data: str | bytes, limit: int = 48) -> str:
    return repr(data[:limit]) + ("..." if len(data) > limit else "")


@dataclasses.dataclass(slots=True)
class TextMessage:
    """A complete text message (when assembling fragments).

    Attributes:
        data: the message, decoded from UTF-8.
    """

    data: str

    def __repr__(self) -> str:
        return f"TextMessage({_elide(self.data)}, {len(self.data)} chars)"


@dataclasses.dataclass(slots=True)
class BinaryMessage:
    """A complete binary message (when assembling fragments).

    Attributes:
        data: the message.
    """

    data: bytes

    def __repr__(self) -> str:
        return f"BinaryMessage({_elide(self.data)}, {len(self.data)} bytes)"


@dataclasses.dataclass(slots=True)
class Fragment:
    """One data frame of a message, delivered as it arrives (`assemble_fragments=False`).

    Every frame of a message, a single-frame message included, arrives as a Fragment.
    Text is decoded incrementally: a character split across two frames appears in the
    second one, so `data` may be ``""`` for a non-final text fragment.

    Attributes:
        data: this frame's share of the message: `str` for text, `bytes` for binary.
        text: True for a text message, False for a binary one.
        first: True on the message's first frame.
        fin: True on the message's last frame.
    """

    data: str | bytes
    text: bool
    first: bool
    fin: bool

    def __repr__(self) -> str:
        kind = "text" if self.text else "binary"
        flags = ("first " if self.first else "") + ("fin" if self.fin else "more")
        return f"Fragment({kind}, {_elide(self.data)}, {flags})"


@dataclasses.dataclass(slots=True)
class Ping:
    """A ping frame. With `auto_pong` on, the pong answering it is already queued.

    Attributes:
        payload: the ping's application data (at most 125 bytes).
    """

    payload: bytes


@dataclasses.dataclass(slots=True)
class Pong:
    """A pong frame.

    Attributes:
        payload: the pong's application data (at most 125 bytes).
    """

    payload: bytes


@dataclasses.dataclass(slots=True)
class CloseReceived:
    """The peer's close frame. If we had not sent a close frame yet, the reply is queued.

    Attributes:
        code: the peer's close code; 1005 when its close frame carried none.
        reason: the peer's close reason, or ``""``.
    """

    code: int
    reason: str


@dataclasses.dataclass(slots=True)
class ConnectionFailed:
    """The peer broke the protocol; the connection stopped reading at that point.

    Every event before this one was valid and should be handled first. Then call
    [`Connection.fail`][wsframe.Connection.fail], which queues the close frame with
    `error.code`. Sending stays possible until then, so an application can still answer
    the messages that arrived before the violation (what Autobahn's strict cases expect).

    Attributes:
        error: what was wrong; `error.code` is the close code to fail with.
    """

    error: ProtocolError

    @property
    def code(self) -> int:
        """The close code to fail the connection with."""
        return self.error.code


ConnectionEvent: TypeAlias = "TextMessage | BinaryMessage | Fragment | Ping | Pong | CloseReceived | ConnectionFailed"
"""Any event that a frame [`Connection`][wsframe.Connection] returns (its handshake's are
[`HandshakeEvent`][wsframe.HandshakeEvent]s)."""

Event: TypeAlias = ConnectionEvent
"""The former name of [`ConnectionEvent`][wsframe.ConnectionEvent], kept: wsclient's W3C
`Event` is another thing."""
