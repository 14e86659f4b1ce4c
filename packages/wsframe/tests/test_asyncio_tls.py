"""`wsframe.asyncio.WebSocketConnection` over asyncio's TLS transport.

asyncio encrypts each write into an OpenSSL memory BIO that keeps its largest size
until the connection closes, so the driver hands a TLS transport at most 64 KiB per
write: a large message must arrive whole and in order, and no write may be larger.
Real TLS over a socketpair (certificates from `trustme`), no mocks; the server's
transport is watched by wrapping its `write` method.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import trustme

from wsframe import Connection, ConnectionOptions, Role
from wsframe.asyncio import WebSocketConnection

#: The largest write the driver hands a TLS transport.
PIECE = 64 * 1024


def async_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 20))

    return wrapper


class Peer(WebSocketConnection):
    """Opened as soon as the (TLS) transport is made: no opening handshake."""

    def __init__(self, role: Role, options: ConnectionOptions) -> None:
        super().__init__(keepalive_interval=None, close_timeout=2.0, max_queue=64)
        self.role = role
        self.options = options
        self.writes: list[int] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        write = transport.write  # type: ignore[attr-defined]

        def recording_write(data: Any) -> None:
            self.writes.append(len(data))
            write(data)

        transport.write = recording_write  # type: ignore[attr-defined]
        super().connection_made(transport)
        self.handshake_complete(Connection(self.role, self.options))


async def tls_pair(options: ConnectionOptions) -> tuple[Peer, Peer]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_context)
    loop = asyncio.get_running_loop()
    left, right = socket.socketpair()
    server_side = loop.connect_accepted_socket(lambda: Peer(Role.SERVER, options), left, ssl=server_context)
    client_side = loop.create_connection(
        lambda: Peer(Role.CLIENT, options), sock=right, ssl=client_context, server_hostname="localhost"
    )
    (_, server), (_, client) = await asyncio.gather(server_side, client_side)
    return server, client


@pytest.mark.parametrize(
    "options",
    [
        ConnectionOptions(max_message_size=None, fragment_outgoing_messages=False),
        ConnectionOptions(max_message_size=None, fragmentation_threshold=100_000),
        ConnectionOptions(max_message_size=None),  # 64 KiB fragments: a header and a payload each
    ],
    ids=["one frame", "100 KB fragments", "default fragments"],
)
@pytest.mark.parametrize("role", ["server", "client"])
@async_test
async def test_large_messages_go_to_a_tls_transport_in_pieces(options: ConnectionOptions, role: str) -> None:
    server, client = await tls_pair(options)
    sender, receiver = (server, client) if role == "server" else (client, server)
    messages: list[str | bytes] = [bytes(range(256)) * 4096 + b"end", "é" * 300_000, b"small", b"x" * PIECE]
    sender.writes.clear()
    for message in messages:
        await sender.send(message)
    for message in messages:
        assert await asyncio.wait_for(receiver.recv(), 10) == message
    assert max(sender.writes) <= PIECE, sender.writes
    # Nothing is split needlessly: about one write per 64 KiB of output.
    total = sum(sender.writes)
    assert len(sender.writes) <= total // PIECE + 2 * len(messages), sender.writes
    await sender.close()
    await asyncio.wait_for(receiver.wait_closed(), 5)
