"""Wait until the server goes away, then report how it closed the connection."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    async with wsclient.connect(URL) as ws:
        print("connected", flush=True)
        async for message in ws:  # ends without an error on 1000 and 1001
            print("<", message)
        print("closed by the server:", ws.close_code, ws.close_reason)


if __name__ == "__main__":
    asyncio.run(main())
