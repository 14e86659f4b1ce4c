"""Authenticate with a header, then with a cookie; see how refusals look."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    bearer = {"Authorization": "Bearer s3cr3t-token"}
    async with wsclient.connect(URL, headers=bearer) as ws:
        print("<", await ws.recv())

    cookie = {"Cookie": "session=s3cr3t-token"}
    origin = "https://app.example.com"  # as a browser on that page would send
    async with wsclient.connect(URL, origin=origin, headers=cookie) as ws:
        print("<", await ws.recv())
        print("Set-Cookie:", ws.response.headers.get("Set-Cookie"))

    for other in (None, "https://evil.example"):
        try:
            await wsclient.connect(URL, origin=other)
        except wsclient.HandshakeFailed as exc:
            reason = exc.response.headers.get("X-WebSocket-Reject-Reason")
            print("refused:", exc.status, reason)


if __name__ == "__main__":
    asyncio.run(main())
