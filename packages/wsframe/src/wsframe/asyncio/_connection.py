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
import sys
import types
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Self
    else:  # pragma: no cover
        from typing_extensions import Self

from .._connection import Connection
from .._errors import InvalidState
from ._io import COPY_READS_UP_TO
from ._receiving import ReceivingLayer

__all__ = ["WebSocketConnection"]


class WebSocketConnection(ReceivingLayer):
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

    __slots__ = ()

    # ------------------------------------- asyncio.Protocol, driver contract

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport; subclasses start their handshake here."""
        stream = cast(asyncio.Transport, transport)  # always a stream transport here
        self._transport = stream
        self._tls = transport.get_extra_info("ssl_object") is not None
        low = self.write_limit // 4
        stream.set_write_buffer_limits(high=self.write_limit, low=low)
        self.remote_address = transport.get_extra_info("peername")
        self.local_address = transport.get_extra_info("sockname")

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
        self._receive(protocol, bytes(view) if nbytes <= COPY_READS_UP_TO else view)
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

    # ------------------------------------------------------ context manager

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
