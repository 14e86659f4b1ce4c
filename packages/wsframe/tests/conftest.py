"""Shared helpers of the wsframe unit tests, exposed as fixtures.

The frame builders here are written independently of `wsframe._frames` and
`wsframe._mask` (header packing and XOR masking by hand), so that a bug in the encoder
cannot hide the same bug in the parser.

Fixtures:
    client_frame: ``client_frame(opcode, payload=b"", *, fin=True, rsv=0, mask=MASK)``,
        the bytes of a masked frame as a client sends it (``mask=None`` for an unmasked one).
    server_frame: ``server_frame(opcode, payload=b"", *, fin=True, rsv=0)``, the bytes of an
        unmasked frame as a server sends it.
    parse_frames: ``parse_frames(data, *, masked)``, the frames in `data` (complete frames only).
    make_conn: ``make_conn(role, **options)``, a Connection with a deterministic mask key.
    server, client: a server and a client Connection with default options.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest

from wsframe import Connection, ConnectionOptions, Role
from wsframe.frames import Frame, FrameParser

#: The masking key of RFC 6455 section 5.7's masked examples.
MASK = b"\x37\xfa\x21\x3d"

FrameFn = Callable[..., bytes]


def xor(data: bytes, mask: bytes) -> bytes:
    """Mask `data` with `mask`, byte by byte (the reference implementation)."""
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def header(first: int, length: int, masked: bool) -> bytes:
    """A frame header with the minimal length encoding, without the masking key."""
    mbit = 0x80 if masked else 0
    if length < 126:
        return bytes((first, mbit | length))
    if length < 65536:
        return bytes((first, mbit | 126)) + struct.pack("!H", length)
    return bytes((first, mbit | 127)) + struct.pack("!Q", length)


def build_client_frame(
    opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bytes | None = MASK
) -> bytes:
    """A frame as a client sends it: masked with `mask` (unmasked when None)."""
    first = (0x80 if fin else 0) | rsv | opcode
    if mask is None:
        return header(first, len(payload), False) + payload
    return header(first, len(payload), True) + mask + xor(payload, mask)


def build_server_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
    """A frame as a server sends it: unmasked."""
    return build_client_frame(opcode, payload, fin=fin, rsv=rsv, mask=None)


def fixed_mask(size: int) -> bytes:
    """A deterministic replacement for `secrets.token_bytes` (always `MASK`)."""
    assert size == 4
    return MASK


@pytest.fixture
def client_frame() -> FrameFn:
    return build_client_frame


@pytest.fixture
def server_frame() -> FrameFn:
    return build_server_frame


@pytest.fixture
def parse_frames() -> Callable[..., list[Frame]]:
    def parse(data: bytes, *, masked: bool, rsv_allowed: int = 0) -> list[Frame]:
        parser = FrameParser(mask_required=masked, rsv_allowed=rsv_allowed)
        frames = parser.feed(data)
        assert parser.buffered == 0, "trailing bytes after the last complete frame"
        return frames

    return parse


@pytest.fixture
def make_conn() -> Callable[..., Connection]:
    def make(role: Role, *, extensions: Any = (), mask_key: Any = fixed_mask, **options: Any) -> Connection:
        return Connection(role, ConnectionOptions(**options), extensions=extensions, mask_key=mask_key)

    return make


@pytest.fixture
def server() -> Connection:
    return Connection(Role.SERVER, mask_key=fixed_mask)


@pytest.fixture
def client() -> Connection:
    return Connection(Role.CLIENT, mask_key=fixed_mask)
