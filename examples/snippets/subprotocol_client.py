"""Offer subprotocols, preferred first, and see which one the server picks."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    for offer in (["chat.v1", "chat.v2"], ["chat.v1"], ["mqtt"]):
        try:
            async with wsclient.connect(URL, offer) as ws:
                print(offer, "->", ws.subprotocol, "|", await ws.recv())
        except wsclient.HandshakeFailed as exc:
            print(offer, "-> refused:", exc.status, exc.body.decode().strip())


if __name__ == "__main__":
    asyncio.run(main())
