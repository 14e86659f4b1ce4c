"""Play the proxy's part: send X-Forwarded-For as nginx would."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    headers = {
        "X-Forwarded-For": "203.0.113.7"
    }  # what nginx's $proxy_add_x_forwarded_for adds
    async with wsclient.connect(URL, headers=headers) as ws:
        print("<", await ws.recv())


if __name__ == "__main__":
    asyncio.run(main())
