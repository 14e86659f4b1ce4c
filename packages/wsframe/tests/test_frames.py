"""Tests for `wsframe._frames`: the frame encoder, header checks and `FrameParser` (RFC 6455 section 5)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import ClassVar

import pytest

from wsframe import MessageTooBig, ProtocolError
from wsframe._frames import decode_header
from wsframe.frames import (
    CONTROL_OPCODES,
    DATA_OPCODES,
    MAX_CONTROL_PAYLOAD,
    Frame,
    FrameParser,
    Opcode,
    check_frame_header,
    encode_frame,
    frame_header,
)

MASK = b"\x37\xfa\x21\x3d"

FrameFn = Callable[..., bytes]


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def parse_all(data: bytes, **kwargs: object) -> list[Frame]:
    parser = FrameParser(**kwargs)  # type: ignore[arg-type]
    frames = parser.feed(data)
    assert parser.buffered == 0
    return frames


def parse_bytewise(data: bytes, **kwargs: object) -> list[Frame]:
    parser = FrameParser(**kwargs)  # type: ignore[arg-type]
    frames: list[Frame] = []
    for i in range(len(data)):
        frames += parser.feed(data[i : i + 1])
    assert parser.buffered == 0
    return frames


class TestGoldenVectors:
    """RFC 6455 section 5.7 examples, plus WebSocket-Node's test vectors."""

    PAYLOAD_256 = bytes(range(256))
    PAYLOAD_64K = bytes(i % 251 for i in range(65536))
    PAYLOAD_200 = bytes(i % 7 for i in range(200))

    VECTORS: ClassVar[list[tuple[str, bytes, bytes | None, list[Frame]]]] = [
        # (id, wire bytes, mask used to encode, frames)
        ("unmasked-text-hello", h("81 05 48 65 6c 6c 6f"), None, [Frame(Opcode.TEXT, b"Hello")]),
        ("masked-text-hello", h("81 85 37 fa 21 3d 7f 9f 4d 51 58"), MASK, [Frame(Opcode.TEXT, b"Hello")]),
        (
            "fragmented-hel-lo",
            h("01 03 48 65 6c 80 02 6c 6f"),
            None,
            [Frame(Opcode.TEXT, b"Hel", fin=False), Frame(Opcode.CONT, b"lo")],
        ),
        ("unmasked-ping-hello", h("89 05 48 65 6c 6c 6f"), None, [Frame(Opcode.PING, b"Hello")]),
        ("masked-pong-hello", h("8a 85 37 fa 21 3d 7f 9f 4d 51 58"), MASK, [Frame(Opcode.PONG, b"Hello")]),
        ("binary-256", h("82 7e 01 00") + PAYLOAD_256, None, [Frame(Opcode.BINARY, PAYLOAD_256)]),
        ("binary-64k", h("82 7f 00 00 00 00 00 01 00 00") + PAYLOAD_64K, None, [Frame(Opcode.BINARY, PAYLOAD_64K)]),
        # WebSocket-Node: a masked empty ping with an all-zero key.
        ("node-empty-ping-zero-key", h("89 80 00 00 00 00"), b"\x00\x00\x00\x00", [Frame(Opcode.PING, b"")]),
        # WebSocket-Node: 200 bytes of binary, masked: 0xFE = MASK bit | 126.
        (
            "node-masked-binary-200",
            h("82 fe 00 c8") + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(PAYLOAD_200)),
            MASK,
            [Frame(Opcode.BINARY, PAYLOAD_200)],
        ),
    ]

    @pytest.mark.parametrize(("wire", "mask", "frames"), [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS])
    def test_parse(self, wire: bytes, mask: bytes | None, frames: list[Frame]) -> None:
        """Section 5.7: each example parses to the expected frames."""
        assert parse_all(wire) == frames
        assert parse_all(wire, mask_required=mask is not None) == frames

    @pytest.mark.parametrize(("wire", "mask", "frames"), [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS])
    def test_parse_one_byte_at_a_time(self, wire: bytes, mask: bytes | None, frames: list[Frame]) -> None:
        """Section 5.7 examples fed one byte at a time give the same frames."""
        assert parse_bytewise(wire) == frames

    @pytest.mark.parametrize(("wire", "mask", "frames"), [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS])
    def test_encode(self, wire: bytes, mask: bytes | None, frames: list[Frame]) -> None:
        """Section 5.7: encoding the frames with the same key gives the example's bytes."""
        assert b"".join(encode_frame(frame, mask) for frame in frames) == wire

    def test_masked_hello_mask_and_payload_positions(self) -> None:
        """Section 5.3: the key follows the length; the payload is XORed with it."""
        wire = encode_frame(Frame(Opcode.TEXT, b"Hello"), MASK)
        assert wire[1] & 0x80
        assert wire[2:6] == MASK
        assert bytes(b ^ MASK[i % 4] for i, b in enumerate(wire[6:])) == b"Hello"


