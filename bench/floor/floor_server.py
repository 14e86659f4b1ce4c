"""The floor: the least a pure-Python asyncio server can spend per small echo.

``python bench/floor/floor_server.py PORT [--task] [--uvloop]``: not a WebSocket
server, a measuring stick. It answers the opening handshake, then assumes that every
read holds exactly one whole small masked frame (what the ``small`` workload sends)
and echoes it, with no checks at all. Without ``--task`` the echo is written from the
protocol's callback; with ``--task`` each connection has a task that waits for the
next message on a future and sends it back, the shape of a high-level API
(``async for message in connection: await connection.send(message)``).

Run it under the load generator as the benchmark runs a server::

    taskset -c 0 python bench/floor/floor_server.py 9000 --task &
    taskset -c 1 python bench/loadgen.py small --port 9000 --server-pid $! --duration 4

Whatever a library adds on top of asyncio's event loop and socket transport comes on
top of these figures (see bench/README.md, "The floor").
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import sys
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))

from _common import HOST, ready, run  # after the path is set

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FloorProtocol(asyncio.BufferedProtocol):
    buffer = bytearray(256 * 1024)  # shared, as wskit's read buffer

    def __init__(self, use_task: bool, constant: bool) -> None:
        self.use_task = use_task
        self.constant = constant
        self.reply: bytes | None = None
        self.handshake = True
        self.head = b""
        self.queue: collections.deque[bytes] = collections.deque()
        self.waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream transport here
        self.loop = asyncio.get_running_loop()

    def get_buffer(self, sizehint: int) -> bytearray:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        data = bytes(memoryview(self.buffer)[:nbytes])
        if self.handshake:
            self.head += data
            if b"\r\n\r\n" in self.head:
                self.answer_handshake()
            return
        payload = self.reply
        if payload is None:
            length = data[1] & 0x7F
            key = data[2:6]
            masked = data[6 : 6 + length]
            repeated = (key * (length // 4 + 1))[:length]
            payload = (int.from_bytes(masked, "little") ^ int.from_bytes(repeated, "little")).to_bytes(length, "little")
            if self.constant:
                # The load generator sends the same message again and again: from now
                # on reply without even unmasking it.
                self.reply = payload
        if not self.use_task:
            self.transport.write(bytes((data[0] & 0x8F, len(payload))) + payload)
            return
        self.queue.append(payload)
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            waiter.set_result(None)

    def answer_handshake(self) -> None:
        key = b""
        for line in self.head.split(b"\r\n"):
            if line.lower().startswith(b"sec-websocket-key:"):
                key = line.split(b":", 1)[1].strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self.handshake = False
        self.head = b""
        if self.use_task:
            self.task = self.loop.create_task(self.echo())

    async def recv(self) -> bytes:
        if not self.queue:
            self.waiter = self.loop.create_future()
            await self.waiter
        return self.queue.popleft()

    async def send(self, payload: bytes) -> None:
        self.transport.write(bytes((0x81, len(payload))) + payload)

    async def echo(self) -> None:
        while True:
            await self.send(await self.recv())

    def connection_lost(self, exc: Exception | None) -> None:
        if self.use_task:
            self.task.cancel()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--task", action="store_true", help="echo from a task per connection")
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument(
        "--constant",
        action="store_true",
        help="unmask the first message only and reply the same payload to every later one",
    )
    args = parser.parse_args()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: FloorProtocol(args.task, args.constant), HOST, args.port)
        ready(args.port)
        await server.serve_forever()

    run(serve, use_uvloop=args.uvloop)


if __name__ == "__main__":
    main()
