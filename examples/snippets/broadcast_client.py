"""Subscribe to the ticker and print three ticks."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    async with wsclient.connect(URL) as ws:
        for _ in range(3):
            print("<", await ws.recv())


if __name__ == "__main__":
    asyncio.run(main())
