"""Keepalive and pings: `ping()`, `pong()`, the keepalive timer, pongs matched to pings.

The keepalive pings after `keepalive_interval` seconds without data from the peer and
drops the connection if nothing arrives within `keepalive_grace`; every ping, ours or
the application's, waits in `_pings` for the pong with its payload, which sets
`latency`.

Offers the layers above: `_keepalive()` (started once the handshake is complete),
`_on_ping()` and `_on_pong()` (the receiving layer's dispatch).
"""

from __future__ import annotations

import asyncio

from .._connection import State
from .._errors import ConnectionClosed, InvalidState
from ._closing import ClosingLayer

__all__ = ["KeepaliveLayer"]


class KeepaliveLayer(ClosingLayer):
    """Keepalive and pings of [`WebSocketConnection`][wsframe.asyncio.WebSocketConnection]."""

    __slots__ = ()

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

    # ------------------------------------------------------------ internal

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
