"""wsproto echo server for the benchmark: the sans-IO wsproto driven by an asyncio Protocol.

``python bench/servers/wsproto_server.py PORT [--uvloop] [--deflate]``. The bare minimum a
server built on wsproto needs: no tasks, no queues, no flow control; wsproto itself has
no message size limit, so messages are assembled up to 16 MiB here.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from _common import HOST, MAX_MESSAGE_SIZE, parse_args, ready, run
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.extensions import Extension, PerMessageDeflate


class EchoProtocol(asyncio.Protocol):
    def __init__(self, deflate: bool) -> None:
        self.deflate = deflate
        self.ws = WSConnection(ConnectionType.SERVER)
        self.transport: asyncio.Transport | None = None
        self.parts: list[Any] = []
        self.size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # always a stream transport

    def data_received(self, data: bytes) -> None:
        ws = self.ws
        ws.receive_data(data)
        out: list[bytes] = []
        for event in ws.events():
            if isinstance(event, (TextMessage, BytesMessage)):
                self.parts.append(event.data)
                self.size += len(event.data)
                if self.size > MAX_MESSAGE_SIZE:
                    out.append(ws.send(CloseConnection(code=1009)))
                    break
                if event.message_finished:
                    parts, self.parts, self.size = self.parts, [], 0
                    if isinstance(event, TextMessage):
                        out.append(ws.send(TextMessage(data="".join(parts))))
                    else:
                        out.append(ws.send(BytesMessage(data=b"".join(parts))))
            elif isinstance(event, Request):
                extensions: list[Extension] = [PerMessageDeflate()] if self.deflate else []
                out.append(ws.send(AcceptConnection(extensions=extensions)))
            elif isinstance(event, Ping):
                out.append(ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                out.append(ws.send(event.response()))
                assert self.transport is not None
                self.transport.write(b"".join(out))
                self.transport.close()
                return
            elif isinstance(event, RejectConnection):
                break
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: EchoProtocol(args.deflate), HOST, args.port)
        ready(args.port)
        await server.serve_forever()

    run(serve, use_uvloop=args.uvloop)


if __name__ == "__main__":
    main()
