"""A wss:// client that trusts a private certificate authority."""

import asyncio
import os
import ssl

import wsclient

URL = os.environ.get("WS_URL", "wss://localhost:8765/")
CAFILE = os.environ.get("CAFILE", "ca.pem")


async def main() -> None:
    # Without ssl=, wsclient checks the certificate against the system's trust store.
    context = ssl.create_default_context(cafile=CAFILE)
    async with wsclient.connect(URL, ssl=context) as ws:
        await ws.send("Hello over TLS!")
        print("<", await ws.recv())


if __name__ == "__main__":
    asyncio.run(main())
