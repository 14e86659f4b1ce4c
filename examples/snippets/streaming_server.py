"""Receive large messages frame by frame: hash uploads, never whole in memory."""

import asyncio
import hashlib
import logging
import os

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))


async def upload(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    digest, size = hashlib.sha256(), 0
    async for fragment in connection.fragments():  # one wsserver.Fragment per frame
        data = fragment.data  # bytes for binary messages, str for text
        chunk = data.encode() if isinstance(data, str) else data
        digest.update(chunk)
        size += len(chunk)
        if fragment.fin:  # the last frame of a message
            await connection.send(f"received {size} bytes, sha256 {digest.hexdigest()}")
            digest, size = hashlib.sha256(), 0


async def main() -> None:
    server = wsserver.WebSocketServer(
        upload,
        assemble_fragments=False,  # deliver frames as they arrive
        max_message_size=1024**3,  # still enforced, frame by frame: 1 GiB here
    )
    async with server:
        await server.listen(HOST, PORT)  # logs "listening on ws://..."
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
