"""The examples under examples/ at the repository root, each run as a subprocess.

Every server starts on 127.0.0.1 with ``--port 0`` and prints ``listening on
http://127.0.0.1:PORT/`` (``ws://`` for the fragmentation server), which the tests read.
Clients are wsclient connections in this process. No fixed sleeps: every wait is for
an event, bounded by `TIMEOUT`; every subprocess is killed in a ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import wsclient
import wsframe
import wsrouter
import wsserver

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
LWS_SERVER = EXAMPLES / "libwebsockets_test_server.py"
FRAGMENTATION_SERVER = EXAMPLES / "fragmentation_test_server.py"
FRAGMENTATION_CLIENT = EXAMPLES / "fragmentation_test_client.py"
CHAT_SERVER = EXAMPLES / "chat" / "server.py"

#: Seconds any one test may take, subprocesses included.
TIMEOUT = 30.0
LISTENING = re.compile(rb"listening on (?:http|ws)://127\.0\.0\.1:(\d+)/")


def async_test(function: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an `async def` test with `asyncio.run`, bounded by TIMEOUT."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(asyncio.wait_for(function(*args, **kwargs), TIMEOUT))

    return wrapper


def child_env() -> dict[str, str]:
    """The environment of the examples: the packages this test imports, no proxy."""
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    packages = (wsframe, wsserver, wsclient, wsrouter)
    roots = [str(Path(module.__file__ or "").resolve().parent.parent) for module in packages]
    env["PYTHONPATH"] = os.pathsep.join([*dict.fromkeys(roots), env.get("PYTHONPATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def stop(process: asyncio.subprocess.Process) -> None:
    """Kill `process` if it still runs and reap it."""
    if process.returncode is None:
        process.kill()
    await asyncio.wait_for(process.wait(), 10)


@contextlib.asynccontextmanager
async def running(script: Path, *args: str) -> AsyncIterator[int]:
    """Run an example server on 127.0.0.1, a free port; yield the port."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=child_env(),
    )
    assert process.stdout is not None
    output = bytearray()
    drain: asyncio.Task[None] | None = None

    async def read_port() -> int:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            output.extend(line)
            if match := LISTENING.search(line):
                return int(match[1])
        raise AssertionError(f"{script.name} exited before listening:\n{output.decode(errors='replace')}")

    async def keep_reading() -> None:  # so that the child never blocks on a full pipe
        assert process.stdout is not None
        while chunk := await process.stdout.read(65536):
            output.extend(chunk)

    try:
        port = await asyncio.wait_for(read_port(), 20)
        drain = asyncio.create_task(keep_reading())
        yield port
    finally:
        await stop(process)
        if drain is not None:
            await asyncio.wait_for(drain, 10)


async def run_client(*args: str) -> tuple[int, str, str]:
    """Run the fragmentation test client to its end; return its status, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(FRAGMENTATION_CLIENT),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(),
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 40)
    finally:
        await stop(process)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def connect(url: str, protocols: list[str] | None = None, **kwargs: Any) -> wsclient.Connect:
    """wsclient.connect, never through a proxy of the environment."""
    return wsclient.connect(url, protocols, proxy=None, **kwargs)


async def http_get(url: str) -> tuple[int, str, str]:
    """GET `url` (no proxy); return the status, the Content-Type and the body."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def get() -> tuple[int, str, str]:
        try:
            with opener.open(url, timeout=10) as response:
                return response.status, response.headers["Content-Type"], response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read().decode()

    return await asyncio.to_thread(get)


def load_example(path: Path) -> ModuleType:
    """Import an example script as a module (its `__main__` block does not run)."""
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------- libwebsockets test server


@async_test
async def test_dumb_increment_counts_every_50_ms_and_resets() -> None:
    async with running(LWS_SERVER) as port, connect(f"ws://127.0.0.1:{port}/", ["dumb-increment-protocol"]) as ws:
        assert ws.subprotocol == "dumb-increment-protocol"
        numbers = [int(await ws.recv()) for _ in range(4)]
        assert numbers == [0, 1, 2, 3]
        await ws.send("reset\n")
        # Numbers already on their way continue the count; then it starts again from 0.
        previous = numbers[-1]
        for _ in range(100):
            number = int(await ws.recv())
            if number < previous:
                break
            assert number == previous + 1
            previous = number
        assert number == 0
        assert [int(await ws.recv()) for _ in range(2)] == [1, 2]


