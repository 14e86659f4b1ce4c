"""Closing: the closing handshake, its timers, failing on a protocol error, aborting.

`close()`, `abort()` and `wait_closed()`; what happens when the peer's close frame or a
protocol violation arrives; the half-close of the transport and the `close_timeout`
that bounds it.

Offers the layers above: `_flush()` (write the core's output and close the transport
when it says so), `_send_close()`, `_on_close_received()`, `_on_failed()`,
`_apply_fail()`.
"""

from __future__ import annotations

import asyncio

from .._close import CloseCode, check_close_code
from .._connection import Connection, State
from .._events import CloseReceived, ConnectionFailed
from .._options import DEFAULT_CLOSE_TIMEOUT
from ._sending import SendingLayer

__all__ = ["ClosingLayer"]


class ClosingLayer(SendingLayer):
    """Closing of [`WebSocketConnection`][wsframe.asyncio.WebSocketConnection]."""

    __slots__ = ()

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
