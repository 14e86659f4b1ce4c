"""Receiving: parsing reads into events, the message queue, `recv()`, the iterator, the callback.

`_receive()` runs on every read: it parses no more events than the queue has room for
(the rest stays in the core's backlog), writes the automatic replies, and dispatches
each event: messages to the queue or to the callback of `set_message_callback()`,
control frames to the layers below. `recv()`, `recv_fragment()`, `async for` and
`fragments()` take from the queue.

Offers the layer above: `_receive()` and `_receive_backlog()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import cast

from .._close import CloseCode
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
from .._typing import Data
from ._keepalive import KeepaliveLayer

__all__ = ["ReceivingLayer"]

_OPEN = State.OPEN


class ReceivingLayer(KeepaliveLayer):
    """Receiving of [`WebSocketConnection`][wsframe.asyncio.WebSocketConnection]."""

    __slots__ = ()

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

    # ------------------------------------------------------------ internal

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
