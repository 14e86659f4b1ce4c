"""Close codes (RFC 6455 section 7.4 and the IANA registry) and close frame payloads."""

from __future__ import annotations

import enum
import struct

from ._errors import InvalidData, ProtocolError

__all__ = [
    "CLOSE_DESCRIPTIONS",
    "MAX_CLOSE_REASON_BYTES",
    "CloseCode",
    "check_close_code",
    "decode_close_payload",
    "encode_close_payload",
    "is_valid_close_code",
]

#: A close frame carries at most 125 bytes: 2 for the code, 123 for the reason.
MAX_CLOSE_REASON_BYTES = 123


class CloseCode(enum.IntEnum):
    """Registered close codes, named as in the IANA "WebSocket Close Code Number" registry."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    # 1004 is reserved.
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


#: Human descriptions of the registered codes (1004 included, as reserved).
CLOSE_DESCRIPTIONS: dict[int, str] = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1004: "reserved",
    1005: "no status received",
    1006: "abnormal closure",
    1007: "invalid frame payload data",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
    1015: "TLS handshake failure",
}

# Codes that may appear in a close frame on the wire. 1004 is reserved, 1005, 1006 and
# 1015 are for reporting only (RFC 6455 section 7.4.1); 1016-2999 are unassigned or
# reserved for future RFCs; 3000-3999 are registered with IANA, 4000-4999 are private.
_WIRE_CODES = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014))

_unpack_code = struct.Struct("!H").unpack_from
_pack_code = struct.Struct("!H").pack


def is_valid_close_code(code: int) -> bool:
    """Whether `code` may be sent in a close frame."""
    if not isinstance(code, int):
        return False
    return code in _WIRE_CODES or 3000 <= code <= 4999


def check_close_code(code: int, reason: str = "") -> bytes:
    """Validate a close code and reason that the application wants to send.

    Returns:
        The reason encoded as UTF-8.

    Raises:
        ValueError: the code may not be sent (1004-1006, 1015, 1016-2999, outside
            1000-4999) or the reason is longer than 123 bytes of UTF-8.
    """
    if not is_valid_close_code(code):
        raise ValueError(f"close code {code} may not be sent: use 1000-1003, 1007-1014 or 3000-4999")
    data = reason.encode()
    if len(data) > MAX_CLOSE_REASON_BYTES:
        raise ValueError(f"close reason is {len(data)} bytes of UTF-8; at most 123 fit in a close frame")
    return data


def encode_close_payload(code: int | None, reason: str = "") -> bytes:
    """The payload of a close frame; `code=None` gives an empty payload (no status)."""
    if code is None:
        if reason:
            raise ValueError("a close reason needs a close code")
        return b""
    return _pack_code(code) + check_close_code(code, reason)


def decode_close_payload(payload: bytes) -> tuple[int, str]:
    """Parse a received close frame payload.

    Returns:
        ``(code, reason)``; an empty payload gives ``(1005, "")`` (RFC 6455 section 7.1.5).

    Raises:
        ProtocolError: a one-byte payload or a code that may not be sent (1002).
        InvalidData: a reason that is not valid UTF-8 (1007).
    """
    n = len(payload)
    if n == 0:
        return CloseCode.NO_STATUS_RCVD, ""
    if n == 1:
        raise ProtocolError("close frame payload of 1 byte")
    (code,) = _unpack_code(payload)
    if not is_valid_close_code(code):
        raise ProtocolError(f"invalid close code {code}")
    try:
        reason = payload[2:].decode()
    except UnicodeDecodeError as exc:
        raise InvalidData("invalid UTF-8 in close reason") from exc
    return code, reason
