"""Tests for `wsframe._connection.Connection` in both roles (RFC 6455 sections 5, 7, 8 and 10.4).

Frames sent to a server are built by the `client_frame` fixture (masked with the RFC's
example key ``37 fa 21 3d``), frames sent to a client by `server_frame`; the
connection's output is checked on the wire with `FrameParser` (`parse_frames`).
"""

from __future__ import annotations

import array
import random
import struct
import tracemalloc
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from wsframe import (
    BinaryMessage,
    CloseReceived,
    Connection,
    ConnectionEvent,
    ConnectionFailed,
    ConnectionOptions,
    Fragment,
    InvalidData,
    InvalidState,
    MessageTooBig,
    Ping,
    Pong,
    ProtocolError,
    Role,
    State,
    TextMessage,
)
from wsframe.frames import Frame, Opcode

MASK = b"\x37\xfa\x21\x3d"
TEXT, BINARY, CONT, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10

FrameFn = Callable[..., bytes]
ParseFn = Callable[..., list[Frame]]
MakeConn = Callable[..., Connection]


def close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()


def failed(events: list[ConnectionEvent], code: int) -> ConnectionFailed:
    """Check that `events` ends with a ConnectionFailed with `code` and return it."""
    assert events, "no events"
    event = events[-1]
    assert isinstance(event, ConnectionFailed), events
    assert event.code == code, (event.code, event.error)
    assert event.error.code == code
    return event


def feed_bytewise(conn: Connection, data: bytes) -> tuple[list[ConnectionEvent], bytes]:
    """Feed `data` one byte at a time; return all events and all output."""
    events: list[ConnectionEvent] = []
    out = b""
    for i in range(len(data)):
        events += conn.receive_data(data[i : i + 1])
        out += conn.data_to_send()
    return events, out


def fail_offset(conn: Connection, data: bytes) -> int:
    """Feed `data` one byte at a time; the index of the byte whose call returned ConnectionFailed."""
    for i in range(len(data)):
        events = conn.receive_data(data[i : i + 1])
        if events and isinstance(events[-1], ConnectionFailed):
            return i
    raise AssertionError("the connection did not fail")


class TestConstruction:
    """Section 4: a Connection starts OPEN, after the opening handshake."""

    def test_initial_state(self, server: Connection) -> None:
        assert server.state is State.OPEN
        assert server.role is Role.SERVER
        assert server.close_received is None
        assert server.close_sent is None
        assert server.failure is None
        assert not server.eof_received
        assert not server.should_close_transport
        assert server.data_to_send() == b""
        assert server.options == ConnectionOptions()

    def test_state_values_match_ready_state(self) -> None:
        assert [int(s) for s in (State.CONNECTING, State.OPEN, State.CLOSING, State.CLOSED)] == [0, 1, 2, 3]

    def test_role_type_checked(self) -> None:
        with pytest.raises(TypeError, match="role"):
            Connection("server")  # type: ignore[arg-type]

    def test_empty_input(self, server: Connection) -> None:
        assert server.receive_data(b"") == []


class TestDataMessages:
    """Section 5.6: text and binary messages in single frames."""

    def test_server_receives_text(self, server: Connection) -> None:
        """Section 5.7: the masked "Hello" example."""
        assert server.receive_data(bytes.fromhex("818537fa213d7f9f4d5158")) == [TextMessage("Hello")]

    def test_server_receives_binary(self, server: Connection, client_frame: FrameFn) -> None:
        data = bytes(range(256)) * 3
        assert server.receive_data(client_frame(BINARY, data)) == [BinaryMessage(data)]

    def test_server_receives_empty_text(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.6: an empty text message is a message and must be delivered."""
        assert server.receive_data(client_frame(TEXT, b"")) == [TextMessage("")]

    def test_server_receives_empty_binary(self, server: Connection, client_frame: FrameFn) -> None:
        assert server.receive_data(client_frame(BINARY, b"")) == [BinaryMessage(b"")]

    def test_client_receives_text_and_binary(self, client: Connection, server_frame: FrameFn) -> None:
        """Section 5.7: the unmasked "Hello" example."""
        data = bytes.fromhex("810548656c6c6f") + server_frame(BINARY, b"\x00\xff") + server_frame(TEXT, b"")
        assert client.receive_data(data) == [TextMessage("Hello"), BinaryMessage(b"\x00\xff"), TextMessage("")]

    def test_client_receives_empty_binary(self, client: Connection, server_frame: FrameFn) -> None:
        assert client.receive_data(server_frame(BINARY)) == [BinaryMessage(b"")]

    def test_text_is_decoded(self, server: Connection, client_frame: FrameFn) -> None:
        text = "κόσμε 𝄞 €"
        assert server.receive_data(client_frame(TEXT, text.encode())) == [TextMessage(text)]

    def test_many_messages_in_one_chunk(self, server: Connection, client_frame: FrameFn) -> None:
        data = b"".join(client_frame(TEXT, str(i).encode()) for i in range(50))
        assert server.receive_data(data) == [TextMessage(str(i)) for i in range(50)]

    @pytest.mark.parametrize("length", [125, 126, 65535, 65536, 70000])
    def test_length_encodings(self, server: Connection, client_frame: FrameFn, length: int) -> None:
        """Section 5.2: 7-, 16- and 64-bit lengths."""
        data = bytes(i % 256 for i in range(length))
        assert server.receive_data(client_frame(BINARY, data)) == [BinaryMessage(data)]

    @pytest.mark.parametrize("kind", [bytearray, memoryview])
    def test_buffer_inputs(self, server: Connection, client_frame: FrameFn, kind: Callable[[bytes], Any]) -> None:
        """receive_data takes any bytes-like object, whole or in pieces."""
        data = client_frame(TEXT, b"Hel", fin=False) + client_frame(CONT, b"lo") + client_frame(BINARY, b"xyz")
        assert server.receive_data(kind(data)) == [TextMessage("Hello"), BinaryMessage(b"xyz")]
        other = Connection(Role.SERVER)
        events: list[ConnectionEvent] = []
        for i in range(0, len(data), 3):
            events += other.receive_data(kind(data[i : i + 3]))
        assert events == [TextMessage("Hello"), BinaryMessage(b"xyz")]

    def test_events_hold_bytes(self, server: Connection, client_frame: FrameFn) -> None:
        (event,) = server.receive_data(bytearray(client_frame(BINARY, b"abc")))
        assert isinstance(event, BinaryMessage)
        assert type(event.data) is bytes

    def test_server_sends_unmasked(self, server: Connection) -> None:
        """Section 5.1: a server never masks; section 5.7's unmasked "Hello"."""
        server.send_text("Hello")
        assert server.data_to_send() == bytes.fromhex("810548656c6c6f")
        assert server.data_to_send() == b""

    def test_client_sends_masked_with_injected_key(self, client: Connection) -> None:
        """Section 5.3: section 5.7's masked "Hello" with the key from `mask_key`."""
        client.send_text("Hello")
        assert client.data_to_send() == bytes.fromhex("818537fa213d7f9f4d5158")

    def test_client_takes_a_fresh_key_per_frame(self, make_conn: MakeConn, parse_frames: ParseFn) -> None:
        """Section 5.3: "a new masking key" for each frame."""
        keys = [bytes((i, i + 1, i + 2, i + 3)) for i in range(0, 40, 4)]
        given = iter(keys)
        calls: list[int] = []

        def mask_key(n: int) -> bytes:
            calls.append(n)
            return next(given)

        client = make_conn(Role.CLIENT, mask_key=mask_key)
        client.send_text("one")
        client.send_binary(b"two")
        client.send_ping(b"three")
        data = client.data_to_send()
        assert calls == [4, 4, 4]
        assert data[2:6] == keys[0]
        assert data[11:15] == keys[1]
        assert data[20:24] == keys[2]
        assert parse_frames(data, masked=True) == [
            Frame(Opcode.TEXT, b"one"),
            Frame(Opcode.BINARY, b"two"),
            Frame(Opcode.PING, b"three"),
        ]

    def test_send_binary_types(self, server: Connection, parse_frames: ParseFn) -> None:
        server.send_binary(b"a")
        server.send_binary(bytearray(b"b"))
        server.send_binary(memoryview(b"xcx")[1:2])
        server.send(b"d")
        server.send("e")
        assert parse_frames(server.data_to_send(), masked=False) == [
            Frame(Opcode.BINARY, b"a"),
            Frame(Opcode.BINARY, b"b"),
            Frame(Opcode.BINARY, b"c"),
            Frame(Opcode.BINARY, b"d"),
            Frame(Opcode.TEXT, b"e"),
        ]

    def test_send_empty_messages(self, server: Connection) -> None:
        server.send_text("")
        server.send_binary(b"")
        assert server.data_to_send() == b"\x81\x00\x82\x00"

    def test_send_type_errors(self, server: Connection) -> None:
        with pytest.raises(TypeError, match="send_text"):
            server.send_text(b"bytes")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="send_binary"):
            server.send_binary("text")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            server.send(42)  # type: ignore[arg-type]
        assert server.data_to_send() == b""

    def test_round_trip_client_to_server_and_back(self, client: Connection, server: Connection) -> None:
        client.send_text("héllo")
        client.send_binary(bytes(70000))
        client.send_ping(b"p")
        assert server.receive_data(client.data_to_send()) == [
            TextMessage("héllo"),
            BinaryMessage(bytes(70000)),
            Ping(b"p"),
        ]
        server.send_text("back")
        assert client.receive_data(server.data_to_send()) == [Pong(b"p"), TextMessage("back")]


