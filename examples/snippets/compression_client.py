"""See what was negotiated: wsclient offers permessage-deflate by default."""

import asyncio
import json
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    async with wsclient.connect(URL) as ws:
        print("extensions:", ws.extensions)
        print("agreed:", ws.response.headers.get("Sec-WebSocket-Extensions"))
        records = [
            {"id": n, "status": "active", "tags": ["a", "b"]} for n in range(100)
        ]
        message = json.dumps(records)
        await ws.send(message)
        assert await ws.recv() == message
        print(f"echoed {len(message)} bytes of JSON")

    async with wsclient.connect(URL, permessage_deflate=False) as ws:
        print("without compression:", ws.extensions)


if __name__ == "__main__":
    asyncio.run(main())