@async_test
async def test_mirror_sets_the_test_cookie_replays_history_rebroadcasts_and_clears() -> None:
    async with running(LWS_SERVER) as port:
        url = f"ws://127.0.0.1:{port}/"
        async with connect(url, ["lws-mirror-protocol"]) as first:
            assert first.subprotocol == "lws-mirror-protocol"
            assert first.response is not None
            cookie = first.response.headers.get("Set-Cookie")
            assert cookie is not None
            assert re.fullmatch(r"TestCookie=CookieValue\d+; Path=/; Max-Age=5000; HttpOnly", cookie), cookie

            # Every message comes back to everyone, its sender included.
            await first.send("d #ff0000 1 2 3 4;")
            assert await first.recv() == "d #ff0000 1 2 3 4;"
            await first.send("d #00ff00 5 6 7 8;")
            assert await first.recv() == "d #00ff00 5 6 7 8;"

            # A newcomer (on any path: the protocol is mounted on "*") gets the history as one message.
            async with connect(f"ws://127.0.0.1:{port}/any/path?x=1", ["lws-mirror-protocol"]) as second:
                assert await second.recv() == "d #ff0000 1 2 3 4;d #00ff00 5 6 7 8;"
                await second.send("c #0000ff 10 10 5;")
                assert await first.recv() == "c #0000ff 10 10 5;"
                assert await second.recv() == "c #0000ff 10 10 5;"
                await first.send("clear;")
                assert await first.recv() == "clear;"
                assert await second.recv() == "clear;"

            # After "clear;" nothing is replayed: the newcomer's first message is the next drawing.
            async with connect(url, ["lws-mirror-protocol"]) as third:
                await first.send("d #000000 0 0 1 1;")
                assert await first.recv() == "d #000000 0 0 1 1;"
                assert await third.recv() == "d #000000 0 0 1 1;"


@async_test
async def test_lws_server_rejects_other_protocols_and_serves_its_page() -> None:
    async with running(LWS_SERVER) as port:
        with pytest.raises(wsclient.HandshakeFailed) as failed:
            await connect(f"ws://127.0.0.1:{port}/", ["other-protocol"])
        assert failed.value.status == 400  # the path is mounted ("*"), the subprotocol is not
        status, content_type, body = await http_get(f"http://127.0.0.1:{port}/")
        assert (status, content_type) == (200, "text/html; charset=utf-8")
        assert "lws-mirror-protocol" in body
        assert "dumb-increment-protocol" in body
        status, _, _ = await http_get(f"http://127.0.0.1:{port}/missing")
        assert status == 404


def test_mirror_history_is_bounded_in_count_and_bytes() -> None:
    history = load_example(LWS_SERVER).History(max_messages=3, max_bytes=10)
    for message in ["a;", "b;", "c;", "d;"]:
        history.append(message)
    assert history.replay() == "b;c;d;"  # at most 3 messages
    history.append("eeeeeee;")  # 8 bytes: only "d;" still fits beside it
    assert history.replay() == "d;eeeeeee;"
    assert history.size == 10
    history.append("x" * 11)  # could never fit: not kept, nothing evicted
    assert history.replay() == "d;eeeeeee;"
    history.clear()
    assert (history.replay(), history.size) == ("", 0)


# --------------------------------------------------------- fragmentation test


@pytest.mark.parametrize(
    ("server_args", "client_args", "fragments"),
    [
        pytest.param([], [], None, id="default"),
        pytest.param(["--no-fragmentation"], [], None, id="server-no-fragmentation"),
        pytest.param(["--no-fragmentation"], ["--no-defragment"], (1, 1), id="streamed-single-frames"),
        pytest.param(["--fragment", "1000"], ["--no-defragment"], (65, 66), id="streamed-fragments"),
    ],
)
@async_test
async def test_fragmentation_client_checks_every_size(
    server_args: list[str], client_args: list[str], fragments: tuple[int, int] | None
) -> None:
    async with running(FRAGMENTATION_SERVER, *server_args) as port:
        status, out, err = await run_client("--port", str(port), "--max-size", "65536", *client_args)
    assert status == 0, out + err
    match = re.search(r"^(\d+) messages, (\d+) bytes in [0-9.]+ s: \d+ KiB/s$", out, re.MULTILINE)
    assert match, out
    count, total = int(match[1]), int(match[2])
    # Sizes from 100 to 64 KiB, growing by 1 to 1024: at least 64 and at most 65436 messages.
    assert 64 <= count <= 65436
    assert 100 * count <= total <= 65536 * count
    if fragments is not None:
        most = re.search(r"^most fragments in one message: (\d+)$", out, re.MULTILINE)
        assert most, out
        assert fragments[0] <= int(most[1]) <= fragments[1]


@pytest.mark.parametrize("client_args", [[], ["--no-defragment"]], ids=["assembled", "streamed"])
@async_test
async def test_fragmentation_client_fails_on_a_wrong_message(client_args: list[str]) -> None:
    async def wrong(request: wsrouter.RoutedRequest) -> None:  # right size, wrong text
        connection = request.accept()
        async for message in connection:
            await connection.send("x" * int(str(message).split("|")[1]))

    async with wsserver.WebSocketServer(permessage_deflate=False) as server:
        wsrouter.WebSocketRouter(server).mount("*", "fragmentation-test", wrong)
        await server.listen("127.0.0.1", 0)
        port = server.addresses[0][1]
        status, _, err = await run_client("--port", str(port), "--max-size", "4096", *client_args)
    assert status == 1
    assert "mismatch: " in err
    assert "lorem ipsum" in err


