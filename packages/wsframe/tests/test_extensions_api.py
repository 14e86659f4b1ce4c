"""Tests for `wsframe._extensions` and extensions inside `Connection` (RFC 6455 section 9, RFC 7692 section 6)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from wsframe import (
    BinaryMessage,
    Connection,
    ConnectionEvent,
    ConnectionFailed,
    ConnectionOptions,
    Fragment,
    HandshakeError,
    InvalidData,
    MessageTooBig,
    NegotiationError,
    Ping,
    ProtocolError,
    Role,
    TextMessage,
)
from wsframe.extensions import (
    RSV1,
    RSV2,
    RSV3,
    ClientExtensionFactory,
    Extension,
    ExtensionParameters,
    ServerExtensionFactory,
    negotiate_client_extensions,
    negotiate_server_extensions,
)
from wsframe.frames import Frame, FrameParser, Opcode

MASK = b"\x37\xfa\x21\x3d"
FrameFn = Callable[..., bytes]


def fixed_mask(n: int) -> bytes:
    return MASK


def failed(events: list[ConnectionEvent], code: int) -> ConnectionFailed:
    assert events, "no events"
    event = events[-1]
    assert isinstance(event, ConnectionFailed), events
    assert event.code == code, event.error
    return event


def conn(role: Role, extensions: Sequence[Extension], **options: Any) -> Connection:
    return Connection(role, ConnectionOptions(**options), extensions=extensions, mask_key=fixed_mask)


def wire(data: bytes, *, masked: bool, rsv_allowed: int = RSV1 | RSV2 | RSV3) -> list[Frame]:
    parser = FrameParser(mask_required=masked, rsv_allowed=rsv_allowed)
    frames = parser.feed(data)
    assert parser.buffered == 0
    return frames


# ------------------------------------------------------------------ toy extensions


class Reverse(Extension):
    """Reverses each data frame's bytes; claims RSV2 (the example of the module docstring)."""

    name = "x-reverse"
    rsv_bits = RSV2

    def encode(self, frame: Frame) -> Frame:
        return dataclasses.replace(frame, payload=frame.payload[::-1], rsv2=True)

    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        if not frame.rsv2:
            return frame
        return dataclasses.replace(frame, payload=frame.payload[::-1], rsv2=False)


class Invert(Extension):
    """A per-message extension: XORs every byte of a message with 0xFF; RSV3 on the first frame."""

    name = "x-invert"
    rsv_bits = RSV3

    def __init__(self) -> None:
        self.decoding = False
        self.encoding = False

    def encode(self, frame: Frame) -> Frame:
        first = frame.opcode is not Opcode.CONT
        payload = bytes(b ^ 0xFF for b in frame.payload)
        return dataclasses.replace(frame, payload=payload, rsv3=first)

    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        if frame.opcode is not Opcode.CONT:
            self.decoding = frame.rsv3
        elif frame.rsv3:
            raise ProtocolError("rsv3 on a continuation frame")
        if not self.decoding:
            return frame
        payload = bytes(b ^ 0xFF for b in frame.payload)
        if frame.fin:
            self.decoding = False
        return dataclasses.replace(frame, payload=payload, rsv3=False)


class Suffix(Extension):
    """Appends a marker to each data frame; claims no RSV bit."""

    rsv_bits = 0

    def __init__(self, marker: bytes) -> None:
        self.marker = marker
        self.name = "x-suffix-" + marker.decode()  # type: ignore[misc]

    def encode(self, frame: Frame) -> Frame:
        return dataclasses.replace(frame, payload=frame.payload + self.marker)

    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        if not frame.payload.endswith(self.marker):
            raise ProtocolError(f"missing marker {self.marker!r}")
        return dataclasses.replace(frame, payload=frame.payload[: -len(self.marker)])


class Recorder(Extension):
    """Passes frames through, recording what it sees."""

    name = "x-recorder"
    rsv_bits = 0

    def __init__(self) -> None:
        self.encoded: list[Frame] = []
        self.decoded: list[tuple[Frame, int | None]] = []

    def encode(self, frame: Frame) -> Frame:
        self.encoded.append(frame)
        return frame

    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        self.decoded.append((frame, max_size))
        return frame


