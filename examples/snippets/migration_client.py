"""WebSocket-Node's README client, ported: send random numbers, print the echoes."""

import asyncio
import os
import random

import wsclient

URL = os.environ.get("WS_URL", "ws://localhost:8080/")


async def main() -> None:
    try:  # client.connect('ws://localhost:8080/', 'echo-protocol')
        connection = await wsclient.connect(URL, ["echo-protocol"])
    except (wsclient.HandshakeFailed, OSError) as error:  # client.on('connectFailed')
        print(f"Connect Error: {error}")
        return
    print("WebSocket Client Connected")  # client.on('connect')
    async with connection:
        for _ in range(3):  # sendNumber(), three times
            number = random.randrange(0xFFFFFF)
            await connection.send_text(str(number))  # sendUTF
            message = await connection.recv()  # connection.on('message')
            if isinstance(message, str):  # message.type === 'utf8'
                print(f"Received: '{message}'")
            await asyncio.sleep(0.5)
    print("echo-protocol Connection Closed")  # connection.on('close')


if __name__ == "__main__":
    asyncio.run(main())