class TestSendBuffers:
    """Queued frames must not depend on buffers the application keeps using."""

    def test_bytearray_reused_after_send_binary(self, server: Connection) -> None:
        """A server must copy (or send) the payload at call time: the header already says 3 bytes."""
        buf = bytearray(b"abc")
        server.send_binary(buf)
        buf[:] = b"zzzzz"
        assert server.data_to_send() == b"\x82\x03abc"

    def test_bytearray_reused_after_send_ping(self, server: Connection) -> None:
        buf = bytearray(b"abc")
        server.send_ping(buf)
        buf[:] = b"zzzzz"
        assert server.data_to_send() == b"\x89\x03abc"

    def test_memoryview_with_multibyte_items(self, server: Connection, parse_frames: ParseFn) -> None:
        """Section 5.2: the length is in bytes, not in items of the buffer's format."""
        view = memoryview(array.array("H", [1, 2]))
        try:
            server.send_binary(view)
        except (TypeError, ValueError):
            return  # refusing such a buffer is acceptable
        assert parse_frames(server.data_to_send(), masked=False) == [Frame(Opcode.BINARY, view.tobytes())]

    def test_returned_event_lists_are_not_shared(self, server: Connection) -> None:
        """Mutating a returned list must not change what later calls return."""
        events = server.receive_data(b"")
        phantom = TextMessage("phantom")
        events.append(phantom)
        try:
            assert server.receive_data(b"") == []
            other = Connection(Role.SERVER)
            other.fail()
            assert other.receive_data(b"\x81\x00") == []
        finally:
            # If the list is shared, leave it as found so other tests are not affected.
            events.remove(phantom)


