"""Authenticate with a header, then with a cookie; see how refusals look."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    async with wsclient.connect(URL, headers={"Authorization": "Bearer s3cr3t-token"}) as ws:
        print("<", await ws.recv())

    cookie = {"Cookie": "session=s3cr3t-token"}
    async with wsclient.connect(URL, origin="https://app.example.com", headers=cookie) as ws:
        print("<", await ws.recv())
        print("Set-Cookie:", ws.response.headers.get("Set-Cookie"))

    for origin in (None, "https://evil.example"):
        try:
            await wsclient.connect(URL, origin=origin)
        except wsclient.HandshakeFailed as exc:
            print("refused:", exc.status, exc.response.headers.get("X-WebSocket-Reject-Reason"))


if __name__ == "__main__":
    asyncio.run(main())