class Broken(Extension):
    name = "x-broken"
    rsv_bits = RSV1

    def __init__(self, error: Exception) -> None:
        self.error = error

    def encode(self, frame: Frame) -> Frame:
        return dataclasses.replace(frame, rsv1=True)

    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        raise self.error


class KeepsRsv(Extension):
    """Forgets to clear its RSV bit on decode."""

    name = "x-keeps-rsv"
    rsv_bits = RSV1

    def encode(self, frame: Frame) -> Frame:
        return dataclasses.replace(frame, rsv1=True)

    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        return frame


class Doubler(Extension):
    """Expands data: each frame's payload doubles on decode, bounded by `max_size`."""

    name = "x-doubler"
    rsv_bits = RSV1

    def encode(self, frame: Frame) -> Frame:
        return dataclasses.replace(frame, payload=frame.payload[: len(frame.payload) // 2], rsv1=True)

    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        if max_size is not None and 2 * len(frame.payload) > max_size:
            raise MessageTooBig("doubled frame exceeds the limit")
        return dataclasses.replace(frame, payload=frame.payload * 2, rsv1=False)


class Framing(Extension):
    """Adds one byte per frame on the wire (like deflate's overhead on incompressible data); RSV1."""

    name = "x-framing"
    rsv_bits = RSV1

    def encode(self, frame: Frame) -> Frame:
        return dataclasses.replace(frame, payload=b"\x00" + frame.payload, rsv1=True)

    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        if not frame.rsv1:
            return frame
        return dataclasses.replace(frame, payload=frame.payload[1:], rsv1=False)


# ------------------------------------------------------------------ fake factories


class FakeExtension(Extension):
    rsv_bits = 0

    def __init__(self, name: str, rsv_bits: int, params: ExtensionParameters) -> None:
        self.name = name  # type: ignore[misc]
        self.rsv_bits = rsv_bits  # type: ignore[misc]
        self.params = params

    def encode(self, frame: Frame) -> Frame:
        return frame

    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        return frame


class FakeServerFactory(ServerExtensionFactory):
    def __init__(
        self, name: str, rsv_bits: int = 0, *, decline: Callable[[ExtensionParameters], bool] | None = None
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.rsv_bits = rsv_bits
        self.decline = decline
        self.calls: list[tuple[ExtensionParameters, list[Extension]]] = []

    def negotiate(
        self, params: ExtensionParameters, accepted: Sequence[Extension]
    ) -> tuple[ExtensionParameters, Extension] | None:
        self.calls.append((params, list(accepted)))
        if ("malformed", None) in params:
            raise NegotiationError("malformed offer")
        if self.decline is not None and self.decline(params):
            return None
        return [*params, ("answered", None)], FakeExtension(self.name, self.rsv_bits, params)


class FakeClientFactory(ClientExtensionFactory):
    def __init__(self, name: str, rsv_bits: int = 0) -> None:
        self.name = name  # type: ignore[misc]
        self.rsv_bits = rsv_bits
        self.calls: list[tuple[ExtensionParameters, list[Extension]]] = []

    def offer(self) -> ExtensionParameters:
        return [("offered", None)]

    def accept(self, params: ExtensionParameters, accepted: Sequence[Extension]) -> Extension:
        self.calls.append((params, list(accepted)))
        if ("refuse", None) in params:
            raise NegotiationError("unacceptable answer")
        return FakeExtension(self.name, self.rsv_bits, params)


class TestServerNegotiation:
    """Section 9.1: the server picks from the client's offers, in the client's order."""

    def test_no_offers(self) -> None:
        assert negotiate_server_extensions([], [FakeServerFactory("x-a")]) == ([], [])

    def test_unknown_extensions_ignored(self) -> None:
        factory = FakeServerFactory("x-a", RSV1)
        answers, extensions = negotiate_server_extensions(
            [("x-unknown", [("p", "1")]), ("x-a", [("q", None)])], [factory]
        )
        assert answers == [("x-a", [("q", None), ("answered", None)])]
        assert [e.name for e in extensions] == ["x-a"]
        assert len(factory.calls) == 1

    def test_client_order_kept(self) -> None:
        a, b = FakeServerFactory("x-a", RSV1), FakeServerFactory("x-b", RSV2)
        answers, extensions = negotiate_server_extensions([("x-b", []), ("x-a", [])], [a, b])
        assert [name for name, _ in answers] == ["x-b", "x-a"]
        assert [e.name for e in extensions] == ["x-b", "x-a"]
        assert a.calls == [([], extensions[:1])]

    def test_names_case_insensitive(self) -> None:
        """Section 9.1: extension tokens compare case-insensitively; the answer uses the factory's name."""
        answers, _ = negotiate_server_extensions([("X-A", [])], [FakeServerFactory("x-a")])
        assert [name for name, _ in answers] == ["x-a"]

    def test_declined_offer_falls_through_to_alternative(self) -> None:
        """RFC 7692 section 5: the client lists alternatives of one extension in preference order."""
        factory = FakeServerFactory("x-a", RSV1, decline=lambda params: ("v", "1") in params)
        answers, extensions = negotiate_server_extensions([("x-a", [("v", "1")]), ("x-a", [("v", "2")])], [factory])
        assert answers == [("x-a", [("v", "2"), ("answered", None)])]
        assert len(extensions) == 1

    def test_rsv_conflict_skipped(self) -> None:
        a, b, c = FakeServerFactory("x-a", RSV1), FakeServerFactory("x-b", RSV1), FakeServerFactory("x-c", RSV2)
        answers, extensions = negotiate_server_extensions([("x-a", []), ("x-b", []), ("x-c", [])], [a, b, c])
        assert [name for name, _ in answers] == ["x-a", "x-c"]
        assert [e.name for e in extensions] == ["x-a", "x-c"]

    def test_alternative_offers_accept_one_only(self) -> None:
        """RFC 7692 section 5 / section 9.1: offers of the same extension are alternatives.

        A server must not answer with the same extension twice; wskit's own client
        (`negotiate_client_extensions`) refuses such an answer, so a wskit server and
        client would fail their handshake. Here the extension claims no RSV bit, so the
        RSV-conflict rule does not catch the duplicate.
        """
        factory = FakeServerFactory("x-a", 0)
        answers, extensions = negotiate_server_extensions([("x-a", [("v", "1")]), ("x-a", [("v", "2")])], [factory])
        assert answers == [("x-a", [("v", "1"), ("answered", None)])]
        assert len(extensions) == 1
        # And the result is acceptable to a wskit client.
        negotiate_client_extensions(answers, [FakeClientFactory("x-a", 0)])

    def test_malformed_offer_raises(self) -> None:
        with pytest.raises(NegotiationError) as info:
            negotiate_server_extensions([("x-a", [("malformed", None)])], [FakeServerFactory("x-a")])
        assert isinstance(info.value, HandshakeError)
        assert info.value.status == 400


class TestClientNegotiation:
    """Section 9.1: the client checks the server's answer against its offers."""

    def test_no_answers(self) -> None:
        assert negotiate_client_extensions([], [FakeClientFactory("x-a")]) == []

    def test_accepts_in_server_order(self) -> None:
        a, b = FakeClientFactory("x-a", RSV1), FakeClientFactory("x-b", RSV2)
        extensions = negotiate_client_extensions([("x-b", [("p", "1")]), ("X-A", [])], [a, b])
        assert [e.name for e in extensions] == ["x-b", "x-a"]
        assert b.calls == [([("p", "1")], [])]
        assert a.calls == [([], extensions[:1])]

    def test_unoffered_extension_refused(self) -> None:
        """Section 9.1: the server must not answer with an extension the client did not offer."""
        with pytest.raises(NegotiationError, match="x-b"):
            negotiate_client_extensions([("x-b", [])], [FakeClientFactory("x-a")])

    def test_duplicate_answer_refused(self) -> None:
        with pytest.raises(NegotiationError, match="twice"):
            negotiate_client_extensions([("x-a", []), ("x-a", [])], [FakeClientFactory("x-a")])

    def test_duplicate_answer_refused_case_insensitively(self) -> None:
        with pytest.raises(NegotiationError):
            negotiate_client_extensions([("x-a", []), ("X-A", [])], [FakeClientFactory("x-a")])

    def test_rsv_conflict_refused(self) -> None:
        with pytest.raises(NegotiationError, match="RSV"):
            negotiate_client_extensions(
                [("x-a", []), ("x-b", [])], [FakeClientFactory("x-a", RSV1), FakeClientFactory("x-b", RSV1)]
            )

    def test_factory_refusal_propagates(self) -> None:
        with pytest.raises(NegotiationError, match="unacceptable"):
            negotiate_client_extensions([("x-a", [("refuse", None)])], [FakeClientFactory("x-a")])


class TestExtensionClass:
    """Section 9: the Extension interface."""

    def test_rsv_constants(self) -> None:
        assert (RSV1, RSV2, RSV3) == (0x40, 0x20, 0x10)

    def test_abstract(self) -> None:
        class Incomplete(Extension):
            name = "x-incomplete"

            def encode(self, frame: Frame) -> Frame:
                return frame

        with pytest.raises(TypeError):
            Incomplete()  # type: ignore[abstract]

    def test_default_rsv_bits_and_repr(self) -> None:
        assert Recorder().rsv_bits == 0
        assert "x-reverse" in repr(Reverse())


class TestExtensionInConnection:
    """Section 9 and RFC 7692 section 6: extensions transform data frames both ways."""

    def test_client_encodes_server_decodes(self) -> None:
        client = conn(Role.CLIENT, [Reverse()])
        client.send_text("Hello")
        data = client.data_to_send()
        assert wire(data, masked=True) == [Frame(Opcode.TEXT, b"olleH", rsv2=True)]
        server = conn(Role.SERVER, [Reverse()])
        assert server.receive_data(data) == [TextMessage("Hello")]

    def test_server_encodes_client_decodes(self) -> None:
        server = conn(Role.SERVER, [Reverse()])
        server.send_binary(b"\x01\x02\x03")
        data = server.data_to_send()
        assert data == b"\xa2\x03\x03\x02\x01"
        client = conn(Role.CLIENT, [Reverse()])
        assert client.receive_data(data) == [BinaryMessage(b"\x01\x02\x03")]

    def test_text_checked_after_decoding(self) -> None:
        """Section 8.1 with extensions: the reversed UTF-8 on the wire is invalid; the decoded text is not."""
        client = conn(Role.CLIENT, [Reverse()])
        client.send_text("κόσμε €")
        server = conn(Role.SERVER, [Reverse()])
        assert server.receive_data(client.data_to_send()) == [TextMessage("κόσμε €")]

    def test_invalid_text_after_decoding(self, client_frame: FrameFn) -> None:
        server = conn(Role.SERVER, [Reverse()])
        # Reversed, b"\xa0\xed" is b"\xed\xa0": a surrogate.
        failed(server.receive_data(client_frame(1, b"\xa0\xeda", rsv=RSV2)), 1007)

    def test_rsv_bit_unset_passes_through(self, client_frame: FrameFn) -> None:
        server = conn(Role.SERVER, [Reverse()])
        assert server.receive_data(client_frame(1, b"abc")) == [TextMessage("abc")]

    def test_claimed_bit_required(self, client_frame: FrameFn) -> None:
        """Section 5.2: without the extension, RSV2 fails the connection (1002)."""
        failed(conn(Role.SERVER, []).receive_data(client_frame(1, b"cba", rsv=RSV2)), 1002)
        failed(conn(Role.SERVER, [Reverse()]).receive_data(client_frame(1, b"cba", rsv=RSV1)), 1002)

    def test_rsv_bits_of_all_extensions_allowed(self, client_frame: FrameFn) -> None:
        server = conn(Role.SERVER, [Reverse(), Invert()])
        payload = bytes(b ^ 0xFF for b in b"cba")
        assert server.receive_data(client_frame(2, payload, rsv=RSV2 | RSV3)) == [BinaryMessage(b"abc")]

    def test_control_frames_bypass_extensions(self, client_frame: FrameFn) -> None:
        """RFC 7692 section 6.1: control frames are never transformed."""
        recorder = Recorder()
        server = conn(Role.SERVER, [Reverse(), recorder])
        server.send_ping(b"abc")
        server.send_close(1000, "bye")
        assert server.data_to_send() == b"\x89\x03abc\x88\x05\x03\xe8bye"
        assert recorder.encoded == []
        assert server.receive_data(client_frame(9, b"xyz")) == [Ping(b"xyz")]
        assert recorder.decoded == []

    def test_rsv_on_control_frame_refused(self, client_frame: FrameFn) -> None:
        failed(conn(Role.SERVER, [Reverse()]).receive_data(client_frame(9, b"", rsv=RSV2)), 1002)

    def test_encode_in_order_decode_in_reverse(self) -> None:
        """Section 9.1: extensions apply in the order of the response header; decoding undoes them backwards."""
        client = conn(Role.CLIENT, [Suffix(b"A"), Suffix(b"B")])
        client.send_binary(b"msg")
        data = client.data_to_send()
        assert wire(data, masked=True) == [Frame(Opcode.BINARY, b"msgAB")]
        server = conn(Role.SERVER, [Suffix(b"A"), Suffix(b"B")])
        assert server.receive_data(data) == [BinaryMessage(b"msg")]
        swapped = conn(Role.SERVER, [Suffix(b"B"), Suffix(b"A")])
        failed(swapped.receive_data(data), 1002)

    def test_outgoing_split_first_fragment_carries_rsv(self) -> None:
        """Encode once per message, then split: RSV on the first frame only, continuations clear."""
        server = conn(Role.SERVER, [Reverse()], fragmentation_threshold=2)
        server.send_text("Hello")
        assert wire(server.data_to_send(), masked=False) == [
            Frame(Opcode.TEXT, b"ol", fin=False, rsv2=True),
            Frame(Opcode.CONT, b"le", fin=False),
            Frame(Opcode.CONT, b"H"),
        ]

    def test_per_message_extension_round_trip_fragmented(self) -> None:
        client = conn(Role.CLIENT, [Invert()], fragmentation_threshold=3)
        client.send_text("κόσμε")
        client.send_binary(bytes(range(10)))
        client.send_ping(b"p")
        data = client.data_to_send()
        frames = wire(data, masked=True)
        assert [f.rsv3 for f in frames] == [True, False, False, False, True, False, False, False, False]
        server = conn(Role.SERVER, [Invert()])
        assert server.receive_data(data) == [TextMessage("κόσμε"), BinaryMessage(bytes(range(10))), Ping(b"p")]

    def test_per_message_extension_bytewise(self) -> None:
        client = conn(Role.CLIENT, [Invert()], fragmentation_threshold=4)
        client.send_text("fragmented text")
        data = client.data_to_send()
        server = conn(Role.SERVER, [Invert()])
        events: list[ConnectionEvent] = []
        for i in range(len(data)):
            events += server.receive_data(data[i : i + 1])
        assert events == [TextMessage("fragmented text")]

    def test_send_fragment_goes_through_encode(self) -> None:
        recorder = Recorder()
        server = conn(Role.SERVER, [recorder])
        server.send_fragment("a", fin=False)
        server.send_fragment("b", fin=True)
        assert recorder.encoded == [Frame(Opcode.TEXT, b"a", fin=False), Frame(Opcode.CONT, b"b")]

    def test_send_fragment_uses_extension_rsv(self) -> None:
        server = conn(Role.SERVER, [Invert()])
        server.send_fragment(b"\x00", fin=False)
        server.send_fragment(b"\x01", fin=True)
        assert wire(server.data_to_send(), masked=False) == [
            Frame(Opcode.BINARY, b"\xff", fin=False, rsv3=True),
            Frame(Opcode.CONT, b"\xfe"),
        ]

    def test_fragment_events_with_extension(self, client_frame: FrameFn) -> None:
        server = conn(Role.SERVER, [Reverse()], assemble_fragments=False)
        data = client_frame(1, b"leH", fin=False, rsv=RSV2) + client_frame(0, b"ol", rsv=RSV2)
        assert server.receive_data(data) == [Fragment("Hel", True, True, False), Fragment("lo", True, False, True)]

    def test_decode_receives_remaining_budget(self, client_frame: FrameFn) -> None:
        recorder = Recorder()
        server = conn(Role.SERVER, [recorder], max_message_size=10)
        data = client_frame(2, b"1234", fin=False) + client_frame(0, b"56", fin=False) + client_frame(0, b"")
        assert server.receive_data(data) == [BinaryMessage(b"123456")]
        assert [budget for _, budget in recorder.decoded] == [10, 6, 4]
        server.receive_data(client_frame(2, b"x"))
        assert recorder.decoded[-1][1] == 10

    def test_no_budget_without_limit(self, client_frame: FrameFn) -> None:
        recorder = Recorder()
        server = conn(Role.SERVER, [recorder], max_message_size=None)
        server.receive_data(client_frame(2, b"x"))
        assert recorder.decoded[0][1] is None

    def test_expanding_extension_limited(self, client_frame: FrameFn) -> None:
        """Section 10.4: the limit applies to the decoded message."""
        server = conn(Role.SERVER, [Doubler()], max_message_size=8)
        assert server.receive_data(client_frame(2, b"abcd", rsv=RSV1)) == [BinaryMessage(b"abcdabcd")]
        failed(server.receive_data(client_frame(2, b"abcde", rsv=RSV1)), 1009)

    def test_expanding_extension_limited_across_frames(self, client_frame: FrameFn) -> None:
        server = conn(Role.SERVER, [Doubler()], max_message_size=8)
        data = client_frame(2, b"ab", fin=False, rsv=RSV1) + client_frame(0, b"abc", rsv=RSV1)
        failed(server.receive_data(data), 1009)

    def test_limit_counts_decoded_size_not_wire_size(self, client_frame: FrameFn) -> None:
        """Section 10.4 and `max_message_size`'s contract ("after decompression").

        An extension may make a frame slightly larger on the wire than the data it
        carries (deflate does on incompressible data). A message of exactly
        `max_message_size` bytes must be accepted; the connection documents a slack on
        the header check for this purpose.
        """
        server = conn(Role.SERVER, [Framing()], max_message_size=10)
        client = conn(Role.CLIENT, [Framing()])
        client.send_binary(b"0123456789")
        data = client.data_to_send()
        assert wire(data, masked=True)[0].payload == b"\x000123456789"
        assert server.receive_data(data) == [BinaryMessage(b"0123456789")]

    def test_extension_bug_fails_with_1011(self, client_frame: FrameFn) -> None:
        """Section 7.4.1: an unexpected error in an extension is an internal error (1011)."""
        server = conn(Role.SERVER, [Broken(RuntimeError("boom"))])
        events = server.receive_data(client_frame(1, b"ok") + client_frame(1, b"x", rsv=RSV1))
        event = failed(events, 1011)
        assert isinstance(event.error.__cause__, RuntimeError)
        assert "x-broken" in str(event.error)
        server.fail()
        data = server.data_to_send()
        assert data[:4] == b"\x88" + bytes([2 + len(event.error.reason.encode())]) + b"\x03\xf3"

    def test_extension_protocol_error_keeps_its_code(self, client_frame: FrameFn) -> None:
        server = conn(Role.SERVER, [Broken(InvalidData("bad compressed data"))])
        event = failed(server.receive_data(client_frame(2, b"x", rsv=RSV1)), 1007)
        assert str(event.error) == "bad compressed data"

    def test_extension_must_clear_its_rsv_bit(self, client_frame: FrameFn) -> None:
        server = conn(Role.SERVER, [KeepsRsv()])
        failed(server.receive_data(client_frame(2, b"x", rsv=RSV1)), 1002)

    def test_chunking_invariance_with_extension(self) -> None:
        client = conn(Role.CLIENT, [Reverse()])
        for i in range(5):
            client.send_text(f"message {i} é")
            client.send_ping(b"%d" % i)
        data = client.data_to_send()
        whole = conn(Role.SERVER, [Reverse()])
        events = whole.receive_data(data)
        assert len(events) == 10
        bytewise = conn(Role.SERVER, [Reverse()])
        got: list[ConnectionEvent] = []
        out = b""
        for i in range(len(data)):
            got += bytewise.receive_data(data[i : i + 1])
            out += bytewise.data_to_send()
        assert got == events
        assert out == whole.data_to_send()
