"""Buffers and writes: the module-level helpers of the connection's I/O.

The read buffer that each event loop's connections share, and the ways output reaches
a transport (joined, `writelines()`, or in pieces over TLS), with the sizes that pick
between them. No class: the connection layers call these functions.
"""

from __future__ import annotations

import asyncio
import mmap
import sys
import weakref

__all__ = [
    "COPY_READS_UP_TO",
    "JOIN_BELOW",
    "read_buffer",
    "write_buffers",
    "write_pieces",
]

#: Size of the read buffer: what one read of the socket may return. One buffer per event
#: loop, so it can be large: a 4 MiB message then takes 4 reads (and 4 turns of the
#: event loop) instead of 16 with asyncio's 256 KiB, 7% less CPU per message.
_READ_BUFFER_SIZE = 1024 * 1024
#: Reads up to this size are copied to bytes before parsing; longer ones are parsed from
#: the buffer itself (the parser copies only the payloads it keeps).
COPY_READS_UP_TO = 16 * 1024
# One read buffer per event loop, shared by its connections: the loop fills it and calls
# buffer_updated() at once, which parses it and copies out whatever it keeps, so no
# connection holds on to it between reads. Connections pay no per-read allocation of
# asyncio's 256 KiB `recv()` (an mmap and page faults, 3x the CPU of a small echo).
_read_buffers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, memoryview] = weakref.WeakKeyDictionary()


# Since 3.12, asyncio's socket transport keeps written buffers as they are, and its
# writelines() sends them with one sendmsg(): a frame's header and its large payload go
# out without being joined first (one copy of the message less). Before 3.12 writelines()
# joins them itself, so write() of the joined bytes is as good.
_ZERO_COPY_WRITELINES = sys.version_info >= (3, 12)


#: Output smaller than this is joined and written with write(): below it, copying costs
#: less than writelines() does in Python.
JOIN_BELOW = 64 * 1024


def write_buffers(transport: asyncio.Transport, buffers: list[bytes | bytearray | memoryview], high: int) -> None:
    """Write several buffers (a frame's header and payload, or several frames)."""
    if not _ZERO_COPY_WRITELINES or transport.is_closing() or sum(map(len, buffers)) < JOIN_BELOW:
        # write() is the one that copes with a transport that has failed meanwhile.
        transport.write(b"".join(buffers))
        return
    transport.writelines(buffers)
    # writelines() skips the check that calls pause_writing(); setting the limits
    # again makes it, so send() still waits while the buffer is full.
    if transport.get_write_buffer_size() > high:
        transport.set_write_buffer_limits(high=high, low=high // 4)


#: Largest write handed to a TLS transport at once. asyncio encrypts each write into an
#: OpenSSL memory BIO before sending it, and that BIO keeps its largest size until the
#: connection closes: a 1 MiB message written whole would hold 1 MiB per connection
#: for its lifetime. In pieces of this size it holds one piece.
_TLS_WRITE_SIZE = 64 * 1024


def write_pieces(transport: asyncio.Transport, buffers: list[bytes | bytearray | memoryview]) -> None:
    """Write buffers to a TLS transport in pieces of `_TLS_WRITE_SIZE` bytes (the last one shorter).

    Small buffers (a frame's header) join the piece being filled, so that each piece
    becomes full TLS records rather than a record for a header alone.
    """
    limit = _TLS_WRITE_SIZE
    batch: list[bytes | bytearray | memoryview] = []
    size = 0
    for buffer in buffers:
        length = len(buffer)
        if size + length <= limit:
            batch.append(buffer)
            size += length
            continue
        view = memoryview(buffer)
        start = 0
        while length - start > limit - size:  # fill the piece, write it, start the next
            end = start + limit - size
            batch.append(view[start:end])
            transport.write(batch[0] if len(batch) == 1 else b"".join(batch))
            batch = []
            size = 0
            start = end
        if start < length:
            batch.append(view[start:])
            size = length - start
    if batch:
        transport.write(batch[0] if len(batch) == 1 else b"".join(batch))


def read_buffer(loop: asyncio.AbstractEventLoop) -> memoryview:
    """The read buffer of `loop`'s connections (made on first use)."""
    view = _read_buffers.get(loop)
    if view is None:
        # Anonymous memory, not a bytearray (which is zero-filled at once): a page
        # costs RAM only once a read has reached it, so a server of small messages
        # keeps a few KiB of the 1 MiB resident.
        view = _read_buffers[loop] = memoryview(mmap.mmap(-1, _READ_BUFFER_SIZE))
    return view
