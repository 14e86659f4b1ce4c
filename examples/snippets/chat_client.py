"""Bob and Alice meet in the lobby: each is a client of the chat server."""

import asyncio
import json
import os

import wsclient

URL = os.environ.get("WS_URL", "ws://127.0.0.1:8765/")


async def main() -> None:
    async with wsclient.connect(URL + "rooms/lobby?name=bob", ["chat"]) as bob:
        print("bob <", json.loads(await bob.recv()))  # his own join
        async with wsclient.connect(URL + "rooms/lobby?name=alice", ["chat"]) as alice:
            print("bob <", json.loads(await bob.recv()))  # alice joins
            await alice.send("Hi Bob!")
            print("bob <", json.loads(await bob.recv()))
        print("bob <", json.loads(await bob.recv()))  # alice left

    try:
        await wsclient.connect(URL + "rooms/lobby")  # no subprotocol
    except wsclient.HandshakeFailed as exc:
        print("refused:", exc.status, exc.body.decode().strip())


if __name__ == "__main__":
    asyncio.run(main())
