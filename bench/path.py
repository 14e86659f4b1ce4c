"""wskit's own CPU per small echo, without sockets, event loop or kernel.

``python bench/path.py [--size 32] [--count 100000]``: drives one server-side
`WebSocketConnection` by hand. Each step writes a masked text frame into the shared
read buffer, calls ``buffer_updated()`` as the transport would, and resumes the
handler coroutine (``async for message in connection: await connection.send(message)``)
as its task would. A no-op transport takes the reply. Prints the best of 7 runs in
microseconds per echo, with ``wsframe.SPEEDUPS``. The difference with the benchmark's
server CPU per message is asyncio's loop, its socket transport, the task wake-up and
the kernel.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import wsframe
from wsframe import Connection, Role
from wsframe.asyncio import WebSocketConnection


class NullTransport(asyncio.Transport):
    """Takes writes and counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> None:
        self.writes += 1

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def masked_text_frame(payload: bytes, key: bytes = b"\x11\x22\x33\x44") -> bytes:
    masked = bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))
    return bytes((0x81, 0x80 | len(payload))) + key + masked


async def measure(size: int, count: int) -> float:
    connection = WebSocketConnection(keepalive_interval=None)
    transport = NullTransport()
    connection.connection_made(transport)
    connection.handshake_complete(Connection(Role.SERVER))  # what wsserver does after the handshake

    async def handler() -> None:
        async for message in connection:
            await connection.send(message)

    coroutine = handler()
    coroutine.send(None)  # now waiting for the first message
    frame = masked_text_frame(b"x" * size)
    length = len(frame)
    buffer = connection.get_buffer(-1)
    best = float("inf")
    for _ in range(7):
        started = time.process_time()
        for _ in range(count):
            buffer[:length] = frame
            connection.buffer_updated(length)
            coroutine.send(None)  # the task's wake-up: echo, then wait again
        best = min(best, time.process_time() - started)
    assert transport.writes == 7 * count
    coroutine.close()
    return best / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32, help="payload bytes (under 126)")
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    if not 0 <= args.size < 126:
        parser.error("--size must be between 0 and 125")
    per_echo = asyncio.run(measure(args.size, args.count))
    print(f"wskit's own path: {per_echo:.2f} us per {args.size}-byte echo (wsframe.SPEEDUPS={wsframe.SPEEDUPS})")


if __name__ == "__main__":
    main()
