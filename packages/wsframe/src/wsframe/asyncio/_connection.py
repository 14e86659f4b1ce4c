"""The asyncio connection that wsserver and wsclient share.

[`WebSocketConnection`][wsframe.asyncio.WebSocketConnection] is an `asyncio.Protocol`
that drives a sans-IO [`Connection`][wsframe.Connection]: callbacks, not streams, so a
received chunk is parsed in one pass and answered without extra task switches. The
opening handshake belongs to subclasses, the drivers (wsserver's server connection,
wsclient's client connection): they receive its bytes in
[`handshake_data_received()`][wsframe.asyncio.WebSocketConnection.handshake_data_received],
and once it succeeds they call
[`handshake_complete()`][wsframe.asyncio.WebSocketConnection.handshake_complete], after
which everything below takes over. That, the `transport`, `loop` and `sansio`
properties and the [`connection_closed()`][wsframe.asyncio.WebSocketConnection.connection_closed]
hook are the whole contract between a driver and this class.

Flow control, both ways:

* receiving: complete messages wait in a queue of at most `max_queue` messages; when it
  is full, the transport stops reading until the application catches up, so a slow
  consumer costs bounded memory;
* sending: `send()` returns once the frames are handed to the transport, but waits
  first while the transport's write buffer is above `write_limit`.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import mmap
import sys
import time
import types
import weakref
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Self
    else:  # pragma: no cover
        from typing_extensions import Self

from .._close import CloseCode, check_close_code
from .._connection import Connection, State
from .._errors import ConnectionClosed, ConnectionClosedOK, InvalidState
from .._events import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    Fragment,
    Ping,
    Pong,
    TextMessage,
)
from .._options import DriverOptions
from .._typing import Data

__all__ = [
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_KEEPALIVE_GRACE",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_WRITE_LIMIT",
    "Data",
    "WebSocketConnection",
]


#: Seconds to wait for the peer's close frame and TCP close once ours is sent (seed: 5 s).
DEFAULT_CLOSE_TIMEOUT = 5.0
#: Seconds without receiving anything before a keepalive ping (seed: 20 s).
DEFAULT_KEEPALIVE_INTERVAL = 20.0
#: Seconds to wait for any data after a keepalive ping before dropping the peer (seed: 10 s).
DEFAULT_KEEPALIVE_GRACE = 10.0
#: Received messages that may wait for the application before reading pauses.
DEFAULT_MAX_QUEUE = 16
#: Bytes in the transport's write buffer above which `send()` waits (the low mark is a quarter).
DEFAULT_WRITE_LIMIT = 64 * 1024

_ids = itertools.count(1)

_CLOSED_STATES = (State.CLOSING, State.CLOSED)
_OPEN = State.OPEN

#: Size of the read buffer: what one read of the socket may return. One buffer per event
#: loop, so it can be large: a 4 MiB message then takes 4 reads (and 4 turns of the
#: event loop) instead of 16 with asyncio's 256 KiB, 7% less CPU per message.
_READ_BUFFER_SIZE = 1024 * 1024
#: Sends without waiting after which send() yields to the event loop once.
_YIELD_AFTER_SENDS = 64
#: Reads up to this size are copied to bytes before parsing; longer ones are parsed from
#: the buffer itself (the parser copies only the payloads it keeps).
_COPY_READS_UP_TO = 16 * 1024
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
_JOIN_BELOW = 64 * 1024


def _write_buffers(transport: asyncio.Transport, buffers: list[bytes | bytearray | memoryview], high: int) -> None:
    """Write several buffers (a frame's header and payload, or several frames)."""
    if not _ZERO_COPY_WRITELINES or transport.is_closing() or sum(map(len, buffers)) < _JOIN_BELOW:
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


def _write_pieces(transport: asyncio.Transport, buffers: list[bytes | bytearray | memoryview]) -> None:
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


def _read_buffer(loop: asyncio.AbstractEventLoop) -> memoryview:
    view = _read_buffers.get(loop)
    if view is None:
        # Anonymous memory, not a bytearray (which is zero-filled at once): a page
        # costs RAM only once a read has reached it, so a server of small messages
        # keeps a few KiB of the 1 MiB resident.
        view = _read_buffers[loop] = memoryview(mmap.mmap(-1, _READ_BUFFER_SIZE))
    return view


class WebSocketConnection(asyncio.BufferedProtocol):
    """An open WebSocket connection, on either side.

    Receive with `await connection.recv()` or `async for message in connection`; send
    with `await connection.send(message)`; end with `await connection.close()`.
    Operations on a closed connection raise [`ConnectionClosed`][wsframe.ConnectionClosed]
    (`ConnectionClosedOK` after a normal closure, `ConnectionClosedError` otherwise).

    Instances are made by wsserver (for each accepted request) and wsclient (for each
    successful `connect`); applications do not build them.

    Args:
        close_timeout: seconds to wait for the closing handshake and the TCP close
            before the transport is aborted; None waits forever (not advised).
        keepalive_interval: seconds of silence from the peer before a ping is sent; None
            turns keepalive off.
        keepalive_grace: seconds to wait for any data after that ping before the
            connection is dropped (close code 1006); None only pings.
        max_queue: received messages that may wait for the application before reading
            pauses (at least 1).
        write_limit: write buffer size in bytes above which `send()` waits.
        logger: where connection events are logged; defaults to this module's logger.
    """

    # Slots: a connection's attributes cost no instance dict (about 1.5 KiB each with
    # this many attributes). __dict__ stays available for attributes an application
    # adds; it is only allocated then.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_backlog_scheduled",
        "_clock",
        "_close_handle",
        "_closed",
        "_drain_waiters",
        "_drop_reason",
        "_dropping",
        "_fail_handle",
        "_grace_handle",
        "_keepalive_handle",
        "_last_received",
        "_loop",
        "_lost",
        "_on_message",
        "_paused_by_queue",
        "_paused_by_writes",
        "_pending_fail",
        "_pings",
        "_protocol",
        "_queue",
        "_read_view",
        "_reading_paused",
        "_recv_waiter",
        "_replies_while_paused",
        "_sends_in_a_row",
        "_tls",
        "_transport",
        "_write_paused",
        "close_timeout",
        "extensions",
        "id",
        "keepalive_grace",
        "keepalive_interval",
        "latency",
        "local_address",
        "logger",
        "max_queue",
        "remote_address",
        "subprotocol",
        "write_limit",
    )

    def __init__(
        self,
        *,
        close_timeout: float | None = DEFAULT_CLOSE_TIMEOUT,
        keepalive_interval: float | None = DEFAULT_KEEPALIVE_INTERVAL,
        keepalive_grace: float | None = DEFAULT_KEEPALIVE_GRACE,
        max_queue: int = DEFAULT_MAX_QUEUE,
        write_limit: int = DEFAULT_WRITE_LIMIT,
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
    ) -> None:
        # One validation for every driver: TypeError for a wrong type, ValueError out of range.
        DriverOptions(
            close_timeout=close_timeout,
            keepalive_interval=keepalive_interval,
            keepalive_grace=keepalive_grace,
            max_queue=max_queue,
            write_limit=write_limit,
        )
        self.id = next(_ids)
        """A number identifying this connection in logs, unique within the process."""
        self.close_timeout = close_timeout
        self.keepalive_interval = keepalive_interval
        self.keepalive_grace = keepalive_grace
        self.max_queue = max_queue
        self.write_limit = write_limit
        self.logger: logging.Logger | logging.LoggerAdapter[Any] = (
            logger if logger is not None else logging.getLogger("wsframe.asyncio")
        )
        self.subprotocol: str | None = None
        """The negotiated subprotocol, or None."""
        self.extensions: list[str] = []
        """Names of the negotiated extensions, in order."""
        self.remote_address: Any = None
        """The peer's address as the socket reports it (a proxy's, behind a proxy)."""
        self.local_address: Any = None
        """This end's address."""
        self.latency: float | None = None
        """Seconds between the last keepalive or `ping()` and its answer, once measured."""

        self._loop = asyncio.get_running_loop()
        # The loop's clock, read on every received chunk: asyncio's own loops read
        # time.monotonic() in a Python method; calling it directly costs a call less.
        self._clock = time.monotonic if type(self._loop).time is asyncio.BaseEventLoop.time else self._loop.time
        self._read_view = _read_buffer(self._loop)
        self._transport: asyncio.Transport | None = None
        # Over TLS, large output goes to the transport in pieces (see _write_pieces).
        self._tls = False
        self._protocol: Connection | None = None
        self._queue: collections.deque[Data | Fragment] = collections.deque()
        self._recv_waiter: asyncio.Future[None] | None = None
        # set_message_callback(): messages go to it instead of the queue.
        self._on_message: Callable[[Data], object] | None = None
        self._reading_paused = False
        self._paused_by_queue = False
        self._paused_by_writes = False
        self._write_paused = False
        # Bytes of automatic replies (pongs, close echoes) written while writes are paused.
        self._replies_while_paused = 0
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._backlog_scheduled = False
        self._pending_fail = False
        self._fail_handle: asyncio.TimerHandle | None = None
        self._close_handle: asyncio.TimerHandle | None = None
        self._keepalive_handle: asyncio.TimerHandle | None = None
        self._grace_handle: asyncio.TimerHandle | None = None
        self._last_received = 0.0
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._closed: asyncio.Future[None] = self._loop.create_future()
        self._drop_reason = ""
        self._lost = False
        self._dropping = False
        # Sends since this connection's task last waited: see _after_send().
        self._sends_in_a_row = 0

    # ----------------------------------------------------------- properties

    @property
    def state(self) -> State:
        """CONNECTING during the handshake, then OPEN, CLOSING, CLOSED (the W3C `readyState`)."""
        protocol = self._protocol
        if protocol is None:
            return State.CLOSED if self._lost else State.CONNECTING
        if self._lost:
            return State.CLOSED
        return protocol.state

    @property
    def open(self) -> bool:
        """True while messages can be sent."""
        return self.state is State.OPEN

    @property
    def close_code(self) -> int | None:
        """The close code once the connection is closed (1005: no code, 1006: transport lost), else None."""
        protocol = self._protocol
        if protocol is None:
            return CloseCode.ABNORMAL_CLOSURE if self._lost else None
        if self._lost or protocol.close_received is not None:
            return protocol.close_code
        return None

    @property
    def close_reason(self) -> str | None:
        """The close reason once the connection is closed, else None."""
        if self.close_code is None:
            return None
        protocol = self._protocol
        return (protocol.close_reason if protocol is not None else "") or self._drop_reason

    @property
    def buffered_amount(self) -> int:
        """Bytes handed to `send()` that the transport has not written yet."""
        transport = self._transport
        return transport.get_write_buffer_size() if transport is not None else 0

    def _closed_exception(self) -> ConnectionClosed:
        protocol = self._protocol
        if protocol is None:
            return ConnectionClosed.for_close(CloseCode.ABNORMAL_CLOSURE, self._drop_reason, was_clean=False)
        return ConnectionClosed.for_close(
            protocol.close_code,
            protocol.close_reason or self._drop_reason,
            was_clean=protocol.close_was_clean,
        )

    # ------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport; subclasses start their handshake here."""
        stream = cast(asyncio.Transport, transport)  # always a stream transport here
        self._transport = stream
        self._tls = transport.get_extra_info("ssl_object") is not None
        low = self.write_limit // 4
        stream.set_write_buffer_limits(high=self.write_limit, low=low)
        self.remote_address = transport.get_extra_info("peername")
        self.local_address = transport.get_extra_info("sockname")

    # ------------------------------------------------------- driver contract

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop this connection runs on (the one running when it was made)."""
        return self._loop

    @property
    def transport(self) -> asyncio.Transport | None:
        """The transport, from `connection_made()` until the connection is lost; else None."""
        return None if self._lost else self._transport

    @property
    def sansio(self) -> Connection | None:
        """The sans-IO [`Connection`][wsframe.Connection] this driver runs, once the
        opening handshake is complete (None before)."""
        return self._protocol

    def handshake_complete(self, connection: Connection, trailing_data: bytes = b"") -> None:
        """Switch from the opening handshake to WebSocket frames: for drivers.

        A subclass calls it once its handshake has succeeded, with the sans-IO
        [`Connection`][wsframe.Connection] to run and the bytes that arrived after the
        handshake (they are received before anything read later). From then on, reads go
        to the connection, not to `handshake_data_received()`, and keepalive starts.

        Raises:
            InvalidState: the handshake was already complete.
        """
        if self._protocol is not None:
            raise InvalidState("the opening handshake is already complete")
        self._protocol = connection
        self._last_received = self._loop.time()
        if self.keepalive_interval is not None:
            self._keepalive_handle = self._loop.call_later(self.keepalive_interval, self._keepalive)
        if trailing_data:
            self.data_received(trailing_data)

    def get_buffer(self, sizehint: int) -> memoryview:
        """Return the buffer the transport reads into (shared by this loop's connections)."""
        return self._read_view

    def buffer_updated(self, nbytes: int) -> None:
        """The transport read `nbytes` into the buffer: parse them now."""
        view = self._read_view[:nbytes]
        protocol = self._protocol
        if protocol is None:
            self.handshake_data_received(bytes(view))
            return
        # data_received() inlined, the hot path of every read.
        self._last_received = self._clock()
        self._receive(protocol, bytes(view) if nbytes <= _COPY_READS_UP_TO else view)
        if protocol.backlog:
            self._receive_backlog(protocol)

    def data_received(self, data: bytes | memoryview) -> None:
        """Feed received bytes to the protocol and dispatch the events.

        Transports call `buffer_updated()`; this is for bytes received otherwise (the
        rest of the handshake's read, a tunnel). A memoryview must not be kept: its
        buffer is reused by the next read.
        """
        protocol = self._protocol
        if protocol is None:
            self.handshake_data_received(bytes(data))
            return
        self._last_received = self._clock()
        self._receive(protocol, data)
        if protocol.backlog:
            self._receive_backlog(protocol)

    def _receive_backlog(self, protocol: Connection) -> None:
        """The last batch stopped at the queue's room: parse more, or pause reading."""
        # Control frames use up the budget too: go on while the queue has room.
        queue = self._queue
        while protocol.backlog and len(queue) < self.max_queue and not self._paused_by_writes and not self._lost:
            self._receive(protocol, b"")
        if protocol.backlog and not self._paused_by_queue and not self._paused_by_writes:
            self._paused_by_queue = True
            self._update_reading()

    def _receive(self, protocol: Connection, data: bytes | memoryview) -> None:
        """Parse one batch of events and dispatch them."""
        queue = self._queue
        if protocol.state is _OPEN and not self._lost:
            # Parse no more events than the queue has room for: the rest of a read stays
            # unparsed (the backlog), reading pauses, and the backlog is parsed as the
            # application takes messages. A read of thousands of tiny frames then costs
            # one queue of events, not thousands, and the event loop stays fair.
            room = self.max_queue - len(queue)
            events = protocol.receive_data(data, max_events=room if room > 1 else 1)
        else:
            events = protocol.receive_data(data)
        # Pongs and close replies.
        out = protocol.data_to_send()
        transport = self._transport
        if out and transport is not None and not self._lost:
            transport.write(out)
            if self._write_paused:
                self._replies_while_paused += len(out)
                if self._replies_while_paused > self.write_limit:
                    self._pause_for_writes()
        delivered = False
        # After our close frame, reading goes on even with a full queue; data beyond
        # the queue's size is then dropped, since the application is closing.
        # Once dropping starts it goes on until the end: the application must not get
        # a later message after missing an earlier one.
        dropping = self._dropping or (protocol.state is not _OPEN and len(queue) >= self.max_queue)
        self._dropping = dropping
        for event in events:
            kind = type(event)
            if kind is TextMessage or kind is BinaryMessage:
                # mypy does not narrow `event` through `kind`; the check above does.
                message: Data = event.data  # type: ignore[union-attr]
                on_message = self._on_message
                if on_message is not None:
                    self._call_back(on_message, message)
                elif not dropping:
                    queue.append(message)
                    delivered = True
            elif kind is Fragment:
                if not dropping:
                    queue.append(event)  # type: ignore[arg-type]
                    delivered = True
            elif kind is Ping:
                self._on_ping(event.payload)  # type: ignore[union-attr]
            elif kind is Pong:
                self._on_pong(event.payload)  # type: ignore[union-attr]
            elif kind is CloseReceived:
                self._on_close_received(event)  # type: ignore[arg-type]
            elif kind is ConnectionFailed:
                self._on_failed(event, delivered)  # type: ignore[arg-type]
        if events:
            waiter = self._recv_waiter
            if waiter is not None:
                self._recv_waiter = None
                if not waiter.done():
                    waiter.set_result(None)
        if delivered and len(queue) >= self.max_queue and not self._paused_by_queue:
            self._paused_by_queue = True
            self._update_reading()

    def _queue_drained(self) -> None:
        """The application took messages: parse the backlog, read again if there is room."""
        self._paused_by_queue = False
        protocol = self._protocol
        if protocol is not None and protocol.backlog:
            # Parse it on the next turn of the event loop, not in the application's
            # recv(): a task that finds the queue empty then waits, and other
            # connections get their turn before this one's next batch.
            if not self._backlog_scheduled:
                self._backlog_scheduled = True
                self._loop.call_soon(self._parse_backlog)
        else:
            self._update_reading()

    def _parse_backlog(self) -> None:
        self._backlog_scheduled = False
        self._update_reading()  # parses the backlog unless paused again meanwhile

    def handshake_data_received(self, data: bytes) -> None:
        """Bytes received before `handshake_complete()`: drivers override this.

        A driver feeds them to its sans-IO handshake and writes the answer to
        `transport`. The default refuses them: a connection whose handshake is not
        driven by anyone is aborted.
        """
        self.logger.debug("connection %d: no driver for the opening handshake, aborting", self.id)
        self.abort("no driver for the opening handshake")

    def eof_received(self) -> bool | None:
        """The peer closed its side: the connection is over."""
        protocol = self._protocol
        if protocol is not None:
            if protocol.backlog:
                self.data_received(b"")
            protocol.receive_eof()
        # Returning None closes the transport once the write buffer is flushed.
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """The transport is closed: wake everyone who waits."""
        self._lost = True
        protocol = self._protocol
        if protocol is not None and protocol.backlog:
            # Messages that arrived before the end still reach the application.
            self.data_received(b"")
        if protocol is not None and not protocol.eof_received:
            protocol.receive_eof()
        for handle in (self._fail_handle, self._close_handle, self._keepalive_handle, self._grace_handle):
            if handle is not None:
                handle.cancel()
        self._fail_handle = self._close_handle = self._keepalive_handle = self._grace_handle = None
        waiter = self._recv_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._recv_waiter = None
        self._wake_drain_waiters()
        for future, _ in self._pings.values():
            if not future.done():
                future.set_exception(self._closed_exception())
                future.exception()  # mark retrieved: nobody has to await a ping's answer
        self._pings.clear()
        if not self._closed.done():
            self._closed.set_result(None)
        if protocol is not None:
            self.logger.debug("connection %d closed: code %s %s", self.id, self.close_code, self.close_reason or "")
        self.connection_closed()
        # A closed transport is of no more use, and letting go of it frees this
        # connection without the cycle collector: asyncio's TLS transport keeps its
        # protocol, which keeps bound methods of ours (get_buffer, buffer_updated), so
        # connection -> transport -> SSL protocol -> connection would be a reference
        # cycle holding the TLS buffers (256 KiB each) until the next full collection.
        self._transport = None

    def connection_closed(self) -> None:
        """Called once when the transport is closed, after every waiter was woken: for drivers.

        `close_code` and `close_reason` are final by then. The default does nothing.
        """

    def pause_writing(self) -> None:
        """The write buffer passed `write_limit`: senders wait until it drains.

        Reading goes on (both ends may be sending at once); it pauses only if automatic
        replies written meanwhile exceed `write_limit`, so that a peer flooding pings
        without reading cannot grow our write buffer without bound.
        """
        self._write_paused = True
        self._replies_while_paused = 0
        if self._on_message is not None:
            # A message callback answers from the read callback, where nothing can wait:
            # stop reading until the peer reads what was written, or a peer that sends
            # without reading would grow the write buffer without bound.
            self._pause_for_writes()

    def _pause_for_writes(self) -> None:
        """Stop reading until `resume_writing()`."""
        if not self._paused_by_writes:
            self._paused_by_writes = True
            self._update_reading()

    def resume_writing(self) -> None:
        """The write buffer drained below the low-water mark."""
        self._write_paused = False
        self._replies_while_paused = 0
        if self._paused_by_writes:
            self._paused_by_writes = False
            self._update_reading()
        self._wake_drain_waiters()

    def _wake_drain_waiters(self) -> None:
        waiters = self._drain_waiters
        self._drain_waiters = []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None or self._lost:
            return
        # Once our close frame is out, a full queue no longer stops reading: the peer's
        # close frame must get through (data arriving then is dropped, see data_received).
        protocol = self._protocol
        by_queue = self._paused_by_queue and (protocol is None or protocol.state is State.OPEN)
        if protocol is not None and protocol.backlog and not by_queue and not self._paused_by_writes:
            # What the last read left unparsed goes before any new read; this may pause again.
            self.data_received(b"")
            by_queue = self._paused_by_queue and protocol.state is State.OPEN
        want_paused = by_queue or self._paused_by_writes
        if want_paused and not self._reading_paused:
            self._reading_paused = True
            transport.pause_reading()
        elif not want_paused and self._reading_paused:
            self._reading_paused = False
            # Silence while paused was ours, not the peer's: restart the keepalive clock.
            self._last_received = self._loop.time()
            transport.resume_reading()

    # --------------------------------------------------------------- events

    def _flush(self) -> None:
        protocol = self._protocol
        transport = self._transport
        if protocol is None or transport is None:
            return
        out = protocol.data_to_send()
        if out and not transport.is_closing():
            transport.write(out)
        if protocol.should_close_transport:
            self._close_transport()
        elif protocol.state is not State.OPEN and self._close_handle is None:
            self._arm_close_timer()

    def _close_transport(self) -> None:
        """Half-close, then wait for the peer's EOF at most `close_timeout`."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._protocol is not None and self._protocol.eof_received:
            transport.close()
            return
        if transport.can_write_eof():
            try:
                transport.write_eof()
            except (OSError, RuntimeError):
                transport.abort()
                return
        else:
            # TLS cannot half-close: close after flushing; the peer's close_notify ends it.
            transport.close()
        self._arm_close_timer()

    def _arm_close_timer(self) -> None:
        if self._close_handle is None and self.close_timeout is not None and not self._lost:
            self._close_handle = self._loop.call_later(self.close_timeout, self._close_timed_out)

    def _close_timed_out(self) -> None:
        self._close_handle = None
        if self._transport is not None and not self._lost:
            self.logger.debug("connection %d: close timeout, aborting", self.id)
            if not self._drop_reason:
                self._drop_reason = "close timeout"
            self._transport.abort()

    def _on_ping(self, payload: bytes) -> None:
        # The automatic pong is already in the output; nothing else to do.
        pass

    def _on_pong(self, payload: bytes) -> None:
        entry = self._pings.pop(payload, None)
        if entry is None:
            return
        future, sent_at = entry
        self.latency = self._loop.time() - sent_at
        if not future.done():
            future.set_result(self.latency)

    def _on_close_received(self, event: CloseReceived) -> None:
        self.logger.debug("connection %d: close frame received: %d %s", self.id, event.code, event.reason)
        self._flush()

    def _on_failed(self, event: ConnectionFailed, delivered: bool) -> None:
        self.logger.debug("connection %d: protocol error: %s", self.id, event.error)
        if delivered or self._queue:
            # Messages that arrived before the violation are still waiting for the
            # application: let it handle (and answer) them first. The next recv() that
            # finds the queue empty fails the connection; so does a timer, in case the
            # application stops reading.
            self._pending_fail = True
            delay = self.close_timeout if self.close_timeout is not None else DEFAULT_CLOSE_TIMEOUT
            self._fail_handle = self._loop.call_later(delay, self._apply_fail)
        else:
            self._apply_fail()

    def _apply_fail(self) -> None:
        self._pending_fail = False
        if self._fail_handle is not None:
            self._fail_handle.cancel()
            self._fail_handle = None
        protocol = self._protocol
        if protocol is None or self._lost:
            return
        protocol.fail()
        self._flush()

    # ------------------------------------------------------------ keepalive

    def _keepalive(self) -> None:
        self._keepalive_handle = None
        protocol = self._protocol
        interval = self.keepalive_interval
        if protocol is None or self._lost or interval is None or protocol.state is not State.OPEN:
            return
        now = self._loop.time()
        idle = now - self._last_received
        if idle < interval:
            self._keepalive_handle = self._loop.call_later(interval - idle, self._keepalive)
            return
        payload = now.hex().encode()[:125]
        try:
            self._send_ping_now(payload)
        except (InvalidState, ConnectionClosed):
            return
        if self.keepalive_grace is not None:
            self._grace_handle = self._loop.call_later(self.keepalive_grace, self._keepalive_expired, now)
        self._keepalive_handle = self._loop.call_later(interval, self._keepalive)

    def _keepalive_expired(self, pinged_at: float) -> None:
        self._grace_handle = None
        if self._lost or self._last_received > pinged_at:
            return
        if self._reading_paused:
            # We are not reading: the peer's answer may be waiting in the socket.
            return
        self.logger.info("connection %d: no answer to keepalive ping, dropping", self.id)
        self.abort("keepalive timeout")

    def _send_ping_now(self, payload: bytes) -> asyncio.Future[float]:
        protocol = self._check_sendable()
        future: asyncio.Future[float] = self._loop.create_future()
        old = self._pings.pop(payload, None)
        if old is not None and not old[0].done():
            old[0].cancel()
        pings = self._pings
        if len(pings) >= 32:  # unanswered pings: forget the oldest
            oldest = next(iter(pings))
            stale, _ = pings.pop(oldest)
            if not stale.done():
                stale.set_exception(TimeoutError("no pong answered this ping before 32 later pings"))
                stale.exception()  # mark retrieved: nobody has to await a ping's answer
        pings[payload] = (future, self._loop.time())
        protocol.send_ping(payload)
        self._write_out(protocol)
        return future

    # ------------------------------------------------------- sending (public)

    def _check_sendable(self) -> Connection:
        protocol = self._protocol
        if protocol is None:
            raise InvalidState("the opening handshake is not complete")
        if self._lost or protocol.state is not State.OPEN:
            raise self._closed_exception()
        return protocol

    def _write_out(self, protocol: Connection) -> None:
        out = protocol.buffers_to_send()
        transport = self._transport
        if out and transport is not None:
            if self._tls:
                _write_pieces(transport, out)
            elif len(out) == 1:
                transport.write(out[0])
            else:
                _write_buffers(transport, out, self.write_limit)

    async def _after_send(self) -> None:
        """Wait after a send if the write buffer is full; now and then, yield anyway.

        The kernel takes megabytes on a fast link before writes pause, and a failed
        write is reported by the transport only on a later turn of the event loop: a
        task that sends in a loop must let the loop run, or it starves every other
        connection and never learns that its peer is gone.
        """
        self._sends_in_a_row += 1
        transport = self._transport
        if (
            self._write_paused
            or self._sends_in_a_row >= _YIELD_AFTER_SENDS
            or (transport is not None and transport.is_closing())  # a failed write
        ):
            await self._drain()

    async def _drain(self) -> None:
        self._sends_in_a_row = 0
        transport = self._transport
        if transport is not None and not self._lost and transport.is_closing():
            # The transport failed, or is being aborted, under an open connection:
            # connection_lost() comes on the next turn of the loop.
            await asyncio.shield(self._closed)
            raise self._closed_exception()
        if self._write_paused and not self._lost:
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._drain_waiters.append(waiter)
            await waiter
            if self._lost:
                raise self._closed_exception()
        else:
            await asyncio.sleep(0)

    def send_nowait(self, message: str | bytes | bytearray | memoryview) -> None:
        """Hand a message to the transport now, without waiting for its buffer to drain.

        For broadcasts and callbacks that cannot await: the caller must watch
        [`buffered_amount`][wsframe.asyncio.WebSocketConnection.buffered_amount] itself,
        or memory grows with a slow peer. `send()` is this plus the wait.

        Raises:
            ConnectionClosed: the connection is closing or closed.
            TypeError: `message` is neither str nor bytes-like.
        """
        protocol = self._protocol
        if protocol is None or self._lost or protocol.state is not State.OPEN:
            protocol = self._check_sendable()  # raises
        protocol.send(message)
        self._write_out(protocol)

    async def send(self, message: str | bytes | bytearray | memoryview) -> None:
        """Send a message: text for `str`, binary for bytes-like data.

        Waits while the transport's write buffer is above `write_limit`. Messages longer
        than `fragmentation_threshold` go out in fragments when fragmentation is on.

        Raises:
            ConnectionClosed: the connection is closing or closed.
            TypeError: `message` is neither str nor bytes-like.
        """
        # send_nowait() and _after_send() inlined: this is the hot path of every echo.
        protocol = self._protocol
        if protocol is None or self._lost or protocol.state is not State.OPEN:
            protocol = self._check_sendable()  # raises
        protocol.send(message)
        out = protocol.buffers_to_send()
        transport = self._transport
        if out and transport is not None:
            if self._tls:
                _write_pieces(transport, out)
            elif len(out) == 1:
                transport.write(out[0])
            elif len(out) == 2 and len(out[1]) < _JOIN_BELOW:  # a frame's header and payload
                transport.write(b"".join(out))
            else:
                _write_buffers(transport, out, self.write_limit)
        self._sends_in_a_row += 1
        if (
            self._write_paused
            or self._sends_in_a_row >= _YIELD_AFTER_SENDS
            or (transport is not None and transport.is_closing())  # a failed write
        ):
            await self._drain()

    async def send_text(self, text: str) -> None:
        """Send a text message (see [`send`][wsframe.asyncio.WebSocketConnection.send])."""
        protocol = self._check_sendable()
        protocol.send_text(text)
        self._write_out(protocol)
        await self._after_send()

    async def send_binary(self, data: bytes | bytearray | memoryview) -> None:
        """Send a binary message (see [`send`][wsframe.asyncio.WebSocketConnection.send])."""
        protocol = self._check_sendable()
        protocol.send_binary(data)
        self._write_out(protocol)
        await self._after_send()

    async def send_fragment(self, data: str | bytes | bytearray | memoryview, *, fin: bool) -> None:
        """Send one frame of a message you fragment yourself; `fin=True` ends the message.

        Raises:
            ConnectionClosed: the connection is closing or closed.
            TypeError: the type differs from the message's first fragment.
            InvalidState: see [`Connection.send_fragment`][wsframe.Connection.send_fragment].
        """
        protocol = self._check_sendable()
        protocol.send_fragment(data, fin=fin)
        self._write_out(protocol)
        await self._after_send()

    async def ping(self, data: bytes = b"") -> asyncio.Future[float]:
        """Send a ping; return a future that resolves to the round-trip time in seconds.

        `await (await connection.ping())` waits for the pong. Payloads identify pings:
        a pong answers the latest ping with the same payload.

        Raises:
            ConnectionClosed: the connection is closing or closed.
            ValueError: `data` is longer than 125 bytes.
        """
        if len(data) > 125:
            raise ValueError(f"ping payload is {len(data)} bytes; at most 125 are allowed")
        future = self._send_ping_now(bytes(data))
        await self._after_send()
        return future

    async def pong(self, data: bytes = b"") -> None:
        """Send an unsolicited pong (a one-way heartbeat).

        Raises:
            ConnectionClosed: the connection is closing or closed.
            ValueError: `data` is longer than 125 bytes.
        """
        protocol = self._check_sendable()
        protocol.send_pong(data)
        self._write_out(protocol)
        await self._after_send()

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Start the closing handshake and wait until the connection is closed.

        After `close_timeout` seconds without the peer's answer the transport is aborted.
        Closing a connection that is already closing or closed only waits.

        Raises:
            ValueError: a code that may not be sent, or a reason over 123 bytes, even
                when the connection is already closed.
        """
        check_close_code(code, reason)
        protocol = self._protocol
        if self._pending_fail:
            # The peer broke the protocol: the connection fails with its code instead.
            self._apply_fail()
        if protocol is None:
            self.abort()
        else:
            self._send_close(protocol, code, reason)
        await self.wait_closed()

    def _send_close(self, protocol: Connection, code: int, reason: str = "") -> None:
        """Send our close frame now, if the connection is still open."""
        if protocol.state is State.OPEN and not self._lost:
            protocol.send_close(code, reason)
            self._flush()
            self._update_reading()

    def abort(self, reason: str = "") -> None:
        """Drop the connection now, without a closing handshake (close code 1006)."""
        if reason and not self._drop_reason:
            self._drop_reason = reason
        transport = self._transport
        if transport is not None and not self._lost:
            transport.abort()

    async def wait_closed(self) -> None:
        """Wait until the transport is closed."""
        await asyncio.shield(self._closed)

    # ----------------------------------------------------- receiving (public)

    def set_message_callback(self, callback: Callable[[Data], object] | None) -> None:
        """Hand each message to `callback` as it arrives, instead of to `recv()`.

        The low-level receiving API, for the last microseconds: `callback(message)` is
        called from the event loop's read callback for every complete message, in
        order (`str` for text, `bytes` for binary), with no task switch per message.
        About a sixth less CPU per small echo than `async for` (see the performance
        page). Messages already received and not yet taken go to `callback` first,
        during this call. `None` goes back to `recv()` and `async for`.

        The callback must not block. It answers with
        [`send_nowait()`][wsframe.asyncio.WebSocketConnection.send_nowait]; while the
        transport's write buffer is over `write_limit`, reading pauses, so a peer that
        sends without reading cannot grow memory. If the callback raises, the error is
        logged, the callback is removed and the connection is closed with code 1011
        (internal error);
        [`ConnectionClosed`][wsframe.ConnectionClosed] from a send during the closing
        handshake is ignored. Wait for the end with
        [`wait_closed()`][wsframe.asyncio.WebSocketConnection.wait_closed].

        Raises:
            InvalidState: the opening handshake is not complete, the connection streams
                fragments (`assemble_fragments=False`), or a task is waiting in
                `recv()`. While a callback is set, `recv()` and `async for` raise it.
        """
        protocol = self._protocol
        if protocol is None:
            raise InvalidState("the opening handshake is not complete")
        if callback is not None:
            if not protocol.assembles_fragments:
                raise InvalidState("this connection delivers fragments: a message callback takes whole messages")
            if self._recv_waiter is not None:
                raise InvalidState("a task is waiting in recv()")
        self._on_message = callback
        if callback is None:
            return
        queue = self._queue
        while queue and self._on_message is callback:
            self._call_back(callback, cast(Data, queue.popleft()))  # no fragments: checked above
        if self._on_message is not callback:
            return  # the callback changed it
        if self._pending_fail:
            self._apply_fail()
        elif self._paused_by_queue:
            self._queue_drained()
        if self._write_paused:
            self._pause_for_writes()

    def _call_back(self, callback: Callable[[Data], object], message: Data) -> None:
        try:
            callback(message)
        except ConnectionClosed:
            pass  # a reply during the closing handshake: nothing to do
        except Exception:
            self.logger.exception("connection %d: error in the message callback", self.id)
            self._on_message = None  # later messages wait in the queue, for recv()
            protocol = self._protocol
            if protocol is not None:
                self._send_close(protocol, CloseCode.INTERNAL_ERROR)

    async def _next_item(self) -> Data | Fragment:
        """Wait until the queue holds an item and take it (the slow path of `recv()`)."""
        queue = self._queue
        while not queue:
            if self._on_message is not None:
                raise InvalidState("messages go to the callback of set_message_callback()")
            if self._pending_fail:
                self._apply_fail()
            if self._lost or (self._protocol is not None and self._protocol_done()):
                raise self._closed_exception()
            if self._recv_waiter is not None:
                raise InvalidState("another task is already waiting for a message")
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._recv_waiter = waiter
            self._sends_in_a_row = 0
            try:
                await waiter
            finally:
                if self._recv_waiter is waiter:
                    self._recv_waiter = None
        return queue.popleft()

    def _protocol_done(self) -> bool:
        """True when no more messages can arrive (close received, failed, or EOF)."""
        protocol = self._protocol
        if protocol is None:
            return False
        return (
            protocol.close_received is not None
            or protocol.failure is not None
            or protocol.eof_received
            or (protocol.should_close_transport)
        )

    async def recv(self) -> Data:
        """Wait for the next message: `str` for text, `bytes` for binary.

        Messages that arrived before the connection closed are still returned; then
        [`ConnectionClosed`][wsframe.ConnectionClosed] is raised.

        Raises:
            ConnectionClosed: no more messages will arrive.
            InvalidState: the connection streams fragments (`assemble_fragments=False`),
                or another task is already waiting in `recv()`.
        """
        queue = self._queue
        # Fast path: a message is waiting, no need to suspend.
        item = queue.popleft() if queue else await self._next_item()
        if self._paused_by_queue and len(queue) <= self.max_queue // 4:
            self._queue_drained()
        if type(item) is Fragment:
            queue.appendleft(item)
            raise InvalidState("this connection delivers fragments: use recv_fragment()")
        return item  # type: ignore[return-value]

    async def recv_fragment(self) -> Fragment:
        """Wait for the next fragment when `assemble_fragments` is False.

        Raises:
            ConnectionClosed: no more fragments will arrive.
            InvalidState: the connection assembles messages (use `recv()`).
        """
        queue = self._queue
        item = queue.popleft() if queue else await self._next_item()
        if self._paused_by_queue and len(queue) <= self.max_queue // 4:
            self._queue_drained()
        if type(item) is not Fragment:
            queue.appendleft(item)
            raise InvalidState("this connection assembles messages: use recv()")
        return item

    def __aiter__(self) -> AsyncIterator[Data]:
        """Iterate over messages until the connection closes normally (1000 or 1001).

        Any other ending raises [`ConnectionClosedError`][wsframe.ConnectionClosedError].
        """
        return self

    async def __anext__(self) -> Data:
        # recv() inlined, and the usual wait of _next_item() too: two coroutines less
        # per message.
        queue = self._queue
        if (
            not queue
            and self._recv_waiter is None
            and not self._pending_fail
            and not self._lost
            and self._on_message is None
        ):
            protocol = self._protocol
            if (
                protocol is not None
                and protocol.state is _OPEN
                and protocol.failure is None
                and not protocol.eof_received
            ):
                waiter: asyncio.Future[None] = self._loop.create_future()
                self._recv_waiter = waiter
                self._sends_in_a_row = 0
                try:
                    await waiter
                finally:
                    if self._recv_waiter is waiter:
                        self._recv_waiter = None
        if queue:
            item = queue.popleft()
        else:
            try:
                item = await self._next_item()
            except ConnectionClosedOK:
                raise StopAsyncIteration from None
        if self._paused_by_queue and len(queue) <= self.max_queue // 4:
            self._queue_drained()
        if type(item) is Fragment:
            queue.appendleft(item)
            raise InvalidState("this connection delivers fragments: use recv_fragment()")
        return item  # type: ignore[return-value]

    async def fragments(self) -> AsyncIterator[Fragment]:
        """Yield fragments until the connection closes normally (streaming mode)."""
        while True:
            try:
                fragment = await self.recv_fragment()
            except ConnectionClosedOK:
                return
            yield fragment

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        """Close the connection (1000) when the `async with` block ends."""
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.state.name} {self.remote_address}>"
