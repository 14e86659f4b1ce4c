"""Frames (RFC 6455 section 5): opcodes, the frame object, the encoder and a complete-frame parser."""

from __future__ import annotations

import dataclasses
import enum
import struct

from ._errors import MessageTooBig, ProtocolError
from ._mask import apply_mask
from ._typing import BytesLike

__all__ = [
    "CONTROL_OPCODES",
    "DATA_OPCODES",
    "MAX_CONTROL_PAYLOAD",
    "Frame",
    "FrameParser",
    "Opcode",
    "check_frame_header",
    "encode_frame",
    "frame_header",
]


#: Control frames carry at most 125 bytes of payload (RFC 6455 section 5.5).
MAX_CONTROL_PAYLOAD = 125


class Opcode(enum.IntEnum):
    """Frame opcodes (RFC 6455 section 5.2); 3-7 and 11-15 are reserved."""

    CONT = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


DATA_OPCODES = frozenset((Opcode.CONT, Opcode.TEXT, Opcode.BINARY))
CONTROL_OPCODES = frozenset((Opcode.CLOSE, Opcode.PING, Opcode.PONG))
_KNOWN_OPCODES = frozenset(int(op) for op in Opcode)

# Bits of the first header byte.
FIN = 0x80
RSV1 = 0x40
RSV2 = 0x20
RSV3 = 0x10
RSV_MASK = 0x70
OPCODE_MASK = 0x0F
# Bits of the second header byte.
MASK_BIT = 0x80
LENGTH_MASK = 0x7F

_pack_B2 = struct.Struct("!BB").pack
_pack_B2H = struct.Struct("!BBH").pack
_pack_B2Q = struct.Struct("!BBQ").pack
_unpack_H = struct.Struct("!H").unpack_from
_unpack_Q = struct.Struct("!Q").unpack_from


@dataclasses.dataclass(slots=True)
class Frame:
    """One WebSocket frame, unmasked.

    Attributes:
        opcode: the frame's opcode.
        payload: the application (or extension) data, unmasked.
        fin: True on the last frame of a message (always True on control frames).
        rsv1: the RSV1 bit; permessage-deflate uses it to mark compressed messages.
        rsv2: the RSV2 bit; meaningful only with an extension that claims it.
        rsv3: the RSV3 bit; meaningful only with an extension that claims it.
    """

    opcode: Opcode
    payload: bytes
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False

    @property
    def rsv(self) -> int:
        """The RSV bits as they stand in the first header byte (0x40, 0x20, 0x10)."""
        return (RSV1 if self.rsv1 else 0) | (RSV2 if self.rsv2 else 0) | (RSV3 if self.rsv3 else 0)

    def __repr__(self) -> str:
        payload = self.payload
        shown = repr(payload[:32]) + ("..." if len(payload) > 32 else "")
        bits = "".join(
            name for name, on in (("F", self.fin), ("1", self.rsv1), ("2", self.rsv2), ("3", self.rsv3)) if on
        )
        return f"Frame({self.opcode.name}, {len(payload)} bytes {shown}, {bits or '-'})"


def frame_header(first_byte: int, length: int, mask: bytes | None = None) -> bytes:
    """Encode a frame header: the first byte (FIN, RSV, opcode), the length and the masking key.

    The length uses the shortest of the 7-bit, 16-bit and 64-bit forms, as RFC 6455
    section 5.2 requires.
    """
    mbit = MASK_BIT if mask is not None else 0
    if length < 126:
        header = _pack_B2(first_byte, mbit | length)
    elif length < 65536:
        header = _pack_B2H(first_byte, mbit | 126, length)
    else:
        header = _pack_B2Q(first_byte, mbit | 127, length)
    return header + mask if mask is not None else header


def encode_frame(frame: Frame, mask: bytes | None = None) -> bytes:
    """Serialize `frame`, masking its payload with the 4-byte key `mask` when given.

    A client masks every frame it sends with a fresh key (RFC 6455 section 5.3); a server
    never masks.

    Raises:
        ValueError: a control frame that is fragmented or carries more than 125 bytes,
            or a mask that is not 4 bytes.
    """
    payload = frame.payload
    opcode = frame.opcode
    if opcode >= 8 and (not frame.fin or len(payload) > MAX_CONTROL_PAYLOAD):
        raise ValueError("control frames must be final and carry at most 125 bytes")
    first = (FIN if frame.fin else 0) | frame.rsv | opcode
    if mask is None:
        return frame_header(first, len(payload)) + payload
    return frame_header(first, len(payload), mask) + apply_mask(payload, mask)


