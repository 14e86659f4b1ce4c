"""Sending: `send()` and its variants, and the wait that keeps writers within limits.

Offers the layers above: `_check_sendable()` (the open sans-IO connection, or the
exception to raise), `_write_out()` (hand the core's output to the transport) and
`_after_send()` (wait while the write buffer is full, or yield now and then).
"""

from __future__ import annotations

import asyncio

from .._connection import Connection, State
from .._errors import InvalidState
from ._flow import FlowControlLayer
from ._io import JOIN_BELOW, write_buffers, write_pieces

__all__ = ["SendingLayer"]

#: Sends without waiting after which send() yields to the event loop once.
_YIELD_AFTER_SENDS = 64


class SendingLayer(FlowControlLayer):
    """Sending of [`WebSocketConnection`][wsframe.asyncio.WebSocketConnection]."""

    __slots__ = ()

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
                write_pieces(transport, out)
            elif len(out) == 1:
                transport.write(out[0])
            elif len(out) == 2 and len(out[1]) < JOIN_BELOW:  # a frame's header and payload
                transport.write(b"".join(out))
            else:
                write_buffers(transport, out, self.write_limit)
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

    # ------------------------------------------------------------ internal

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
                write_pieces(transport, out)
            elif len(out) == 1:
                transport.write(out[0])
            else:
                write_buffers(transport, out, self.write_limit)

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
