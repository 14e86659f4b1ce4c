"""Incremental UTF-8 decoding that fails as soon as an invalid byte arrives.

CPython's UTF-8 codec (written in C) validates and decodes in one pass, and its
incremental decoder already rejects most invalid sequences at the first byte that makes
them invalid, even when the sequence is not complete yet. One case slips through: a
lead byte ``0xED`` followed by ``0xA0``-``0xBF`` starts a UTF-16 surrogate, which UTF-8
forbids, but the codec waits for the third byte before saying so.
[`Utf8Decoder`][wsframe.frames.Utf8Decoder] closes that gap, so a fragmented text message is
refused at the first byte that no valid continuation could follow (RFC 6455 section 8.1,
Autobahn section 6.4).
"""

from __future__ import annotations

import codecs

from ._errors import InvalidData
from ._typing import BytesLike

__all__ = ["Utf8Decoder", "is_valid_utf8"]


_IncrementalDecoder = codecs.getincrementaldecoder("utf-8")


class Utf8Decoder:
    """Decode UTF-8 given in chunks, failing at the first chunk that makes it invalid.

    Examples:
        >>> d = Utf8Decoder()
        >>> d.decode(b"caf\\xc3")
        'caf'
        >>> d.decode(b"\\xa9", final=True)
        'é'
    """

    __slots__ = ("_decoder",)

    def __init__(self) -> None:
        self._decoder = _IncrementalDecoder()

    def decode(self, data: BytesLike, final: bool = False) -> str:
        """Decode the next chunk; with `final`, the input must end on a whole character.

        Raises:
            InvalidData: the bytes so far cannot be the start of valid UTF-8 (1007).
        """
        decoder = self._decoder
        try:
            text = decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise InvalidData("invalid UTF-8 in text message") from exc
        # A pending incomplete sequence always ends the data given so far, so the
        # surrogate check is only needed when the last byte is not ASCII.
        if not final and data and data[-1] & 0x80:
            pending = decoder.getstate()[0]
            if len(pending) > 1 and pending[0] == 0xED and pending[1] >= 0xA0:
                raise InvalidData("invalid UTF-8 in text message: surrogate code point")
        return text

    def reset(self) -> None:
        """Forget any pending partial character, ready for a new message."""
        self._decoder.reset()


def is_valid_utf8(data: BytesLike) -> bool:
    """Whether `data` as a whole is valid UTF-8."""
    try:
        codecs.decode(data, "utf-8")
    except UnicodeDecodeError:
        return False
    return True
