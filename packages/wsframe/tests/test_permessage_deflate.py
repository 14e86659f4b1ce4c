"""Tests of wsframe._permessage_deflate: RFC 7692 permessage-deflate."""

from __future__ import annotations

import itertools
import random
import tracemalloc
import zlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsframe._errors import InvalidData, MessageTooBig, NegotiationError, ProtocolError
from wsframe._extensions import (
    Extension,
    ExtensionParameters,
    negotiate_client_extensions,
    negotiate_server_extensions,
)
from wsframe._frames import RSV1, Frame, Opcode
from wsframe._permessage_deflate import ClientPerMessageDeflate, PerMessageDeflate, ServerPerMessageDeflate

TEXT, BINARY, CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONT
HELLO = b"Hello"
JSON = b'{"type":"message","channel":"general","user":{"id":1234,"name":"alice"},"text":"hello world"}'


def pmd(
    *,
    remote_nct: bool = False,
    local_nct: bool = False,
    remote_bits: int = 15,
    local_bits: int = 15,
    min_size: int = 0,
    **options: int,
) -> PerMessageDeflate:
    """An extension with both contexts kept, 15-bit windows and no minimum size unless told."""
    return PerMessageDeflate(
        remote_no_context_takeover=remote_nct,
        local_no_context_takeover=local_nct,
        remote_max_window_bits=remote_bits,
        local_max_window_bits=local_bits,
        min_size=min_size,
        **options,
    )


def pair(**options: int | bool) -> tuple[PerMessageDeflate, PerMessageDeflate]:
    """A sender and a receiver that agree: the sender's local parameters are the receiver's remote ones."""
    nct = bool(options.pop("nct", False))
    bits = int(options.pop("bits", 15))
    sender = pmd(local_nct=nct, local_bits=bits, **options)  # type: ignore[arg-type]
    receiver = pmd(remote_nct=nct, remote_bits=bits)
    return sender, receiver


def fragments_of(message: bytes, cuts: Sequence[int], opcode: Opcode = BINARY) -> list[Frame]:
    """The frames of `message` cut at `cuts`, as the application sends them."""
    bounds = [0, *sorted(cuts), len(message)]
    pieces = [message[a:b] for a, b in itertools.pairwise(bounds)]
    return [Frame(opcode if i == 0 else CONT, piece, fin=i == len(pieces) - 1) for i, piece in enumerate(pieces)]


