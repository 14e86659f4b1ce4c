"""Coverage-guided fuzzing of the frame parser and connection state machine (atheris).

Input layout: byte 0 selects the configuration (role, permessage-deflate and its
parameters, fragment assembly, message limit), bytes 1-4 the sizes of the chunks the
stream is cut into, byte 5 more settings; the rest is the byte stream a peer sends.

Oracle, for every input:

* `receive_data` returns only documented events, with payloads of the documented types
  and within the limits; `ConnectionFailed.error` is a `ProtocolError` whose code is
  1002, 1007, 1009 or 1011; no other exception escapes, nothing hangs;
* after a `ConnectionFailed` nothing more comes out, and `fail()` queues bytes;
* `data_to_send()` returns bytes;
* feeding the stream in chunks gives the same events, the same state and the same
  output bytes as feeding it whole (chunking invariance).

Run: ``python fuzzing/fuzz_frames.py fuzzing/corpus/frames -max_total_time=60``, or
every target through ``python fuzzing/run.py --seconds 60``.
"""

from __future__ import annotations

import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    import wsframe._connection as _connection_module
    from wsframe import (
        BinaryMessage,
        CloseReceived,
        Connection,
        ConnectionFailed,
        ConnectionOptions,
        Fragment,
        Ping,
        Pong,
        ProtocolError,
        Role,
        State,
        TextMessage,
    )
    from wsframe.extensions import PerMessageDeflate
    from wsframe.frames import FrameParser

# Large messages go through the C Assembler (received straight into their bytes) from
# 64 KiB on; lowered here so that the fuzzer's small inputs take that path too, where
# chunking invariance compares it with the whole-frame fast path.
_connection_module._ASSEMBLE_FROM = 16
_connection_module._ASSEMBLE_AT_ONCE = 256

ALLOWED_CODES = {1002, 1007, 1009, 1011}
LIMITS = [1 << 20, 1000, 64, 16]
WINDOW_BITS = [15, 9, 8, 12]


def _mask_key(size: int) -> bytes:
    # Deterministic, so that the output bytes of two runs can be compared.
    return b"\x5a\xa5\x0f\xf0"[:size]


