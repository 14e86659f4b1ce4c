"""Tests for `wsframe._utf8`: fail-fast incremental UTF-8 (RFC 6455 section 8.1, RFC 3629).

The reference is a byte-level automaton written from the table of well-formed byte
sequences (Unicode section 3.9, table 3-7): a decoder fed one byte at a time must fail at
exactly the first byte that no valid continuation could follow.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsframe import InvalidData
from wsframe.frames import Utf8Decoder, is_valid_utf8

# Allowed range of the second byte for each lead byte; later bytes are always 80-BF.
_SECOND: dict[int, tuple[int, int, int]] = {}  # lead -> (low, high, continuation bytes)
for _lead in range(0xC2, 0xE0):
    _SECOND[_lead] = (0x80, 0xBF, 1)
_SECOND[0xE0] = (0xA0, 0xBF, 2)
for _lead in range(0xE1, 0xF0):
    _SECOND[_lead] = (0x80, 0xBF, 2)
_SECOND[0xED] = (0x80, 0x9F, 2)
_SECOND[0xF0] = (0x90, 0xBF, 3)
for _lead in range(0xF1, 0xF4):
    _SECOND[_lead] = (0x80, 0xBF, 3)
_SECOND[0xF4] = (0x80, 0x8F, 3)


def first_invalid(data: bytes) -> int | None:
    """Index of the first byte that makes `data` invalid; len(data) if it ends mid-character; None if valid."""
    i = 0
    n = len(data)
    while i < n:
        lead = data[i]
        if lead < 0x80:
            i += 1
            continue
        if lead not in _SECOND:
            return i
        low, high, more = _SECOND[lead]
        for k in range(1, more + 1):
            if i + k >= n:
                return n
            byte = data[i + k]
            if k == 1 and not low <= byte <= high:
                return i + k
            if k > 1 and not 0x80 <= byte <= 0xBF:
                return i + k
        i += more + 1
    return None


def fail_index_bytewise(data: bytes) -> tuple[int | None, str]:
    """Feed `data` one byte at a time, then finish; the index of the failing call (len(data) for the final one)."""
    decoder = Utf8Decoder()
    out = []
    for i in range(len(data)):
        try:
            out.append(decoder.decode(data[i : i + 1]))
        except InvalidData:
            return i, "".join(out)
    try:
        out.append(decoder.decode(b"", final=True))
    except InvalidData:
        return len(data), "".join(out)
    return None, "".join(out)


class TestReference:
    """The reference automaton agrees with CPython's codec on validity."""

    @pytest.mark.parametrize(
        "data",
        [
            b"",
            b"abc",
            "é€𝄞".encode(),
            b"\xed\x9f\xbf",
            b"\xee\x80\x80",
            b"\xf4\x8f\xbf\xbf",
            b"\xc0\x80",
            b"\xed\xa0\x80",
        ],
    )
    def test_reference_matches_codec(self, data: bytes) -> None:
        assert (first_invalid(data) is None) == is_valid_utf8(data)


class TestValidText:
    """RFC 6455 section 8.1: valid UTF-8 in any split decodes to the same text."""

    TEXT = "Hello-µ@ßöäüàá-UTF-8!! κόσμε 𝄞 €"

    def test_whole(self) -> None:
        decoder = Utf8Decoder()
        assert decoder.decode(self.TEXT.encode(), final=True) == self.TEXT

    def test_every_split_point(self) -> None:
        """Section 8.1: a character may be split between frames."""
        data = self.TEXT.encode()
        for cut in range(len(data) + 1):
            decoder = Utf8Decoder()
            assert decoder.decode(data[:cut]) + decoder.decode(data[cut:], final=True) == self.TEXT

    def test_one_byte_at_a_time(self) -> None:
        data = self.TEXT.encode()
        index, text = fail_index_bytewise(data)
        assert index is None
        assert text == self.TEXT

    def test_partial_character_held_back(self) -> None:
        """A partial character yields no text until it completes."""
        decoder = Utf8Decoder()
        assert decoder.decode(b"caf\xc3") == "caf"
        assert decoder.decode(b"\xa9", final=True) == "é"

    def test_four_byte_character_split_three_ways(self) -> None:
        decoder = Utf8Decoder()
        assert decoder.decode(b"\xf0") == ""
        assert decoder.decode(b"\x9d\x84") == ""
        assert decoder.decode(b"\x9e", final=True) == "𝄞"

    @pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
    def test_buffer_types(self, kind: Callable[[bytes], object]) -> None:
        decoder = Utf8Decoder()
        assert decoder.decode(kind(b"\xce\xba\xe1"), final=False) == "κ"  # type: ignore[arg-type]
        assert decoder.decode(kind(b"\xbd\xb9"), final=True) == "ό"  # type: ignore[arg-type]

    def test_boundary_code_points(self) -> None:
        """RFC 3629: the first and last code point of each length, and around the surrogates."""
        for cp in (0x0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF):
            data = chr(cp).encode()
            assert fail_index_bytewise(data) == (None, chr(cp))


