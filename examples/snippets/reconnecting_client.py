"""Stay connected: a new connection each time the previous one ends, with backoff."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    sessions = 0
    async for ws in wsclient.reconnecting(URL, initial_delay=0.5, max_delay=30):
        sessions += 1
        try:
            async for message in ws:
                print("<", message)
        except wsclient.ConnectionClosed as exc:
            print(f"lost connection {sessions}: {exc.code} {exc.reason}")
        if sessions == 3:
            await ws.close()
            break


if __name__ == "__main__":
    asyncio.run(main())