class TestPayloadLength:
    """Section 5.2: 7-bit, 16-bit and 64-bit payload lengths, shortest form only."""

    @pytest.mark.parametrize(
        ("length", "prefix"),
        [
            (0, h("82 00")),
            (1, h("82 01")),
            (125, h("82 7d")),
            (126, h("82 7e 00 7e")),
            (127, h("82 7e 00 7f")),
            (65535, h("82 7e ff ff")),
            (65536, h("82 7f 00 00 00 00 00 01 00 00")),
            (65537, h("82 7f 00 00 00 00 00 01 00 01")),
        ],
    )
    def test_boundaries_encode_and_parse(self, length: int, prefix: bytes) -> None:
        """Section 5.2: the boundary lengths use the right encoding both ways."""
        payload = bytes(i % 256 for i in range(length))
        wire = encode_frame(Frame(Opcode.BINARY, payload))
        assert wire == prefix + payload
        assert parse_all(wire) == [Frame(Opcode.BINARY, payload)]
        assert frame_header(0x82, length) == prefix

    @pytest.mark.parametrize(("length", "size"), [(0, 6), (125, 6), (126, 8), (65535, 8), (65536, 14)])
    def test_masked_header_sizes(self, length: int, size: int) -> None:
        """Section 5.2: the masking key adds 4 bytes after the extended length."""
        hdr = frame_header(0x82, length, MASK)
        assert len(hdr) == size
        assert hdr.endswith(MASK)
        assert decode_header(hdr, 0, len(hdr)) == (0x82, hdr[1], length, size)

    @pytest.mark.parametrize(
        "wire",
        [
            h("82 7e 00 00"),  # 0 in 16 bits
            h("82 7e 00 7d"),  # 125 in 16 bits
            h("82 7f 00 00 00 00 00 00 00 00"),  # 0 in 64 bits
            h("82 7f 00 00 00 00 00 00 00 7d"),  # 125 in 64 bits
            h("82 7f 00 00 00 00 00 00 ff ff"),  # 65535 in 64 bits
        ],
    )
    def test_non_minimal_length_rejected(self, wire: bytes) -> None:
        """Section 5.2: "the minimal number of bytes MUST be used to encode the length"."""
        with pytest.raises(ProtocolError) as info:
            FrameParser().feed(wire)
        assert info.value.code == 1002

    def test_minimal_16_bit_lengths_accepted(self) -> None:
        """Section 5.2: 126 in the 16-bit form and 65536 in the 64-bit form are minimal."""
        assert FrameParser().feed(h("82 7e 00 7e")) == []
        assert FrameParser().feed(h("82 7f 00 00 00 00 00 01 00 00")) == []

    @pytest.mark.parametrize("top", ["80", "ff", "c0"])
    def test_64_bit_length_with_msb_set_rejected(self, top: str) -> None:
        """Section 5.2: "the most significant bit MUST be 0" in a 64-bit length."""
        wire = h(f"82 7f {top} 00 00 00 00 00 00 00")
        with pytest.raises(ProtocolError) as info:
            FrameParser().feed(wire)
        assert info.value.code == 1002

    def test_64_bit_length_msb_rejected_in_masked_header(self) -> None:
        """Section 5.2: the bad length is refused once the header (with the key) is there."""
        with pytest.raises(ProtocolError):
            FrameParser(mask_required=True).feed(h("82 ff 80 00 00 00 00 00 00 00") + MASK)

    def test_decode_header_incomplete(self) -> None:
        """decode_header returns None until the whole header, masking key included, is there."""
        full = h("82 fe 00 c8") + MASK
        for n in range(len(full)):
            assert decode_header(full, 0, n) is None
        assert decode_header(full, 0, len(full)) == (0x82, 0xFE, 200, 8)

    def test_decode_header_at_offset(self) -> None:
        """decode_header reads at `pos` and only up to `end`."""
        buf = b"xx" + h("81 05") + b"Hello"
        assert decode_header(buf, 2, len(buf)) == (0x81, 0x05, 5, 2)
        assert decode_header(buf, 2, 3) is None


