"""Property tests of wsframe's invariants (hypothesis).

Each test states an invariant of RFC 6455 or of the implementation's contract and lets
hypothesis search for a counterexample.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wsframe
from wsframe import (
    BinaryMessage,
    Connection,
    ConnectionFailed,
    ConnectionOptions,
    Fragment,
    InvalidData,
    Role,
    TextMessage,
)
from wsframe.extensions import negotiate_client_extensions, negotiate_server_extensions
from wsframe.frames import Frame, FrameParser, Opcode, Utf8Decoder, apply_mask_python, encode_frame

try:
    from wsframe._speedups import apply_mask as apply_mask_c
except ImportError:  # the accelerator is optional; its tests say so when skipped
    apply_mask_c = None

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

masks = st.binary(min_size=4, max_size=4)
# Lengths around every boundary of the 7/16/64-bit length encodings, and small ones.
lengths = st.one_of(st.integers(0, 300), st.sampled_from([125, 126, 127, 65535, 65536, 65537]))


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    opcode = draw(st.sampled_from(list(Opcode)))
    if opcode >= 8:
        payload = draw(st.binary(max_size=125))
        return Frame(opcode, payload)
    size = draw(lengths)
    payload = draw(st.binary(min_size=min(size, 64), max_size=min(size, 64))) * (size // max(1, min(size, 64)) + 1)
    payload = payload[:size]
    return Frame(
        opcode,
        payload,
        fin=draw(st.booleans()),
        rsv1=draw(st.booleans()),
        rsv2=draw(st.booleans()),
        rsv3=draw(st.booleans()),
    )


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """Cut `data` at the given offsets (taken modulo its length, sorted)."""
    if not data:
        return [data]
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)]) if b > a]


class TestFrameCodec:
    @SETTINGS
    @given(frame=frames(), mask=st.one_of(st.none(), masks), cuts=st.lists(st.integers(0, 70000), max_size=8))
    def test_round_trip_any_chunking(self, frame: Frame, mask: bytes | None, cuts: list[int]) -> None:
        """encode then parse gives the frame back, however the bytes are chunked."""
        wire = encode_frame(frame, mask)
        parser = FrameParser(mask_required=mask is not None, rsv_allowed=0x70)
        parsed: list[Frame] = []
        for chunk in split(wire, cuts):
            parsed.extend(parser.feed(chunk))
        assert parsed == [frame]
        assert parser.buffered == 0

    @SETTINGS
    @given(frame=frames())
    def test_minimal_length_encoding(self, frame: Frame) -> None:
        """The encoder always uses the shortest length form (RFC 6455 section 5.2)."""
        wire = encode_frame(frame)
        n = len(frame.payload)
        assert len(wire) - n == (2 if n < 126 else 4 if n < 65536 else 10)


class TestMasking:
    @SETTINGS
    @given(data=st.binary(max_size=5000), mask=masks)
    def test_involution(self, data: bytes, mask: bytes) -> None:
        assert apply_mask_python(apply_mask_python(data, mask), mask) == data

    @SETTINGS
    @given(data=st.binary(max_size=5000), mask=masks)
    def test_matches_definition(self, data: bytes, mask: bytes) -> None:
        assert apply_mask_python(data, mask) == bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    @pytest.mark.skipif(apply_mask_c is None, reason="C accelerator not built on this interpreter")
    @SETTINGS
    @given(data=st.binary(max_size=5000), mask=masks, offset=st.integers(0, 7))
    def test_c_equals_python(self, data: bytes, mask: bytes, offset: int) -> None:
        assert apply_mask_c is not None
        view = memoryview(data)[offset:]
        assert apply_mask_c(view, mask) == apply_mask_python(view, mask)


def _is_valid_prefix(data: bytes) -> bool:
    """Whether some continuation of `data` is valid UTF-8 (an independent oracle)."""
    # Any valid prefix can be completed with at most 3 bytes; the sampled continuation
    # bytes cover every range that RFC 3629's grammar distinguishes.
    probes = [0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF]
    for n in range(4):
        for tail in itertools.product(probes, repeat=n):
            try:
                (data + bytes(tail)).decode("utf-8")
            except UnicodeDecodeError:
                continue
            return True
    return False


utf8ish = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=20).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.lists(
        st.sampled_from([b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc3\xa9", b"a", b"\xf0\x9f\x98\x80", b"\xe2\x82"]),
        max_size=8,
    ).map(b"".join),
)


class TestUtf8:
    @SETTINGS
    @given(data=utf8ish, cuts=st.lists(st.integers(0, 60), max_size=6))
    def test_agrees_with_codec_and_fails_fast(self, data: bytes, cuts: list[int]) -> None:
        """The incremental decoder accepts exactly what Python's codec accepts, and
        rejects at the first chunk after which no continuation could be valid."""
        decoder = Utf8Decoder()
        seen = b""
        out = []
        chunks = split(data, cuts)
        for i, chunk in enumerate(chunks):
            seen += chunk
            final = i == len(chunks) - 1
            try:
                out.append(decoder.decode(chunk, final))
            except InvalidData:
                if final:
                    assert not _is_valid_prefix(seen) or not _decodes(seen)
                else:
                    assert not _is_valid_prefix(seen), f"rejected a valid prefix {seen!r}"
                return
            if not final:
                assert _is_valid_prefix(seen), f"accepted an invalid prefix {seen!r}"
        assert _decodes(data)
        assert "".join(out) == data.decode("utf-8")


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# A stream of messages as a client sends them, for the connection properties.
messages = st.lists(
    st.one_of(st.text(max_size=300), st.binary(max_size=300)),
    max_size=12,
)


class TestConnection:
    @SETTINGS
    @given(
        msgs=messages,
        threshold=st.integers(1, 400),
        cuts=st.lists(st.integers(0, 10000), max_size=10),
        assemble=st.booleans(),
    )
    def test_messages_arrive_identical_and_in_order(
        self, msgs: list[str | bytes], threshold: int, cuts: list[int], assemble: bool
    ) -> None:
        """Whatever the fragmentation threshold and the chunking of the byte stream,
        a server receives exactly the messages the client sent, in order."""
        client = Connection(Role.CLIENT, ConnectionOptions(fragmentation_threshold=threshold))
        server = Connection(Role.SERVER, ConnectionOptions(assemble_fragments=assemble))
        for msg in msgs:
            client.send(msg)
        wire = client.data_to_send()
        events = []
        for chunk in split(wire, cuts):
            events.extend(server.receive_data(chunk))
        assert not any(isinstance(e, ConnectionFailed) for e in events)
        if assemble:
            got = [e.data for e in events if isinstance(e, (TextMessage, BinaryMessage))]
        else:
            got = []
            parts: list[str | bytes] = []
            for e in events:
                assert isinstance(e, Fragment)
                parts.append(e.data)
                if e.fin:
                    got.append("".join(parts) if e.text else b"".join(parts))  # type: ignore[arg-type]
                    parts = []
        assert got == msgs

    @SETTINGS
    @given(msgs=messages, cuts=st.lists(st.integers(0, 10000), max_size=10), garbage=st.binary(min_size=1, max_size=40))
    def test_chunking_never_changes_events(self, msgs: list[str | bytes], cuts: list[int], garbage: bytes) -> None:
        """Feeding a stream (valid messages, then arbitrary bytes) in any chunks gives
        the same events and the same replies as feeding it whole."""
        client = Connection(
            Role.CLIENT, ConnectionOptions(fragmentation_threshold=50), mask_key=lambda n: b"\x01\x02\x03\x04"
        )
        for msg in msgs:
            client.send(msg)
        client.send_ping(b"p")
        wire = client.data_to_send() + garbage

        whole = Connection(Role.SERVER)
        events_whole = whole.receive_data(wire)
        out_whole = whole.data_to_send()

        chunked = Connection(Role.SERVER)
        events_chunked = []
        for chunk in split(wire, cuts):
            events_chunked.extend(chunked.receive_data(chunk))
        out_chunked = chunked.data_to_send()

        def normal(events: list[wsframe.ConnectionEvent]) -> list[object]:
            return [
                (type(e).__name__, getattr(e, "data", None), getattr(e, "payload", None), getattr(e, "code", None))
                for e in events
            ]

        assert normal(events_chunked) == normal(events_whole)
        assert out_chunked == out_whole


class TestAssembler:
    """The C Assembler path (large messages received into their final bytes) against the
    chunk path, on the same random streams. The size thresholds are lowered so that
    small generated messages take the Assembler path."""

    @SETTINGS
    @given(
        msgs=messages,
        threshold=st.integers(1, 120),
        cuts=st.lists(st.integers(0, 10000), max_size=12),
        garbage=st.binary(max_size=40),
        limit=st.sampled_from([None, 40, 400]),
    )
    def test_assembler_path_equals_chunk_path(
        self,
        msgs: list[str | bytes],
        threshold: int,
        cuts: list[int],
        garbage: bytes,
        limit: int | None,
    ) -> None:
        if wsframe._connection.assembler_type is None:
            pytest.skip("the C accelerator is not in use: there is no Assembler path")
        client = Connection(Role.CLIENT, ConnectionOptions(fragmentation_threshold=threshold))
        for msg in msgs:
            client.send(msg)
            client.send_ping(b"p")
        wire = client.data_to_send() + garbage

        def run() -> tuple[list[object], bytes]:
            server = Connection(Role.SERVER, ConnectionOptions(max_message_size=limit))
            events: list[object] = []
            for chunk in split(wire, cuts):
                events.extend(
                    (type(e).__name__, getattr(e, "data", None), getattr(e, "code", None))
                    for e in server.receive_data(memoryview(chunk))
                )
            return events, server.data_to_send()

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(wsframe._connection, "_ASSEMBLE_FROM", 8)
            patch.setattr(wsframe._connection, "_ASSEMBLE_AT_ONCE", 64)
            with_assembler = run()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(wsframe._connection, "assembler_type", None)
            with_chunks = run()
        assert with_assembler == with_chunks


def raw_frame(first: int, payload: bytes, key: bytes | None, form: str = "minimal") -> bytes:
    """A frame as bytes on the wire, masked with `key` if given, its length in `form`."""
    n = len(payload)
    if form == "64-bit" or n >= 65536:
        length = bytes([127]) + n.to_bytes(8, "big")
    elif form == "16-bit" or n >= 126:
        length = bytes([126]) + n.to_bytes(2, "big")
    else:
        length = bytes([n])
    if key is None:
        return bytes([first]) + length + payload
    return bytes([first, length[0] | 0x80]) + length[1:] + key + apply_mask_python(payload, key)


@st.composite
def raw_streams(draw: st.DrawFn, masked: bool) -> bytes:
    """Frames as a peer sends them, mostly valid, sometimes not: every case that the
    receive fast path takes or must leave to the general path.

    Whole messages (text or binary, lengths around the 7/16/64-bit boundaries, valid
    or invalid UTF-8), fragmented messages with control frames between fragments, and
    odd frames: any opcode, FIN, RSV bits, the wrong masking, non-minimal lengths.
    """
    wire = b""

    def key() -> bytes | None:
        return draw(masks) if masked else None

    def payload(text: bool) -> bytes:
        size = draw(st.one_of(st.integers(0, 130), st.sampled_from([65535, 65536, 65537, 70001])))
        if text and draw(st.integers(0, 7)):
            return ("\u00e9" * size).encode()[:size]  # valid, or a character cut at the end
        return (draw(st.sampled_from([b"a", b"\xff", b"\xed\xa0\x80"])) * size)[:size]

    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["message"] * 4 + ["fragmented", "control"] + ["odd"] * 4))
        if kind == "message":
            opcode = draw(st.sampled_from([1, 2]))
            wire += raw_frame(0x80 | opcode, payload(opcode == 1), key())
        elif kind == "fragmented":
            opcode = draw(st.sampled_from([1, 2]))
            count = draw(st.integers(1, 3))
            for index in range(count):
                first = (0x80 if index == count - 1 else 0) | (opcode if index == 0 else 0)
                wire += raw_frame(first, payload(opcode == 1)[:200], key())
                if draw(st.booleans()):
                    wire += raw_frame(0x89, b"ping", key())
        elif kind == "control":
            wire += raw_frame(draw(st.sampled_from([0x89, 0x8A])), b"p" * draw(st.integers(0, 125)), key())
        else:  # a whole message but for one thing
            odd = draw(
                st.sampled_from(["fin", "rsv1", "rsv3", "cont", "reserved", "close", "mask", "16-bit", "64-bit"])
            )
            first = 0x80 | draw(st.sampled_from([1, 2]))
            first = {"fin": first & 0x7F, "rsv1": first | 0x40, "rsv3": first | 0x10}.get(odd, first)
            first = {"cont": 0x80, "reserved": 0x83, "close": 0x88}.get(odd, first)
            body = b"\x03\xe8bye" if odd == "close" else payload(first & 0x0F == 1)[:130]
            odd_key = (None if masked else draw(masks)) if odd == "mask" else key()
            wire += raw_frame(first, body, odd_key, odd if odd.endswith("-bit") else "minimal")
    return wire


class TestFastPath:
    """The receive fast path (a whole single-frame message in one read) against the
    general path, on the same random streams of frames, valid or not. The general
    path alone is what a connection does when every frame is over the fast path's
    length limit; it runs with the C Assembler's thresholds lowered or not."""

    @SETTINGS
    @given(
        data=st.data(),
        server=st.booleans(),
        cuts=st.lists(st.integers(0, 300_000), max_size=8),
        garbage=st.binary(max_size=12),
        max_events=st.sampled_from([None, 1, 2, 5]),
        limit=st.sampled_from([None, 100, 66_000]),
        as_view=st.booleans(),
        assembler=st.booleans(),
    )
    def test_fast_path_equals_general_path(
        self,
        data: st.DataObject,
        server: bool,
        cuts: list[int],
        garbage: bytes,
        max_events: int | None,
        limit: int | None,
        as_view: bool,
        assembler: bool,
    ) -> None:
        wire = data.draw(raw_streams(masked=server)) + garbage

        def run(fast: bool) -> tuple[list[object], bytes, object, int, bool]:
            conn = Connection(
                Role.SERVER if server else Role.CLIENT,
                ConnectionOptions(max_message_size=limit),
                mask_key=lambda n: b"\x01\x02\x03\x04",
            )
            if not fast:
                conn._fast_limit = -1  # no frame passes the fast path's length check
            events: list[object] = []

            def take(chunk: bytes | memoryview) -> None:
                events.extend(
                    (type(e).__name__, getattr(e, "data", None), getattr(e, "payload", None), getattr(e, "code", None))
                    for e in conn.receive_data(chunk, max_events=max_events)
                )

            for chunk in split(wire, cuts):
                take(memoryview(bytearray(chunk)) if as_view else chunk)
                while conn.backlog:
                    take(b"")
            return events, conn.data_to_send(), conn.state, conn.close_code, conn.backlog

        with_fast_path = run(True)
        with pytest.MonkeyPatch.context() as patch:
            if assembler:
                patch.setattr(wsframe._connection, "_ASSEMBLE_FROM", 8)
                patch.setattr(wsframe._connection, "_ASSEMBLE_AT_ONCE", 64)
            general_only = run(False)
        assert with_fast_path == general_only


