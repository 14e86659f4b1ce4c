"""WebSocket-Node's README server, ported: HTTP gets 404, "echo-protocol" echoes."""

import asyncio
import datetime
import logging
import os

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8080"))


def log(text: str) -> None:
    print(datetime.datetime.now(), text, flush=True)


async def http_handler(request: wsserver.Request) -> wsserver.Response | None:
    log(f"Received request for {request.target}")
    return None  # 404, as response.writeHead(404)


def origin_is_allowed(origin: str | None) -> bool:
    return True  # put logic here to detect whether the specified origin is allowed


async def on_request(
    request: wsserver.WebSocketRequest,
) -> None:  # wsServer.on('request')
    if not origin_is_allowed(request.origin):
        request.reject()  # 403
        log(f"Connection from origin {request.origin} rejected.")
        return
    connection = request.accept("echo-protocol")
    log("Connection accepted.")
    try:
        async for message in connection:  # connection.on('message')
            if isinstance(message, str):  # message.type === 'utf8'
                log(f"Received Message: {message}")
                await connection.send_text(message)  # sendUTF
            else:  # message.type === 'binary'
                log(f"Received Binary Message of {len(message)} bytes")
                await connection.send_binary(message)  # sendBytes
    finally:  # connection.on('close')
        log(f"Peer {request.remote_address} disconnected.")


async def main() -> None:
    server = wsserver.WebSocketServer(on_request, http_handler=http_handler)
    async with server:
        await server.listen(HOST, PORT)  # logs "listening on ws://..."
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