class TestOpcodes:
    """Section 5.2: opcodes 3-7 and 11-15 are reserved."""

    @pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
    def test_reserved_opcode_rejected(self, opcode: int) -> None:
        """Section 5.2: a reserved opcode fails the connection with 1002."""
        with pytest.raises(ProtocolError) as info:
            FrameParser().feed(bytes((0x80 | opcode, 0)))
        assert info.value.code == 1002
        assert type(info.value) is ProtocolError

    @pytest.mark.parametrize("opcode", [0, 1, 2, 8, 9, 10])
    def test_known_opcodes_accepted(self, opcode: int) -> None:
        """Section 5.2: the six defined opcodes parse."""
        assert FrameParser().feed(bytes((0x80 | opcode, 0))) == [Frame(Opcode(opcode), b"")]

    def test_opcode_sets(self) -> None:
        """Section 5.2: data and control opcodes."""
        assert {Opcode.CONT, Opcode.TEXT, Opcode.BINARY} == DATA_OPCODES
        assert {Opcode.CLOSE, Opcode.PING, Opcode.PONG} == CONTROL_OPCODES
        assert [int(op) for op in Opcode] == [0, 1, 2, 8, 9, 10]


class TestReservedBits:
    """Section 5.2: RSV1-3 must be 0 unless an extension defines them."""

    @pytest.mark.parametrize("rsv", [0x40, 0x20, 0x10, 0x70])
    def test_rsv_without_extension_rejected(self, rsv: int) -> None:
        """Section 5.2: a nonzero RSV bit without a negotiated extension fails with 1002."""
        with pytest.raises(ProtocolError) as info:
            FrameParser().feed(bytes((0x81 | rsv, 0)))
        assert info.value.code == 1002

    @pytest.mark.parametrize("rsv", [0x40, 0x20, 0x10])
    def test_rsv_allowed_when_claimed(self, rsv: int) -> None:
        """Section 5.2: a bit that an extension claims is accepted and reported."""
        (frame,) = FrameParser(rsv_allowed=rsv).feed(bytes((0x81 | rsv, 1)) + b"x")
        assert frame.rsv == rsv
        assert (frame.rsv1, frame.rsv2, frame.rsv3) == (rsv == 0x40, rsv == 0x20, rsv == 0x10)

    def test_only_claimed_bits_allowed(self) -> None:
        """Section 5.2: claiming RSV1 does not allow RSV2."""
        with pytest.raises(ProtocolError):
            FrameParser(rsv_allowed=0x40).feed(bytes((0x81 | 0x60, 0)))

    def test_rsv_on_control_frame_rejected_even_when_claimed(self) -> None:
        """Section 5.5 with RFC 7692 section 6.1: extensions never apply to control frames."""
        with pytest.raises(ProtocolError):
            FrameParser(rsv_allowed=0x40).feed(bytes((0x89 | 0x40, 0)))

    def test_encode_sets_rsv_bits(self) -> None:
        """Section 5.2: the encoder writes the frame's RSV bits."""
        frame = Frame(Opcode.TEXT, b"x", rsv1=True, rsv3=True)
        assert frame.rsv == 0x50
        assert encode_frame(frame)[0] == 0x80 | 0x50 | 0x01
        assert parse_all(encode_frame(frame), rsv_allowed=0x70) == [frame]


