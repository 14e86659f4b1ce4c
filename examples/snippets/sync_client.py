"""The blocking client: no asyncio in your code, for scripts and notebooks."""

import os

from wsclient.sync import connect

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")

with connect(URL) as ws:
    ws.send("Hello, world!")
    print("<", ws.recv(timeout=10))

    for word in ["one", "two", "three"]:
        ws.send(word)
    for _ in range(3):
        print("<", ws.recv(timeout=10))

    try:
        ws.recv(timeout=0.1)  # nothing more is coming
    except TimeoutError:
        print("no message within 0.1 s")

    print(f"ping: {ws.ping(timeout=10) * 1000:.2f} ms")
print("closed:", ws.close_code)
