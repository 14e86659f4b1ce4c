"""Tests for `wsframe._close`: close codes and close frame payloads (RFC 6455 sections 5.5.1, 7.1.5, 7.4)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsframe import CloseCode, InvalidData, ProtocolError
from wsframe.close import (
    CLOSE_DESCRIPTIONS,
    MAX_CLOSE_REASON_BYTES,
    check_close_code,
    decode_close_payload,
    encode_close_payload,
    is_valid_close_code,
)

VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
INVALID = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


class TestRegistry:
    """Section 7.4.1 and the IANA "WebSocket Close Code Number" registry."""

    def test_close_code_members(self) -> None:
        assert {code.name: int(code) for code in CloseCode} == {
            "NORMAL_CLOSURE": 1000,
            "GOING_AWAY": 1001,
            "PROTOCOL_ERROR": 1002,
            "UNSUPPORTED_DATA": 1003,
            "NO_STATUS_RCVD": 1005,
            "ABNORMAL_CLOSURE": 1006,
            "INVALID_DATA": 1007,
            "POLICY_VIOLATION": 1008,
            "MESSAGE_TOO_BIG": 1009,
            "MANDATORY_EXTENSION": 1010,
            "INTERNAL_ERROR": 1011,
            "SERVICE_RESTART": 1012,
            "TRY_AGAIN_LATER": 1013,
            "BAD_GATEWAY": 1014,
            "TLS_HANDSHAKE": 1015,
        }

    def test_close_codes_are_ints(self) -> None:
        assert CloseCode.NORMAL_CLOSURE == 1000
        assert isinstance(CloseCode.GOING_AWAY, int)

    def test_descriptions_cover_1000_to_1015(self) -> None:
        assert sorted(CLOSE_DESCRIPTIONS) == list(range(1000, 1016))
        assert CLOSE_DESCRIPTIONS[1004] == "reserved"
        assert CLOSE_DESCRIPTIONS[1009] == "message too big"
        assert all(isinstance(text, str) and text for text in CLOSE_DESCRIPTIONS.values())

    def test_max_reason_bytes(self) -> None:
        """Section 5.5: 125 bytes of control payload minus the 2-byte code."""
        assert MAX_CLOSE_REASON_BYTES == 123


class TestValidCodes:
    """Section 7.4: which codes may appear in a close frame."""

    @pytest.mark.parametrize("code", VALID)
    def test_valid(self, code: int) -> None:
        assert is_valid_close_code(code)

    @pytest.mark.parametrize("code", INVALID)
    def test_invalid(self, code: int) -> None:
        """Section 7.4.1: 1004 reserved; 1005, 1006, 1015 never sent; 1016-2999 unassigned."""
        assert not is_valid_close_code(code)

    def test_full_table(self) -> None:
        """Section 7.4.2: exactly 1000-1003, 1007-1014 and 3000-4999."""
        valid = {code for code in range(70000) if is_valid_close_code(code)}
        assert valid == {*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)}


class TestCheckCloseCode:
    """Section 7.4: validating what the application sends."""

    @pytest.mark.parametrize("code", VALID)
    def test_valid_returns_encoded_reason(self, code: int) -> None:
        assert check_close_code(code, "bye é") == "bye é".encode()

    @pytest.mark.parametrize("code", INVALID)
    def test_invalid_code(self, code: int) -> None:
        with pytest.raises(ValueError, match="close code"):
            check_close_code(code)

    def test_reason_limit_counts_bytes_not_characters(self) -> None:
        """Section 5.5: the limit is 123 bytes of UTF-8."""
        check_close_code(1000, "a" * 123)
        check_close_code(1000, "é" * 61)  # 122 bytes
        with pytest.raises(ValueError, match="reason"):
            check_close_code(1000, "a" * 124)
        with pytest.raises(ValueError, match="reason"):
            check_close_code(1000, "é" * 62)  # 62 characters, 124 bytes
        with pytest.raises(ValueError, match="reason"):
            check_close_code(1000, "€" * 42)  # 42 characters, 126 bytes


class TestEncodeClosePayload:
    """Section 5.5.1: a 2-byte code in network order, then the UTF-8 reason."""

    def test_code_only(self) -> None:
        assert encode_close_payload(1000) == b"\x03\xe8"

    def test_code_and_reason(self) -> None:
        assert encode_close_payload(1001, "going") == b"\x03\xe9going"
        assert encode_close_payload(4999, "ü") == b"\x13\x87\xc3\xbc"

    def test_no_code(self) -> None:
        """Section 5.5.1: the body is optional."""
        assert encode_close_payload(None) == b""

    def test_reason_without_code(self) -> None:
        with pytest.raises(ValueError, match="reason"):
            encode_close_payload(None, "why")

    @pytest.mark.parametrize("code", [1005, 1006, 1015, 999])
    def test_invalid_code(self, code: int) -> None:
        with pytest.raises(ValueError):
            encode_close_payload(code)

    def test_reason_too_long(self) -> None:
        assert len(encode_close_payload(1000, "x" * 123)) == 125
        with pytest.raises(ValueError):
            encode_close_payload(1000, "x" * 124)


class TestDecodeClosePayload:
    """Sections 5.5.1 and 7.1.5: parsing a received close frame."""

    def test_empty_payload_means_1005(self) -> None:
        """Section 7.1.5: no status code -> 1005."""
        assert decode_close_payload(b"") == (1005, "")

    def test_one_byte_payload(self) -> None:
        """Section 5.5.1: a body starts with a 2-byte code, so 1 byte is a protocol error."""
        with pytest.raises(ProtocolError) as info:
            decode_close_payload(b"\x03")
        assert info.value.code == 1002
        assert not isinstance(info.value, InvalidData)

    @pytest.mark.parametrize("code", VALID)
    def test_valid_code(self, code: int) -> None:
        assert decode_close_payload(struct.pack("!H", code) + b"ok") == (code, "ok")

    @pytest.mark.parametrize("code", INVALID)
    def test_invalid_code(self, code: int) -> None:
        with pytest.raises(ProtocolError) as info:
            decode_close_payload(struct.pack("!H", code))
        assert info.value.code == 1002

    @pytest.mark.parametrize("reason", [b"\xff", b"\xce\xba\xe1\xbd", b"\xed\xa0\x80", b"\xc0\xaf"])
    def test_invalid_utf8_reason(self, reason: bytes) -> None:
        """Section 8.1: the reason is UTF-8; invalid data fails with 1007."""
        with pytest.raises(InvalidData) as info:
            decode_close_payload(b"\x03\xe8" + reason)
        assert info.value.code == 1007

    def test_utf8_reason(self) -> None:
        assert decode_close_payload(b"\x03\xe8" + "κόσμε".encode()) == (1000, "κόσμε")

    def test_returns_int_code(self) -> None:
        code, _ = decode_close_payload(b"\x0f\xa0")
        assert code == 4000

    @given(
        st.sampled_from(VALID) | st.integers(3000, 4999),
        st.text(max_size=123).filter(lambda s: len(s.encode()) <= 123),
    )
    def test_round_trip(self, code: int, reason: str) -> None:
        """Section 5.5.1: encoding then decoding gives the code and reason back."""
        payload = encode_close_payload(code, reason)
        assert len(payload) <= 125
        assert decode_close_payload(payload) == (code, reason)
