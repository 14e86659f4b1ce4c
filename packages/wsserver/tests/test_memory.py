"""Memory that comes back: closed connections are freed at once, and the heap is trimmed.

* Closed TLS connections must be freed by reference counting, with the cycle collector
  off: asyncio's TLS transport keeps its protocol, which keeps bound methods of ours,
  so a connection that kept its transport after the close was a reference cycle
  holding asyncio's 256 KiB TLS read buffer until the next full collection (under
  churn, hundreds of MiB). Checked on both ends, for every way a connection ends.
* `WebSocketServer(memory_release_interval=...)` gives the heap's free memory back to
  the system with glibc's `malloc_trim(0)` (glibc only: skipped elsewhere).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
import sys
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

import wsclient
import wsserver
from wsframe.asyncio import WebSocketConnection

#: Connections opened and closed while the cycle collector is off.
CHURN = 12
#: Each connection echoes one message this large, so that its buffers are large too.
MESSAGE = b"\x5a" * (200 * 1024)
#: Traced memory the churn may leave behind in all (dict resizes, caches): far below
#: what one leaked TLS connection holds (its 256 KiB read buffer alone).
TRACED_GROWTH_LIMIT = 192 * 1024


@pytest.fixture(scope="module")
def contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_context)
    return server_context, client_context


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _alive(kind: type) -> int:
    """Instances of `kind` alive now, without collecting anything."""
    return sum(isinstance(o, kind) for o in gc.get_objects())


async def _one_connection(port: int, context: ssl.SSLContext, ending: str) -> None:
    client = await wsclient.connect(f"wss://127.0.0.1:{port}/", ssl=context, proxy=None)
    await client.send(MESSAGE)
    assert await asyncio.wait_for(client.recv(), 10) == MESSAGE
    if ending == "client closes":
        await client.close()
    elif ending == "server closes":
        await client.send("close, please")
        # Neither pytest.raises() nor wait_for(): on 3.10 and 3.11 the exception's
        # traceback (and wait_for's task) would keep this frame, so `client`, alive.
        try:
            await client.recv()
        except wsclient.ConnectionClosed:
            pass
        else:
            raise AssertionError("the server did not close the connection")
    elif ending == "client aborts":
        client.abort()
    else:  # "client aborts with echoes in flight"
        for _ in range(4):
            await client.send(MESSAGE)
        client.abort()
    await asyncio.wait_for(client.wait_closed(), 10)


@pytest.mark.parametrize("ending", ["client closes", "server closes", "client aborts", "client aborts in flight"])
async def test_closed_tls_connections_are_freed_without_the_cycle_collector(
    tools: Any, contexts: tuple[ssl.SSLContext, ssl.SSLContext], no_cycle_collector: None, ending: str
) -> None:
    import asyncio.sslproto

    server_context, client_context = contexts
    closed: list[int | None] = []

    async def echo(request: wsserver.WebSocketRequest) -> None:
        connection = request.accept()
        try:
            async for message in connection:
                if message == "close, please":
                    await connection.close(4000)
                    break
                await connection.send(message)
        except wsserver.ConnectionClosed:
            pass
        await connection.wait_closed()
        closed.append(connection.close_code)

    server = wsserver.WebSocketServer(echo, memory_release_interval=None)
    try:
        [(_, port)] = await server.listen("127.0.0.1", 0, ssl=server_context)
        # Warm-up: imports, caches and the loop's read buffer are not what is measured.
        await _one_connection(port, client_context, ending)
        await tools.wait_until(lambda: len(closed) == 1)
        await asyncio.sleep(0.05)
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            for _ in range(CHURN):
                await _one_connection(port, client_context, ending)
            await tools.wait_until(lambda: len(closed) == CHURN + 1 and not server.connections)
            await asyncio.sleep(0.05)  # the transports' last callbacks
            growth = tracemalloc.get_traced_memory()[0] - baseline
        finally:
            tracemalloc.stop()
        # Server and client connections alike, and asyncio's TLS protocols with them.
        assert _alive(WebSocketConnection) == 0
        assert _alive(asyncio.sslproto.SSLProtocol) == 0
        assert growth < TRACED_GROWTH_LIMIT, f"{growth} bytes left behind by {CHURN} closed TLS connections"
    finally:
        await server.shutdown(timeout=5)


# ------------------------------------------------------------- heap trimming

_glibc = sys.platform.startswith("linux") and "glibc" in " ".join(__import__("platform").libc_ver())


def _fragment_the_heap() -> bytes:
    """Leave about 48 MiB free inside the heap; return the block that keeps it there."""
    # 100 KiB blocks: under glibc's mmap threshold, so from the heap. The last one, at
    # the top, stops free() from shrinking the heap: what lies below it stays resident.
    large = [bytes(100 * 1024) for _ in range(480)]
    keep = bytes(100 * 1024)
    del large
    return keep


@pytest.mark.skipif(not _glibc, reason="malloc_trim() and mallinfo2() are glibc's")
async def test_server_gives_the_free_heap_back_to_the_system(tools: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wsserver.server")
    server = wsserver.WebSocketServer(None, memory_release_interval=0.05)
    try:
        await server.listen("127.0.0.1", 0)
        keep = _fragment_the_heap()

        def released() -> bool:
            return any("back to the system" in record.getMessage() for record in caplog.records)

        await tools.wait_until(released)
        [line] = [record.getMessage() for record in caplog.records if "back to the system" in record.getMessage()][:1]
        freed_mib = float(line.split(" MiB")[0].split()[-1])
        assert freed_mib >= 4.0, line  # the holes, not a page here and there
        del keep
    finally:
        await server.shutdown(timeout=5)


@pytest.mark.skipif(not _glibc, reason="malloc_trim() and mallinfo2() are glibc's")
async def test_no_release_when_turned_off_or_after_shutdown(tools: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wsserver.server")
    off = wsserver.WebSocketServer(None, memory_release_interval=None)
    stopped = wsserver.WebSocketServer(None, memory_release_interval=0.05)
    try:
        await off.listen("127.0.0.1", 0)
        await stopped.listen("127.0.0.1", 0)
        await stopped.shutdown(timeout=5)
        keep = _fragment_the_heap()
        await asyncio.sleep(0.3)
        assert not [record for record in caplog.records if "back to the system" in record.getMessage()]
        del keep
    finally:
        await off.shutdown(timeout=5)


@pytest.mark.parametrize("value", [0, -1.0])
def test_memory_release_interval_is_checked(value: Any) -> None:
    with pytest.raises(ValueError, match="memory_release_interval"):
        wsserver.WebSocketServer(None, memory_release_interval=value)


@pytest.mark.parametrize("value", ["5", True])
def test_memory_release_interval_type_is_checked(value: Any) -> None:
    with pytest.raises(TypeError, match="memory_release_interval"):
        wsserver.WebSocketServer(None, memory_release_interval=value)