class TestFailFast:
    """RFC 6455 section 8.1 (Autobahn 6.4): fail at the first byte that cannot be valid."""

    @pytest.mark.parametrize(
        ("data", "index"),
        [
            (b"\x80", 0),  # stray continuation byte
            (b"ab\xbf", 2),
            (b"\xc0\x80", 0),  # overlong lead bytes are never valid
            (b"\xc1\xbf", 0),
            (b"\xf5\x80\x80\x80", 0),  # beyond U+10FFFF
            (b"\xff", 0),
            (b"\xfe", 0),
            (b"\xc2A", 1),  # continuation expected
            (b"\xe0\x80\x80", 1),  # overlong 3-byte
            (b"\xe0\x9f\xbf", 1),
            (b"\xed\xa0\x80", 1),  # surrogate U+D800: fails at A0
            (b"\xed\xbf\xbf", 1),  # surrogate U+DFFF
            (b"\xf0\x80\x80\x80", 1),  # overlong 4-byte
            (b"\xf0\x8f\xbf\xbf", 1),
            (b"\xf4\x90\x80\x80", 1),  # U+110000
            (b"\xe1\x80A", 2),
            (b"\xf1\x80\x80A", 3),
            (b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", 12),  # Autobahn 6.4.x shape
        ],
    )
    def test_fails_at_first_invalid_byte(self, data: bytes, index: int) -> None:
        """Section 8.1: fed one byte at a time, the decoder fails at `index`."""
        assert first_invalid(data) == index
        assert fail_index_bytewise(data)[0] == index

    def test_surrogate_lead_alone_is_not_an_error(self) -> None:
        """ED may start U+D000-U+D7FF: it is not an error on its own."""
        decoder = Utf8Decoder()
        assert decoder.decode(b"\xed") == ""
        assert decoder.decode(b"\x9f\xbf", final=True) == "\ud7ff"

    def test_surrogate_in_a_single_chunk(self) -> None:
        with pytest.raises(InvalidData) as info:
            Utf8Decoder().decode(b"ab\xed\xa0")
        assert info.value.code == 1007

    def test_surrogate_split_after_lead(self) -> None:
        decoder = Utf8Decoder()
        decoder.decode(b"ab\xed")
        with pytest.raises(InvalidData):
            decoder.decode(b"\xa0")

    @pytest.mark.parametrize("data", [b"\xc3", b"\xe2\x82", b"\xf0\x9d\x84", b"ab\xed"])
    def test_incomplete_at_final(self, data: bytes) -> None:
        """Section 8.1: a message must end on a whole character."""
        decoder = Utf8Decoder()
        decoder.decode(data)
        with pytest.raises(InvalidData) as info:
            decoder.decode(b"", final=True)
        assert info.value.code == 1007

    def test_incomplete_in_final_chunk(self) -> None:
        with pytest.raises(InvalidData):
            Utf8Decoder().decode(b"abc\xe2\x82", final=True)

    def test_reset_forgets_pending_bytes(self) -> None:
        decoder = Utf8Decoder()
        decoder.decode(b"\xe2\x82")
        decoder.reset()
        assert decoder.decode(b"abc", final=True) == "abc"


# Bytes that exercise every branch of the automaton.
_INTERESTING = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC,
                0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]  # fmt: skip
_pieces = st.one_of(
    st.text(max_size=3).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from(_INTERESTING), max_size=3).map(bytes),
)


class TestProperties:
    """Section 8.1 against the reference automaton."""

    @given(st.lists(_pieces, max_size=8).map(b"".join))
    def test_bytewise_fail_index_matches_reference(self, data: bytes) -> None:
        index, text = fail_index_bytewise(data)
        assert index == first_invalid(data)
        if index is None:
            assert text == data.decode()

    @given(st.lists(_pieces, max_size=8).map(b"".join), st.data())
    def test_chunked_fails_at_chunk_holding_first_invalid_byte(self, data: bytes, draw: st.DataObject) -> None:
        cuts = sorted(draw.draw(st.lists(st.integers(0, len(data)), max_size=4)))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        bad = first_invalid(data)
        decoder = Utf8Decoder()
        consumed = 0
        for chunk in chunks:
            end = consumed + len(chunk)
            if bad is not None and bad < end:
                with pytest.raises(InvalidData):
                    decoder.decode(chunk)
                return
            decoder.decode(chunk)
            consumed = end
        if bad is None:
            decoder.decode(b"", final=True)
        else:
            with pytest.raises(InvalidData):
                decoder.decode(b"", final=True)

    @given(st.binary(max_size=40))
    def test_is_valid_utf8_matches_reference(self, data: bytes) -> None:
        assert is_valid_utf8(data) == (first_invalid(data) is None)