class TestControlFrames:
    """Section 5.5: control frames are final and carry at most 125 bytes."""

    @pytest.mark.parametrize("opcode", [8, 9, 10])
    def test_fragmented_control_frame_rejected(self, opcode: int) -> None:
        """Section 5.5: "All control frames ... MUST NOT be fragmented"."""
        with pytest.raises(ProtocolError) as info:
            FrameParser().feed(bytes((opcode, 0)))
        assert info.value.code == 1002

    @pytest.mark.parametrize("opcode", [8, 9, 10])
    def test_control_frame_of_126_bytes_rejected_from_header(self, opcode: int) -> None:
        """Section 5.5: 126 bytes are too many; refused from the header alone."""
        with pytest.raises(ProtocolError) as info:
            FrameParser().feed(bytes((0x80 | opcode, 126, 0, 126)))
        assert info.value.code == 1002

    def test_control_frame_of_125_bytes_accepted(self) -> None:
        """Section 5.5: 125 bytes is the maximum."""
        payload = b"p" * 125
        assert parse_all(h("89 7d") + payload) == [Frame(Opcode.PING, payload)]

    def test_encode_rejects_long_control_frame(self) -> None:
        """Section 5.5: the encoder refuses 126 bytes of control payload."""
        encode_frame(Frame(Opcode.PING, b"p" * 125))
        with pytest.raises(ValueError, match="control"):
            encode_frame(Frame(Opcode.PING, b"p" * 126))

    def test_encode_rejects_fragmented_control_frame(self) -> None:
        """Section 5.5: the encoder refuses a control frame without FIN."""
        with pytest.raises(ValueError, match="control"):
            encode_frame(Frame(Opcode.PONG, b"", fin=False))

    def test_fragmented_data_frame_encodes(self) -> None:
        """Section 5.4: data frames may be fragmented."""
        assert encode_frame(Frame(Opcode.TEXT, b"Hel", fin=False)) == h("01 03 48 65 6c")


class TestMasking:
    """Sections 5.1 and 5.3: clients mask every frame, servers none."""

    def test_server_side_parser_rejects_unmasked(self) -> None:
        """Section 5.1: a server MUST fail on an unmasked client frame."""
        with pytest.raises(ProtocolError) as info:
            FrameParser(mask_required=True).feed(h("81 05 48 65 6c 6c 6f"))
        assert info.value.code == 1002

    def test_client_side_parser_rejects_masked(self) -> None:
        """Section 5.1: a client MUST fail on a masked server frame."""
        with pytest.raises(ProtocolError) as info:
            FrameParser(mask_required=False).feed(h("81 85 37 fa 21 3d 7f 9f 4d 51 58"))
        assert info.value.code == 1002

    def test_mask_check_from_second_byte(self) -> None:
        """Section 5.1: the wrong MASK bit is refused as soon as the header is complete."""
        with pytest.raises(ProtocolError):
            FrameParser(mask_required=True).feed(h("82 7e 10 00"))

    def test_either_accepted_when_not_required(self) -> None:
        """Without a role, both masked and unmasked frames parse."""
        parser = FrameParser(mask_required=None)
        wire = h("81 05 48 65 6c 6c 6f 81 85 37 fa 21 3d 7f 9f 4d 51 58")
        assert parser.feed(wire) == [Frame(Opcode.TEXT, b"Hello")] * 2

    @pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 8, 127, 1000])
    def test_masking_matches_reference(self, length: int) -> None:
        """Section 5.3: octet i is XORed with key octet i mod 4."""
        payload = bytes((i * 31) % 256 for i in range(length))
        wire = encode_frame(Frame(Opcode.BINARY, payload), MASK)
        body = wire[-length:] if length else b""
        assert body == bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
        assert parse_all(wire, mask_required=True) == [Frame(Opcode.BINARY, payload)]

    @pytest.mark.parametrize("mask", [b"", b"\x01\x02\x03", b"\x01\x02\x03\x04\x05"])
    def test_mask_of_wrong_length_rejected(self, mask: bytes) -> None:
        """Section 5.3: the masking key is 4 bytes."""
        with pytest.raises(ValueError, match="mask"):
            encode_frame(Frame(Opcode.BINARY, b"data"), mask)


