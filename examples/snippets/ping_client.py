"""Measure the round-trip time with pings; keepalive is on by default."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    # Ping after 20 s without data from the server; drop the connection (1006) when
    # nothing arrives within 10 s more. None turns either off.
    async with wsclient.connect(URL, keepalive_interval=20, keepalive_grace=10) as ws:
        for _ in range(3):
            pong = await ws.ping()  # returns once the ping is sent
            rtt = await pong  # resolves when the pong arrives
            print(f"round trip: {rtt * 1000:.2f} ms")  # also in ws.latency


if __name__ == "__main__":
    asyncio.run(main())
