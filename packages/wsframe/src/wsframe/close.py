"""Close codes (RFC 6455 section 7.4 and the IANA registry) and close frame payloads.

[`CloseCode`][wsframe.CloseCode] is also importable from `wsframe` itself; the rest is
for code that builds or reads close frames without a [`Connection`][wsframe.Connection]:
[`check_close_code`][wsframe.close.check_close_code] and
[`is_valid_close_code`][wsframe.close.is_valid_close_code] tell which codes may be sent,
[`encode_close_payload`][wsframe.close.encode_close_payload] and
[`decode_close_payload`][wsframe.close.decode_close_payload] build and parse the payload,
[`CLOSE_DESCRIPTIONS`][wsframe.close.CLOSE_DESCRIPTIONS] names every registered code.
"""

from __future__ import annotations

from ._close import (
    CLOSE_DESCRIPTIONS,
    MAX_CLOSE_REASON_BYTES,
    CloseCode,
    check_close_code,
    decode_close_payload,
    encode_close_payload,
    is_valid_close_code,
)

__all__ = [
    "CLOSE_DESCRIPTIONS",
    "MAX_CLOSE_REASON_BYTES",
    "CloseCode",
    "check_close_code",
    "decode_close_payload",
    "encode_close_payload",
    "is_valid_close_code",
]
