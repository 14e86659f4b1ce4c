"""Write the hand-made seed corpora of the fuzz targets into fuzzing/corpus/<target>/.

The files are committed; rerun this script only to change them:
``PYTHONPATH=packages/wsframe/src python fuzzing/make_corpus.py``.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from wsframe._mask import apply_mask
from wsframe.extensions import PerMessageDeflate
from wsframe.frames import Frame, Opcode, frame_header

CORPUS = Path(__file__).resolve().parent / "corpus"
MASK = b"\x37\xfa\x21\x3d"


def frame(first: int, payload: bytes, *, masked: bool = True) -> bytes:
    if masked:
        return frame_header(first, len(payload), MASK) + apply_mask(payload, MASK)
    return frame_header(first, len(payload)) + payload


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


def frames_seeds() -> dict[str, bytes]:
    # Byte 0: config (bit 0 client, bit 1 deflate, bit 2 no assembly, bits 3-4 limit);
    # bytes 1-4: chunk sizes; byte 5: extra settings.
    hello = frame(0x81, b"Hello") + frame(0x82, bytes(range(200)))
    fragmented = frame(0x01, b"Hel") + frame(0x89, b"ping") + frame(0x80, "lo \u20ac".encode())
    closing = frame(0x8A, b"pong") + frame(0x88, b"\x03\xe8bye") + frame(0x81, b"after close")
    compressed = (
        frame(0xC1, deflate(b"Hello " * 40)) + frame(0x41, deflate(b"abc")[:3]) + frame(0x80, deflate(b"abc")[3:])
    )
    big = frame_header(0x82, 1 << 62, MASK)
    return {
        "server-text": bytes([0, 3, 1, 7, 200, 0]) + hello,
        "server-fragments": bytes([4, 0, 2, 5, 9, 0]) + fragmented,
        "server-close": bytes([0, 1, 1, 1, 1, 2]) + closing,
        "server-deflate": bytes([2, 5, 17, 2, 90, 0]) + compressed,
        "client-unmasked": bytes([1, 9, 9, 9, 9, 0])
        + frame(0x81, b"Hi", masked=False)
        + frame(0x88, b"", masked=False),
        "server-huge": bytes([8, 0, 0, 0, 0, 0]) + big,
        "server-bad-utf8": bytes([0, 0, 0, 0, 0, 0])
        + frame(0x81, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"),
    }


def http_seeds() -> dict[str, bytes]:
    # Byte 0: config (bit 0 response, bits 1-2 limits, bit 3 eof); bytes 1-2: chunk sizes.
    request = (
        b"GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
        b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
        b'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo; a="b"\r\n'
        b'Cookie: a=1; b="2"\r\n\r\n\x81\x85'
    )
    response = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n"
    )
    chunked = b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: y\r\n\r\n"
    length = b"HTTP/1.0 400 Bad Request\r\nContent-Length: 5\r\n\r\nhel"
    return {
        "request": bytes([0, 7, 30]) + request,
        "request-small-limits": bytes([2, 1, 3]) + request,
        "response": bytes([1, 4, 100]) + response,
        "response-chunked": bytes([1, 2, 0]) + chunked,
        "response-eof": bytes([9, 2, 0]) + length,
        "request-folded": bytes([0, 5, 5]) + b"GET / HTTP/1.1\r\nHost: a\r\n  folded\r\n\r\n",
    }


def deflate_seeds() -> dict[str, bytes]:
    # Byte 0: config (bit 0 no context takeover, bits 1-2 window, bits 3-5 limit,
    # bit 7 compress the body first); byte 1: cuts.
    sender = PerMessageDeflate(
        remote_no_context_takeover=False,
        local_no_context_takeover=False,
        remote_max_window_bits=15,
        local_max_window_bits=15,
        min_size=0,
    )
    encoded = sender.encode(Frame(Opcode.TEXT, b"a" * 5000)).payload
    bomb = deflate(bytes(100_000))
    final_block = zlib.compressobj(6, zlib.DEFLATED, -15)
    ended = final_block.compress(b"xyz" * 50) + final_block.flush(zlib.Z_FINISH)
    return {
        "text": bytes([6, 255]) + encoded,
        "bomb": bytes([4 << 3 | 6, 255]) + bomb,
        "bomb-fragments": bytes([2 << 3 | 6, 8]) + bomb,
        "bfinal": bytes([3 << 3, 255]) + ended + b"\x00\x00\xff\xff",
        "plain": bytes([0x80 | 6, 6]) + b"Hello, world " * 20,
        "garbage": bytes([0x28, 3]) + b"\xff\xfe\x00\x12\x00\x01\x02garbage",
    }


def main() -> None:
    for target, seeds in (("frames", frames_seeds()), ("http", http_seeds()), ("deflate", deflate_seeds())):
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (folder / name).write_bytes(data)
        print(f"{folder}: {len(seeds)} files")


if __name__ == "__main__":
    main()