@async_test
async def test_fragmentation_client_reports_a_refused_connection() -> None:
    async with running(LWS_SERVER) as port:  # no fragmentation-test protocol there
        status, _, err = await run_client("--port", str(port), "--max-size", "4096")
    assert status == 2
    assert "400" in err


# ------------------------------------------------------------------------ chat


async def event(ws: wsclient.ClientConnection) -> Any:
    """The next JSON event."""
    return json.loads(await ws.recv())


@async_test
async def test_chat_rooms_are_separate_with_notices_and_history() -> None:
    async with running(CHAT_SERVER) as port:
        rooms = f"ws://127.0.0.1:{port}/rooms"
        async with connect(f"{rooms}/a?name=alice", ["chat"]) as alice:
            assert alice.subprotocol == "chat"
            assert await event(alice) == {"type": "history", "messages": []}
            assert await event(alice) == {"type": "join", "user": "alice", "users": ["alice"]}

            async with connect(f"{rooms}/a?name=bob") as bob:  # no subprotocol: the None mount
                assert bob.subprotocol is None
                assert await event(bob) == {"type": "history", "messages": []}
                joined = {"type": "join", "user": "bob", "users": ["alice", "bob"]}
                assert await event(bob) == joined
                assert await event(alice) == joined

                async with connect(f"{rooms}/b?name=carol", ["chat"]) as carol:
                    assert await event(carol) == {"type": "history", "messages": []}
                    assert await event(carol) == {"type": "join", "user": "carol", "users": ["carol"]}

                    await alice.send(json.dumps({"text": "hello room a", "user": "mallory"}))
                    said = {"type": "message", "user": "alice", "text": "hello room a"}  # the server names the sender
                    assert await event(alice) == said
                    assert await event(bob) == said
                    # Room b never got it: carol's next event is her own message.
                    await carol.send(json.dumps({"text": "hello room b"}))
                    assert await event(carol) == {"type": "message", "user": "carol", "text": "hello room b"}

            # carol left room b, then bob left room a: alice hears only about bob.
            assert await event(alice) == {"type": "leave", "user": "bob", "users": ["alice"]}

            # A newcomer gets room a's history, and nothing of room b.
            async with connect(f"{rooms}/a?name=dave", ["chat"]) as dave:
                assert await event(dave) == {"type": "history", "messages": [said]}
                assert await event(dave) == {"type": "join", "user": "dave", "users": ["alice", "dave"]}


@async_test
async def test_chat_refuses_foreign_origins_other_protocols_and_bad_messages() -> None:
    async with running(CHAT_SERVER) as port:
        url = f"ws://127.0.0.1:{port}/rooms/a?name=eve"
        with pytest.raises(wsclient.HandshakeFailed) as failed:
            await connect(url, ["chat"], origin="http://evil.example")
        assert failed.value.status == 403
        with pytest.raises(wsclient.HandshakeFailed) as failed:
            await connect(url, ["not-chat"])
        assert failed.value.status == 400  # the path is mounted, that subprotocol is not
        with pytest.raises(wsclient.HandshakeFailed) as failed:
            await connect(f"ws://127.0.0.1:{port}/lobby", ["chat"])
        assert failed.value.status == 404

        # The page's own origin is welcome; a message that is not {"text": ...} closes with 1003.
        async with connect(url, ["chat"], origin=f"http://127.0.0.1:{port}") as ws:
            assert (await event(ws))["type"] == "history"
            assert (await event(ws))["type"] == "join"
            await ws.send("not json")
            with pytest.raises(wsclient.ConnectionClosed):
                await ws.recv()
            assert ws.close_code == 1003


@async_test
async def test_chat_serves_its_page() -> None:
    async with running(CHAT_SERVER) as port:
        status, content_type, body = await http_get(f"http://127.0.0.1:{port}/")
        assert (status, content_type) == (200, "text/html; charset=utf-8")
        assert "<title>wskit chat</title>" in body
        assert '"chat"' in body  # the page asks for the chat subprotocol
        status, _, _ = await http_get(f"http://127.0.0.1:{port}/rooms/a")  # a plain GET on a WebSocket path
        assert status == 404


def test_chat_text_of_accepts_only_text_objects() -> None:
    text_of = load_example(CHAT_SERVER).text_of
    assert text_of('{"text": "hi"}') == "hi"
    for message in ['{"text": 1}', '["text"]', "not json", b'{"text": "hi"}', "[" * 100_000]:
        assert text_of(message) is None
