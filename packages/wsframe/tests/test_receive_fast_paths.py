"""The receive fast paths: whole single-frame messages, and large messages in pieces.

`Connection.receive_data()` takes each whole final text or binary frame that starts no
fragmented message on its fast path, without the general parser (`_parse_frame()`);
the tests at the end check that it gives the same events, errors included, as the
general path alone (conformance/ compares both on random streams).

Large single-frame messages are received in many reads.
With the C accelerator, a single-frame message of 64 KiB or more is received into an
`Assembler`: each chunk is unmasked straight into the bytes object that becomes the
message (one copy instead of two). The pure-Python path collects chunks and joins them.
The Connection tests below hold for both: CI runs this file with and without
``WSFRAME_NO_SPEEDUPS=1``. The Assembler's own tests need the accelerator.
"""

from __future__ import annotations

import itertools
import random
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsframe import (
    BinaryMessage,
    Connection,
    ConnectionFailed,
    ConnectionOptions,
    Ping,
    Role,
    TextMessage,
)
from wsframe._mask import apply_mask_python, assembler_type

TEXT, BINARY = 0x1, 0x2
MASK = b"\x37\xfa\x21\x3d"


def xor(data: bytes, mask: bytes) -> bytes:
    """Mask with whole-number arithmetic, independently of wsframe._mask."""
    key = (mask * (len(data) // 4 + 1))[: len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(len(data), "big")


def build_server_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A frame, unmasked, with a 64-bit length when needed."""
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return bytes((first, 126)) + n.to_bytes(2, "big") + payload
    return bytes((first, 127)) + n.to_bytes(8, "big") + payload


def build_client_frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bytes = MASK) -> bytes:
    """A frame masked with `mask`."""
    frame = build_server_frame(opcode, b"\x00" * len(payload), fin=fin)
    header = bytearray(frame[: len(frame) - len(payload)])
    header[1] |= 0x80
    return bytes(header) + mask + xor(payload, mask)


def fixed_mask(size: int) -> bytes:
    return MASK


SKIP_C = pytest.mark.skipif(assembler_type is None, reason="the C accelerator is not in use")


def connection(role: Role, max_message_size: int | None = 64 * 1024 * 1024) -> Connection:
    options = ConnectionOptions(max_message_size=max_message_size)
    return Connection(role, options, mask_key=fixed_mask)


def feed(conn: Connection, wire: bytes, cuts: list[int], *, as_view: bool) -> list[object]:
    """Feed `wire` split at `cuts`, each piece as bytes or as a memoryview of a reused buffer."""
    events: list[object] = []
    bounds = [0, *sorted(set(cuts)), len(wire)]
    scratch = bytearray(len(wire))
    for start, stop in itertools.pairwise(bounds):
        piece = wire[start:stop]
        if as_view:
            # The driver's shared read buffer: overwritten after every call.
            scratch[: len(piece)] = piece
            view = memoryview(scratch)[: len(piece)]
            events += conn.receive_data(view)
            scratch[: len(piece)] = b"\x00" * len(piece)
        else:
            events += conn.receive_data(piece)
    return events


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(64 * 1024, 300 * 1024),
    pieces=st.integers(1, 40),
    seed=st.integers(0, 2**32),
    server=st.booleans(),
    text=st.booleans(),
    as_view=st.booleans(),
)
def test_large_message_in_pieces(size: int, pieces: int, seed: int, server: bool, text: bool, as_view: bool) -> None:
    """Any split of a large frame, masked or not, gives the exact message."""
    rng = random.Random(seed)
    if text:
        # Multibyte characters, so that pieces split them.
        chars = "aé€😀"
        message = "".join(rng.choice(chars) for _ in range(size // 2))
        payload = message.encode()
    else:
        payload = rng.randbytes(size)
    opcode = TEXT if text else BINARY
    wire = build_client_frame(opcode, payload) if server else build_server_frame(opcode, payload)
    conn = connection(Role.SERVER if server else Role.CLIENT)
    cuts = [rng.randrange(1, len(wire)) for _ in range(pieces - 1)]
    events = feed(conn, wire, cuts, as_view=as_view)
    assert len(events) == 1
    event = events[0]
    if text:
        assert isinstance(event, TextMessage)
        assert event.data == message
    else:
        assert isinstance(event, BinaryMessage)
        assert type(event.data) is bytes
        assert event.data == payload
    # The connection goes on with the next message.
    more = conn.receive_data(build_client_frame(BINARY, b"next") if server else build_server_frame(BINARY, b"next"))
    assert more == [BinaryMessage(b"next")]


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(0, 400 * 1024),
    frames=st.integers(2, 12),
    pieces=st.integers(1, 30),
    seed=st.integers(0, 2**32),
    server=st.booleans(),
    text=st.booleans(),
    limit=st.sampled_from(["exact", "none", "roomy"]),
)
def test_large_fragmented_message(
    size: int, frames: int, pieces: int, seed: int, server: bool, text: bool, limit: str
) -> None:
    """A fragmented message, each frame with its own key, pings between, any split: exact."""
    rng = random.Random(seed)
    if text:
        message = "".join(rng.choice("aé€😀") for _ in range(size // 3))
        payload = message.encode()
    else:
        payload = rng.randbytes(size)
    cuts = sorted(rng.randrange(0, len(payload) + 1) for _ in range(frames - 1))
    bounds = [0, *cuts, len(payload)]
    wire = b""
    for index, (start, stop) in enumerate(itertools.pairwise(bounds)):
        opcode = (TEXT if text else BINARY) if index == 0 else 0
        fin = index == len(bounds) - 2
        chunk = payload[start:stop]
        if server:
            wire += build_client_frame(opcode, chunk, fin=fin, mask=rng.randbytes(4))
            wire += build_client_frame(0x9, b"ping")
        else:
            wire += build_server_frame(opcode, chunk, fin=fin)
            wire += build_server_frame(0x9, b"ping")
    max_size = {"exact": len(payload), "none": None, "roomy": len(payload) * 3 + 10}[limit]
    conn = connection(Role.SERVER if server else Role.CLIENT, max_message_size=max_size)
    read_cuts = [rng.randrange(1, len(wire)) for _ in range(pieces - 1)]
    events = [e for e in feed(conn, wire, read_cuts, as_view=True) if not isinstance(e, Ping)]
    assert len(events) == 1, events[-1:]
    if text:
        assert events[0] == TextMessage(message)
    else:
        assert events[0] == BinaryMessage(payload)
        assert type(events[0].data) is bytes


def test_large_fragmented_message_over_the_limit_fails() -> None:
    conn = connection(Role.SERVER, max_message_size=300_000)
    first = build_client_frame(BINARY, b"a" * 200_000, fin=False)
    second = build_client_frame(0, b"b" * 200_000)
    assert conn.receive_data(first) == []
    events = conn.receive_data(second[:20])
    assert isinstance(events[-1], ConnectionFailed)
    assert events[-1].code == 1009


def test_invalid_utf8_in_a_later_fragment_fails_at_once() -> None:
    conn = connection(Role.SERVER)
    assert conn.receive_data(build_client_frame(TEXT, b"a" * 100_000, fin=False)) == []
    bad = build_client_frame(0, b"b" * 50_000 + b"\xff" + b"c" * 50_000)
    # The piece holding the bad byte fails, before the frame ends.
    assert conn.receive_data(bad[:30_000]) == []
    events = conn.receive_data(bad[30_000:60_000])
    assert isinstance(events[-1], ConnectionFailed)
    assert events[-1].code == 1007


def test_messages_do_not_share_memory() -> None:
    """Two large messages in a row are distinct objects with their own content."""
    conn = connection(Role.SERVER)
    first, second = b"\x01" * 100_000, b"\x02" * 100_000
    events = feed(
        conn, build_client_frame(BINARY, first) + build_client_frame(BINARY, second), [70_000, 150_000], as_view=True
    )
    assert events == [BinaryMessage(first), BinaryMessage(second)]


@pytest.mark.parametrize("position", [10, 40_000, 99_990])
def test_invalid_utf8_fails_at_the_piece_that_holds_it(position: int) -> None:
    """A large text frame fails as soon as the invalid byte arrives, not at its end."""
    payload = bytearray(b"a" * 100_000)
    payload[position] = 0xFF
    wire = build_client_frame(TEXT, bytes(payload))
    conn = connection(Role.SERVER)
    header = len(wire) - len(payload)
    piece = 4096
    offset = 0
    while offset < len(wire):
        events = conn.receive_data(wire[offset : offset + piece])
        offset += piece
        if events:
            break
    assert len(events) == 1
    assert isinstance(events[0], ConnectionFailed)
    assert events[0].code == 1007
    # Failed in the piece holding the byte.
    assert offset - piece <= header + position < offset


def test_message_limit_checked_before_anything_is_buffered() -> None:
    conn = connection(Role.SERVER, max_message_size=100_000)
    wire = build_client_frame(BINARY, b"x" * 100_001)
    events = conn.receive_data(wire[:20])
    assert len(events) == 1
    assert isinstance(events[0], ConnectionFailed)
    assert events[0].code == 1009


def test_announced_size_is_not_allocated_up_front() -> None:
    """A peer that announces 32 MiB (over 16 MiB) and sends 1 MiB costs about 1 MiB, not 32 MiB."""
    announced = 32 * 1024 * 1024
    conn = connection(Role.SERVER)
    header = bytes((0x82, 0x80 | 127)) + announced.to_bytes(8, "big") + MASK
    chunk = xor(b"\x00" * 65536, MASK)  # 65536 is a multiple of 4: the key phase stays 0
    tracemalloc.start()
    try:
        assert conn.receive_data(header) == []
        for _ in range(16):  # 1 MiB of payload
            assert conn.receive_data(chunk) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes for 1 MiB received"


def test_end_of_input_frees_the_partial_message() -> None:
    """EOF in the middle of a large frame frees what was buffered of it."""
    conn = connection(Role.SERVER, max_message_size=None)
    wire = build_client_frame(BINARY, b"y" * 400_000)
    tracemalloc.start()
    try:
        # Past a quarter: the accelerator has switched to its Assembler.
        assert conn.receive_data(wire[:200_000]) == []
        holding, _ = tracemalloc.get_traced_memory()
        conn.receive_eof()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert holding - after >= 150_000, (holding, after)
    assert conn.receive_data(wire[200_000:]) == []


# ----------------------------------------------------------------- Assembler (C)


@SKIP_C
@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=2000),
    cuts=st.lists(st.integers(0, 2000), max_size=8),
    mask=st.binary(min_size=4, max_size=4) | st.none(),
)
def test_assembler_equals_masking_the_whole(data: bytes, cuts: list[int], mask: bytes | None) -> None:
    assert assembler_type is not None
    assembler = assembler_type(len(data))
    bounds = [0, *sorted(c for c in set(cuts) if c < len(data)), len(data)]
    for start, stop in itertools.pairwise(bounds):
        assembler.write(memoryview(data)[start:stop], mask)
        assert assembler.filled == stop
        with memoryview(assembler) as written:
            assert written.readonly
            expected = data[:stop] if mask is None else apply_mask_python(data[:stop], mask)
            assert written.tobytes() == expected
    result = assembler.take()
    assert type(result) is bytes
    assert result == (data if mask is None else apply_mask_python(data, mask))


@SKIP_C
def test_assembler_refuses_misuse() -> None:
    assert assembler_type is not None
    with pytest.raises(ValueError, match="non-negative"):
        assembler_type(-1)
    assembler = assembler_type(8)
    with pytest.raises(ValueError, match="4 bytes"):
        assembler.write(b"abc", b"abc")
    with pytest.raises(ValueError, match="do not fit"):
        assembler.write(b"123456789")
    assembler.write(b"1234")
    with pytest.raises(ValueError, match="incomplete: 4 of 8"):
        assembler.take()
    view = memoryview(assembler)
    with pytest.raises(BufferError):
        assembler.write(b"5678")
    view.release()
    assembler.write(b"5678")
    view = memoryview(assembler)
    with pytest.raises(BufferError):
        assembler.take()
    view.release()
    assert assembler.take() == b"12345678"
    with pytest.raises(ValueError, match="already taken"):
        assembler.take()
    with pytest.raises(ValueError, match="already taken"):
        assembler.write(b"")
    with pytest.raises(BufferError):
        memoryview(assembler)
    with pytest.raises(TypeError):
        assembler_type(4).write("text")  # type: ignore[arg-type]


@SKIP_C
def test_assembler_resize() -> None:
    assert assembler_type is not None
    assembler = assembler_type(2)
    assembler.write(b"ab", b"\x01\x02\x03\x04")
    assembler.resize(10)
    assert assembler.size == 10
    assembler.write(b"cdef", b"\x01\x02\x03\x04")  # phase 2: keys 03 04 01 02
    with pytest.raises(ValueError, match="below the 6 bytes"):
        assembler.resize(5)
    with memoryview(assembler) as view:
        with pytest.raises(BufferError):
            assembler.resize(6)
        assert view.tobytes() == apply_mask_python(b"abcdef", b"\x01\x02\x03\x04")
    assembler.resize(6)
    assert assembler.take() == apply_mask_python(b"abcdef", b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="already taken"):
        assembler.resize(6)


# ------------------------------------------- one small frame per read (fast path)


@pytest.mark.parametrize("server", [True, False])
@pytest.mark.parametrize("limit", [None, 0, 60])
def test_one_small_frame_per_read_equals_a_batch(server: bool, limit: int | None) -> None:
    """receive_data() of exactly one small frame gives what a read of them all gives."""
    build = build_client_frame if server else build_server_frame
    role = Role.SERVER if server else Role.CLIENT
    frames = []
    for length in range(126):
        frames.append(build(BINARY, bytes(range(length))))
        frames.append(build(TEXT, ("é" * (length // 2)).encode()))
    frames.append(build(TEXT, b"ok\xff"))  # invalid UTF-8 ends both runs
    single = connection(role, max_message_size=limit)
    one_by_one: list[object] = []
    for frame in frames:
        one_by_one += single.receive_data(frame)
    batch = connection(role, max_message_size=limit)
    together = batch.receive_data(b"".join(frames))
    assert [type(e) for e in one_by_one] == [type(e) for e in together]
    assert one_by_one[:-1] == together[:-1]
    last_single, last_batch = one_by_one[-1], together[-1]
    assert isinstance(last_single, ConnectionFailed)
    assert isinstance(last_batch, ConnectionFailed)
    assert last_single.code == last_batch.code


def test_one_frame_with_no_room_is_kept() -> None:
    conn = connection(Role.SERVER)
    assert conn.receive_data(build_client_frame(TEXT, b"hi"), max_events=0) == []
    assert conn.backlog
    assert conn.receive_data(b"") == [TextMessage("hi")]


def test_one_frame_with_the_wrong_masking_fails() -> None:
    server = connection(Role.SERVER)
    events = server.receive_data(build_server_frame(TEXT, b"hi"))  # unmasked to a server
    assert isinstance(events[-1], ConnectionFailed)
    assert events[-1].code == 1002
    client = connection(Role.CLIENT)
    events = client.receive_data(build_client_frame(TEXT, b"hi"))  # masked to a client
    assert isinstance(events[-1], ConnectionFailed)
    assert events[-1].code == 1002


def general_path_only(conn: Connection) -> Connection:
    """The connection with its fast path off: no frame passes its length check."""
    conn._fast_limit = -1
    return conn


def length_forms(first: int, payload: bytes, form: str) -> bytes:
    """An unmasked frame with its length in `form` ("minimal", "16-bit" or "64-bit")."""
    n = len(payload)
    if form == "64-bit" or (form == "minimal" and n >= 65536):
        return bytes((first, 127)) + n.to_bytes(8, "big") + payload
    if form == "16-bit" or (form == "minimal" and n >= 126):
        return bytes((first, 126)) + n.to_bytes(2, "big") + payload
    return bytes((first, n)) + payload


EDGE_FRAMES = {
    "7-bit": length_forms(0x82, b"x" * 125, "minimal"),
    "16-bit": length_forms(0x82, b"x" * 126, "minimal"),
    "16-bit, largest": length_forms(0x81, b"y" * 65535, "minimal"),
    "64-bit": length_forms(0x82, b"z" * 65536, "minimal"),
    "16-bit, not minimal": length_forms(0x82, b"x" * 125, "16-bit"),
    "64-bit, not minimal": length_forms(0x82, b"x" * 65535, "64-bit"),
    "64-bit, most significant bit set": bytes((0x82, 127)) + (1 << 63).to_bytes(8, "big"),
    "over the message limit": length_forms(0x82, b"x" * 70_000, "minimal"),
    "invalid UTF-8": length_forms(0x81, b"ok\xc3", "minimal"),
    "empty text": length_forms(0x81, b"", "minimal"),
    "RSV1": length_forms(0xC2, b"x", "minimal"),
    "not final": length_forms(0x02, b"x", "minimal") + length_forms(0x80, b"y", "minimal"),
    "continuation first": length_forms(0x80, b"x", "minimal"),
    "masked to a client": bytes((0x82, 0x81)) + MASK + b"x",
    "between fragments": length_forms(0x01, b"a", "minimal")
    + length_forms(0x81, b"b", "minimal")
    + length_forms(0x80, b"c", "minimal"),
}


@pytest.mark.parametrize("name", list(EDGE_FRAMES))
@pytest.mark.parametrize("cut", [None, 1, 3, 9, -1])
def test_fast_path_equals_general_path_on_edge_frames(name: str, cut: int | None) -> None:
    """At each boundary of the fast path, it and the general path give the same events."""
    wire = EDGE_FRAMES[name] + length_forms(0x81, b"after", "minimal")
    pieces = [wire] if cut is None else [wire[:cut], wire[cut:]]
    results = []
    for conn in (connection(Role.CLIENT, 66_000), general_path_only(connection(Role.CLIENT, 66_000))):
        events = []
        for piece in pieces:
            events += conn.receive_data(piece)
        results.append([(type(e).__name__, getattr(e, "data", None), getattr(e, "code", None)) for e in events])
    assert results[0] == results[1]
    assert results[0][-1][0] in ("TextMessage", "ConnectionFailed")


def test_fast_path_takes_whole_messages_of_every_length_form() -> None:
    """Whole messages with a 7-, 16- and 64-bit length, in one read, as bytes and as a view."""
    payloads = [b"a" * 125, b"b" * 126, b"c" * 65535, b"d" * 65536, b""]
    wire = b"".join(build_server_frame(BINARY, p) for p in payloads)
    for data in (wire, memoryview(bytearray(wire)), bytearray(wire)):
        events = connection(Role.CLIENT).receive_data(data)
        assert events == [BinaryMessage(p) for p in payloads]
        assert all(type(e.data) is bytes for e in events)  # type: ignore[attr-defined]