class TestFragmentation:
    """Section 5.4: fragmented messages and control frames between fragments."""

    def test_hel_lo(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.7: "Hel" then "lo"."""
        assert server.receive_data(client_frame(TEXT, b"Hel", fin=False)) == []
        assert server.receive_data(client_frame(CONT, b"lo")) == [TextMessage("Hello")]

    def test_binary_in_many_fragments(self, server: Connection, client_frame: FrameFn) -> None:
        data = client_frame(BINARY, b"a", fin=False)
        data += b"".join(client_frame(CONT, bytes([i]), fin=False) for i in range(100))
        data += client_frame(CONT, b"z")
        assert server.receive_data(data) == [BinaryMessage(b"a" + bytes(range(100)) + b"z")]

    def test_empty_fragments(self, server: Connection, client_frame: FrameFn) -> None:
        data = client_frame(TEXT, b"", fin=False) + client_frame(CONT, b"", fin=False) + client_frame(CONT, b"")
        assert server.receive_data(data) == [TextMessage("")]

    def test_ping_between_fragments_answered_at_once(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.4: control frames may be injected; section 5.5.2: answered "as soon as practical"."""
        events = server.receive_data(client_frame(TEXT, b"Hel", fin=False) + client_frame(PING, b"now"))
        assert events == [Ping(b"now")]
        assert server.data_to_send() == b"\x8a\x03now"
        assert server.receive_data(client_frame(CONT, b"lo")) == [TextMessage("Hello")]
        assert server.data_to_send() == b""

    def test_pong_and_close_between_fragments(self, server: Connection, client_frame: FrameFn) -> None:
        data = (
            client_frame(BINARY, b"a", fin=False) + client_frame(PONG, b"x") + client_frame(CLOSE, close_payload(1001))
        )
        assert server.receive_data(data) == [Pong(b"x"), CloseReceived(1001, "")]

    def test_continuation_without_start(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.4: a continuation frame needs a message in progress (1002)."""
        failed(server.receive_data(client_frame(CONT, b"lo")), 1002)

    def test_continuation_after_complete_message(self, server: Connection, client_frame: FrameFn) -> None:
        events = server.receive_data(client_frame(TEXT, b"Hello") + client_frame(CONT, b"!"))
        assert events[0] == TextMessage("Hello")
        failed(events, 1002)

    @pytest.mark.parametrize("opcode", [TEXT, BINARY])
    def test_new_message_during_fragmented_message(
        self, server: Connection, client_frame: FrameFn, opcode: int
    ) -> None:
        """Section 5.4: fragments of different messages must not interleave (1002)."""
        events = server.receive_data(client_frame(TEXT, b"Hel", fin=False) + client_frame(opcode, b"x"))
        assert len(events) == 1
        failed(events, 1002)

    def test_client_receives_fragmented(self, client: Connection, server_frame: FrameFn) -> None:
        data = server_frame(BINARY, b"ab", fin=False) + server_frame(PING) + server_frame(CONT, b"cd")
        assert client.receive_data(data) == [Ping(b""), BinaryMessage(b"abcd")]
        assert client.data_to_send() == b"\x8a\x80" + MASK


class TestUtf8:
    """Section 8.1: text must be valid UTF-8; failures are detected as early as possible (1007)."""

    def test_invalid_in_single_frame(self, server: Connection, client_frame: FrameFn) -> None:
        event = failed(server.receive_data(client_frame(TEXT, b"ab\xffcd")), 1007)
        assert isinstance(event.error, InvalidData)

    def test_invalid_in_client(self, client: Connection, server_frame: FrameFn) -> None:
        failed(client.receive_data(server_frame(TEXT, b"\xc0\xaf")), 1007)

    def test_invalid_split_across_fragments_fails_at_that_frame(
        self, server: Connection, client_frame: FrameFn
    ) -> None:
        """Section 8.1 (Autobahn 6.4.1): fail at the fragment that makes the text invalid."""
        assert server.receive_data(client_frame(TEXT, "κόσμε".encode() + b"\xed", fin=False)) == []
        events = server.receive_data(client_frame(CONT, b"\xa0\x80", fin=False))
        failed(events, 1007)
        assert len(events) == 1

    def test_invalid_fragment_fails_before_later_frames(self, server: Connection, client_frame: FrameFn) -> None:
        """Frames after the invalid one are not processed: the ping below is never seen."""
        data = (
            client_frame(TEXT, b"ok", fin=False)
            + client_frame(CONT, b"\xf4\x90", fin=False)
            + client_frame(PING, b"later")
            + client_frame(CONT, b"\x80\x80")
        )
        events = server.receive_data(data)
        assert len(events) == 1
        failed(events, 1007)
        assert server.data_to_send() == b""

    def test_invalid_in_middle_of_frame_fed_in_pieces(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 8.1 (Autobahn 6.4.3): fail at the piece holding the invalid byte, not at the frame's end."""
        frame = client_frame(TEXT, b"hello\xffworld")
        header = 6
        assert server.receive_data(frame[: header + 5]) == []
        failed(server.receive_data(frame[header + 5 : header + 7]), 1007)

    def test_invalid_fails_before_frame_is_complete_bytewise(self, server: Connection, client_frame: FrameFn) -> None:
        frame = client_frame(TEXT, b"hello" + b"\xe0\x80" + b"x" * 50)
        assert fail_offset(server, frame) == 6 + 6

    def test_surrogate_fails_at_second_byte(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 8.1: ED A0 80 (U+D800) is invalid as soon as A0 arrives."""
        frame = client_frame(TEXT, b"ab\xed\xa0\x80cd")
        assert fail_offset(server, frame) == 6 + 3

    def test_surrogate_fails_at_second_byte_in_fragments(self, server: Connection, client_frame: FrameFn) -> None:
        data = client_frame(TEXT, b"ab\xed", fin=False) + client_frame(CONT, b"\xa0\x80cd")
        assert fail_offset(server, data) == 9 + 6

    def test_multibyte_char_split_across_frames(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 8.1: a character may straddle fragments."""
        data = (
            client_frame(TEXT, b"\xe2", fin=False)
            + client_frame(CONT, b"\x82", fin=False)
            + client_frame(CONT, b"\xac")
        )
        assert server.receive_data(data) == [TextMessage("€")]

    def test_multibyte_char_split_bytewise(self, server: Connection, client_frame: FrameFn) -> None:
        text = "𝄞 κόσμε €"
        data = client_frame(TEXT, text.encode()[:5], fin=False) + client_frame(CONT, text.encode()[5:])
        events, _ = feed_bytewise(server, data)
        assert events == [TextMessage(text)]

    def test_incomplete_char_at_end_of_single_frame(self, server: Connection, client_frame: FrameFn) -> None:
        failed(server.receive_data(client_frame(TEXT, b"ab\xe2\x82")), 1007)

    def test_incomplete_char_at_end_of_fragmented_message(self, server: Connection, client_frame: FrameFn) -> None:
        assert server.receive_data(client_frame(TEXT, b"ab", fin=False)) == []
        failed(server.receive_data(client_frame(CONT, b"\xf0\x9d\x84")), 1007)

    def test_incomplete_char_at_end_fed_bytewise(self, server: Connection, client_frame: FrameFn) -> None:
        frame = client_frame(TEXT, b"ab\xe2\x82")
        assert fail_offset(server, frame) == len(frame) - 1

    def test_binary_is_not_validated(self, server: Connection, client_frame: FrameFn) -> None:
        assert server.receive_data(client_frame(BINARY, b"\xff\xed\xa0\x80")) == [BinaryMessage(b"\xff\xed\xa0\x80")]

    def test_decoder_reset_between_messages(self, server: Connection, client_frame: FrameFn) -> None:
        data = client_frame(TEXT, b"a", fin=False) + client_frame(CONT, b"b") + client_frame(TEXT, b"\xc3\xa9")
        assert server.receive_data(data) == [TextMessage("ab"), TextMessage("é")]


class TestFailure:
    """Section 7.1.7: failing the WebSocket connection after a protocol violation."""

    def test_earlier_messages_come_first(self, server: Connection, client_frame: FrameFn) -> None:
        """Events before the violation in the same call are returned before ConnectionFailed."""
        data = client_frame(TEXT, b"one") + client_frame(BINARY, b"two") + bytes((0x83, 0x80)) + MASK
        events = server.receive_data(data)
        assert events[:2] == [TextMessage("one"), BinaryMessage(b"two")]
        assert len(events) == 3
        failed(events, 1002)
        assert isinstance(server.failure, ProtocolError)

    def test_sending_possible_until_fail(
        self, server: Connection, client_frame: FrameFn, parse_frames: ParseFn
    ) -> None:
        """Autobahn's strict cases: echo the valid messages, then fail."""
        events = server.receive_data(client_frame(TEXT, b"echo me") + client_frame(CONT, b"x"))
        event = failed(events, 1002)
        assert server.state is State.OPEN
        assert not server.should_close_transport
        server.send_text("echo me")
        server.fail()
        frames = parse_frames(server.data_to_send(), masked=False)
        assert frames == [
            Frame(Opcode.TEXT, b"echo me"),
            Frame(Opcode.CLOSE, close_payload(1002, event.error.reason)),
        ]
        assert server.state is State.CLOSING
        assert server.should_close_transport
        assert server.close_sent == (1002, event.error.reason)
        assert server.close_code == 1002
        assert server.close_reason == event.error.reason
        assert not server.close_was_clean

    @pytest.mark.parametrize(
        ("payload", "code"),
        [(b"\xff", 1007), (None, 1009)],
    )
    def test_fail_uses_the_error_code(
        self, make_conn: MakeConn, client_frame: FrameFn, payload: bytes | None, code: int
    ) -> None:
        server = make_conn(Role.SERVER, max_message_size=4)
        data = client_frame(TEXT, payload) if payload is not None else client_frame(BINARY, b"12345")
        event = failed(server.receive_data(data), code)
        server.fail()
        assert server.data_to_send() == b"\x88" + bytes([2 + len(event.error.reason.encode())]) + close_payload(
            code, event.error.reason
        )

    def test_input_discarded_after_violation(self, server: Connection, client_frame: FrameFn) -> None:
        failed(server.receive_data(client_frame(CONT, b"x") + client_frame(TEXT, b"lost")), 1002)
        assert server.receive_data(client_frame(TEXT, b"later")) == []
        server.fail()
        assert server.receive_data(client_frame(PING, b"p")) == []
        assert server.data_to_send().startswith(b"\x88")
        assert server.data_to_send() == b""

    def test_close_code_before_fail(self, server: Connection, client_frame: FrameFn) -> None:
        failed(server.receive_data(client_frame(CONT)), 1002)
        assert server.close_sent is None
        # The violation decides the code at once, before the driver calls fail().
        assert server.close_code == 1002

    def test_application_fail_with_code(self, server: Connection) -> None:
        server.fail(1011, "oops")
        assert server.data_to_send() == b"\x88\x06" + close_payload(1011, "oops")
        assert server.state is State.CLOSING
        assert server.should_close_transport

    def test_client_fail_masks_close_frame(
        self, client: Connection, server_frame: FrameFn, parse_frames: ParseFn
    ) -> None:
        failed(client.receive_data(server_frame(TEXT, b"x", rsv=0x40)), 1002)
        client.fail()
        (frame,) = parse_frames(client.data_to_send(), masked=True)
        assert frame.opcode is Opcode.CLOSE
        assert frame.payload[:2] == b"\x03\xea"
        assert client.should_close_transport

    def test_fail_without_violation(self, server: Connection) -> None:
        server.fail()
        assert server.data_to_send() == b"\x88\x02\x03\xea"

    @pytest.mark.parametrize("code", [1005, 1006, 999, 5000])
    def test_fail_invalid_code(self, server: Connection, code: int) -> None:
        with pytest.raises(ValueError):
            server.fail(code)
        assert server.data_to_send() == b""
        assert server.state is State.OPEN

    def test_fail_after_close_sent_sends_nothing_more(self, server: Connection, client_frame: FrameFn) -> None:
        server.send_close(1000)
        server.data_to_send()
        failed(server.receive_data(client_frame(TEXT, b"\xff")), 1007)
        server.fail()
        assert server.data_to_send() == b""
        assert server.should_close_transport

    def test_fail_reason_is_truncated_to_valid_utf8(self) -> None:
        """Section 5.5: a reason of at most 123 bytes; never a split character."""
        error = ProtocolError("é" * 100)
        assert len(error.reason.encode()) <= 123
        assert error.reason == "é" * 61

    @pytest.mark.parametrize(
        "wire",
        [
            bytes((0x83, 0x80)) + MASK,  # reserved opcode
            bytes((0xC1, 0x80)) + MASK,  # RSV1 without extension
            bytes((0x81, 0x00)),  # unmasked client frame
            bytes((0x09, 0x80)) + MASK,  # fragmented ping
            bytes((0x89, 0xFE, 0x00, 0x7E)) + MASK,  # ping of 126 bytes
            bytes((0x82, 0xFE, 0x00, 0x05)) + MASK,  # non-minimal length
            bytes((0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0)) + MASK,  # 64-bit length with MSB set
        ],
        ids=["opcode", "rsv", "unmasked", "fragmented-ping", "long-ping", "non-minimal", "msb"],
    )
    def test_frame_level_violations(self, server: Connection, wire: bytes) -> None:
        """Section 5.2: header violations fail with 1002."""
        failed(server.receive_data(wire), 1002)

    def test_client_rejects_masked_frame(self, client: Connection) -> None:
        """Section 5.1: "A client MUST close a connection if it detects a masked frame"."""
        failed(client.receive_data(bytes.fromhex("818537fa213d7f9f4d5158")), 1002)


class TestCloseHandshake:
    """Sections 5.5.1 and 7: the closing handshake."""

    def test_initiated_locally(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 7.1.2: send close, then receive the peer's close."""
        server.send_close(1000, "bye")
        assert server.data_to_send() == b"\x88\x05\x03\xe8bye"
        assert server.state is State.CLOSING
        assert server.close_sent == (1000, "bye")
        assert not server.should_close_transport
        assert not server.close_was_clean
        events = server.receive_data(client_frame(CLOSE, close_payload(1000)))
        assert events == [CloseReceived(1000, "")]
        assert server.data_to_send() == b""  # no second close frame
        assert server.state is State.CLOSED
        assert server.close_was_clean
        assert server.close_code == 1000
        assert server.should_close_transport

    def test_messages_still_received_while_closing(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.5.1: the peer may send data until it sends its close frame."""
        server.send_close()
        assert server.receive_data(client_frame(TEXT, b"late")) == [TextMessage("late")]

    def test_initiated_by_peer(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.5.1: the reply echoes the peer's status code."""
        events = server.receive_data(client_frame(CLOSE, close_payload(1001, "going")))
        assert events == [CloseReceived(1001, "going")]
        assert server.data_to_send() == b"\x88\x02\x03\xe9"
        assert server.state is State.CLOSED
        assert server.close_received == (1001, "going")
        assert server.close_code == 1001
        assert server.close_reason == "going"
        assert server.close_was_clean
        assert server.should_close_transport

    def test_client_replies_masked(self, client: Connection, server_frame: FrameFn, parse_frames: ParseFn) -> None:
        events = client.receive_data(server_frame(CLOSE, close_payload(3000, "app")))
        assert events == [CloseReceived(3000, "app")]
        assert parse_frames(client.data_to_send(), masked=True) == [Frame(Opcode.CLOSE, close_payload(3000))]
        assert client.state is State.CLOSED
        assert client.close_was_clean

    def test_empty_close_payload(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 7.1.5: no status code -> 1005; the reply carries no code either."""
        assert server.receive_data(client_frame(CLOSE)) == [CloseReceived(1005, "")]
        assert server.data_to_send() == b"\x88\x00"
        assert server.close_code == 1005
        assert server.close_was_clean

    def test_one_byte_close_payload(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.5.1: a body starts with a 2-byte code."""
        failed(server.receive_data(client_frame(CLOSE, b"\x03")), 1002)
        assert server.close_received is None

    @pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
    def test_invalid_close_codes(self, server: Connection, client_frame: FrameFn, code: int) -> None:
        """Section 7.4: codes that may not appear on the wire fail with 1002."""
        failed(server.receive_data(client_frame(CLOSE, close_payload(code))), 1002)
        assert server.data_to_send() == b""

    @pytest.mark.parametrize(
        "code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]
    )
    def test_valid_close_codes(self, server: Connection, client_frame: FrameFn, code: int) -> None:
        assert server.receive_data(client_frame(CLOSE, close_payload(code, "r"))) == [CloseReceived(code, "r")]
        assert server.data_to_send() == b"\x88\x02" + struct.pack("!H", code)

    def test_invalid_utf8_reason(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 8.1: the reason is UTF-8 (1007)."""
        failed(server.receive_data(client_frame(CLOSE, b"\x03\xe8\xce\xba\xe1\xbd")), 1007)

    def test_data_after_close_is_ignored(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.5.1: nothing follows a close frame."""
        data = client_frame(CLOSE, close_payload(1000)) + client_frame(TEXT, b"after") + client_frame(PING)
        assert server.receive_data(data) == [CloseReceived(1000, "")]
        assert server.receive_data(client_frame(TEXT, b"later")) == []
        assert server.receive_data(b"\xff\xff") == []
        assert server.data_to_send() == b"\x88\x02\x03\xe8"

    def test_receive_eof_without_close(self, server: Connection) -> None:
        """Section 7.1.5: no close frame -> 1006."""
        server.receive_eof()
        assert server.state is State.CLOSED
        assert server.close_code == 1006
        assert server.close_reason == ""
        assert not server.close_was_clean
        assert server.eof_received
        assert server.should_close_transport
        assert server.receive_data(b"\x81\x00") == []

    def test_receive_eof_mid_frame(self, server: Connection, client_frame: FrameFn) -> None:
        assert server.receive_data(client_frame(TEXT, b"Hello")[:4]) == []
        server.receive_eof()
        assert server.close_code == 1006
        assert server.state is State.CLOSED

    def test_receive_eof_after_close_handshake(self, client: Connection, server_frame: FrameFn) -> None:
        client.send_close(1000)
        client.receive_data(server_frame(CLOSE, close_payload(1000)))
        assert not client.should_close_transport
        client.receive_eof()
        assert client.close_code == 1000
        assert client.close_was_clean
        assert client.should_close_transport

    def test_client_waits_for_server_to_close_transport(self, client: Connection, server_frame: FrameFn) -> None:
        """Section 7.1.1: the server closes the TCP connection first."""
        client.receive_data(server_frame(CLOSE, close_payload(1000)))
        assert client.state is State.CLOSED
        assert not client.should_close_transport

    def test_client_closes_transport_after_failure(self, client: Connection, server_frame: FrameFn) -> None:
        failed(client.receive_data(server_frame(CONT)), 1002)
        client.fail()
        assert client.should_close_transport

    def test_server_closes_transport_after_handshake_it_started(
        self, server: Connection, client_frame: FrameFn
    ) -> None:
        server.send_close(1001)
        assert not server.should_close_transport
        server.receive_data(client_frame(CLOSE, close_payload(1001)))
        assert server.should_close_transport

    def test_send_close_without_code(self, server: Connection, client_frame: FrameFn) -> None:
        server.send_close(None)
        assert server.data_to_send() == b"\x88\x00"
        assert server.close_sent == (1005, "")
        server.receive_data(client_frame(CLOSE))
        assert server.close_code == 1005

    @pytest.mark.parametrize("code", [1005, 1006, 1015, 999, 1004, 2000, 5000])
    def test_send_close_invalid_code(self, server: Connection, code: int) -> None:
        with pytest.raises(ValueError):
            server.send_close(code)
        assert server.state is State.OPEN
        assert server.data_to_send() == b""

    def test_send_close_reason_limit(self, server: Connection) -> None:
        """Section 5.5: 123 bytes of reason at most."""
        with pytest.raises(ValueError):
            server.send_close(1000, "x" * 124)
        with pytest.raises(ValueError):
            server.send_close(1000, "é" * 62)
        with pytest.raises(ValueError):
            server.send_close(None, "reason without code")
        assert server.state is State.OPEN
        server.send_close(1000, "é" * 61 + "x")
        assert len(server.data_to_send()) == 2 + 125

    def test_sending_after_close_sent(self, server: Connection) -> None:
        """Section 5.5.1: no data frames after a close frame."""
        server.send_close()
        server.data_to_send()
        for call in (
            lambda: server.send_text("x"),
            lambda: server.send_binary(b"x"),
            lambda: server.send("x"),
            lambda: server.send_fragment("x", fin=True),
            lambda: server.send_close(),
        ):
            with pytest.raises(InvalidState):
                call()
        assert server.data_to_send() == b""

    def test_sending_after_close_received(self, server: Connection, client_frame: FrameFn) -> None:
        server.receive_data(client_frame(CLOSE, close_payload(1000)))
        server.data_to_send()
        with pytest.raises(InvalidState):
            server.send_text("x")
        with pytest.raises(InvalidState):
            server.send_ping()
        with pytest.raises(InvalidState):
            server.send_close()
        assert server.data_to_send() == b""

    def test_sending_after_eof(self, server: Connection) -> None:
        server.receive_eof()
        with pytest.raises(InvalidState):
            server.send_binary(b"x")

    def test_close_during_fragmented_message(self, server: Connection, client_frame: FrameFn) -> None:
        data = (
            client_frame(TEXT, b"Hel", fin=False) + client_frame(CLOSE, close_payload(1000)) + client_frame(CONT, b"lo")
        )
        assert server.receive_data(data) == [CloseReceived(1000, "")]


class TestPingPong:
    """Sections 5.5.2 and 5.5.3."""

    def test_auto_pong_echoes_payload(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.5.3: the pong carries the ping's application data."""
        assert server.receive_data(client_frame(PING, b"Hello")) == [Ping(b"Hello")]
        assert server.data_to_send() == bytes.fromhex("8a0548656c6c6f")

    def test_empty_ping_with_zero_key(self, server: Connection) -> None:
        """WebSocket-Node's vector: a masked empty ping with an all-zero key."""
        assert server.receive_data(bytes.fromhex("898000000000")) == [Ping(b"")]
        assert server.data_to_send() == b"\x8a\x00"

    def test_ping_of_125_bytes(self, server: Connection, client_frame: FrameFn) -> None:
        payload = bytes(range(125))
        assert server.receive_data(client_frame(PING, payload)) == [Ping(payload)]
        assert server.data_to_send() == b"\x8a\x7d" + payload

    def test_auto_pong_off(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, auto_pong=False)
        assert server.receive_data(client_frame(PING, b"x")) == [Ping(b"x")]
        assert server.data_to_send() == b""
        server.send_pong(b"x")
        assert server.data_to_send() == b"\x8a\x01x"

    def test_pong_received(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.5.3: an unsolicited pong is allowed and not answered."""
        assert server.receive_data(client_frame(PONG, b"beat")) == [Pong(b"beat")]
        assert server.data_to_send() == b""

    def test_each_ping_answered(self, server: Connection, client_frame: FrameFn) -> None:
        server.receive_data(client_frame(PING, b"1") + client_frame(PING, b"2"))
        assert server.data_to_send() == b"\x8a\x011\x8a\x012"

    def test_client_pong_is_masked(self, client: Connection, server_frame: FrameFn) -> None:
        client.receive_data(server_frame(PING, b"Hello"))
        assert client.data_to_send() == bytes.fromhex("8a8537fa213d7f9f4d5158")

    @pytest.mark.parametrize("method", ["send_ping", "send_pong"])
    def test_payload_limits(self, server: Connection, method: str) -> None:
        """Section 5.5: 125 bytes at most."""
        send = getattr(server, method)
        send(b"x" * 125)
        assert len(server.data_to_send()) == 127
        with pytest.raises(ValueError, match="125"):
            send(b"x" * 126)
        with pytest.raises(TypeError):
            send("text")
        assert server.data_to_send() == b""

    def test_send_ping_default_payload(self, server: Connection) -> None:
        server.send_ping()
        server.send_pong()
        assert server.data_to_send() == b"\x89\x00\x8a\x00"

    def test_ping_answered_while_closing(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.5.2: a ping MUST be answered "unless it already received a Close frame".

        Having *sent* a close frame does not excuse it: section 5.5.1 only forbids
        further *data* frames after a close frame.
        """
        server.send_close(1000)
        server.data_to_send()
        assert server.receive_data(client_frame(PING, b"still there?")) == [Ping(b"still there?")]
        assert server.data_to_send() == b"\x8a\x0cstill there?"

    def test_no_pong_after_close_received(self, server: Connection, client_frame: FrameFn) -> None:
        """Section 5.5.2: after the peer's close frame, nothing is answered."""
        server.receive_data(client_frame(CLOSE, close_payload(1000)) + client_frame(PING, b"x"))
        assert server.data_to_send() == b"\x88\x02\x03\xe8"


class TestMessageSize:
    """Section 10.4: limits on frame and message size (1009), checked from headers."""

    def test_single_frame_refused_from_header(self, server: Connection) -> None:
        """The header of a 10 MB frame is enough to fail (default limit 1 MiB)."""
        header = bytes((0x82, 0xFF)) + (10 * 1024 * 1024).to_bytes(8, "big") + MASK
        event = failed(server.receive_data(header), 1009)
        assert isinstance(event.error, MessageTooBig)

    def test_small_limit_from_header(self, make_conn: MakeConn) -> None:
        server = make_conn(Role.SERVER, max_message_size=10)
        failed(server.receive_data(bytes((0x81, 0x8B)) + MASK), 1009)

    def test_exactly_at_limit(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, max_message_size=10)
        assert server.receive_data(client_frame(TEXT, b"x" * 10)) == [TextMessage("x" * 10)]
        data = (
            client_frame(BINARY, b"1234", fin=False)
            + client_frame(CONT, b"5678", fin=False)
            + client_frame(CONT, b"90")
        )
        assert server.receive_data(data) == [BinaryMessage(b"1234567890")]

    def test_fragmented_message_fails_at_crossing_frame(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        """The frame whose header takes the total past the limit fails, before its payload."""
        server = make_conn(Role.SERVER, max_message_size=10)
        assert server.receive_data(client_frame(TEXT, b"1234", fin=False)) == []
        assert server.receive_data(client_frame(CONT, b"5678", fin=False)) == []
        failed(server.receive_data(client_frame(CONT, b"901")[:6]), 1009)

    def test_limit_applies_to_each_message(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        """Section 10.4: the limit is per message; earlier messages do not count."""
        server = make_conn(Role.SERVER, max_message_size=10)
        data = client_frame(BINARY, b"12345", fin=False) + client_frame(CONT, b"12345")
        assert server.receive_data(data) == [BinaryMessage(b"1234512345")]
        assert server.receive_data(client_frame(BINARY, b"123456")) == [BinaryMessage(b"123456")]

    def test_limit_applies_after_message_fed_in_pieces(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        """A single-frame message split by TCP must not shrink the next message's budget."""
        server = make_conn(Role.SERVER, max_message_size=10)
        frame = client_frame(TEXT, b"x" * 8)
        assert server.receive_data(frame[:7]) == []
        assert server.receive_data(frame[7:]) == [TextMessage("x" * 8)]
        assert server.receive_data(client_frame(TEXT, b"y" * 8)) == [TextMessage("y" * 8)]

    def test_max_frame_size_separate(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, max_message_size=10, max_frame_size=4)
        data = (
            client_frame(BINARY, b"1234", fin=False)
            + client_frame(CONT, b"5678", fin=False)
            + client_frame(CONT, b"90")
        )
        assert server.receive_data(data) == [BinaryMessage(b"1234567890")]
        failed(server.receive_data(bytes((0x82, 0x85)) + MASK), 1009)

    def test_max_frame_size_larger_than_message_size(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, max_message_size=5, max_frame_size=100)
        failed(server.receive_data(client_frame(BINARY, b"123456")), 1009)

    def test_no_limit(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, max_message_size=None)
        data = bytes(2 * 1024 * 1024)
        assert server.receive_data(client_frame(BINARY, data)) == [BinaryMessage(data)]

    def test_client_limit(self, make_conn: MakeConn, server_frame: FrameFn) -> None:
        client = make_conn(Role.CLIENT, max_message_size=3)
        failed(client.receive_data(server_frame(TEXT, b"abcd")), 1009)

    def test_control_frames_not_limited_by_message_size(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        """Section 5.5: control frames are not messages; `max_message_size` bounds messages only.

        With `max_frame_size` unset, the frame limit falls back to `max_message_size`,
        which must not make a 100-byte ping (legal: at most 125) fail with 1009.
        """
        server = make_conn(Role.SERVER, max_message_size=4)
        data = client_frame(TEXT, b"ab", fin=False) + client_frame(PING, b"x" * 100) + client_frame(CONT, b"cd")
        assert server.receive_data(data) == [Ping(b"x" * 100), TextMessage("abcd")]


class TestFragmentEvents:
    """Section 5.4 with `assemble_fragments=False`: every data frame as it arrives."""

    def test_text_fragments(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, assemble_fragments=False)
        data = client_frame(TEXT, b"Hel", fin=False) + client_frame(CONT, b"l", fin=False) + client_frame(CONT, b"o")
        assert server.receive_data(data) == [
            Fragment("Hel", True, True, False),
            Fragment("l", True, False, False),
            Fragment("o", True, False, True),
        ]

    def test_single_frame_messages(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, assemble_fragments=False)
        data = client_frame(TEXT, b"a") + client_frame(BINARY, b"b") + client_frame(TEXT) + client_frame(BINARY)
        assert server.receive_data(data) == [
            Fragment("a", True, True, True),
            Fragment(b"b", False, True, True),
            Fragment("", True, True, True),
            Fragment(b"", False, True, True),
        ]

    def test_binary_fragments_with_ping(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, assemble_fragments=False)
        data = client_frame(BINARY, b"\x01", fin=False) + client_frame(PING, b"p") + client_frame(CONT, b"\x02")
        assert server.receive_data(data) == [
            Fragment(b"\x01", False, True, False),
            Ping(b"p"),
            Fragment(b"\x02", False, False, True),
        ]

    def test_fragment_delivered_before_message_ends(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, assemble_fragments=False)
        assert server.receive_data(client_frame(BINARY, b"abc", fin=False)) == [Fragment(b"abc", False, True, False)]

    def test_text_decoded_incrementally(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        """A character split across frames appears in the frame that completes it."""
        server = make_conn(Role.SERVER, assemble_fragments=False)
        data = (
            client_frame(TEXT, b"a\xe2", fin=False)
            + client_frame(CONT, b"\x82", fin=False)
            + client_frame(CONT, b"\xacb")
        )
        assert server.receive_data(data) == [
            Fragment("a", True, True, False),
            Fragment("", True, False, False),
            Fragment("€b", True, False, True),
        ]

    def test_utf8_still_checked(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, assemble_fragments=False)
        events = server.receive_data(client_frame(TEXT, b"ok", fin=False) + client_frame(CONT, b"\xed\xa0\x80"))
        assert events[0] == Fragment("ok", True, True, False)
        failed(events, 1007)

    def test_incomplete_char_at_end_still_checked(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, assemble_fragments=False)
        failed(server.receive_data(client_frame(TEXT, b"\xe2\x82")), 1007)

    def test_size_still_checked(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, assemble_fragments=False, max_message_size=5)
        events = server.receive_data(client_frame(BINARY, b"abc", fin=False) + client_frame(CONT, b"def"))
        assert events[0] == Fragment(b"abc", False, True, False)
        failed(events, 1009)

    def test_protocol_still_checked(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, assemble_fragments=False)
        failed(server.receive_data(client_frame(CONT, b"x")), 1002)

    def test_next_message_starts_with_first(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        server = make_conn(Role.SERVER, assemble_fragments=False)
        data = client_frame(TEXT, b"a", fin=False) + client_frame(CONT, b"b") + client_frame(BINARY, b"c", fin=False)
        assert server.receive_data(data)[-1] == Fragment(b"c", False, True, False)


class TestOutgoingFragmentation:
    """Section 5.4: splitting outgoing messages."""

    def test_threshold_splits(self, make_conn: MakeConn, parse_frames: ParseFn) -> None:
        server = make_conn(Role.SERVER, fragmentation_threshold=4)
        server.send_text("abcdefghij")
        assert parse_frames(server.data_to_send(), masked=False) == [
            Frame(Opcode.TEXT, b"abcd", fin=False),
            Frame(Opcode.CONT, b"efgh", fin=False),
            Frame(Opcode.CONT, b"ij"),
        ]

    @pytest.mark.parametrize(("size", "count"), [(0, 1), (1, 1), (4, 1), (5, 2), (8, 2), (9, 3)])
    def test_threshold_boundaries(self, make_conn: MakeConn, parse_frames: ParseFn, size: int, count: int) -> None:
        server = make_conn(Role.SERVER, fragmentation_threshold=4)
        server.send_binary(bytes(range(size)))
        frames = parse_frames(server.data_to_send(), masked=False)
        assert len(frames) == count
        assert b"".join(f.payload for f in frames) == bytes(range(size))
        assert [f.fin for f in frames] == [False] * (count - 1) + [True]
        assert frames[0].opcode is Opcode.BINARY
        assert all(f.opcode is Opcode.CONT for f in frames[1:])

    def test_default_threshold(self, server: Connection, parse_frames: ParseFn) -> None:
        server.send_binary(bytes(64 * 1024 + 1))
        assert [len(f.payload) for f in parse_frames(server.data_to_send(), masked=False)] == [64 * 1024, 1]

    def test_fragmentation_off(self, make_conn: MakeConn, parse_frames: ParseFn) -> None:
        server = make_conn(Role.SERVER, fragmentation_threshold=4, fragment_outgoing_messages=False)
        server.send_text("x" * 1000)
        assert parse_frames(server.data_to_send(), masked=False) == [Frame(Opcode.TEXT, b"x" * 1000)]

    def test_client_fragments_are_masked(self, make_conn: MakeConn, parse_frames: ParseFn) -> None:
        client = make_conn(Role.CLIENT, fragmentation_threshold=3)
        client.send_text("€uro")  # 6 bytes; the split falls inside no character here
        data = client.data_to_send()
        assert data[2:6] == MASK
        assert parse_frames(data, masked=True) == [
            Frame(Opcode.TEXT, "€".encode(), fin=False),
            Frame(Opcode.CONT, b"uro"),
        ]

    def test_fragments_reassemble_at_peer(self, make_conn: MakeConn) -> None:
        client = make_conn(Role.CLIENT, fragmentation_threshold=5)
        text = "κόσμε " * 20
        client.send_text(text)
        server = Connection(Role.SERVER)
        assert server.receive_data(client.data_to_send()) == [TextMessage(text)]


class TestSendFragment:
    """Section 5.4: messages that the application fragments itself."""

    def test_sequence_with_ping(self, server: Connection, parse_frames: ParseFn) -> None:
        server.send_fragment("Hel", fin=False)
        server.send_ping(b"p")
        server.send_fragment("l", fin=False)
        server.send_fragment("o", fin=True)
        assert parse_frames(server.data_to_send(), masked=False) == [
            Frame(Opcode.TEXT, b"Hel", fin=False),
            Frame(Opcode.PING, b"p"),
            Frame(Opcode.CONT, b"l", fin=False),
            Frame(Opcode.CONT, b"o"),
        ]

    def test_single_fragment_message(self, server: Connection) -> None:
        server.send_fragment(b"x", fin=True)
        server.send_fragment(bytearray(b"y"), fin=True)
        assert server.data_to_send() == b"\x82\x01x\x82\x01y"

    def test_type_mismatch(self, server: Connection, parse_frames: ParseFn) -> None:
        server.send_fragment("a", fin=False)
        with pytest.raises(TypeError):
            server.send_fragment(b"b", fin=True)
        server.send_fragment("b", fin=True)
        assert parse_frames(server.data_to_send(), masked=False) == [
            Frame(Opcode.TEXT, b"a", fin=False),
            Frame(Opcode.CONT, b"b"),
        ]

    def test_binary_then_text_mismatch(self, server: Connection) -> None:
        server.send_fragment(memoryview(b"a"), fin=False)
        with pytest.raises(TypeError):
            server.send_fragment("b", fin=False)

    def test_bad_type(self, server: Connection) -> None:
        with pytest.raises(TypeError):
            server.send_fragment(3, fin=True)  # type: ignore[arg-type]

    def test_other_messages_refused_mid_stream(self, server: Connection, parse_frames: ParseFn) -> None:
        server.send_fragment(b"a", fin=False)
        for call in (lambda: server.send_text("x"), lambda: server.send_binary(b"x"), lambda: server.send(b"x")):
            with pytest.raises(InvalidState):
                call()
        server.send_pong(b"q")
        server.send_fragment(b"b", fin=True)
        server.send_text("after")
        assert parse_frames(server.data_to_send(), masked=False) == [
            Frame(Opcode.BINARY, b"a", fin=False),
            Frame(Opcode.PONG, b"q"),
            Frame(Opcode.CONT, b"b"),
            Frame(Opcode.TEXT, b"after"),
        ]

    def test_not_split_by_threshold(self, make_conn: MakeConn, parse_frames: ParseFn) -> None:
        server = make_conn(Role.SERVER, fragmentation_threshold=2)
        server.send_fragment(b"abcdef", fin=True)
        assert parse_frames(server.data_to_send(), masked=False) == [Frame(Opcode.BINARY, b"abcdef")]

    def test_client_fragments_masked_and_received(self, client: Connection) -> None:
        client.send_fragment("κό", fin=False)
        client.send_ping()
        client.send_fragment("σμε", fin=True)
        server = Connection(Role.SERVER)
        assert server.receive_data(client.data_to_send()) == [Ping(b""), TextMessage("κόσμε")]

    def test_close_mid_stream(self, server: Connection) -> None:
        server.send_fragment("a", fin=False)
        server.send_close(1000)
        with pytest.raises(InvalidState):
            server.send_fragment("b", fin=True)


class TestChunkingInvariance:
    """Section 5.2: the same bytes in any split give the same events and the same output."""

    @staticmethod
    def recorded_client_stream(client_frame: FrameFn) -> bytes:
        parts = [
            client_frame(TEXT, b"Hello"),
            client_frame(BINARY, bytes(range(256))),
            client_frame(TEXT, b""),
            client_frame(BINARY, b""),
            client_frame(PING, b"ping-1"),
            client_frame(TEXT, "κό".encode(), fin=False),
            client_frame(PING, b"ping-2"),
            client_frame(CONT, "σμ".encode()[:3], fin=False),
            client_frame(PONG, b"pong"),
            client_frame(CONT, "σμ".encode()[3:] + "ε 𝄞".encode()),
            client_frame(BINARY, bytes(300), fin=False),
            client_frame(CONT, b"", fin=False),
            client_frame(PING),
            client_frame(CONT, bytes(range(200))),
            client_frame(BINARY, bytes(i % 251 for i in range(70000))),
            client_frame(TEXT, ("€" * 50).encode()),
            client_frame(PING, bytes(125)),
            client_frame(TEXT, b"a", fin=False),
            client_frame(CONT, b"b", fin=False),
            client_frame(CONT, b"c"),
            client_frame(CLOSE, close_payload(1000, "done")),
            client_frame(TEXT, b"ignored"),
        ]
        return b"".join(parts)

    EXPECTED: ClassVar[list[ConnectionEvent]] = [
        TextMessage("Hello"),
        BinaryMessage(bytes(range(256))),
        TextMessage(""),
        BinaryMessage(b""),
        Ping(b"ping-1"),
        Ping(b"ping-2"),
        Pong(b"pong"),
        TextMessage("κόσμε 𝄞"),
        Ping(b""),
        BinaryMessage(bytes(300) + bytes(range(200))),
        BinaryMessage(bytes(i % 251 for i in range(70000))),
        TextMessage("€" * 50),
        Ping(bytes(125)),
        TextMessage("abc"),
        CloseReceived(1000, "done"),
    ]

    def test_one_chunk(self, server: Connection, client_frame: FrameFn, parse_frames: ParseFn) -> None:
        data = self.recorded_client_stream(client_frame)
        assert server.receive_data(data) == self.EXPECTED
        frames = parse_frames(server.data_to_send(), masked=False)
        assert frames == [
            Frame(Opcode.PONG, b"ping-1"),
            Frame(Opcode.PONG, b"ping-2"),
            Frame(Opcode.PONG, b""),
            Frame(Opcode.PONG, bytes(125)),
            Frame(Opcode.CLOSE, close_payload(1000)),
        ]

    def test_one_byte_at_a_time(self, client_frame: FrameFn) -> None:
        data = self.recorded_client_stream(client_frame)
        whole = Connection(Role.SERVER)
        events = whole.receive_data(data)
        out = whole.data_to_send()
        bytewise = Connection(Role.SERVER)
        assert feed_bytewise(bytewise, data) == (events, out)
        assert (bytewise.state, bytewise.close_received, bytewise.close_sent) == (
            whole.state,
            whole.close_received,
            whole.close_sent,
        )

    @pytest.mark.parametrize("seed", range(8))
    def test_random_chunks(self, client_frame: FrameFn, seed: int) -> None:
        data = self.recorded_client_stream(client_frame)
        rng = random.Random(seed)
        conn = Connection(Role.SERVER)
        events: list[ConnectionEvent] = []
        out = b""
        pos = 0
        while pos < len(data):
            n = rng.choice([1, 2, 3, 7, 64, 1000, 20000])
            events += conn.receive_data(data[pos : pos + n])
            out += conn.data_to_send()
            pos += n
        assert events == self.EXPECTED
        whole = Connection(Role.SERVER)
        whole.receive_data(data)
        assert out == whole.data_to_send()

    @pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT])
    @pytest.mark.parametrize("assemble", [True, False])
    @pytest.mark.parametrize("seed", range(4))
    def test_reused_read_buffer(
        self,
        make_conn: MakeConn,
        client_frame: FrameFn,
        server_frame: FrameFn,
        role: Role,
        assemble: bool,
        seed: int,
    ) -> None:
        """Memoryviews of one buffer that is overwritten after each call (how
        wsframe.asyncio feeds large reads): nothing received may still point into it."""
        data = self.recorded_client_stream(client_frame if role is Role.SERVER else server_frame)
        expected = make_conn(role, assemble_fragments=assemble).receive_data(data)
        assert len(expected) > 10
        rng = random.Random(seed)
        buffer = bytearray(20000)
        view = memoryview(buffer)
        conn = make_conn(role, assemble_fragments=assemble)
        events: list[ConnectionEvent] = []
        pos = 0
        while pos < len(data):
            n = rng.choice([1, 5, 64, 1000, 20000])
            chunk = data[pos : pos + n]
            buffer[: len(chunk)] = chunk
            events += conn.receive_data(view[: len(chunk)])
            buffer[:] = b"\xaa" * len(buffer)  # the next read overwrites it
            pos += n
        assert events == expected

    def test_fragment_events_bytewise(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        """With assemble_fragments=False, each frame's text is still delivered once, whole."""
        data = self.recorded_client_stream(client_frame)
        whole = make_conn(Role.SERVER, assemble_fragments=False)
        events = whole.receive_data(data)
        bytewise = make_conn(Role.SERVER, assemble_fragments=False)
        assert feed_bytewise(bytewise, data)[0] == events

    def test_client_side_bytewise(self, client: Connection, server_frame: FrameFn) -> None:
        data = (
            server_frame(TEXT, "héllo".encode())
            + server_frame(BINARY, bytes(70000), fin=False)
            + server_frame(PING, b"x")
            + server_frame(CONT, b"end")
            + server_frame(CLOSE, close_payload(1001))
        )
        other = Connection(Role.CLIENT, mask_key=lambda n: MASK)
        expected = other.receive_data(data)
        assert expected == [
            TextMessage("héllo"),
            Ping(b"x"),
            BinaryMessage(bytes(70000) + b"end"),
            CloseReceived(1001, ""),
        ]
        assert feed_bytewise(client, data) == (expected, other.data_to_send())

    def test_violation_at_same_point(self, client_frame: FrameFn) -> None:
        data = (
            client_frame(TEXT, b"ok")
            + client_frame(PING, b"p")
            + client_frame(TEXT, b"bad\xff")
            + client_frame(TEXT, b"no")
        )
        whole = Connection(Role.SERVER)
        events = whole.receive_data(data)
        assert events[:2] == [TextMessage("ok"), Ping(b"p")]
        failed(events, 1007)
        bytewise = Connection(Role.SERVER)
        got, out = feed_bytewise(bytewise, data)
        assert got[:-1] == events[:-1]
        failed(got, 1007)
        assert out == whole.data_to_send()


class TestErrorsAreProtocolErrors:
    """Section 7.4.1: ConnectionFailed carries the matching exception type."""

    def test_types(self, make_conn: MakeConn, client_frame: FrameFn) -> None:
        conn = make_conn(Role.SERVER, max_message_size=1)
        (event,) = conn.receive_data(client_frame(BINARY, b"ab"))
        assert isinstance(event, ConnectionFailed)
        assert isinstance(event.error, MessageTooBig)
        conn = make_conn(Role.SERVER)
        (event,) = conn.receive_data(client_frame(TEXT, b"\xff"))
        assert isinstance(event, ConnectionFailed)
        assert isinstance(event.error, InvalidData)


# ------------------------------------------------------------- memory


def test_a_connection_costs_under_1_5_kib() -> None:
    """Connection keeps its state in slots: no 1.5 KiB instance dict per connection."""
    Connection(Role.SERVER)  # warm up caches
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        connections = [Connection(Role.SERVER) for _ in range(100)]
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(connections) == 100
    per_connection = (after - before) / 100
    assert per_connection < 1536, per_connection
    conn = connections[0]
    conn.tag = "an application's own attribute"  # type: ignore[attr-defined]
    assert conn.tag == "an application's own attribute"  # type: ignore[attr-defined]
