"""The browser's WebSocket interface in Python: onopen, onmessage, addEventListener."""

import asyncio
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    ws = wsclient.W3CWebSocket(URL)  # starts connecting at once
    replies: list[object] = []

    def on_open(event: wsclient.Event) -> None:
        print("open: readyState", ws.readyState)
        ws.send("Hello, world!")
        ws.send(b"\x00\x01\x02")
        print("bufferedAmount:", ws.bufferedAmount)

    def on_message(event: wsclient.MessageEvent) -> None:
        print("message:", event.data)
        replies.append(event.data)
        if len(replies) == 2:
            ws.close(1000, "done")

    def on_close(event: wsclient.CloseEvent) -> None:
        print(f"close: code {event.code}, reason {event.reason!r}", end=", ")
        print("wasClean", event.wasClean)

    ws.onopen = on_open
    ws.onmessage = on_message
    ws.addEventListener("close", on_close)
    ws.onerror = lambda event: print("error:", event.message)

    await ws.wait_closed()  # Python has no page to keep the program alive: wait here
    print("readyState", ws.readyState, "== CLOSED:", ws.readyState == ws.CLOSED)


if __name__ == "__main__":
    asyncio.run(main())
