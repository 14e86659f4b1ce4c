"""Property tests of a wsclient <-> wsserver pair over real sockets on 127.0.0.1 (hypothesis).

The invariant: any sequence of text and binary messages sent by the client reaches the
server identical and in order, and the server's echo reaches the client identical and
in order, whatever each side's fragmentation threshold (down to one byte, which splits
UTF-8 sequences across frames), with and without permessage-deflate on either side.
"""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wsclient
import wsserver

#: Bound of one example, handshake and close included.
EXAMPLE_TIMEOUT = 30.0
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

payloads = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    # Repetitive, so that permessage-deflate actually compresses; some above 64 KiB.
    st.builds(lambda text, count: text * count, st.text(min_size=1, max_size=8), st.integers(1, 12_000)),
    st.builds(lambda data, count: data * count, st.binary(min_size=1, max_size=8), st.integers(1, 12_000)),
)
messages = st.lists(payloads, max_size=12)
thresholds = st.one_of(st.integers(1, 16), st.integers(17, 70_000))


async def _exchange(
    sent: list[str | bytes], client_threshold: int, server_threshold: int, client_deflate: bool, server_deflate: bool
) -> tuple[list[str | bytes], list[str | bytes], list[str], list[str]]:
    """Send `sent` from the client through an echo server; return what each side received and negotiated."""
    received_by_server: list[str | bytes] = []
    server_extensions: list[str] = []

    async def echo(request: wsserver.WebSocketRequest) -> None:
        connection = request.accept()
        server_extensions.extend(connection.extensions)
        async for message in connection:
            received_by_server.append(message)
            await connection.send(message)

    server = wsserver.WebSocketServer(
        echo, fragmentation_threshold=server_threshold, permessage_deflate=server_deflate, keepalive_interval=None
    )
    try:
        port = (await server.listen("127.0.0.1", 0))[0][1]
        async with wsclient.connect(
            f"ws://127.0.0.1:{port}/",
            fragmentation_threshold=client_threshold,
            permessage_deflate=client_deflate,
            keepalive_interval=None,
        ) as ws:
            client_extensions = list(ws.extensions)

            async def send_all() -> None:
                for message in sent:
                    await ws.send(message)

            async def receive_all() -> list[str | bytes]:
                return [await ws.recv() for _ in sent]

            # Concurrently: a long sequence never waits on full buffers in both directions.
            _, echoed = await asyncio.gather(send_all(), receive_all())
            await ws.close()
        assert ws.close_code == 1000
    finally:
        await server.shutdown(timeout=5.0)
    return received_by_server, echoed, client_extensions, server_extensions


@SETTINGS
@given(messages, thresholds, thresholds, st.booleans(), st.booleans())
def test_messages_arrive_identical_and_in_order(
    sent: list[str | bytes], client_threshold: int, server_threshold: int, client_deflate: bool, server_deflate: bool
) -> None:
    received, echoed, client_extensions, server_extensions = asyncio.run(
        asyncio.wait_for(
            _exchange(sent, client_threshold, server_threshold, client_deflate, server_deflate), EXAMPLE_TIMEOUT
        )
    )
    # Equality includes the type: text stays str, binary stays bytes.
    assert [type(message) for message in received] == [type(message) for message in sent]
    assert received == sent
    assert [type(message) for message in echoed] == [type(message) for message in sent]
    assert echoed == sent
    negotiated = ["permessage-deflate"] if client_deflate and server_deflate else []
    assert client_extensions == negotiated
    assert server_extensions == negotiated
