"""A client for the echo server: sends two messages, prints the replies."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    async with wsclient.connect(URL) as ws:
        await ws.send("Hello, world!")
        print("<", await ws.recv())
        await ws.send(b"\x00\x01\x02")
        print("<", await ws.recv())


if __name__ == "__main__":
    asyncio.run(main())
