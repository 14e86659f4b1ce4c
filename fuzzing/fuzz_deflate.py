"""Coverage-guided fuzzing of permessage-deflate decoding (atheris).

Input layout: byte 0 selects the parameters (window bits, context takeover) and the
size limit (small on purpose), byte 1 how the payload is cut into frames; the rest is
a sequence of compressed payloads. Half of the inputs are first compressed by zlib
with the chosen window, so that the fuzzer also reaches deep into valid streams.

Oracle: `PerMessageDeflate.decode` raises only `ProtocolError` subclasses (1002, 1007,
1009); the bytes it returns for a message never exceed the `max_size` given; a
message that decodes must round-trip through `encode` of a matching sender.
"""

from __future__ import annotations

import sys
import zlib

import atheris

with atheris.instrument_imports():
    from wsframe import ProtocolError
    from wsframe.extensions import PerMessageDeflate
    from wsframe.frames import Frame, Opcode

LIMITS = [0, 1, 16, 100, 1000, 65536, None, 7]
WINDOW_BITS = [8, 9, 12, 15]


def _decoder(config: int) -> PerMessageDeflate:
    return PerMessageDeflate(
        remote_no_context_takeover=bool(config & 1),
        local_no_context_takeover=False,
        remote_max_window_bits=WINDOW_BITS[(config >> 1) & 3],
        local_max_window_bits=15,
    )


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    config, cuts, body = data[0], data[1], data[2:]
    limit = LIMITS[(config >> 3) & 7]
    ext = _decoder(config)
    if config & 0x80:
        # Compress arbitrary bytes as a peer would: reach valid streams with odd content.
        bits = max(WINDOW_BITS[(config >> 1) & 3], 9)
        compressor = zlib.compressobj(6, zlib.DEFLATED, -bits)
        body = compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH)
        body = body[:-4] if cuts & 1 else body
    # Cut the body into messages of one or more frames.
    pos = 0
    step = 1 + (cuts >> 1)
    frame_index = 0
    message_size = 0
    while pos < len(body):
        payload = body[pos : pos + step]
        pos += step
        fin = pos >= len(body) or frame_index % 3 == 2
        opcode = Opcode.CONT if frame_index else Opcode.BINARY
        rsv1 = frame_index == 0
        budget = None if limit is None else limit - message_size
        try:
            frame = ext.decode(Frame(opcode, payload, fin=fin, rsv1=rsv1), max_size=budget)
        except ProtocolError as exc:
            # 1002 (RSV1 on a continuation) cannot happen here: only 1007 and 1009 may.
            if exc.code not in (1007, 1009):
                raise AssertionError(f"unexpected code {exc.code}: {exc}") from None
            return
        assert type(frame.payload) is bytes
        assert not frame.rsv1
        assert frame.fin == fin
        assert frame.opcode == opcode
        if budget is not None:
            assert len(frame.payload) <= budget, (len(frame.payload), budget)
        message_size += len(frame.payload)
        if fin:
            frame_index = 0
            message_size = 0
        else:
            frame_index += 1
    # Round trip: what our encoder produces, a fresh decoder reads back.
    sender = PerMessageDeflate(
        remote_no_context_takeover=False,
        local_no_context_takeover=bool(config & 1),
        remote_max_window_bits=15,
        local_max_window_bits=max(WINDOW_BITS[(config >> 1) & 3], 9),
        min_size=0,
    )
    receiver = _decoder(config)
    message = data[2:200]
    encoded = sender.encode(Frame(Opcode.BINARY, message))
    decoded = receiver.decode(encoded, max_size=None)
    assert decoded.payload == message, (message, decoded.payload)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