def check_frame_header(
    first: int,
    second: int,
    length: int,
    *,
    mask_required: bool | None,
    rsv_allowed: int,
    max_frame_size: int | None,
) -> None:
    """Check a decoded frame header against RFC 6455 and the configured limits.

    Args:
        first: the first header byte (FIN, RSV1-3, opcode).
        second: the second header byte (MASK, 7-bit length).
        length: the decoded payload length.
        mask_required: True at a server (client frames must be masked), False at a
            client (server frames must not be), None to accept both.
        rsv_allowed: the RSV bits that negotiated extensions claim (0x40 for permessage-deflate).
        max_frame_size: the largest accepted data frame payload, or None for no limit
            (control frames have their own limit of 125 bytes).

    Raises:
        ProtocolError: a reserved opcode, an unclaimed RSV bit, a wrong MASK bit, a
            fragmented or too long control frame, or a non-minimal length encoding (1002).
        MessageTooBig: a payload above `max_frame_size` (1009).
    """
    opcode = first & OPCODE_MASK
    if opcode not in _KNOWN_OPCODES:
        raise ProtocolError(f"reserved opcode {opcode}")
    if first & RSV_MASK & ~rsv_allowed:
        raise ProtocolError("reserved bits must be 0")
    if mask_required is not None and bool(second & MASK_BIT) is not mask_required:
        raise ProtocolError("incorrect masking: client frames must be masked, server frames must not be")
    if opcode >= 8:
        if not first & FIN:
            raise ProtocolError("fragmented control frame")
        if length > MAX_CONTROL_PAYLOAD:
            raise ProtocolError("control frame too long")
        if first & RSV_MASK:
            raise ProtocolError("reserved bits must be 0 on control frames")
    short = second & LENGTH_MASK
    if (short == 126 and length < 126) or (short == 127 and length < 65536):
        raise ProtocolError("non-minimal payload length encoding")
    if max_frame_size is not None and length > max_frame_size and opcode < 8:
        raise MessageTooBig(f"frame of {length} bytes exceeds the limit of {max_frame_size} bytes")


def decode_header(buf: BytesLike, pos: int, end: int) -> tuple[int, int, int, int] | None:
    """Decode the fixed part of a frame header at `buf[pos:end]`.

    Returns:
        ``(first_byte, second_byte, payload_length, header_length)`` where the header
        length counts the masking key, or None when `buf` does not hold the whole header yet.

    Raises:
        ProtocolError: a 64-bit length with its most significant bit set (1002).
    """
    if end - pos < 2:
        return None
    first = buf[pos]
    second = buf[pos + 1]
    length = second & LENGTH_MASK
    size = 6 if second & MASK_BIT else 2
    if length == 126:
        size += 2
        if end - pos < size:
            return None
        (length,) = _unpack_H(buf, pos + 2)
    elif length == 127:
        size += 8
        if end - pos < size:
            return None
        (length,) = _unpack_Q(buf, pos + 2)
        if length >> 63:
            raise ProtocolError("payload length with the most significant bit set")
    elif end - pos < size:
        return None
    return first, second, length, size


class FrameParser:
    """An incremental parser of complete frames, for codec users.

    Feed it bytes in chunks of any size; it returns each frame once its last byte has
    arrived. Feeding one byte at a time gives the same frames as feeding everything at
    once. The parser checks each header as soon as it is complete, so an oversized
    frame is refused before its payload is buffered.

    It knows nothing of messages: fragmentation, UTF-8 and close payloads are checked by
    [`Connection`][wsframe.Connection], which is what a server or client should use.

    Args:
        mask_required: True to parse frames sent by a client (they must be masked),
            False for frames sent by a server (they must not be), None to accept both.
        max_frame_size: the largest payload accepted, in bytes; None for no limit.
        rsv_allowed: the RSV bits an extension claims (``0x40`` for RSV1).
    """

    def __init__(
        self, *, mask_required: bool | None = None, max_frame_size: int | None = None, rsv_allowed: int = 0
    ) -> None:
        self.mask_required = mask_required
        self.max_frame_size = max_frame_size
        self.rsv_allowed = rsv_allowed
        self._buf = bytearray()
        self._error: ProtocolError | None = None

    def feed(self, data: BytesLike) -> list[Frame]:
        """Add received bytes and return the frames they complete.

        Frames completed before a violation are returned first; the error is raised by
        the next call (and every call after it).

        Raises:
            ProtocolError: the input breaks RFC 6455; the parser must not be fed again.
            MessageTooBig: a frame above `max_frame_size`.
        """
        if self._error is not None:
            raise self._error
        buf = self._buf
        buf += data
        frames: list[Frame] = []
        pos = 0
        end = len(buf)
        while True:
            try:
                header = decode_header(buf, pos, end)
                if header is None:
                    break
                first, second, length, size = header
                check_frame_header(
                    first,
                    second,
                    length,
                    mask_required=self.mask_required,
                    rsv_allowed=self.rsv_allowed,
                    max_frame_size=self.max_frame_size,
                )
            except ProtocolError as exc:
                if not frames:
                    raise
                # Return the good frames before the bad one; raise on the next call.
                # Nothing after the bad header will be parsed: keep none of it.
                self._error = exc
                pos = end
                break
            if end - pos < size + length:
                break
            start = pos + size
            payload = bytes(buf[start : start + length])
            if second & MASK_BIT:
                payload = apply_mask(payload, bytes(buf[start - 4 : start]))
            frames.append(
                Frame(
                    Opcode(first & OPCODE_MASK),
                    payload,
                    fin=bool(first & FIN),
                    rsv1=bool(first & RSV1),
                    rsv2=bool(first & RSV2),
                    rsv3=bool(first & RSV3),
                )
            )
            pos = start + length
        del buf[:pos]
        return frames

    @property
    def buffered(self) -> int:
        """How many received bytes wait for the rest of their frame."""
        return len(self._buf)
