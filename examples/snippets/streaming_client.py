"""Send a large message in pieces as they are produced, never whole in memory."""

import asyncio
import hashlib
import os
from collections.abc import Iterator

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


def produce(total: int, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """Stand-in for reading a file: yields `total` bytes in chunks."""
    for start in range(0, total, chunk_size):
        yield bytes([start // chunk_size % 256]) * min(chunk_size, total - start)


async def main() -> None:
    total = 20 * 1024 * 1024
    digest = hashlib.sha256()
    async with wsclient.connect(URL) as ws:
        for chunk in produce(total):
            digest.update(chunk)
            await ws.send_fragment(chunk, fin=False)  # waits while the socket is busy
        await ws.send_fragment(b"", fin=True)  # an empty last frame ends the message
        print("<", await ws.recv())
    print("sent", total, "bytes, sha256", digest.hexdigest())


if __name__ == "__main__":
    asyncio.run(main())
