"""The connection state machine for both roles: bytes in, events out; calls in, bytes out.

A [`Connection`][wsframe.Connection] starts once the opening handshake is done. It never
reads a clock, sleeps or touches a socket; the driver (wsserver, wsclient or your own)
feeds it what the network delivered and writes what it asks to send.

Lifecycle (the `state` attribute; values match the W3C `readyState`):

| state   | entered when                                                   | may send data | reads   |
|---------|----------------------------------------------------------------|---------------|---------|
| OPEN    | the connection is built                                        | yes           | yes     |
| CLOSING | we sent a close frame, or failed the connection                | no            | until the peer's close frame (after a failure: discards) |
| CLOSED  | both close frames were exchanged, or the transport ended       | no            | discards |

After a received close frame the reply is queued at once and the state is CLOSED: the
WebSocket closing handshake is complete and only the TCP connection remains to be closed.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ._close import (
    CloseCode,
    check_close_code,
    decode_close_payload,
    encode_close_payload,
)
from ._errors import InvalidData, InvalidState, MessageTooBig, ProtocolError
from ._events import (
    BinaryMessage,
    CloseReceived,
    ConnectionEvent,
    ConnectionFailed,
    Fragment,
    Ping,
    Pong,
    TextMessage,
)
from ._extensions import Extension
from ._frames import (
    FIN,
    MASK_BIT,
    MAX_CONTROL_PAYLOAD,
    OPCODE_MASK,
    RSV1,
    RSV2,
    RSV3,
    Frame,
    Opcode,
    check_frame_header,
    decode_header,
    frame_header,
)
from ._mask import apply_mask, assembler_type, random_key_bytes
from ._options import ConnectionOptions
from ._typing import BytesLike
from ._utf8 import Utf8Decoder

if TYPE_CHECKING:
    from ._speedups import Assembler

__all__ = ["Connection", "Role", "State"]


_OP_CONT = 0
_OP_TEXT = 1
_OP_BINARY = 2
_OP_CLOSE = 8
_OP_PING = 9
_OP_PONG = 10

#: Single-frame messages at least this long are received into an Assembler (the C
#: accelerator's), which unmasks each chunk straight into the message's bytes.
_ASSEMBLE_FROM = 64 * 1024
#: Up to this size the Assembler is made when the frame's header arrives. Memory that is
#: allocated but not written yet costs no RAM (the kernel maps pages as they are first
#: written), and allocating once keeps the allocator reusing the same memory message
#: after message: the later switch below cost a page fault every few KiB of a 4 MiB
#: echo, a third of its CPU. Larger frames switch once a quarter of them has arrived,
#: so that a header alone never reserves a large share of the address space.
_ASSEMBLE_AT_ONCE = 16 * 1024 * 1024


class _Chunks:
    """Bytes received in pieces, joined once, with a bounded cost per piece.

    Pieces of 4 KiB or more are kept as they are (joined once at the end); smaller ones
    are copied into a bytearray, so that a peer dribbling one byte per read or sending
    millions of empty frames costs no more memory than the data itself.
    """

    __slots__ = ("_parts", "_tail", "size")

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._tail = bytearray()
        self.size = 0
        """Bytes added since the last take() or parts()."""

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if len(chunk) >= 4096:
            if self._tail:
                self._parts.append(bytes(self._tail))
                self._tail.clear()
            self._parts.append(chunk)
        elif chunk:
            self._tail += chunk

    def parts(self) -> list[bytes]:
        """Return the pieces added so far, in order, and start empty."""
        parts = self._parts
        if self._tail:
            parts.append(bytes(self._tail))
            self._tail.clear()
        self._parts = []
        self.size = 0
        return parts

    def take(self) -> bytes:
        """Return everything added so far, and start empty."""
        parts = self.parts()
        if len(parts) == 1:
            return parts[0]
        return b"".join(parts)


# Headers of unmasked final text and binary frames with a 7-bit length, by length.
_TEXT_HEADERS = [bytes((FIN | _OP_TEXT, n)) for n in range(126)]
_BINARY_HEADERS = [bytes((FIN | _OP_BINARY, n)) for n in range(126)]


# The 64-bit length of a frame (fast path); the masking key that a data frame keeps
# while its payload arrives (general path): 4 bytes at an offset, as bytes, in one call.
_unpack_Q = struct.Struct("!Q").unpack_from
_key_at = struct.Struct("4s").unpack_from
#: A length above every fast-path limit (they are at most 1 << 62).
_NOT_FAST = 1 << 64


def _long_length(data: BytesLike, pos: int, end: int, short: int, start: int) -> tuple[int, int]:
    """The 16- or 64-bit length of the frame at `data[pos]` and its payload's start, for the fast path.

    `short` is the 7-bit length field (126 or 127) and `start` where the payload would
    start without the extended length. When the header has not arrived whole or its
    length is not minimal, the length returned is above any limit: the general path
    deals with those frames.
    """
    if short == 126:
        if end - pos < 4:
            return _NOT_FAST, start
        length = (data[pos + 2] << 8) | data[pos + 3]
        return (length if length >= 126 else _NOT_FAST), start + 2
    if end - pos < 10:
        return _NOT_FAST, start
    (length,) = _unpack_Q(data, pos + 2)
    return (length if length >= 65536 else _NOT_FAST), start + 8


class Role(enum.Enum):
    """Which end of the connection this is: it decides masking (RFC 6455 section 5.1)."""

    CLIENT = "client"
    SERVER = "server"


class State(enum.IntEnum):
    """Connection states, numbered as the W3C `readyState`."""

    CONNECTING = 0
    OPEN = 1
    CLOSING = 2
    CLOSED = 3


class Connection:
    """A WebSocket connection after the opening handshake, without I/O.

    Feed received bytes to [`receive_data`][wsframe.Connection.receive_data] and handle the
    events it returns in order; call the `send_*` methods to queue frames; after each of
    these calls, write [`data_to_send`][wsframe.Connection.data_to_send] to the network.
    When [`should_close_transport`][wsframe.Connection.should_close_transport] becomes
    True, half-close the transport (write EOF), keep reading until the peer's EOF or a
    timeout, then close it. Call [`receive_eof`][wsframe.Connection.receive_eof] when the
    peer closes its side.

    Args:
        role: `Role.SERVER` or `Role.CLIENT`. A client masks every frame it sends and
            requires unmasked frames; a server the reverse.
        options: limits and fragmentation settings; defaults to `ConnectionOptions()`.
        extensions: the extensions negotiated in the handshake, in the order of the
            `Sec-WebSocket-Extensions` response header.
        mask_key: where a client takes 4-byte masking keys from (default: the OS's
            cryptographic source, as `secrets.token_bytes`, read 4 KiB at a time);
            replaceable for reproducible tests.

    Examples:
        >>> conn = Connection(Role.SERVER)
        >>> conn.receive_data(bytes.fromhex("818537fa213d7f9f4d5158"))
        [TextMessage('Hello', 5 chars)]
        >>> conn.send_text("Hello")
        >>> conn.data_to_send()
        b'\\x81\\x05Hello'
    """

    # Slots: a connection's attributes cost no instance dict (about 1.5 KiB each with
    # this many attributes). __dict__ stays available for attributes an application
    # adds; it is only allocated then.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_assemble",
        "_assemble_size",
        "_assembler",
        "_auto_pong",
        "_backlog",
        "_buf",
        "_client",
        "_discard",
        "_fast",
        "_fast_header",
        "_fast_limit",
        "_fragment_decoder",
        "_fragment_out",
        "_frame_data",
        "_frame_first",
        "_frame_is_first",
        "_frame_left",
        "_frame_limit",
        "_frame_mask",
        "_frame_seen",
        "_grow",
        "_mask_bit",
        "_mask_key",
        "_mask_required",
        "_max_message",
        "_msg_data",
        "_msg_opcode",
        "_msg_size",
        "_msg_wire_size",
        "_out",
        "_per_frame",
        "_rsv_allowed",
        "_send_fragmented",
        "_should_close_transport",
        "_small_limit",
        "_threshold",
        "_validator",
        "_wire_slack",
        "close_received",
        "close_sent",
        "eof_received",
        "extensions",
        "failure",
        "options",
        "role",
        "state",
    )

    def __init__(
        self,
        role: Role,
        options: ConnectionOptions | None = None,
        *,
        extensions: Sequence[Extension] = (),
        mask_key: Callable[[int], bytes] = random_key_bytes,
    ) -> None:
        if not isinstance(role, Role):
            raise TypeError(f"role must be a Role, not {role!r}")
        self.role = role
        """Whether this is the client or the server end."""
        self.options = options if options is not None else ConnectionOptions()
        """The connection's limits and settings."""
        self.extensions: tuple[Extension, ...] = tuple(extensions)
        """The negotiated extensions, in order."""
        self.state = State.OPEN
        """The connection's state; see the module documentation."""
        self.close_received: tuple[int, str] | None = None
        """The peer's close code and reason, once its close frame arrived."""
        self.close_sent: tuple[int, str] | None = None
        """The close code and reason we sent, once our close frame is queued."""
        self.failure: ProtocolError | None = None
        """The peer's protocol violation, if it committed one."""
        self.eof_received = False
        """Whether the peer closed its side of the transport."""

        self._client = role is Role.CLIENT
        self._mask_key = mask_key
        self._out: list[bytes | bytearray | memoryview] = []
        self._should_close_transport = False
        self._discard = False

        opts = self.options
        self._assemble = opts.assemble_fragments
        self._max_message = opts.max_message_size
        frame_limit = opts.frame_limit
        self._fragment_out = opts.fragment_outgoing_messages
        self._threshold = opts.fragmentation_threshold
        self._auto_pong = opts.auto_pong
        self._mask_required: bool = not self._client
        rsv_allowed = 0
        for extension in self.extensions:
            rsv_allowed |= extension.rsv_bits
        self._rsv_allowed = rsv_allowed
        # Compressed frames may be slightly larger on the wire than the message they
        # carry; allow that much slack on the header check, the exact check follows
        # decoding.
        self._wire_slack = 0
        if self.extensions and self._max_message is not None:
            self._wire_slack = self._max_message // 256 + 1024
            if opts.max_frame_size is None and frame_limit is not None:
                frame_limit += self._wire_slack
        self._frame_limit = frame_limit
        # Settings of the receive fast path (see receive_data) and of the send fast path:
        # _fast_header is what precedes a payload with a 7-bit length (2 bytes, and the
        # 4-byte masking key of frames a server receives).
        self._fast = not self.extensions and self._assemble
        self._mask_bit = 0 if self._client else MASK_BIT
        limits = [limit for limit in (frame_limit, self._max_message) if limit is not None]
        self._fast_limit = min(limits) if limits else 1 << 62
        self._fast_header = 6 if self._mask_bit else 2
        # Payloads shorter than this go out as one unmasked frame with a 7-bit length.
        small = 126 if not self._fragment_out else min(126, self._threshold + 1)
        self._small_limit = small if not self._client and not self.extensions else 0

        # Receiving: bytes of an incomplete frame header or control frame, or the bytes
        # left unparsed by max_events (then _backlog is True).
        self._buf = b""
        self._backlog = False
        # The data frame whose payload is arriving (first byte, mask key, bytes left,
        # bytes seen so far, unmasked chunks).
        self._frame_first = -1
        self._frame_mask: bytes | None = None
        self._frame_left = 0
        self._frame_seen = 0
        # Raw payload of the current frame, kept per frame only when an extension must
        # decode it or fragments are delivered one by one; else it goes to _msg_data.
        self._frame_data = _Chunks()
        self._per_frame = bool(self.extensions) or not self._assemble
        # The message being received: its opcode (0 when none), its decoded size so far,
        # its raw bytes (when assembling), the validator of its text, and for streamed
        # text the decoder of each fragment's characters.
        self._msg_opcode = 0
        self._msg_size = 0
        self._msg_wire_size = 0
        self._msg_data = _Chunks()
        # A large single-frame message goes into an Assembler instead of _msg_data (see
        # _ASSEMBLE_AT_ONCE). _assemble_size is the frame's length while it may still
        # switch, else 0.
        self._assembler: Assembler | None = None
        self._assemble_size = 0
        # A fragmented message goes into an Assembler too once 64 KiB of it have
        # arrived; it grows as fragments arrive (doubling, up to the message limit), and
        # shrinks to its size at the end. True while the current message may do so.
        self._grow = False
        self._validator: Utf8Decoder | None = None
        self._fragment_decoder: Utf8Decoder | None = None
        self._frame_is_first = True

        # Sending: the opcode of a message the application sends in fragments.
        self._send_fragmented: int = 0

    # ------------------------------------------------------------------ state

    @property
    def should_close_transport(self) -> bool:
        """True once this side should end the TCP connection, after writing `data_to_send()`.

        That is: a server once the close handshake is complete, either side once it failed
        the connection. A client otherwise waits for the server to close first (RFC 6455
        section 7.1.1), and closes itself only after a timeout.
        """
        return self._should_close_transport

    @property
    def backlog(self) -> bool:
        """True when the last `receive_data()` stopped at `max_events` with bytes left to parse."""
        return self._backlog

    @property
    def assembles_fragments(self) -> bool:
        """True when messages are delivered whole; False when each frame is a `Fragment`
        (the `assemble_fragments` option)."""
        return self._assemble

    @property
    def close_code(self) -> int:
        """The code the connection ended with, for the application.

        The peer's close code when its close frame arrived (1005 if it carried none); the
        code of the peer's protocol violation, once detected; 1006 when the transport ended
        without either.
        """
        if self.close_received is not None:
            return self.close_received[0]
        if self.failure is not None:
            return self.failure.code
        return CloseCode.ABNORMAL_CLOSURE

    @property
    def close_reason(self) -> str:
        """The reason matching [`close_code`][wsframe.Connection.close_code], or ``""``."""
        if self.close_received is not None:
            return self.close_received[1]
        if self.failure is not None:
            return self.failure.reason
        return ""

    @property
    def close_was_clean(self) -> bool:
        """True when both close frames were exchanged (the W3C `wasClean`)."""
        return self.close_received is not None and self.close_sent is not None

    # --------------------------------------------------------------- sending

    def data_to_send(self) -> bytes:
        """Return and forget the bytes queued for the network since the last call."""
        out = self._out
        if not out:
            return b""
        self._out = []
        return b"".join(out)

    def buffers_to_send(self) -> list[bytes | bytearray | memoryview]:
        """Return and forget the bytes queued for the network, as a list of buffers.

        The same bytes, in the same order, as [`data_to_send`][wsframe.Connection.data_to_send]
        would return, without joining them: a transport that writes several buffers in
        one call (`writelines()`, `sendmsg()`) then never copies a large payload. The
        buffers are never modified afterwards.
        """
        out = self._out
        if not out:
            return []
        self._out = []
        return out

    def _check_open(self) -> None:
        if self.state is not State.OPEN:
            raise InvalidState(f"cannot send data: connection is {self.state.name}")

    def send_text(self, text: str) -> None:
        """Queue a text message.

        Raises:
            InvalidState: the connection is not open, or a fragmented message is in progress.
            TypeError: `text` is not a str.
        """
        if type(text) is not str and not isinstance(text, str):
            raise TypeError(f"send_text() takes a str, not {type(text).__name__}")
        if self.state is not State.OPEN or self._send_fragmented:
            self._check_open()
            raise InvalidState("cannot send a message while a fragmented message is in progress")
        payload = text.encode()
        if len(payload) < self._small_limit:
            # Fast path: an unmasked single frame with a 7-bit length.
            self._out.append(_TEXT_HEADERS[len(payload)] + payload)
            return
        self._send_message(_OP_TEXT, payload)

    def send_binary(self, data: BytesLike) -> None:
        """Queue a binary message.

        Raises:
            InvalidState: the connection is not open, or a fragmented message is in progress.
            TypeError: `data` is not bytes-like.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"send_binary() takes bytes, bytearray or memoryview, not {type(data).__name__}")
        if self.state is not State.OPEN or self._send_fragmented:
            self._check_open()
            raise InvalidState("cannot send a message while a fragmented message is in progress")
        # Queue immutable bytes: the caller may reuse a bytearray before the data is
        # written, and len() of a memoryview counts items, not bytes.
        if type(data) is not bytes:
            data = bytes(data)
        if len(data) < self._small_limit:
            self._out.append(_BINARY_HEADERS[len(data)] + data)
            return
        self._send_message(_OP_BINARY, data)

    def send(self, data: str | BytesLike) -> None:
        """Queue a text message for a `str`, a binary message for bytes-like data.

        Raises:
            InvalidState: the connection is not open.
            TypeError: `data` is neither.
        """
        if self.state is State.OPEN and not self._send_fragmented:
            # The fast paths of send_text() and send_binary(), one call less per message.
            if type(data) is str:
                payload = data.encode()
                if len(payload) < self._small_limit:
                    self._out.append(_TEXT_HEADERS[len(payload)] + payload)
                else:
                    self._send_message(_OP_TEXT, payload)
                return
            if type(data) is bytes:
                if len(data) < self._small_limit:
                    self._out.append(_BINARY_HEADERS[len(data)] + data)
                else:
                    self._send_message(_OP_BINARY, data)
                return
        if isinstance(data, str):
            self.send_text(data)
        else:
            self.send_binary(data)

    def send_fragment(self, data: str | BytesLike, *, fin: bool) -> None:
        """Queue one frame of a message that the application fragments itself.

        The first call fixes the message's type (text for `str`, binary for bytes-like);
        later calls must pass the same type; `fin=True` ends the message. Other messages
        cannot be sent until then; pings and pongs can.

        Raises:
            InvalidState: the connection is not open.
            TypeError: `data` does not match the message's type.
        """
        self._check_open()
        if isinstance(data, str):
            opcode, payload = _OP_TEXT, data.encode()
        elif isinstance(data, (bytes, bytearray, memoryview)):
            opcode, payload = _OP_BINARY, bytes(data)
        else:
            raise TypeError(f"send_fragment() takes str or bytes-like data, not {type(data).__name__}")
        if self._send_fragmented and opcode != self._send_fragmented:
            raise TypeError("all fragments of a message must have the same type")
        frame = Frame(Opcode(_OP_CONT if self._send_fragmented else opcode), payload, fin=fin)
        for extension in self.extensions:
            frame = extension.encode(frame)
        payload = frame.payload if type(frame.payload) is bytes else bytes(frame.payload)
        self._send_frame((FIN if frame.fin else 0) | frame.rsv | frame.opcode, payload)
        self._send_fragmented = 0 if fin else opcode

    def _send_message(self, opcode: int, payload: BytesLike) -> None:
        rsv = 0
        if self.extensions:
            frame = Frame(Opcode(opcode), bytes(payload))
            for extension in self.extensions:
                frame = extension.encode(frame)
            # An extension's payload is written as it is (see buffers_to_send): keep bytes.
            payload = frame.payload if type(frame.payload) is bytes else bytes(frame.payload)
            rsv = frame.rsv
        size = len(payload)
        threshold = self._threshold
        if size <= threshold or not self._fragment_out:
            self._send_frame(FIN | rsv | opcode, payload)
            return
        view = memoryview(payload)
        first = rsv | opcode
        for start in range(0, size, threshold):
            end = start + threshold
            self._send_frame((FIN if end >= size else 0) | first, view[start:end])
            first = _OP_CONT

    def _send_frame(self, first: int, payload: BytesLike) -> None:
        out = self._out
        if self._client:
            mask = self._mask_key(4)
            masked = apply_mask(payload, mask)  # checks the key before anything is queued
            if len(masked) < 65536:
                out.append(frame_header(first, len(masked), mask) + masked)  # one buffer
            else:
                out.append(frame_header(first, len(masked), mask))
                out.append(masked)
        else:
            out.append(frame_header(first, len(payload)))
            if payload:
                out.append(payload)

    def _send_control(self, opcode: int, payload: BytesLike) -> None:
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError(f"control frame payload must be bytes-like, not {type(payload).__name__}")
        if type(payload) is not bytes:
            payload = bytes(payload)
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise ValueError(f"control frame payload is {len(payload)} bytes; at most 125 are allowed")
        self._send_frame(FIN | opcode, payload)

    def send_ping(self, payload: BytesLike = b"") -> None:
        """Queue a ping; the peer answers with a pong carrying the same payload.

        Raises:
            InvalidState: the connection is not open.
            ValueError: the payload is longer than 125 bytes.
        """
        self._check_open()
        self._send_control(_OP_PING, payload)

    def send_pong(self, payload: BytesLike = b"") -> None:
        """Queue a pong (unsolicited, or answering a ping when `auto_pong` is off).

        Raises:
            InvalidState: the connection is not open.
            ValueError: the payload is longer than 125 bytes.
        """
        self._check_open()
        self._send_control(_OP_PONG, payload)

    def send_close(self, code: int | None = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Start the closing handshake: queue a close frame and enter CLOSING.

        Args:
            code: the close code (1000, 1001, 1003, 1007-1014 or 3000-4999), or None to send
                a close frame without a code (the peer then reports 1005).
            reason: at most 123 bytes of UTF-8; needs a code.

        Raises:
            InvalidState: a close frame was already sent or the connection is closed.
            ValueError: a code that may not be sent, or a reason too long.
        """
        if self.state is not State.OPEN:
            raise InvalidState(f"cannot close: connection is {self.state.name}")
        payload = encode_close_payload(code, reason)
        self._send_frame(FIN | _OP_CLOSE, payload)
        self.close_sent = (CloseCode.NO_STATUS_RCVD if code is None else code, reason)
        self.state = State.CLOSING

    def fail(self, code: int | None = None, reason: str | None = None) -> None:
        """Fail the connection (RFC 6455 section 7.1.7): send a close frame and stop reading.

        Without arguments, uses the code and reason of the peer's protocol violation
        reported by [`ConnectionFailed`][wsframe.ConnectionFailed]; an application may also
        fail the connection itself, for example with 1011 or 1008. Nothing is sent if a
        close frame was already sent. Afterwards the connection discards what it receives
        and [`should_close_transport`][wsframe.Connection.should_close_transport] is True.

        Raises:
            ValueError: a code that may not be sent, or a reason too long.
        """
        if code is None:
            error = self.failure
            code = error.code if error is not None else CloseCode.PROTOCOL_ERROR
            if reason is None:
                reason = error.reason if error is not None else ""
        if reason is None:
            reason = ""
        check_close_code(code, reason)
        if self.state is State.OPEN:
            self._send_frame(FIN | _OP_CLOSE, encode_close_payload(code, reason))
            self.close_sent = (code, reason)
            self.state = State.CLOSING
        self._discard_input()
        self._should_close_transport = True

    # ------------------------------------------------------------- receiving

    def _discard_input(self) -> None:
        """Ignore all further input, and free what a partial frame or message holds."""
        self._discard = True
        self._buf = b""
        self._backlog = False
        self._assembler = None
        self._grow = False
        self._frame_data = _Chunks()
        self._msg_data = _Chunks()

    def receive_eof(self) -> None:
        """Tell the connection the peer closed its side of the transport.

        The state becomes CLOSED. Without a close frame from the peer, the connection ended
        abnormally and [`close_code`][wsframe.Connection.close_code] is 1006.
        """
        self.eof_received = True
        self.state = State.CLOSED
        self._discard_input()
        self._should_close_transport = True

    def receive_data(self, data: BytesLike, *, max_events: int | None = None) -> list[ConnectionEvent]:
        """Feed bytes from the network; return the events they complete, in order.

        A protocol violation ends the list with a [`ConnectionFailed`][wsframe.ConnectionFailed]
        event; everything after it in `data`, and everything fed later, is discarded.
        Pings are answered and close frames replied to automatically: write
        `data_to_send()` afterwards.

        Args:
            data: the bytes received. The connection copies what it keeps: the caller may
                reuse the buffer behind a memoryview once the call returns.
            max_events: stop after this many events and keep the rest of `data`
                unparsed (then [`backlog`][wsframe.Connection.backlog] is True): a driver
                that bounds its queue of messages passes the room left in it. The next
                call parses the kept bytes first; call `receive_data(b"")` to go on
                without new data. Stop reading from the network while `backlog` is True,
                or memory grows with the peer's sending.
        """
        self._backlog = False
        buf = self._buf
        if self._discard or not (data or buf):
            return []
        if buf:
            data = buf + data
            self._buf = b""
        events: list[ConnectionEvent] = []
        pos = 0
        end = len(data)
        try:
            if self._frame_first >= 0:
                pos = self._continue_payload(data, 0, end, events)
            while pos < end:
                if max_events is not None and len(events) >= max_events:
                    # At a frame boundary: no frame's payload is in progress here.
                    self._buf = bytes(data[pos:end])
                    self._backlog = True
                    break
                # The fast path: the commonest frame, a whole message in one piece. A final
                # text or binary frame without RSV bits that starts no fragmented message,
                # correctly masked, with a minimal length within the limits, entirely in
                # `data`, when no extension is in use and messages are assembled (_fast).
                # Any other frame takes the general path, _parse_frame(), which performs
                # the same checks through check_frame_header() and raises the errors.
                first = data[pos]
                if (first == 0x81 or first == 0x82) and self._fast and not self._msg_opcode and end - pos > 1:
                    second = data[pos + 1]
                    length = second & 0x7F
                    start = pos + self._fast_header
                    if length > 125:
                        length, start = _long_length(data, pos, end, length, start)
                    stop = start + length
                    if second & MASK_BIT == self._mask_bit and length <= self._fast_limit and stop <= end:
                        if second & MASK_BIT:
                            payload = apply_mask(data[start:stop], data[start - 4 : start])
                        else:
                            payload = data[start:stop] if type(data) is bytes else bytes(data[start:stop])
                        try:
                            events.append(BinaryMessage(payload) if first == 0x82 else TextMessage(payload.decode()))
                        except UnicodeDecodeError as exc:
                            raise InvalidData("invalid UTF-8 in text message") from exc
                        pos = stop
                        continue
                pos = self._parse_frame(data, pos, end, events)
        except ProtocolError as exc:
            # The events completed before the violation stay in front of the failure.
            self._discard_input()
            self.failure = exc
            events.append(ConnectionFailed(exc))
        return events

    def _parse_frame(self, data: BytesLike, pos: int, end: int, events: list[ConnectionEvent]) -> int:
        """The general path: parse what `data[pos:end]` holds of the frame at `pos`.

        Any frame: control frames, fragments, frames arriving in pieces, frames with
        extensions, and the violations, raised as ProtocolError. A data frame's payload
        is consumed by _continue_payload(), now and in the calls that bring the rest.

        Returns:
            Where the next frame starts, or `end` when parsing stops there: the frame
            has not arrived whole (an incomplete header or control frame is kept in
            `_buf`), or it was a close frame (what follows it is ignored).
        """
        header = decode_header(data, pos, end)
        if header is None:
            self._buf = bytes(data[pos:end])
            return end
        first, second, length, size = header
        check_frame_header(
            first,
            second,
            length,
            mask_required=self._mask_required,
            rsv_allowed=self._rsv_allowed,
            max_frame_size=self._frame_limit,
        )
        start = pos + size
        opcode = first & OPCODE_MASK
        if opcode >= 8:
            if end - start < length:  # control frames are handled whole
                self._buf = bytes(data[pos:end])
                return end
            payload = data[start : start + length]
            payload = apply_mask(payload, data[start - 4 : start]) if second & MASK_BIT else bytes(payload)
            self._control(opcode, payload, events)
            return end if self._discard else start + length  # after a close frame, nothing
        # A data frame: its place in the message, the message's size, then its payload.
        msg_opcode = self._msg_opcode
        if opcode == _OP_CONT:
            if not msg_opcode:
                raise ProtocolError("unexpected continuation frame")
        elif msg_opcode:
            raise ProtocolError("expected a continuation frame")
        max_message = self._max_message
        if (
            max_message is not None
            and (self._msg_wire_size if msg_opcode else 0) + length > max_message + self._wire_slack
        ):
            raise MessageTooBig(f"message exceeds the limit of {max_message} bytes")
        if not msg_opcode:
            self._start_message(first, length)
        self._msg_wire_size += length
        self._frame_first = first
        self._frame_mask = _key_at(data, start - 4)[0] if second & MASK_BIT else None
        self._frame_left = length
        self._frame_seen = 0
        return self._continue_payload(data, start, end, events)

    def _start_message(self, first: int, length: int) -> None:
        """Start receiving the message whose first frame has the first byte `first`."""
        opcode = first & OPCODE_MASK
        fin = first & FIN
        self._msg_opcode = opcode
        self._msg_size = 0
        self._msg_wire_size = 0
        self._frame_is_first = True
        text = opcode == _OP_TEXT
        self._validator = Utf8Decoder() if text else None
        self._fragment_decoder = Utf8Decoder() if text and not self._assemble else None
        fast = self._fast and assembler_type is not None
        # A fragmented message may grow into an Assembler; a single-frame one of 64 KiB
        # or more goes into one (see _ASSEMBLE_AT_ONCE). Continuation frames never do.
        self._grow = not fin and fast
        self._assemble_size = length if fin and length >= _ASSEMBLE_FROM and fast else 0

    def _continue_payload(self, data: BytesLike, pos: int, end: int, events: list[ConnectionEvent]) -> int:
        """Consume what `data[pos:end]` holds of the current data frame's payload."""
        take = min(self._frame_left, end - pos)
        if take and (
            self._assembler is not None
            or (self._assemble_size and self._start_assembler(take))
            or (self._grow and self._start_growing(take))
        ):
            assembler = self._assembler
            assert assembler is not None
            filled = assembler.filled
            if filled + take > assembler.size:  # a fragmented message grows
                assembler.resize(self._grown_size(filled + take, assembler.size))
            mask = self._frame_mask
            if mask is not None:
                # The Assembler's key phase is its offset; this frame's is frame_seen.
                turn = (self._frame_seen - filled) & 3
                if turn:
                    mask = mask[turn:] + mask[:turn]
            # A memoryview slice of bytes copies nothing; the Assembler makes the one copy.
            assembler.write(memoryview(data)[pos : pos + take], mask)
            self._frame_seen += take
            self._frame_left -= take
            if self._validator is not None:
                with memoryview(assembler) as written:
                    self._validator.decode(written[filled:])
        elif take:
            mask = self._frame_mask
            if mask is not None:
                offset = self._frame_seen & 3
                if offset:
                    mask = mask[offset:] + mask[:offset]
                chunk = apply_mask(data[pos : pos + take], mask)  # a new bytes: one copy
            else:
                chunk = bytes(data[pos : pos + take])
            self._frame_seen += take
            self._frame_left -= take
            if self._validator is not None and not self.extensions:
                # Validate text as it arrives, to fail at the first invalid byte; the
                # characters are decoded once, when the frame or message is complete.
                self._validator.decode(chunk)
            if self._per_frame:
                self._frame_data.add(chunk)
            else:
                self._msg_data.add(chunk)
        if self._frame_left == 0:
            self._end_frame(events)
        return pos + take

    def _start_assembler(self, take: int) -> bool:
        """Receive the current frame into an Assembler, if its size allows it yet."""
        size = self._assemble_size
        if assembler_type is None or (size > _ASSEMBLE_AT_ONCE and self._frame_seen + take < size >> 2):
            return False
        try:
            assembler = assembler_type(size)
        except MemoryError:
            self._assemble_size = 0  # chunks, then, as on the pure-Python path
            return False
        self._assembler = assembler
        for part in self._msg_data.parts():  # already unmasked
            assembler.write(part)
        return True

    def _start_growing(self, take: int) -> bool:
        """Receive the rest of a fragmented message into an Assembler once it is large."""
        received = self._msg_data.size
        if assembler_type is None or received + take < _ASSEMBLE_FROM:
            return False
        try:
            assembler = assembler_type(self._grown_size(received + take, 0))
        except MemoryError:
            self._grow = False
            return False
        self._assembler = assembler
        for part in self._msg_data.parts():  # already unmasked
            assembler.write(part)
        return True

    def _grown_size(self, needed: int, size: int) -> int:
        """The next size of a growing message: double, but never past the message limit."""
        grown = max(needed, 2 * size) if size else 2 * needed
        limit = self._max_message
        if limit is not None:
            grown = min(grown, max(limit, needed))
        return grown

    def _end_frame(self, events: list[ConnectionEvent]) -> None:
        first = self._frame_first
        self._frame_first = -1
        fin = bool(first & FIN)
        validator = self._validator
        payload = b""
        if self._per_frame:
            payload = self._frame_data.take()
        if self.extensions:
            frame = Frame(
                Opcode(first & OPCODE_MASK),
                payload,
                fin=fin,
                rsv1=bool(first & RSV1),
                rsv2=bool(first & RSV2),
                rsv3=bool(first & RSV3),
            )
            max_message = self._max_message
            budget = None if max_message is None else max_message - self._msg_size
            for extension in reversed(self.extensions):
                try:
                    frame = extension.decode(frame, max_size=budget)
                except ProtocolError:
                    raise
                except Exception as exc:  # a bug in an extension must not crash the driver
                    raise ProtocolError(f"extension {extension.name} failed", code=CloseCode.INTERNAL_ERROR) from exc
            if frame.rsv:
                raise ProtocolError("reserved bits must be 0")
            payload = frame.payload
            self._msg_size += len(payload)
            if max_message is not None and self._msg_size > max_message:
                raise MessageTooBig(f"message exceeds the limit of {max_message} bytes")
            if validator is not None:
                validator.decode(payload)
            if self._assemble:
                self._msg_data.add(payload)
        if fin and validator is not None:
            validator.decode(b"", True)  # the message must end on a whole character
        text_message = self._msg_opcode == _OP_TEXT
        if not self._assemble:
            decoder = self._fragment_decoder
            data: str | bytes = decoder.decode(payload, fin) if decoder is not None else payload
            events.append(Fragment(data, text_message, self._frame_is_first, fin))
            self._frame_is_first = False
        elif fin:
            assembler = self._assembler
            if assembler is not None:
                self._assembler = None
                self._assemble_size = 0
                if assembler.size != assembler.filled:
                    assembler.resize(assembler.filled)  # a grown message: give back the rest
                raw = assembler.take()
            else:
                raw = self._msg_data.take()
            # Already validated chunk by chunk: decoding cannot fail.
            events.append(TextMessage(raw.decode()) if text_message else BinaryMessage(raw))
        if fin:
            self._msg_opcode = 0
            self._grow = False
            self._validator = None
            self._fragment_decoder = None

    def _control(self, opcode: int, payload: bytes, events: list[ConnectionEvent]) -> None:
        if opcode == _OP_PING:
            events.append(Ping(payload))
            # Answer unless a close frame was received (RFC 6455 section 5.5.2); after
            # sending our own close, only data frames are forbidden.
            if self._auto_pong and self.close_received is None:
                self._send_frame(FIN | _OP_PONG, payload)
        elif opcode == _OP_PONG:
            events.append(Pong(payload))
        else:
            code, reason = decode_close_payload(payload)
            self.close_received = (code, reason)
            events.append(CloseReceived(code, reason))
            if self.state is State.OPEN:
                # Echo the peer's code (RFC 6455 section 5.5.1); no code for no code.
                reply = None if code == CloseCode.NO_STATUS_RCVD else code
                self._send_frame(FIN | _OP_CLOSE, encode_close_payload(reply))
                self.close_sent = (CloseCode.NO_STATUS_RCVD if reply is None else reply, "")
            self.state = State.CLOSED
            self._discard = True
            if not self._client:
                self._should_close_transport = True
