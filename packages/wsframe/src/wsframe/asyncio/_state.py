"""The base layer: every attribute of the connection, and the state read from them.

`StateLayer` declares the one `__slots__` of the
class chain (the layers above declare `__slots__ = ()`), sets every attribute in
`__init__`, and answers what the connection is: `state`, `open`, `close_code`,
`close_reason`, `buffered_amount`, and the driver's `loop`, `transport`, `sansio`.

Offers the layers above: `_closed_exception()`, the exception that operations on a
closed connection raise.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._close import CloseCode
from .._connection import Connection, State
from .._errors import ConnectionClosed
from .._events import Fragment
from .._options import (
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_KEEPALIVE_GRACE,
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_MAX_QUEUE,
    DEFAULT_WRITE_LIMIT,
    DriverOptions,
)
from .._typing import Data
from ._io import read_buffer

__all__ = ["StateLayer"]

_ids = itertools.count(1)


class StateLayer(asyncio.BufferedProtocol):
    """Attributes and state of [`WebSocketConnection`][wsframe.asyncio.WebSocketConnection]."""

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
        self._read_view = read_buffer(self._loop)
        self._transport: asyncio.Transport | None = None
        # Over TLS, large output goes to the transport in pieces (see `write_pieces()` in _io.py).
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

    if TYPE_CHECKING:
        # The one call that goes up the chain: the flow control layer parses the backlog
        # through it. WebSocketConnection, the last layer, defines it.
        def data_received(self, data: bytes | memoryview) -> None: ...

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