class TestFrameSizeLimit:
    """Section 10.4: limits on frame size, checked from the header."""

    def test_oversized_frame_refused_from_header_alone(self) -> None:
        """Section 10.4: the header of a 10 MB frame is enough to refuse it (1009)."""
        parser = FrameParser(max_frame_size=1024 * 1024)
        with pytest.raises(MessageTooBig) as info:
            parser.feed(h("82 7f 00 00 00 00 00 a0 00 00"))  # 10 MiB, no payload yet
        assert info.value.code == 1009

    def test_oversized_masked_frame_refused_from_header(self) -> None:
        """Section 10.4: same for a masked 16-bit length."""
        parser = FrameParser(mask_required=True, max_frame_size=100)
        with pytest.raises(MessageTooBig):
            parser.feed(h("82 fe 01 01") + MASK)  # 257 bytes announced

    def test_frame_at_the_limit_accepted(self) -> None:
        """A payload of exactly `max_frame_size` bytes is fine; one more is not."""
        assert parse_all(h("82 0a") + b"x" * 10, max_frame_size=10) == [Frame(Opcode.BINARY, b"x" * 10)]
        with pytest.raises(MessageTooBig):
            FrameParser(max_frame_size=10).feed(h("82 0b"))

    def test_limit_zero(self) -> None:
        """A limit of 0 accepts only empty frames."""
        assert parse_all(h("82 00"), max_frame_size=0) == [Frame(Opcode.BINARY, b"")]
        with pytest.raises(MessageTooBig):
            FrameParser(max_frame_size=0).feed(h("82 01"))


class TestCheckFrameHeader:
    """Section 5.2: `check_frame_header` on its own."""

    def test_valid_header_passes(self) -> None:
        check_frame_header(0x81, 0x85, 5, mask_required=True, rsv_allowed=0, max_frame_size=None)
        check_frame_header(0x81, 0x05, 5, mask_required=False, rsv_allowed=0, max_frame_size=5)

    @pytest.mark.parametrize(
        ("first", "second", "length", "kwargs", "error"),
        [
            (0x83, 0x80, 0, {}, ProtocolError),  # reserved opcode
            (0xC1, 0x80, 0, {}, ProtocolError),  # RSV1 unclaimed
            (0x81, 0x00, 0, {}, ProtocolError),  # unmasked at a server
            (0x09, 0x80, 0, {}, ProtocolError),  # fragmented ping
            (0x89, 0xFE, 126, {}, ProtocolError),  # long ping
            (0x82, 0xFE, 100, {}, ProtocolError),  # non-minimal 16-bit
            (0x82, 0xFF, 65535, {}, ProtocolError),  # non-minimal 64-bit
            (0x82, 0x8B, 11, {"max_frame_size": 10}, MessageTooBig),
        ],
    )
    def test_invalid_headers(
        self, first: int, second: int, length: int, kwargs: dict[str, int], error: type[Exception]
    ) -> None:
        """Section 5.2: each rule raises the documented exception."""
        options: dict[str, object] = {"mask_required": True, "rsv_allowed": 0, "max_frame_size": None}
        options.update(kwargs)
        with pytest.raises(error):
            check_frame_header(first, second, length, **options)  # type: ignore[arg-type]