def split(frame: Frame, cuts: Sequence[int]) -> list[Frame]:
    """Split an encoded frame as the connection does: RSV bits on the first piece only."""
    data = frame.payload
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
    pieces = [data[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]
    return [
        Frame(
            frame.opcode if i == 0 else CONT, piece, fin=frame.fin and i == len(pieces) - 1, rsv1=frame.rsv1 and i == 0
        )
        for i, piece in enumerate(pieces)
    ]


def receive(ext: PerMessageDeflate, frames: Sequence[Frame], max_size: int | None = None) -> bytes:
    """Decode the frames of one message, passing what is left of `max_size` to each, as the connection does."""
    out = b""
    for frame in frames:
        budget = None if max_size is None else max_size - len(out)
        decoded = ext.decode(frame, max_size=budget)
        assert not decoded.rsv1
        out += decoded.payload
    return out


def transfer(sender: PerMessageDeflate, receiver: PerMessageDeflate, message: bytes, opcode: Opcode = BINARY) -> Frame:
    """Send one unfragmented message; check it arrives intact; return the encoded frame."""
    frame = sender.encode(Frame(opcode, message))
    decoded = receiver.decode(frame, max_size=len(message))
    assert decoded.payload == message
    assert decoded.opcode == opcode
    assert decoded.fin
    return frame


def raw_deflate(data: bytes, *, wbits: int = 15, level: int = 6, zdict: bytes | None = None) -> bytes:
    """`data` compressed with a sync flush, the trailing 00 00 ff ff removed."""
    c = zlib.compressobj(level, zlib.DEFLATED, -wbits, 8, zlib.Z_DEFAULT_STRATEGY, *([zdict] if zdict else []))
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


class TestRFC7692Examples:
    """The examples of RFC 7692 section 7.2.3."""

    def test_one_compressed_block(self) -> None:
        """7.2.3.1: "Hello" compresses to f2 48 cd c9 c9 07 00 with RSV1 set."""
        frame = pmd().encode(Frame(TEXT, HELLO))
        assert frame.payload == bytes.fromhex("f248cdc9c90700")
        assert frame.rsv1
        assert frame.fin
        assert frame.opcode is TEXT
        assert pmd().decode(frame, max_size=None) == Frame(TEXT, HELLO)

    def test_one_compressed_block_in_two_frames(self) -> None:
        """7.2.3.1: the same data split over two frames, RSV1 on the first only."""
        frames = [
            Frame(TEXT, bytes.fromhex("f248cd"), fin=False, rsv1=True),
            Frame(CONT, bytes.fromhex("c9c90700"), fin=True),
        ]
        ext = pmd()
        first = ext.decode(frames[0], max_size=None)
        second = ext.decode(frames[1], max_size=None)
        assert (first.opcode, first.fin, first.rsv1) == (TEXT, False, False)
        assert (second.opcode, second.fin) == (CONT, True)
        assert first.payload + second.payload == HELLO

    def test_sharing_the_sliding_window(self) -> None:
        """7.2.3.2: with context takeover the second "Hello" is f2 00 11 00 00."""
        sender, receiver = pair()
        assert transfer(sender, receiver, HELLO, TEXT).payload == bytes.fromhex("f248cdc9c90700")
        assert transfer(sender, receiver, HELLO, TEXT).payload == bytes.fromhex("f200110000")

    def test_no_sharing_without_context_takeover(self) -> None:
        sender, receiver = pair(nct=True)
        assert transfer(sender, receiver, HELLO).payload == bytes.fromhex("f248cdc9c90700")
        assert transfer(sender, receiver, HELLO).payload == bytes.fromhex("f248cdc9c90700")

    def test_block_with_no_compression(self) -> None:
        """7.2.3.3: a stored block."""
        frame = Frame(TEXT, bytes.fromhex("000500faff48656c6c6f00"), rsv1=True)
        assert pmd().decode(frame, max_size=None).payload == HELLO

    def test_block_with_bfinal_set(self) -> None:
        """7.2.3.4: a block with BFINAL set, then an empty stored block."""
        ext = pmd()
        frame = Frame(TEXT, bytes.fromhex("f348cdc9c9070000"), rsv1=True)
        assert ext.decode(frame, max_size=None).payload == HELLO
        # The window still holds "Hello": the next message can refer to it (7.2.3.2's bytes).
        assert ext.decode(Frame(TEXT, bytes.fromhex("f200110000"), rsv1=True), max_size=None).payload == HELLO

    def test_message_ending_with_the_bfinal_block(self) -> None:
        """Without the empty stored block after it (what Z_FINISH alone produces): accepted."""
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        payload = c.compress(HELLO) + c.flush(zlib.Z_FINISH)
        assert payload == bytes.fromhex("f348cdc9c90700")
        ext = pmd()
        assert ext.decode(Frame(TEXT, payload, rsv1=True), max_size=5).payload == HELLO
        assert ext.decode(Frame(TEXT, bytes.fromhex("f200110000"), rsv1=True), max_size=5).payload == HELLO

    def test_garbage_after_the_bfinal_block(self) -> None:
        with pytest.raises(InvalidData):
            pmd().decode(Frame(TEXT, bytes.fromhex("f348cdc9c90700ff"), rsv1=True), max_size=None)

    def test_two_deflate_blocks(self) -> None:
        """7.2.3.5: two blocks in one message."""
        payload = bytes.fromhex("f24805000000ffffcac9c90700")
        assert pmd().decode(Frame(TEXT, payload, rsv1=True), max_size=None).payload == HELLO
        # The same bytes come out of "He" and "llo" sent as two fragments.
        ext = pmd()
        frames = [ext.encode(Frame(TEXT, b"He", fin=False)), ext.encode(Frame(CONT, b"llo"))]
        assert frames[0].payload + frames[1].payload == payload

    def test_generating_an_empty_fragment(self) -> None:
        """7.2.3.6: data flushed by a first fragment, then an empty final fragment that encodes as 00."""
        sender, receiver = pair()
        frames = [sender.encode(Frame(TEXT, HELLO, fin=False)), sender.encode(Frame(CONT, b"", fin=True))]
        assert frames[0].payload == bytes.fromhex("f248cdc9c907000000ffff")
        assert (frames[0].rsv1, frames[0].fin) == (True, False)
        assert frames[1] == Frame(CONT, b"\x00", fin=True)
        assert receive(receiver, frames) == HELLO

    def test_empty_message(self) -> None:
        frame = pmd().encode(Frame(BINARY, b""))
        assert frame == Frame(BINARY, b"\x00", rsv1=True)
        assert pmd().decode(frame, max_size=0) == Frame(BINARY, b"")


class TestEncode:
    def test_min_size(self) -> None:
        ext = pmd(min_size=32)
        small = Frame(TEXT, JSON[:31])
        assert ext.encode(small) is small
        frame = ext.encode(Frame(TEXT, JSON[:32]))
        assert frame.rsv1
        assert pmd().decode(frame, max_size=None).payload == JSON[:32]

    def test_default_min_size_is_32(self) -> None:
        ext = PerMessageDeflate(
            remote_no_context_takeover=False,
            local_no_context_takeover=False,
            remote_max_window_bits=15,
            local_max_window_bits=15,
        )
        assert (ext.compress_level, ext.mem_level, ext.min_size) == (6, 5, 32)
        assert not ext.encode(Frame(TEXT, b"x" * 31)).rsv1
        assert ext.encode(Frame(TEXT, b"x" * 32)).rsv1

    def test_application_fragments_are_compressed_whatever_their_size(self) -> None:
        sender, receiver = pair(min_size=1000)
        frames = [sender.encode(f) for f in fragments_of(b"abcdefgh", [2, 4])]
        assert frames[0].rsv1
        assert [f.opcode for f in frames] == [BINARY, CONT, CONT]
        assert not frames[1].rsv1
        assert not frames[2].rsv1
        assert receive(receiver, frames) == b"abcdefgh"

    def test_uncompressed_message_sent_after_compressed_fragments(self) -> None:
        sender, receiver = pair(min_size=10)
        frames = [sender.encode(f) for f in fragments_of(JSON, [10])]
        assert receive(receiver, frames) == JSON
        small = sender.encode(Frame(TEXT, b"tiny"))
        assert small == Frame(TEXT, b"tiny")
        assert receiver.decode(small, max_size=4) is small

    def test_continuations_of_an_uncompressed_message_pass_through(self) -> None:
        ext = pmd(local_bits=8)
        frames = fragments_of(JSON, [5, 50])
        assert [ext.encode(f) for f in frames] == frames

    def test_empty_non_final_fragment(self) -> None:
        sender, receiver = pair()
        frames = [
            sender.encode(f) for f in (Frame(TEXT, b"", fin=False), Frame(CONT, b"", fin=False), Frame(CONT, HELLO))
        ]
        assert frames[0] == Frame(TEXT, b"", fin=False, rsv1=True)
        assert frames[1] == Frame(CONT, b"", fin=False)
        assert receive(receiver, frames) == HELLO

    def test_other_rsv_bits_are_kept(self) -> None:
        frame = pmd().encode(Frame(BINARY, JSON, rsv2=True, rsv3=True))
        assert (frame.rsv1, frame.rsv2, frame.rsv3) == (True, True, True)
        decoded = pmd().decode(frame, max_size=None)
        assert (decoded.rsv1, decoded.rsv2, decoded.rsv3) == (False, True, True)
        assert decoded.payload == JSON

    @pytest.mark.parametrize("opcode", [Opcode.PING, Opcode.PONG, Opcode.CLOSE])
    def test_control_frames_are_untouched(self, opcode: Opcode) -> None:
        frame = Frame(opcode, JSON[:100])
        ext = pmd()
        assert ext.encode(frame) is frame
        assert ext.decode(frame, max_size=None) is frame

    def test_control_frame_between_fragments(self) -> None:
        sender, receiver = pair()
        first = sender.encode(Frame(TEXT, JSON[:50], fin=False))
        ping = Frame(Opcode.PING, b"ping")
        assert sender.encode(ping) is ping
        assert receiver.decode(ping, max_size=None) is ping
        last = sender.encode(Frame(CONT, JSON[50:]))
        assert receive(receiver, [first, last]) == JSON

    @pytest.mark.parametrize("bits", range(9, 16))
    def test_window_is_respected(self, bits: int) -> None:
        """What is sent decompresses with a window of exactly the negotiated size."""
        rng = random.Random(bits)
        chunk = rng.randbytes(300)
        message = b"".join(chunk + rng.randbytes(rng.randrange(200, 2000)) for _ in range(40))
        ext = pmd(local_bits=bits)
        decoder = zlib.decompressobj(-bits)
        for _ in range(3):
            frame = ext.encode(Frame(BINARY, message))
            assert decoder.decompress(frame.payload + b"\x00\x00\xff\xff") == message

    def test_local_window_8_sends_uncompressed(self) -> None:
        ext = pmd(local_bits=8)
        frame = Frame(TEXT, JSON * 10)
        assert ext.encode(frame) is frame
        fragment = Frame(TEXT, JSON, fin=False)
        assert ext.encode(fragment) is fragment

    def test_no_context_takeover_releases_the_compressor(self) -> None:
        ext = pmd(local_nct=True)
        ext.encode(Frame(TEXT, JSON, fin=False))
        assert ext._encoder is not None
        ext.encode(Frame(CONT, JSON))
        assert ext._encoder is None
        kept = pmd()
        kept.encode(Frame(TEXT, JSON))
        assert kept._encoder is not None

    @pytest.mark.parametrize("level", range(10))
    def test_levels(self, level: int) -> None:
        sender, receiver = pair(compress_level=level)
        frame = transfer(sender, receiver, JSON * 20)
        if level:
            assert len(frame.payload) < len(JSON) * 2
        else:
            assert len(frame.payload) > len(JSON) * 20

    @pytest.mark.parametrize("mem_level", [1, 5, 9])
    def test_mem_levels(self, mem_level: int) -> None:
        sender, receiver = pair(mem_level=mem_level)
        assert len(transfer(sender, receiver, JSON * 20).payload) < len(JSON) * 2


class TestContextTakeover:
    def test_second_identical_message_is_smaller_with_takeover(self) -> None:
        sender, receiver = pair()
        first = transfer(sender, receiver, JSON)
        second = transfer(sender, receiver, JSON)
        assert len(second.payload) < len(first.payload) // 4

    def test_second_identical_message_is_the_same_without_takeover(self) -> None:
        sender, receiver = pair(nct=True)
        assert transfer(sender, receiver, JSON) == transfer(sender, receiver, JSON)

    def test_no_takeover_keeps_context_within_a_fragmented_message(self) -> None:
        sender, receiver = pair(nct=True)
        frames = [sender.encode(f) for f in fragments_of(JSON + JSON, [len(JSON)])]
        assert len(frames[1].payload) < len(frames[0].payload) // 4
        assert receive(receiver, frames) == JSON + JSON
        again = [sender.encode(f) for f in fragments_of(JSON + JSON, [len(JSON)])]
        assert again == frames

    def test_remote_no_context_takeover_resets_the_decompressor(self) -> None:
        """A peer that promised no context takeover but refers to the previous message fails."""
        sender = pmd()  # keeps its context, against the agreement
        receiver = pmd(remote_nct=True)
        assert receiver.decode(sender.encode(Frame(TEXT, JSON)), max_size=None).payload == JSON
        with pytest.raises(InvalidData):
            receiver.decode(sender.encode(Frame(TEXT, JSON)), max_size=None)

    def test_uncompressed_messages_keep_the_context(self) -> None:
        sender, receiver = pair(min_size=20)
        transfer(sender, receiver, JSON)
        assert transfer(sender, receiver, b"short") == Frame(BINARY, b"short")
        assert len(transfer(sender, receiver, JSON).payload) < 20


class TestDecode:
    def test_uncompressed_message_passes_through(self) -> None:
        ext = pmd()
        frames = fragments_of(JSON, [10, 20], TEXT)
        for frame in frames:
            assert ext.decode(frame, max_size=1) is frame

    def test_rsv1_on_continuation_frame(self) -> None:
        ext = pmd()
        ext.decode(Frame(TEXT, bytes.fromhex("f248cd"), fin=False, rsv1=True), max_size=None)
        with pytest.raises(ProtocolError, match="rsv1 set on a continuation frame") as info:
            ext.decode(Frame(CONT, bytes.fromhex("c9c90700"), rsv1=True), max_size=None)
        assert info.value.code == 1002

    def test_rsv1_on_continuation_of_uncompressed_message(self) -> None:
        ext = pmd()
        ext.decode(Frame(TEXT, b"abc", fin=False), max_size=None)
        with pytest.raises(ProtocolError):
            ext.decode(Frame(CONT, b"def", rsv1=True), max_size=None)

    @pytest.mark.parametrize(
        "payload",
        [
            bytes.fromhex("ff"),  # reserved block type 11
            bytes.fromhex("0005000000"),  # stored block with LEN != ~NLEN
            bytes.fromhex("f248cdc9c9070a"),  # a distance too far back
        ],
    )
    def test_corrupt_data(self, payload: bytes) -> None:
        with pytest.raises(InvalidData, match="decompression failed") as info:
            pmd().decode(Frame(BINARY, payload, rsv1=True), max_size=None)
        assert info.value.code == 1007
        assert isinstance(info.value.__cause__, zlib.error)

    def test_corrupt_data_in_a_continuation_frame(self) -> None:
        ext = pmd()
        ext.decode(Frame(BINARY, raw_deflate(JSON), fin=False, rsv1=True), max_size=None)
        with pytest.raises(InvalidData):
            ext.decode(Frame(CONT, b"\xff\xff\xff"), max_size=None)

    def test_exactly_at_the_limit(self) -> None:
        payload = raw_deflate(JSON)
        assert pmd().decode(Frame(TEXT, payload, rsv1=True), max_size=len(JSON)).payload == JSON
        with pytest.raises(MessageTooBig) as info:
            pmd().decode(Frame(TEXT, payload, rsv1=True), max_size=len(JSON) - 1)
        assert info.value.code == 1009

    def test_limit_over_several_frames(self) -> None:
        message = JSON * 30
        sender = pmd()
        frames = [sender.encode(f) for f in fragments_of(message, [1000, 2000])]
        assert receive(pmd(), frames, max_size=len(message)) == message
        with pytest.raises(MessageTooBig):
            receive(pmd(), frames, max_size=len(message) - 1)

    def test_limit_checked_while_inflating_a_small_frame(self) -> None:
        """About 1 KiB of compressed zeros expands to about 1 MiB: stopped at the limit."""
        payload = raw_deflate(bytes(1 << 20), level=9)
        assert len(payload) < 1100
        ext = pmd()
        with pytest.raises(MessageTooBig):
            ext.decode(Frame(BINARY, payload, rsv1=True), max_size=64 * 1024)
        assert pmd().decode(Frame(BINARY, payload, rsv1=True), max_size=1 << 20).payload == bytes(1 << 20)

    def test_zip_bomb_has_bounded_memory(self, zip_bomb: bytes) -> None:
        """100 MB of zeros in a 100 KB frame, with a 1 MiB limit: about 1 MiB is ever inflated."""
        ext = pmd()
        frame = Frame(BINARY, zip_bomb, rsv1=True)
        tracemalloc.start()
        try:
            with pytest.raises(MessageTooBig):
                ext.decode(frame, max_size=1 << 20)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 4 << 20

    def test_budget_already_exhausted(self, zip_bomb: bytes) -> None:
        """A negative budget does not turn into zlib's "no limit"."""
        ext = pmd()
        frame = Frame(BINARY, zip_bomb, rsv1=True)
        tracemalloc.start()
        try:
            with pytest.raises(MessageTooBig):
                ext.decode(frame, max_size=-1)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 1 << 20
        with pytest.raises(MessageTooBig):
            pmd().decode(Frame(BINARY, b"\x00", rsv1=True), max_size=-1)
        assert pmd().decode(Frame(BINARY, b"\x00", rsv1=True), max_size=0).payload == b""

    def test_zip_bomb_spread_over_frames(self, zip_bomb: bytes) -> None:
        """Each frame's output counts against what is left of the message's limit."""
        ext = pmd()
        pieces = split(Frame(BINARY, zip_bomb, rsv1=True, fin=True), range(1000, len(zip_bomb), 1000))
        with pytest.raises(MessageTooBig):
            receive(ext, pieces, max_size=5 << 20)

    def test_no_limit(self) -> None:
        message = bytes(3 << 20)
        frame = pmd().encode(Frame(BINARY, message))
        assert pmd().decode(frame, max_size=None).payload == message

    def test_remote_window_8_reads_512_byte_distances(self) -> None:
        """A peer that agreed to 8 bits but refers 450 bytes back is still understood."""
        rng = random.Random(8)
        block = rng.randbytes(400)
        first, second = block + rng.randbytes(50), block
        c = zlib.compressobj(6, zlib.DEFLATED, -10)
        frames = [Frame(BINARY, (c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH))[:-4], rsv1=True) for m in (first, second)]
        assert len(frames[1].payload) < 20  # a reference 450 bytes back
        ext = pmd(remote_bits=8)
        assert ext.decode(frames[0], max_size=None).payload == first
        assert ext.decode(frames[1], max_size=None).payload == second
        # The same with a strict 256-byte window fails: the test does exercise the distance.
        strict = zlib.decompressobj(-8)
        strict.decompress(frames[0].payload + b"\x00\x00\xff\xff")
        with pytest.raises(zlib.error):
            strict.decompress(frames[1].payload + b"\x00\x00\xff\xff")

    def test_deflate_blocks_after_bfinal_share_the_window(self) -> None:
        """RFC 7692 section 7.2.1: after a BFINAL block, the next block follows in the same window."""
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        first = c.compress(b"Hello world, ") + c.flush(zlib.Z_FINISH)
        second = raw_deflate(b"Hello world, again", zdict=b"Hello world, ")
        ext = pmd()
        out = ext.decode(Frame(TEXT, first + second, rsv1=True), max_size=None)
        assert out.payload == b"Hello world, Hello world, again"
        # The next message still shares the window.
        third = raw_deflate(b"again and again", zdict=b"Hello world, Hello world, again")
        assert ext.decode(Frame(TEXT, third, rsv1=True), max_size=None).payload == b"again and again"

    def test_bfinal_at_the_end_of_a_non_final_frame(self) -> None:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        first = c.compress(b"abcabcabc") + c.flush(zlib.Z_FINISH)
        ext = pmd()
        frames = [Frame(BINARY, first, fin=False, rsv1=True), Frame(CONT, raw_deflate(b"abcdef", zdict=b"abcabcabc"))]
        assert receive(ext, frames) == b"abcabcabcabcdef"

    def test_many_bfinal_streams(self) -> None:
        """Empty final blocks one after another: decoded in linear time to nothing."""
        ext = pmd()
        payload = bytes.fromhex("0300") * 10_000
        assert ext.decode(Frame(BINARY, payload, rsv1=True), max_size=0).payload == b""
        assert ext.decode(Frame(BINARY, raw_deflate(HELLO), rsv1=True), max_size=None).payload == HELLO

    def test_history_lost_at_bfinal_fails_loudly(self) -> None:
        """A reference past the history kept across a BFINAL block is an error, never wrong bytes."""
        rng = random.Random(1)
        old = rng.randbytes(1000)
        ext = pmd()
        assert ext.decode(Frame(BINARY, raw_deflate(old), rsv1=True), max_size=None).payload == old
        c = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, old)
        ended = c.compress(b"xy") + c.flush(zlib.Z_FINISH)
        assert ext.decode(Frame(BINARY, ended, rsv1=True), max_size=None).payload == b"xy"
        refers_to_old = raw_deflate(old[:500], zdict=old + b"xy")
        with pytest.raises(InvalidData):
            ext.decode(Frame(BINARY, refers_to_old, rsv1=True), max_size=None)


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """100 MiB of zeros, compressed to about 100 KB."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    data = b"".join(c.compress(zeros) for _ in range(100)) + c.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


MESSAGES = [b"", HELLO, JSON, JSON, bytes(range(256)) * 40, random.Random(0).randbytes(5000), JSON * 50, b"x"]


@pytest.mark.parametrize(("server_bits", "client_bits"), list(itertools.product(range(8, 16), repeat=2)))
def test_round_trip_all_parameters(server_bits: int, client_bits: int) -> None:
    """Both directions, every combination of the four parameters, windows 8 to 15."""
    for server_nct, client_nct in itertools.product([False, True], repeat=2):
        server = pmd(local_nct=server_nct, remote_nct=client_nct, local_bits=server_bits, remote_bits=client_bits)
        client = pmd(local_nct=client_nct, remote_nct=server_nct, local_bits=client_bits, remote_bits=server_bits)
        for sender, receiver, bits in ((server, client, server_bits), (client, server, client_bits)):
            for message in MESSAGES:
                frame = transfer(sender, receiver, message)
                assert frame.rsv1 is (bits > 8)
            # Fragmented by the application, then by the connection.
            message = JSON * 7
            frames = [sender.encode(f) for f in fragments_of(message, [3, 100, 101, 400])]
            assert receive(receiver, frames, max_size=len(message)) == message
            frame = sender.encode(Frame(TEXT, message))
            assert receive(receiver, split(frame, [1, 2, 30])) == message


def negotiate(
    client: ClientPerMessageDeflate, server: ServerPerMessageDeflate
) -> tuple[ExtensionParameters, PerMessageDeflate, PerMessageDeflate]:
    offer = client.offer()
    result = server.negotiate(offer, [])
    assert result is not None, f"declined {offer}"
    answer, server_ext = result
    return answer, client.accept(answer, []), server_ext


PARAMETER_NAMES = (
    "server_no_context_takeover",
    "client_no_context_takeover",
    "server_max_window_bits",
    "client_max_window_bits",
)


class TestNegotiation:
    def test_default_offer(self) -> None:
        assert ClientPerMessageDeflate().offer() == [("client_max_window_bits", None)]

    def test_full_offer(self) -> None:
        client = ClientPerMessageDeflate(
            server_no_context_takeover=True,
            client_no_context_takeover=True,
            server_max_window_bits=10,
            client_max_window_bits=11,
        )
        assert client.offer() == [
            ("server_no_context_takeover", None),
            ("client_no_context_takeover", None),
            ("server_max_window_bits", "10"),
            ("client_max_window_bits", "11"),
        ]
        assert ClientPerMessageDeflate(client_max_window_bits=False).offer() == []

    def test_defaults(self) -> None:
        answer, client_ext, server_ext = negotiate(ClientPerMessageDeflate(), ServerPerMessageDeflate())
        assert answer == [("server_max_window_bits", "12"), ("client_max_window_bits", "12")]
        assert (server_ext.local_max_window_bits, server_ext.remote_max_window_bits) == (12, 12)
        assert (client_ext.local_max_window_bits, client_ext.remote_max_window_bits) == (12, 12)
        assert not any(
            (
                client_ext.local_no_context_takeover,
                client_ext.remote_no_context_takeover,
                server_ext.local_no_context_takeover,
                server_ext.remote_no_context_takeover,
            )
        )
        assert (server_ext.compress_level, server_ext.mem_level, server_ext.min_size) == (6, 5, 32)

    def test_bare_offer(self) -> None:
        """A client that does not offer client_max_window_bits cannot be limited: it may use 15 bits."""
        result = ServerPerMessageDeflate().negotiate([], [])
        assert result is not None
        answer, ext = result
        assert answer == [("server_max_window_bits", "12")]
        assert (ext.local_max_window_bits, ext.remote_max_window_bits) == (12, 15)

    def test_server_with_zlib_defaults(self) -> None:
        server = ServerPerMessageDeflate(server_max_window_bits=15, client_max_window_bits=15)
        answer, client_ext, _ = negotiate(ClientPerMessageDeflate(), server)
        assert answer == []
        assert (client_ext.local_max_window_bits, client_ext.remote_max_window_bits) == (15, 15)

    def test_server_forces_no_context_takeover(self) -> None:
        server = ServerPerMessageDeflate(server_no_context_takeover=True, client_no_context_takeover=True)
        answer, client_ext, server_ext = negotiate(ClientPerMessageDeflate(), server)
        assert answer[:2] == [("server_no_context_takeover", None), ("client_no_context_takeover", None)]
        assert client_ext.local_no_context_takeover
        assert client_ext.remote_no_context_takeover
        assert server_ext.local_no_context_takeover
        assert server_ext.remote_no_context_takeover

    def test_client_offering_client_no_context_takeover_is_answered_with_it(self) -> None:
        answer, client_ext, server_ext = negotiate(
            ClientPerMessageDeflate(client_no_context_takeover=True), ServerPerMessageDeflate()
        )
        assert ("client_no_context_takeover", None) in answer
        assert server_ext.remote_no_context_takeover
        assert client_ext.local_no_context_takeover

    def test_smaller_offered_window_wins(self) -> None:
        client = ClientPerMessageDeflate(server_max_window_bits=10, client_max_window_bits=9)
        answer, client_ext, _ = negotiate(client, ServerPerMessageDeflate())
        assert answer == [("server_max_window_bits", "10"), ("client_max_window_bits", "9")]
        assert (client_ext.local_max_window_bits, client_ext.remote_max_window_bits) == (9, 10)

    def test_offered_server_window_is_always_answered(self) -> None:
        server = ServerPerMessageDeflate(server_max_window_bits=15)
        answer, _, server_ext = negotiate(ClientPerMessageDeflate(server_max_window_bits=15), server)
        assert ("server_max_window_bits", "15") in answer
        assert server_ext.local_max_window_bits == 15

    def test_matrix(self) -> None:
        """Every client configuration against every server configuration, then traffic both ways."""
        client_configs = [
            dict(zip(PARAMETER_NAMES, values, strict=True))
            for values in itertools.product([False, True], [False, True], [None, 9, 12, 15], [False, True, 9, 12, 15])
        ]
        server_configs = [
            dict(zip(PARAMETER_NAMES, values, strict=True))
            for values in itertools.product([False, True], [False, True], [9, 12, 15], [9, 12, 15])
        ]
        count = 0
        for cc, sc in itertools.product(client_configs, server_configs):
            client = ClientPerMessageDeflate(**cc)  # type: ignore[arg-type]
            server = ServerPerMessageDeflate(**sc)  # type: ignore[arg-type]
            answer, client_ext, server_ext = negotiate(client, server)
            where = f"{cc} {sc} -> {answer}"
            # Both sides agree on each direction.
            assert client_ext.local_no_context_takeover == server_ext.remote_no_context_takeover, where
            assert server_ext.local_no_context_takeover == client_ext.remote_no_context_takeover, where
            assert client_ext.local_max_window_bits == server_ext.remote_max_window_bits, where
            assert server_ext.local_max_window_bits == client_ext.remote_max_window_bits, where
            # Each side's wishes are honoured.
            assert server_ext.local_no_context_takeover == (
                cc["server_no_context_takeover"] or sc["server_no_context_takeover"]
            ), where
            assert client_ext.local_no_context_takeover == (
                cc["client_no_context_takeover"] or sc["client_no_context_takeover"]
            ), where
            server_limit = int(cc["server_max_window_bits"] or 15)
            assert server_ext.local_max_window_bits == min(int(sc["server_max_window_bits"]), server_limit), where
            offered = cc["client_max_window_bits"]
            if offered is False:
                assert client_ext.local_max_window_bits == 15, where
            else:
                limit = 15 if offered is True else int(offered)  # type: ignore[arg-type]
                assert client_ext.local_max_window_bits == min(limit, int(sc["client_max_window_bits"])), where
            # Traffic both ways, twice, compressed.
            for sender, receiver in ((client_ext, server_ext), (server_ext, client_ext)):
                for _ in range(2):
                    assert transfer(sender, receiver, JSON).rsv1, where
            count += 1
        assert count == len(client_configs) * len(server_configs) == 80 * 36

    def test_through_the_generic_negotiation(self) -> None:
        offers: list[tuple[str, ExtensionParameters]] = [
            ("permessage-deflate", [("server_max_window_bits", "16")]),  # invalid: declined
            ("x-unknown", []),
            ("permessage-deflate", [("client_max_window_bits", None), ("server_no_context_takeover", None)]),
            ("permessage-deflate", []),  # one is enough
        ]
        answers, server_exts = negotiate_server_extensions(offers, [ServerPerMessageDeflate()])
        assert answers == [
            (
                "permessage-deflate",
                [
                    ("server_no_context_takeover", None),
                    ("server_max_window_bits", "12"),
                    ("client_max_window_bits", "12"),
                ],
            )
        ]
        client_exts = negotiate_client_extensions(answers, [ClientPerMessageDeflate(server_no_context_takeover=True)])
        assert len(server_exts) == len(client_exts) == 1
        client_ext, server_ext = client_exts[0], server_exts[0]
        assert isinstance(client_ext, PerMessageDeflate)
        assert isinstance(server_ext, PerMessageDeflate)
        assert client_ext.rsv_bits == server_ext.rsv_bits == RSV1
        assert client_ext.name == server_ext.name == ClientPerMessageDeflate.name == "permessage-deflate"
        transfer(client_ext, server_ext, JSON)
        transfer(server_ext, client_ext, JSON)

    @pytest.mark.parametrize(
        "params",
        [
            [("x_unknown", None)],
            [("Server_No_Context_Takeover", None)],
            [("server_no_context_takeover", None), ("server_no_context_takeover", None)],
            [("client_max_window_bits", None), ("client_max_window_bits", "10")],
            [("server_max_window_bits", "10"), ("server_max_window_bits", "10")],
            [("server_no_context_takeover", "1")],
            [("client_no_context_takeover", "")],
            [("server_max_window_bits", None)],
            [("server_max_window_bits", "7")],
            [("server_max_window_bits", "16")],
            [("server_max_window_bits", "08")],
            [("server_max_window_bits", "+9")],
            [("server_max_window_bits", "")],
            [("client_max_window_bits", "abc")],
            [("client_max_window_bits", "1O")],
            [("client_max_window_bits", " 10")],
        ],
    )
    def test_server_declines_invalid_offers(self, params: ExtensionParameters) -> None:
        assert ServerPerMessageDeflate().negotiate(params, []) is None

    def test_server_declines_a_second_offer_once_accepted(self) -> None:
        server = ServerPerMessageDeflate()
        result = server.negotiate([], [])
        assert result is not None
        assert server.negotiate([], [result[1]]) is None

    def test_server_offered_window_8(self) -> None:
        """A client asking for an 8-bit server window is answered with 8; the server then does not compress."""
        result = ServerPerMessageDeflate().negotiate([("server_max_window_bits", "8")], [])
        assert result is not None
        answer, server_ext = result
        assert answer == [("server_max_window_bits", "8")]
        client_ext = ClientPerMessageDeflate(client_max_window_bits=False).accept(answer, [])
        assert client_ext.remote_max_window_bits == 8
        frame = transfer(server_ext, client_ext, JSON)
        assert not frame.rsv1
        assert transfer(client_ext, server_ext, JSON).rsv1

    def test_client_offered_window_8(self) -> None:
        """A client may promise an 8-bit window; the server reads 9-bit streams anyway."""
        result = ServerPerMessageDeflate().negotiate([("client_max_window_bits", "8")], [])
        assert result is not None
        answer, server_ext = result
        assert ("client_max_window_bits", "8") in answer
        assert server_ext.remote_max_window_bits == 8
        payload = raw_deflate(JSON * 10, wbits=9)
        assert server_ext.decode(Frame(TEXT, payload, rsv1=True), max_size=None).payload == JSON * 10

    def test_client_answered_window_8(self) -> None:
        client_ext = ClientPerMessageDeflate().accept([("client_max_window_bits", "8")], [])
        assert client_ext.local_max_window_bits == 8
        assert not client_ext.encode(Frame(TEXT, JSON)).rsv1

    def test_client_answers(self) -> None:
        client = ClientPerMessageDeflate(client_max_window_bits=10)
        assert client.accept([], []).local_max_window_bits == 10
        assert client.accept([("client_max_window_bits", "9")], []).local_max_window_bits == 9
        ext = client.accept([("server_max_window_bits", "11"), ("client_no_context_takeover", None)], [])
        assert (ext.remote_max_window_bits, ext.local_no_context_takeover) == (11, True)
        ext = ClientPerMessageDeflate(client_no_context_takeover=True).accept([], [])
        assert ext.local_no_context_takeover
        ext = ClientPerMessageDeflate(compress_level=1, mem_level=9, min_size=0).accept([], [])
        assert (ext.compress_level, ext.mem_level, ext.min_size) == (1, 9, 0)

    @pytest.mark.parametrize(
        ("config", "params", "message"),
        [
            ({}, [("x_unknown", None)], "unknown permessage-deflate parameter"),
            ({}, [("server_no_context_takeover", None)] * 2, "duplicate"),
            ({}, [("server_no_context_takeover", "yes")], "takes no value"),
            ({}, [("client_no_context_takeover", "1")], "takes no value"),
            ({}, [("server_max_window_bits", "16")], "invalid server_max_window_bits"),
            ({}, [("server_max_window_bits", None)], "needs a value"),
            ({}, [("client_max_window_bits", None)], "needs a value"),
            ({}, [("client_max_window_bits", "010")], "invalid client_max_window_bits"),
            ({"server_max_window_bits": 10}, [("server_max_window_bits", "11")], "larger than offered"),
            ({"server_max_window_bits": 10}, [], "offered but not answered"),
            ({"server_no_context_takeover": True}, [], "offered but not answered"),
            ({"client_max_window_bits": False}, [("client_max_window_bits", "10")], "answered but not offered"),
            ({"client_max_window_bits": 10}, [("client_max_window_bits", "11")], "larger than offered"),
        ],
    )
    def test_client_rejects_invalid_answers(
        self, config: dict[str, int | bool], params: ExtensionParameters, message: str
    ) -> None:
        with pytest.raises(NegotiationError, match=message):
            ClientPerMessageDeflate(**config).accept(params, [])  # type: ignore[arg-type]

    def test_client_rejects_a_second_acceptance(self) -> None:
        client = ClientPerMessageDeflate()
        first = client.accept([], [])
        with pytest.raises(NegotiationError, match="accepted twice"):
            client.accept([], [first])

    def test_other_extensions_do_not_count_as_accepted(self) -> None:
        class Other(Extension):
            name = "x-other"

            def encode(self, frame: Frame) -> Frame:
                return frame

            def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
                return frame

        assert ClientPerMessageDeflate().accept([], [Other()]) is not None
        assert ServerPerMessageDeflate().negotiate([], [Other()]) is not None


class TestConfiguration:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"server_max_window_bits": 8},
            {"server_max_window_bits": 16},
            {"client_max_window_bits": 8},
            {"client_max_window_bits": 0},
            {"compress_level": -1},
            {"compress_level": 10},
            {"mem_level": 0},
            {"mem_level": 10},
            {"min_size": -1},
        ],
    )
    @pytest.mark.parametrize("factory", [ClientPerMessageDeflate, ServerPerMessageDeflate])
    def test_out_of_range(self, factory: type, kwargs: dict[str, int]) -> None:
        name = next(iter(kwargs))
        with pytest.raises(ValueError, match=name):
            factory(**kwargs)

    @pytest.mark.parametrize(
        "kwargs", [{"server_max_window_bits": "12"}, {"compress_level": 6.0}, {"min_size": None}, {"mem_level": True}]
    )
    def test_wrong_type(self, kwargs: dict[str, object]) -> None:
        with pytest.raises(TypeError, match=next(iter(kwargs))):
            ServerPerMessageDeflate(**kwargs)  # type: ignore[arg-type]

    def test_server_window_bits_cannot_be_true(self) -> None:
        with pytest.raises(TypeError, match="server_max_window_bits"):
            ServerPerMessageDeflate(server_max_window_bits=True)

    @pytest.mark.parametrize(
        "kwargs",
        [{"remote_max_window_bits": 7}, {"local_max_window_bits": 16}, {"compress_level": 10}, {"min_size": -5}],
    )
    def test_extension_out_of_range(self, kwargs: dict[str, int]) -> None:
        base: dict[str, int | bool] = {
            "remote_no_context_takeover": False,
            "local_no_context_takeover": False,
            "remote_max_window_bits": 15,
            "local_max_window_bits": 15,
        }
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            PerMessageDeflate(**{**base, **kwargs})  # type: ignore[arg-type]

    def test_reprs(self) -> None:
        assert repr(pmd(remote_bits=10)) == (
            "PerMessageDeflate(remote_no_context_takeover=False, local_no_context_takeover=False, "
            "remote_max_window_bits=10, local_max_window_bits=15)"
        )
        assert "client_max_window_bits=True" in repr(ClientPerMessageDeflate())
        assert "server_max_window_bits=12" in repr(ServerPerMessageDeflate())


@settings(max_examples=300, deadline=None)
@given(
    messages=st.lists(
        st.tuples(st.binary(max_size=3000), st.sampled_from(["whole", "fragments", "split"])), min_size=1, max_size=6
    ),
    nct=st.booleans(),
    bits=st.integers(8, 15),
    level=st.integers(0, 9),
    mem_level=st.integers(1, 9),
    min_size=st.integers(0, 64),
    limited=st.booleans(),
    data=st.data(),
)
def test_property_round_trip(
    messages: list[tuple[bytes, str]],
    nct: bool,
    bits: int,
    level: int,
    mem_level: int,
    min_size: int,
    limited: bool,
    data: st.DataObject,
) -> None:
    """decode(encode(message)) == message, for any bytes, fragmentation and settings."""
    sender, receiver = pair(nct=nct, bits=bits, compress_level=level, mem_level=mem_level, min_size=min_size)
    for message, mode in messages:
        cuts = data.draw(st.lists(st.integers(0, len(message)), max_size=5), label="cuts")
        if mode == "whole":
            frames = [sender.encode(Frame(BINARY, message))]
            compressed = len(message) >= min_size
        elif mode == "fragments":  # fragmented by the application
            fragments = fragments_of(message, cuts)
            frames = [sender.encode(f) for f in fragments]
            compressed = len(fragments) > 1 or len(message) >= min_size
        else:  # one frame split by the connection
            frames = split(sender.encode(Frame(BINARY, message)), cuts)
            compressed = len(message) >= min_size
        assert frames[0].rsv1 is (bits > 8 and compressed)
        assert not any(f.rsv1 for f in frames[1:])
        assert receive(receiver, frames, max_size=len(message) if limited else None) == message
