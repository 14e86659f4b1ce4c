"""Connect through an HTTP proxy (a CONNECT tunnel)."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")
PROXY = os.environ.get("PROXY", "http://127.0.0.1:3128")


async def main() -> None:
    # proxy=True (the default) reads http_proxy, https_proxy, all_proxy and no_proxy;
    # a URL picks the proxy; proxy=None connects directly.
    async with wsclient.connect(URL, proxy=PROXY) as ws:
        await ws.send("Hello through the proxy!")
        print("<", await ws.recv())


if __name__ == "__main__":
    asyncio.run(main())
