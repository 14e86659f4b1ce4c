"""The asyncio driver that wsserver and wsclient share.

The sans-IO core (`wsframe` itself) never imports this package; drivers do. It holds
[`WebSocketConnection`][wsframe.asyncio.WebSocketConnection], the connection object
both sides hand to applications, so that the server and the client offer one API and
one implementation of flow control, keepalive and the closing handshake.

`WebSocketConnection` is one class written as a chain of layers, one concern per
module, each layer a subclass of the one before:

| module | layer | holds |
| --- | --- | --- |
| `_state.py` | `StateLayer` | the one `__slots__`, `__init__`, `state`, `close_code`, `transport`, ... |
| `_flow.py` | `FlowControlLayer` | pausing and resuming reads, `pause_writing()` / `resume_writing()` |
| `_sending.py` | `SendingLayer` | `send()` and its variants, waiting while the write buffer is full |
| `_closing.py` | `ClosingLayer` | `close()`, `abort()`, the closing handshake, its timers, protocol errors |
| `_keepalive.py` | `KeepaliveLayer` | `ping()`, `pong()`, the keepalive timer, pongs matched to pings, `latency` |
| `_receiving.py` | `ReceivingLayer` | parsing reads, the queue, `recv()`, `async for`, the message callback |
| `_connection.py` | `WebSocketConnection` | the `asyncio.Protocol` callbacks and the driver contract |

`_io.py` holds the module-level I/O helpers (the read buffer each event loop's
connections share, the ways output is written); the defaults are `wsframe.options`' (the same objects).

A chain, not objects calling each other: every layer's methods run on the connection
itself, so the hot paths (`buffer_updated()`, `send()`, `async for`) pay no extra
attribute lookup or call for being split. The underscored attributes and methods are
the class's private members, not any one module's: each layer may use those of the
layers below it (each module's docstring lists what it offers upward), and the only
call up the chain is `data_received()`, which the last layer defines. Nothing outside
this package touches them; module-level names that another module imports have no
underscore (`read_buffer`, `write_pieces`).
"""

from __future__ import annotations

from .._options import (
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_KEEPALIVE_GRACE,
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_MAX_QUEUE,
    DEFAULT_WRITE_LIMIT,
)
from .._typing import Data
from ._connection import WebSocketConnection

__all__ = [
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_KEEPALIVE_GRACE",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_WRITE_LIMIT",
    "Data",
    "WebSocketConnection",
]