class TestIncrementalParsing:
    """Section 5.2: a frame may arrive in any number of pieces."""

    def stream(self) -> bytes:
        parts = [
            encode_frame(Frame(Opcode.TEXT, b"Hel", fin=False), MASK),
            encode_frame(Frame(Opcode.PING, b"ping"), MASK),
            encode_frame(Frame(Opcode.CONT, b"lo"), MASK),
            encode_frame(Frame(Opcode.BINARY, bytes(300)), MASK),
            encode_frame(Frame(Opcode.BINARY, b""), MASK),
            encode_frame(Frame(Opcode.BINARY, bytes(range(256)) * 260), MASK),
            encode_frame(Frame(Opcode.CLOSE, b"\x03\xe8bye"), MASK),
        ]
        return b"".join(parts)

    def test_one_byte_at_a_time_equals_one_chunk(self) -> None:
        """Feeding one byte at a time gives the same frames as one chunk."""
        data = self.stream()
        whole = parse_all(data, mask_required=True)
        assert len(whole) == 7
        assert parse_bytewise(data, mask_required=True) == whole

    @pytest.mark.parametrize("seed", range(5))
    def test_random_chunks_equal_one_chunk(self, seed: int) -> None:
        """Any split gives the same frames."""
        data = self.stream()
        rng = random.Random(seed)
        parser = FrameParser(mask_required=True)
        frames: list[Frame] = []
        pos = 0
        while pos < len(data):
            n = rng.randint(1, 400)
            frames += parser.feed(data[pos : pos + n])
            pos += n
        assert frames == parse_all(data, mask_required=True)

    def test_buffered_counts_pending_bytes(self) -> None:
        """`buffered` counts bytes of an incomplete frame."""
        parser = FrameParser()
        assert parser.feed(h("81 05 48 65")) == []
        assert parser.buffered == 4
        assert parser.feed(h("6c 6c 6f 81")) == [Frame(Opcode.TEXT, b"Hello")]
        assert parser.buffered == 1

    @pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
    def test_buffer_types(self, kind: Callable[[bytes], object]) -> None:
        """Section 5.2: bytes, bytearray and memoryview inputs parse the same."""
        data = h("81 85 37 fa 21 3d 7f 9f 4d 51 58")
        assert FrameParser().feed(kind(data)) == [Frame(Opcode.TEXT, b"Hello")]  # type: ignore[arg-type]

    def test_payload_is_bytes(self) -> None:
        """Frames hold `bytes` payloads even from a bytearray input."""
        (frame,) = FrameParser().feed(bytearray(h("82 02 01 02")))
        assert type(frame.payload) is bytes


class TestFrameObject:
    """The `Frame` dataclass."""

    def test_defaults(self) -> None:
        frame = Frame(Opcode.TEXT, b"x")
        assert (frame.fin, frame.rsv1, frame.rsv2, frame.rsv3, frame.rsv) == (True, False, False, False, 0)

    def test_repr_is_bounded(self) -> None:
        frame = Frame(Opcode.BINARY, b"x" * 10_000, fin=False, rsv1=True)
        text = repr(frame)
        assert "BINARY" in text
        assert "10000 bytes" in text
        assert len(text) < 120

    def test_max_control_payload_constant(self) -> None:
        assert MAX_CONTROL_PAYLOAD == 125


def test_parser_returns_good_frames_before_a_bad_header_then_raises() -> None:
    """Frames completed before a violation come first; the error comes with the next
    call, and the bytes after the bad header are not kept meanwhile."""
    parser = FrameParser(mask_required=False)
    good = bytes((0x81, 2)) + b"hi"
    bad = bytes((0x83, 0))  # opcode 3 is reserved
    assert parser.feed(good + bad + b"x" * 5000) == [Frame(Opcode.TEXT, b"hi")]
    assert parser.buffered == 0
    with pytest.raises(ProtocolError):
        parser.feed(b"")
    with pytest.raises(ProtocolError):
        parser.feed(good)