def _make(config: int, extra: int) -> Connection:
    role = Role.CLIENT if config & 1 else Role.SERVER
    limit = LIMITS[(config >> 3) & 3]
    options = ConnectionOptions(
        max_message_size=limit,
        max_frame_size=(limit // 2 or 1) if extra & 1 else None,
        assemble_fragments=not config & 4,
        auto_pong=not extra & 2,
        fragmentation_threshold=1 + (extra >> 4),
    )
    extensions = []
    if config & 2:
        extensions.append(
            PerMessageDeflate(
                remote_no_context_takeover=bool(config & 32),
                local_no_context_takeover=bool(extra & 4),
                remote_max_window_bits=WINDOW_BITS[(config >> 6) & 3],
                local_max_window_bits=WINDOW_BITS[(extra >> 2) & 3] if extra & 8 else 15,
                min_size=0,
            )
        )
    return Connection(role, options, extensions=extensions, mask_key=_mask_key)


def _check_event(conn: Connection, event: Any, failed: bool) -> tuple[Any, ...]:
    """Check one event against the documentation; return a comparable summary."""
    if failed:
        raise AssertionError(f"event after ConnectionFailed: {event!r}")
    limit = conn.options.max_message_size
    if isinstance(event, TextMessage):
        assert type(event.data) is str, event
        assert limit is None or len(event.data.encode()) <= limit, (len(event.data), limit)
        return ("text", event.data)
    if isinstance(event, BinaryMessage):
        assert type(event.data) is bytes, event
        assert limit is None or len(event.data) <= limit, (len(event.data), limit)
        return ("binary", event.data)
    if isinstance(event, Fragment):
        assert not conn.options.assemble_fragments
        assert type(event.data) is (str if event.text else bytes), event
        return ("fragment", event.data, event.text, event.first, event.fin)
    if isinstance(event, (Ping, Pong)):
        assert type(event.payload) is bytes, event
        assert len(event.payload) <= 125, event
        return (type(event).__name__, event.payload)
    if isinstance(event, CloseReceived):
        assert isinstance(event.code, int), event
        assert isinstance(event.reason, str), event
        assert event.code == 1005 or 1000 <= event.code <= 4999, event
        assert len(event.reason.encode()) <= 123, event
        assert conn.state is State.CLOSED
        return ("close", event.code, event.reason)
    if isinstance(event, ConnectionFailed):
        error = event.error
        assert isinstance(error, ProtocolError), repr(error)
        assert error.code in ALLOWED_CODES, (error.code, error)
        assert conn.failure is error
        return ("failed", error.code)
    raise AssertionError(f"undocumented event {event!r}")


def _run(config: int, extra: int, chunks: list[bytes]) -> tuple[Any, ...]:
    conn = _make(config, extra)
    summary: list[tuple[Any, ...]] = []
    out = bytearray()
    failed = False
    for chunk in chunks:
        for event in conn.receive_data(chunk):
            summary.append(_check_event(conn, event, failed))
            failed = failed or isinstance(event, ConnectionFailed)
        data = conn.data_to_send()
        assert type(data) is bytes, type(data)
        out += data
    state = conn.state
    if failed:
        assert conn.failure is not None
        before = conn.state
        conn.fail()
        assert conn.should_close_transport
        assert before is not State.OPEN or conn.state is State.CLOSING
        data = conn.data_to_send()
        assert type(data) is bytes
        assert before is not State.OPEN or data, "fail() queued no close frame"
        # The close reason names the violation and may depend on where it was seen
        # (a surrogate detected byte by byte, or whole); the code must not.
        assert conn.close_sent is not None
        if before is State.OPEN:
            assert conn.close_sent[0] == conn.failure.code, (conn.close_sent, conn.failure)
        # A failed connection discards whatever comes later.
        assert conn.receive_data(b"\x88\x00" * 3) == []
    conn.receive_eof()
    assert conn.state is State.CLOSED
    assert isinstance(conn.close_code, int)
    return summary, state, bytes(out), conn.close_sent and conn.close_sent[0]


def _chunks(stream: bytes, sizes: bytes) -> list[bytes]:
    chunks = []
    pos = 0
    i = 0
    while pos < len(stream):
        size = 1 + sizes[i % len(sizes)] if sizes else len(stream)
        # Every fourth size is scaled up, so that large frames also arrive in few pieces.
        if i % 4 == 3:
            size *= 61
        chunks.append(stream[pos : pos + size])
        pos += size
        i += 1
    return chunks


def _frames(config: int, extra: int, chunks: list[bytes]) -> tuple[Any, ...]:
    """Run the standalone FrameParser; only ProtocolError may escape."""
    limit = LIMITS[(config >> 3) & 3]
    parser = FrameParser(
        mask_required=None if extra & 64 else not config & 1,
        max_frame_size=limit,
        rsv_allowed=0x40 if config & 2 else 0,
    )
    frames = []
    try:
        for chunk in chunks:
            for frame in parser.feed(chunk):
                assert frame.opcode >= 8 or len(frame.payload) <= limit, frame
                assert frame.opcode < 8 or (frame.fin and len(frame.payload) <= 125), frame
                frames.append(frame)
            # Control frames may carry 125 bytes whatever max_frame_size says.
            assert parser.buffered < 14 + max(limit, 125), parser.buffered
        # A violation after good frames in the same feed() is raised by the next call.
        assert parser.feed(b"") == []
    except ProtocolError as exc:
        if exc.code not in ALLOWED_CODES:
            raise AssertionError(f"undocumented code {exc.code}") from None
        return (frames, exc.code)
    return (frames, None)


def test_one_input(data: bytes) -> None:
    if len(data) < 6:
        return
    config, sizes, extra, stream = data[0], data[1:5], data[5], data[6:]
    whole_frames, whole_error = _frames(config, extra, [stream])
    chunked_frames, chunked_error = _frames(config, extra, _chunks(stream, sizes))
    # FrameParser.feed loses the frames completed in the same call before a bad header
    # (reported); so with an error, only require the whole run's frames to be a prefix.
    if whole_error != chunked_error or (
        chunked_frames[: len(whole_frames)] != whole_frames
        if whole_error is not None
        else whole_frames != chunked_frames
    ):
        raise AssertionError(f"FrameParser: chunking changed the outcome: {whole_error} {chunked_error}")
    whole = _run(config, extra, [stream])
    chunked = _run(config, extra, _chunks(stream, sizes))
    bytewise = _run(config, extra, [stream[i : i + 1] for i in range(len(stream))]) if len(stream) < 512 else chunked
    if whole != chunked or whole != bytewise:
        raise AssertionError(f"chunking changed the outcome:\nwhole   {whole}\nchunked {chunked}\nbytes   {bytewise}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