class TestPermessageDeflate:
    @SETTINGS
    @given(
        msgs=messages,
        threshold=st.integers(1, 400),
        cuts=st.lists(st.integers(0, 10000), max_size=10),
        client_no_takeover=st.booleans(),
        server_no_takeover=st.booleans(),
        server_bits=st.integers(9, 15),
        client_bits=st.integers(9, 15),
    )
    def test_round_trip_through_negotiated_connections(
        self,
        msgs: list[str | bytes],
        threshold: int,
        cuts: list[int],
        client_no_takeover: bool,
        server_no_takeover: bool,
        server_bits: int,
        client_bits: int,
    ) -> None:
        """With permessage-deflate negotiated by the factories, messages cross both ways
        intact, whatever the parameters, fragmentation and chunking."""
        client_factory = wsframe.ClientPerMessageDeflate(min_size=0)
        server_factory = wsframe.ServerPerMessageDeflate(
            server_no_context_takeover=server_no_takeover,
            client_no_context_takeover=client_no_takeover,
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits,
            min_size=0,
        )
        answers, server_extensions = negotiate_server_extensions(
            [(client_factory.name, client_factory.offer())], [server_factory]
        )
        client_extensions = negotiate_client_extensions(answers, [client_factory])
        assert len(server_extensions) == len(client_extensions) == 1
        options = ConnectionOptions(fragmentation_threshold=threshold)
        client = Connection(Role.CLIENT, options, extensions=client_extensions)
        server = Connection(Role.SERVER, options, extensions=server_extensions)
        for sender, receiver in ((client, server), (server, client)):
            for msg in msgs:
                sender.send(msg)
            events = []
            for chunk in split(sender.data_to_send(), cuts):
                events.extend(receiver.receive_data(chunk))
            assert [e.data for e in events if isinstance(e, (TextMessage, BinaryMessage))] == msgs
            assert not any(isinstance(e, ConnectionFailed) for e in events)
