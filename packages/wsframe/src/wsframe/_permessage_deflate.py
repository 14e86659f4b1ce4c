"""The permessage-deflate extension (RFC 7692): per-message DEFLATE compression.

Three public classes:

* [`PerMessageDeflate`][wsframe.extensions.PerMessageDeflate], the negotiated extension of one
  connection: it compresses outgoing messages and decompresses incoming ones;
* [`ClientPerMessageDeflate`][wsframe.ClientPerMessageDeflate], which offers the
  extension in a client's handshake and checks the server's answer;
* [`ServerPerMessageDeflate`][wsframe.ServerPerMessageDeflate], which answers a
  client's offer.

Wire format (RFC 7692 section 7.2): a compressed message has RSV1 set on its first
frame; its payload is raw DEFLATE data ending with a sync flush whose trailing
``00 00 ff ff`` is removed. Messages may also be sent uncompressed, with RSV1 clear.

Memory per connection. zlib's compressor takes about ``2 ** (window_bits + 2) +
2 ** (mem_level + 9)`` bytes and its decompressor about ``2 ** window_bits`` bytes plus
7 KiB; ``tracemalloc`` cannot see these buffers (zlib calls ``malloc`` itself), so they
were measured as the RSS growth of a process holding 500 objects that had each
processed 300 KiB of JSON (zlib 1.2.13, CPython 3.11, x86-64):

| compressor window bits, mem_level | formula | measured RSS |
|-----------------------------------|---------|--------------|
| 15, 8 (zlib's defaults)           | 256 KiB | 209 KiB      |
| 15, 5                             | 144 KiB | 150 KiB      |
| 12, 8                             | 144 KiB | 98 KiB       |
| 12, 5 (server default)            | 32 KiB  | 38 KiB       |
| 12, 4                             | 24 KiB  | 30 KiB       |

A decompressor costs 4 KiB until it first produces output, then about 40 KiB with a
15-bit window and 12 KiB with a 12-bit window. A fresh compressor touches fewer pages
(82 KiB for 15/8, 26 KiB for 12/5) until its window fills up.

Ratio and speed, measured on 2,000 generated JSON messages (chat events, trade ticks,
record updates, paginated API answers; 1 MB in all, median 209 bytes) compressed as one
stream with context takeover (output size / input size, compression speed):

| level | window 15, mem_level 8 | window 12, mem_level 5 |
|-------|------------------------|------------------------|
| 1     | 0.287, 78 MB/s         | 0.321, 59 MB/s         |
| 3     | 0.257, 65 MB/s         | 0.308, 57 MB/s         |
| 5     | 0.235, 47 MB/s         | 0.278, 48 MB/s         |
| 6     | 0.229, 38 MB/s         | 0.275, 45 MB/s         |
| 9     | 0.223, 21 MB/s         | 0.272, 41 MB/s         |

With a 15-bit window, mem_level 5 gives 0.230 against 0.229 for mem_level 8, and a
12-bit window loses about 20% of ratio against 15 bits (0.275 against 0.229) for a
fifth of the memory. Without context takeover every setting lands near 0.45: the
messages are too short for the window size to matter.

Hence the defaults:

* `compress_level=6`, zlib's own default: levels 7-9 save under 3% and run up to
  twice slower; level 5 is 7-24% faster for 1-3% more bytes; levels 1-3 are 1.3 to 2
  times faster but give 12-25% more bytes. Compression is enabled to save bandwidth,
  so the default leans that way; lower it for CPU-bound servers.
* `mem_level=5`: 16 KiB of hash tables and buffers instead of 128 KiB with zlib's
  default 8, for a ratio within 0.5%; as fast with a 12-bit window, 14% slower with
  a 15-bit one (44 against 42 MB/s, and 32 against 37 MB/s).
* servers use 12-bit windows in both directions (`server_max_window_bits=12`,
  `client_max_window_bits=12`): about 38 KiB of compressor plus 12 KiB of decompressor
  per connection instead of about 250 KiB with zlib's defaults, for 20% more bytes.
  Clients keep 15 bits for what they send (one connection rarely matters) and let
  the server choose its own window.
* `min_size=32`: measured on the same kind of traffic, a message under 32 bytes
  compressed alone (no context takeover) grows by 1-2 bytes, and with context takeover
  it shrinks by 5 to 17 bytes, less than the TCP/IP headers of the packet carrying it,
  for about 3 us of compression here and a decompression at the peer. From 32 bytes
  upwards context takeover saves 60-80% and even fresh compression stops growing data.

No context takeover. When this side does not keep its compression context, it creates
a compressor for each message and drops it at the end of the message, so an idle
connection holds no compressor memory. Measured per message: creating a compressor
costs 0.45 us with window 12 / mem_level 5 and 9.8 us with 15 / 8 (zlib clears its hash
table); copying a pristine one is slower (1.0 us and 47 us: ``deflateCopy`` copies every
buffer); a ``Z_FULL_FLUSH`` on a kept compressor would be as cheap as the 12 / 5 case
but keeps the memory allocated. Decompressors cost 0.1 us to create and are likewise
dropped after each message when the peer does not keep its context.

Window bits 8. zlib (since 1.2.9) refuses to compress raw DEFLATE with a 256-byte
window (Python raises ValueError), and peers built on it either fail on such a
negotiation or compress with 512 bytes instead. (Stock zlib happens to keep distances
within 250 bytes with a 9-bit window, but that is an implementation detail that this
module does not rely on.) The policy here never depends on it:

* the factories only accept 9 to 15 in their own configuration;
* when the peer imposes 8 on the window this side compresses with (a client offering
  ``server_max_window_bits=8``, a server answering ``client_max_window_bits=8``), the
  offer or answer is accepted and this side sends every message uncompressed, which
  RFC 7692 allows; the peer's messages are still decompressed;
* when this side decompresses with an 8-bit window, it uses 9 bits: decompressing with
  a larger window than the peer's is always correct, and it also reads the streams of
  peers that agree to 8 and then compress with 512 bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from ._errors import InvalidData, MessageTooBig, NegotiationError, ProtocolError
from ._extensions import ClientExtensionFactory, Extension, ExtensionParameters, ServerExtensionFactory
from ._frames import RSV1, Frame, Opcode

__all__ = [
    "ClientPerMessageDeflate",
    "PerMessageDeflate",
    "ServerPerMessageDeflate",
]

_NAME = "permessage-deflate"

# The empty stored block that ends a sync flush (RFC 7692 section 7.2.1).
_FLUSH_TAIL = b"\x00\x00\xff\xff"
# What is left of an empty stored block once its tail is removed (RFC 7692 section 7.2.3.6).
_EMPTY_BLOCK = b"\x00"

# Window bits as they may appear in a parameter: no sign, no leading zero (RFC 7692 section 7.1.2).
_WINDOW_BITS_VALUES = {str(bits): bits for bits in range(8, 16)}

_DEFAULT_COMPRESS_LEVEL = 6
_DEFAULT_MEM_LEVEL = 5
_DEFAULT_MIN_SIZE = 32
_DEFAULT_SERVER_WINDOW_BITS = 12


def _check_bits(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if not low <= value <= 15:
        raise ValueError(f"{name} must be between {low} and 15")


def _check_settings(compress_level: int, mem_level: int, min_size: int) -> None:
    for name, value, low, high in (("compress_level", compress_level, 0, 9), ("mem_level", mem_level, 1, 9)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int")
        if not low <= value <= high:
            raise ValueError(f"{name} must be between {low} and {high}")
    if isinstance(min_size, bool) or not isinstance(min_size, int):
        raise TypeError("min_size must be an int")
    if min_size < 0:
        raise ValueError("min_size must be 0 or more")


class PerMessageDeflate(Extension):
    """The permessage-deflate extension in use on one connection (RFC 7692 section 7).

    The factories build it from the negotiated parameters; build it directly only to
    use the codec without a handshake. "Local" is this side (what it sends), "remote"
    the peer (what it sends and this side decompresses).

    Outgoing messages of `min_size` bytes or more are compressed; shorter ones, and
    every message when the local window is 8 bits (see the module documentation), go
    out uncompressed with RSV1 clear. A message that the application sends in fragments
    is always compressed, since its size is unknown when the first fragment leaves;
    each fragment ends with a sync flush so that it can be decompressed on arrival.

    Incoming messages with RSV1 on their first frame are decompressed frame by frame,
    never producing more than the `max_size` that the connection passes, so a small
    compressed frame cannot expand without bound.

    Args:
        remote_no_context_takeover: the peer starts each message with an empty window,
            so the decompressor is dropped after each message.
        local_no_context_takeover: this side must start each message with an empty
            window: it uses a new compressor per message and drops it afterwards.
        remote_max_window_bits: the largest window the peer compresses with, 8 to 15.
        local_max_window_bits: the largest window this side may compress with, 8 to 15;
            8 means that this side sends every message uncompressed.
        compress_level: the zlib compression level, 0 (store only) to 9; default 6.
        mem_level: zlib's `memLevel`, 1 to 9, the size of the compressor's hash tables;
            each step doubles them. Default 5.
        min_size: messages shorter than this many bytes are sent uncompressed;
            0 compresses everything. Default 32.

    Raises:
        ValueError: a setting out of its range.
        TypeError: a setting that is not an int.

    Attributes:
        remote_no_context_takeover: as passed.
        local_no_context_takeover: as passed.
        remote_max_window_bits: as passed.
        local_max_window_bits: as passed.
        compress_level: as passed.
        mem_level: as passed.
        min_size: as passed.
    """

    name = _NAME
    rsv_bits = RSV1

    def __init__(
        self,
        *,
        remote_no_context_takeover: bool,
        local_no_context_takeover: bool,
        remote_max_window_bits: int,
        local_max_window_bits: int,
        compress_level: int = _DEFAULT_COMPRESS_LEVEL,
        mem_level: int = _DEFAULT_MEM_LEVEL,
        min_size: int = _DEFAULT_MIN_SIZE,
    ) -> None:
        _check_bits("remote_max_window_bits", remote_max_window_bits, 8)
        _check_bits("local_max_window_bits", local_max_window_bits, 8)
        _check_settings(compress_level, mem_level, min_size)
        self.remote_no_context_takeover = bool(remote_no_context_takeover)
        self.local_no_context_takeover = bool(local_no_context_takeover)
        self.remote_max_window_bits = remote_max_window_bits
        self.local_max_window_bits = local_max_window_bits
        self.compress_level = compress_level
        self.mem_level = mem_level
        self.min_size = min_size
        # zlib cannot compress with an 8-bit window; such a peer gets uncompressed messages.
        self._can_compress = local_max_window_bits >= 9
        # Decompressing with a larger window than the peer's is always correct.
        self._decode_wbits = -max(remote_max_window_bits, 9)
        self._decode_window = 1 << max(remote_max_window_bits, 9)
        # Created on first use, dropped after each message without context takeover.
        self._encoder: zlib._Compress | None = None
        self._decoder: zlib._Decompress | None = None
        # Whether the outgoing / incoming message in progress is compressed.
        self._encoding = False
        self._decoding = False

    def __repr__(self) -> str:
        return (
            f"PerMessageDeflate(remote_no_context_takeover={self.remote_no_context_takeover}, "
            f"local_no_context_takeover={self.local_no_context_takeover}, "
            f"remote_max_window_bits={self.remote_max_window_bits}, "
            f"local_max_window_bits={self.local_max_window_bits})"
        )

    def encode(self, frame: Frame) -> Frame:
        """Compress an outgoing data frame (RFC 7692 section 7.2.1).

        Call it on each frame of a message in order. The first frame of a compressed
        message comes back with RSV1 set; the final frame's payload has the flush's
        ``00 00 ff ff`` removed (a final fragment with nothing left to flush becomes
        the single byte ``00``, section 7.2.3.6).

        Args:
            frame: a text, binary or continuation frame; control frames are returned
                unchanged.

        Returns:
            The frame to send.
        """
        opcode = frame.opcode
        if opcode == Opcode.CONT:
            if not self._encoding:
                return frame
            rsv1 = False
        elif opcode >= 8:
            return frame
        else:
            if not self._can_compress or (frame.fin and len(frame.payload) < self.min_size):
                self._encoding = False
                return frame
            self._encoding = True
            rsv1 = True
        encoder = self._encoder
        if encoder is None:
            encoder = self._encoder = zlib.compressobj(
                self.compress_level, zlib.DEFLATED, -self.local_max_window_bits, self.mem_level
            )
        payload = frame.payload
        if frame.fin:
            data = encoder.compress(payload) if payload else b""
            data += encoder.flush(zlib.Z_SYNC_FLUSH)
            # zlib flushes nothing when a previous fragment flushed everything already.
            data = data[:-4] if data else _EMPTY_BLOCK
            self._encoding = False
            if self.local_no_context_takeover:
                self._encoder = None
        elif payload:
            data = encoder.compress(payload) + encoder.flush(zlib.Z_SYNC_FLUSH)
        else:
            data = b""
        return Frame(opcode, data, frame.fin, rsv1, frame.rsv2, frame.rsv3)

    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        """Decompress an incoming data frame (RFC 7692 section 7.2.2).

        Frames of uncompressed messages come back unchanged.

        Args:
            frame: a text, binary or continuation frame, unmasked; control frames are
                returned unchanged.
            max_size: the most bytes this frame may decompress to, or None for no limit.

        Returns:
            The frame with its payload decompressed and RSV1 cleared.

        Raises:
            ProtocolError: RSV1 set on a continuation frame (RFC 7692 section 6.1).
            InvalidData: the payload is not valid DEFLATE data (1007).
            MessageTooBig: the payload decompresses to more than `max_size` bytes;
                decompression stops as soon as it passes that size.
        """
        opcode = frame.opcode
        if opcode == Opcode.CONT:
            if frame.rsv1:
                raise ProtocolError("rsv1 set on a continuation frame")
            if not self._decoding:
                return frame
        elif opcode >= 8:
            return frame
        else:
            if not frame.rsv1:
                self._decoding = False
                return frame
            self._decoding = True
        data = frame.payload
        if frame.fin:
            data += _FLUSH_TAIL
        payload = self._inflate(data, max_size, frame.fin)
        if frame.fin:
            self._decoding = False
            if self.remote_no_context_takeover:
                self._decoder = None
        return Frame(opcode, payload, frame.fin, False, frame.rsv2, frame.rsv3)

    def _inflate(self, data: bytes, max_size: int | None, fin: bool) -> bytes:
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = zlib.decompressobj(self._decode_wbits)
        # Ask zlib for one byte more than allowed: getting it proves the limit is passed.
        # (A limit of 0 would mean no limit to zlib, hence the clamp.)
        limit = 0 if max_size is None else max(max_size, 0) + 1
        chunks: list[bytes] = []
        while True:
            try:
                out = decoder.decompress(data, limit)
            except zlib.error as exc:
                raise InvalidData("decompression failed") from exc
            if max_size is not None:
                max_size -= len(out)
                if max_size < 0:
                    raise MessageTooBig("decompressed payload exceeds the size limit")
                limit = max_size + 1
            chunks.append(out)
            if not decoder.eof:
                break
            # A block with BFINAL set ended zlib's stream (RFC 7692 section 7.2.3.4). More
            # blocks may follow, still sharing the window: continue with a new decompressor
            # that knows the latest output. Older history is lost; a reference to it fails
            # as invalid data instead of producing wrong bytes.
            data = decoder.unused_data
            if fin and data == _FLUSH_TAIL:
                # The message ended with the BFINAL block, without the empty stored block
                # that section 7.2.1 asks for: the appended tail is not DEFLATE data.
                data = b""
            window = out[-self._decode_window :]
            if window:
                decoder = zlib.decompressobj(self._decode_wbits, zdict=window)
            else:
                decoder = zlib.decompressobj(self._decode_wbits)
            self._decoder = decoder
            if not data:
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class _Params:
    """The four parameters of one offer or answer, checked for syntax."""

    __slots__ = (
        "client_max_window_bits",
        "client_max_window_bits_present",
        "client_no_context_takeover",
        "server_max_window_bits",
        "server_no_context_takeover",
    )

    def __init__(self, params: Sequence[tuple[str, str | None]], *, offer: bool) -> None:
        self.server_no_context_takeover = False
        self.client_no_context_takeover = False
        self.server_max_window_bits: int | None = None
        self.client_max_window_bits: int | None = None
        self.client_max_window_bits_present = False
        seen: set[str] = set()
        for name, value in params:
            if name in seen:
                raise NegotiationError(f"duplicate {_NAME} parameter {name!r}")
            seen.add(name)
            if name in ("server_no_context_takeover", "client_no_context_takeover"):
                if value is not None:
                    raise NegotiationError(f"{name} takes no value")
                setattr(self, name, True)
            elif name in ("server_max_window_bits", "client_max_window_bits"):
                if value is None:
                    # Only an offer may carry client_max_window_bits without a value.
                    if name == "server_max_window_bits" or not offer:
                        raise NegotiationError(f"{name} needs a value")
                else:
                    bits = _WINDOW_BITS_VALUES.get(value)
                    if bits is None:
                        raise NegotiationError(f"invalid {name} {value!r}")
                    setattr(self, name, bits)
                if name == "client_max_window_bits":
                    self.client_max_window_bits_present = True
            else:
                raise NegotiationError(f"unknown {_NAME} parameter {name!r}")


def _already_accepted(accepted: Sequence[Extension]) -> bool:
    return any(isinstance(extension, PerMessageDeflate) or extension.name == _NAME for extension in accepted)


class ClientPerMessageDeflate(ClientExtensionFactory):
    """Offer permessage-deflate from a client (RFC 7692 section 7.1).

    The offer lists the parameters configured here; the server's answer decides the
    rest, within what was offered.

    Args:
        server_no_context_takeover: ask the server to start each message with an empty
            window, so this client can drop its decompressor between messages. The
            server must agree or decline the offer.
        client_no_context_takeover: start each message sent with an empty window (and
            tell the server, which may then drop its decompressor between messages).
        server_max_window_bits: ask the server to compress with at most this window,
            9 to 15, to bound this client's decompressor memory; None (default) to
            leave it to the server.
        client_max_window_bits: True (default) to announce that the server may limit
            this client's window, an int from 9 to 15 to announce that this client will
            not exceed it, False not to mention the parameter (the client then
            compresses with 15 bits).
        compress_level: passed to [`PerMessageDeflate`][wsframe.extensions.PerMessageDeflate].
        mem_level: passed to [`PerMessageDeflate`][wsframe.extensions.PerMessageDeflate].
        min_size: passed to [`PerMessageDeflate`][wsframe.extensions.PerMessageDeflate].

    Raises:
        ValueError: a setting out of its range (window bits 8 are refused: zlib cannot
            compress with them, and many zlib-based peers cannot either).
        TypeError: a setting of the wrong type.
    """

    name = _NAME

    def __init__(
        self,
        *,
        server_no_context_takeover: bool = False,
        client_no_context_takeover: bool = False,
        server_max_window_bits: int | None = None,
        client_max_window_bits: int | bool = True,
        compress_level: int = _DEFAULT_COMPRESS_LEVEL,
        mem_level: int = _DEFAULT_MEM_LEVEL,
        min_size: int = _DEFAULT_MIN_SIZE,
    ) -> None:
        if server_max_window_bits is not None:
            _check_bits("server_max_window_bits", server_max_window_bits, 9)
        if not isinstance(client_max_window_bits, bool):
            _check_bits("client_max_window_bits", client_max_window_bits, 9)
        _check_settings(compress_level, mem_level, min_size)
        self.server_no_context_takeover = bool(server_no_context_takeover)
        self.client_no_context_takeover = bool(client_no_context_takeover)
        self.server_max_window_bits = server_max_window_bits
        self.client_max_window_bits = client_max_window_bits
        self.compress_level = compress_level
        self.mem_level = mem_level
        self.min_size = min_size

    def offer(self) -> ExtensionParameters:
        """The offered parameters, such as ``[("client_max_window_bits", None)]``."""
        params: ExtensionParameters = []
        if self.server_no_context_takeover:
            params.append(("server_no_context_takeover", None))
        if self.client_no_context_takeover:
            params.append(("client_no_context_takeover", None))
        if self.server_max_window_bits is not None:
            params.append(("server_max_window_bits", str(self.server_max_window_bits)))
        if self.client_max_window_bits is True:
            params.append(("client_max_window_bits", None))
        elif self.client_max_window_bits is not False:
            params.append(("client_max_window_bits", str(self.client_max_window_bits)))
        return params

    def accept(self, params: ExtensionParameters, accepted: Sequence[Extension]) -> PerMessageDeflate:
        """Check the server's answer and build the extension (RFC 7692 section 7.1).

        Args:
            params: the parameters of the server's answer.
            accepted: the extensions accepted before this one.

        Returns:
            The extension, configured with the negotiated parameters.

        Raises:
            NegotiationError: an unknown, duplicate or malformed parameter; a window
                larger than offered; `client_max_window_bits` that was not offered;
                `server_no_context_takeover` or `server_max_window_bits` offered but
                missing from the answer; or permessage-deflate accepted twice.
        """
        if _already_accepted(accepted):
            raise NegotiationError(f"{_NAME} accepted twice")
        answer = _Params(params, offer=False)
        if self.server_no_context_takeover and not answer.server_no_context_takeover:
            raise NegotiationError("server_no_context_takeover was offered but not answered")
        remote_bits = 15
        if answer.server_max_window_bits is not None:
            if self.server_max_window_bits is not None and answer.server_max_window_bits > self.server_max_window_bits:
                raise NegotiationError("server_max_window_bits larger than offered")
            remote_bits = answer.server_max_window_bits
        elif self.server_max_window_bits is not None:
            raise NegotiationError("server_max_window_bits was offered but not answered")
        offered = self.client_max_window_bits
        local_bits = 15 if isinstance(offered, bool) else offered
        if answer.client_max_window_bits is not None:
            if offered is False:
                raise NegotiationError("client_max_window_bits answered but not offered")
            if answer.client_max_window_bits > local_bits:
                raise NegotiationError("client_max_window_bits larger than offered")
            local_bits = answer.client_max_window_bits
        return PerMessageDeflate(
            remote_no_context_takeover=answer.server_no_context_takeover,
            local_no_context_takeover=answer.client_no_context_takeover or self.client_no_context_takeover,
            remote_max_window_bits=remote_bits,
            local_max_window_bits=local_bits,
            compress_level=self.compress_level,
            mem_level=self.mem_level,
            min_size=self.min_size,
        )

    def __repr__(self) -> str:
        return (
            f"ClientPerMessageDeflate(server_no_context_takeover={self.server_no_context_takeover}, "
            f"client_no_context_takeover={self.client_no_context_takeover}, "
            f"server_max_window_bits={self.server_max_window_bits}, "
            f"client_max_window_bits={self.client_max_window_bits})"
        )


class ServerPerMessageDeflate(ServerExtensionFactory):
    """Answer permessage-deflate offers on a server (RFC 7692 section 7.1).

    An offer with an unknown, duplicate or malformed parameter is declined, as RFC 7692
    section 7 requires, and so is any offer once permessage-deflate is accepted.
    Otherwise the answer takes the stricter of the offer and this configuration.

    Args:
        server_no_context_takeover: always start each message sent with an empty
            window: no compressor is kept between messages. Clients may also ask for
            it, and then get it.
        client_no_context_takeover: always require the client to start each message
            with an empty window, so no decompressor is kept between messages. A client
            that announces it in its offer is answered with it too.
        server_max_window_bits: the largest window this server compresses with, 9 to
            15; default 12 (see the module documentation). A client may ask for less.
        client_max_window_bits: the largest window asked of the client, 9 to 15;
            default 12. It is sent only to clients that offer `client_max_window_bits`;
            the others may use 15 bits, which this server then decompresses (about
            40 KiB per connection instead of 12 KiB, or nothing between messages with
            `client_no_context_takeover`).
        compress_level: passed to [`PerMessageDeflate`][wsframe.extensions.PerMessageDeflate].
        mem_level: passed to [`PerMessageDeflate`][wsframe.extensions.PerMessageDeflate].
        min_size: passed to [`PerMessageDeflate`][wsframe.extensions.PerMessageDeflate].

    Raises:
        ValueError: a setting out of its range (window bits 8 are refused: zlib cannot
            compress with them, and many zlib-based peers cannot either).
        TypeError: a setting of the wrong type.
    """

    name = _NAME

    def __init__(
        self,
        *,
        server_no_context_takeover: bool = False,
        client_no_context_takeover: bool = False,
        server_max_window_bits: int = _DEFAULT_SERVER_WINDOW_BITS,
        client_max_window_bits: int = _DEFAULT_SERVER_WINDOW_BITS,
        compress_level: int = _DEFAULT_COMPRESS_LEVEL,
        mem_level: int = _DEFAULT_MEM_LEVEL,
        min_size: int = _DEFAULT_MIN_SIZE,
    ) -> None:
        _check_bits("server_max_window_bits", server_max_window_bits, 9)
        _check_bits("client_max_window_bits", client_max_window_bits, 9)
        _check_settings(compress_level, mem_level, min_size)
        self.server_no_context_takeover = bool(server_no_context_takeover)
        self.client_no_context_takeover = bool(client_no_context_takeover)
        self.server_max_window_bits = server_max_window_bits
        self.client_max_window_bits = client_max_window_bits
        self.compress_level = compress_level
        self.mem_level = mem_level
        self.min_size = min_size

    def negotiate(
        self, params: ExtensionParameters, accepted: Sequence[Extension]
    ) -> tuple[ExtensionParameters, PerMessageDeflate] | None:
        """Answer one offer (RFC 7692 section 7.1).

        Args:
            params: the parameters of the client's offer.
            accepted: the extensions accepted before this one.

        Returns:
            The answer's parameters and the extension, or None to decline the offer.
        """
        if _already_accepted(accepted):
            return None
        try:
            offer = _Params(params, offer=True)
        except NegotiationError:
            return None
        answer: ExtensionParameters = []
        server_nct = offer.server_no_context_takeover or self.server_no_context_takeover
        client_nct = offer.client_no_context_takeover or self.client_no_context_takeover
        if server_nct:
            answer.append(("server_no_context_takeover", None))
        if client_nct:
            answer.append(("client_no_context_takeover", None))
        # An offered server_max_window_bits must be answered with at most its value; an
        # offered 8 is accepted and this server then sends uncompressed messages.
        server_bits = self.server_max_window_bits
        if offer.server_max_window_bits is not None:
            server_bits = min(server_bits, offer.server_max_window_bits)
        if server_bits < 15 or offer.server_max_window_bits is not None:
            answer.append(("server_max_window_bits", str(server_bits)))
        # client_max_window_bits may be answered only when offered.
        client_bits = 15
        if offer.client_max_window_bits_present:
            client_bits = min(self.client_max_window_bits, offer.client_max_window_bits or 15)
            if client_bits < 15:
                answer.append(("client_max_window_bits", str(client_bits)))
        extension = PerMessageDeflate(
            remote_no_context_takeover=client_nct,
            local_no_context_takeover=server_nct,
            remote_max_window_bits=client_bits,
            local_max_window_bits=server_bits,
            compress_level=self.compress_level,
            mem_level=self.mem_level,
            min_size=self.min_size,
        )
        return answer, extension

    def __repr__(self) -> str:
        return (
            f"ServerPerMessageDeflate(server_no_context_takeover={self.server_no_context_takeover}, "
            f"client_no_context_takeover={self.client_no_context_takeover}, "
            f"server_max_window_bits={self.server_max_window_bits}, "
            f"client_max_window_bits={self.client_max_window_bits})"
        )
