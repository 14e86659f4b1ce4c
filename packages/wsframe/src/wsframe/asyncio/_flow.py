"""Flow control, both ways: when reading pauses and resumes, and when writers wait.

Reading pauses while the queue of received messages is full (`_paused_by_queue`) or
while automatic replies pile up in a paused write buffer (`_paused_by_writes`);
`_update_reading()` is the one place that pauses and resumes the transport. Writers
wait from `pause_writing()` to `resume_writing()` (see `_drain()` in `_sending.py`).

Offers the layers above: `_update_reading()`, `_pause_for_writes()`,
`_wake_drain_waiters()`, `_queue_drained()`.
"""

from __future__ import annotations

from .._connection import State
from ._state import StateLayer

__all__ = ["FlowControlLayer"]


class FlowControlLayer(StateLayer):
    """Flow control of [`WebSocketConnection`][wsframe.asyncio.WebSocketConnection]."""

    __slots__ = ()

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
        # close frame must get through (data arriving then is dropped, see `_receive()`).
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
