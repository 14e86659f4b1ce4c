"""wsclient against the npm `ws` server (Node.js), a peer no one here wrote.

The `ws` package is installed once with npm into ``~/.cache/wskit/node-ws`` (or
``$WSKIT_CACHE``). Without Node.js or npm on the machine these tests are skipped, with
that reason; CI machines of this project have both.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

import wsclient

WS_VERSION = "8"

SERVER_JS = r"""
const { WebSocketServer } = require("ws");
const wss = new WebSocketServer({
  host: "127.0.0.1",
  port: 0,
  maxPayload: 64 * 1024 * 1024,
  perMessageDeflate: { threshold: 0 },
  handleProtocols: (protocols) => (protocols.has("chat") ? "chat" : false),
});
wss.on("connection", (ws, request) => {
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    if (text === "close-4001") {
      ws.close(4001, "asked to");
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});
wss.on("listening", () => console.log("PORT " + wss.address().port));
"""


def _cache() -> pathlib.Path:
    return pathlib.Path(os.environ.get("WSKIT_CACHE", pathlib.Path.home() / ".cache" / "wskit")) / "node-ws"


@pytest.fixture(scope="module")
def node_ws_port() -> Iterator[int]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed to run the npm `ws` server")
    prefix = _cache()
    if not (prefix / "node_modules" / "ws" / "package.json").is_file():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"ws@{WS_VERSION}"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    script = prefix / "echo_server.js"
    script.write_text(SERVER_JS)
    process = subprocess.Popen(
        [node, str(script)],
        cwd=prefix,
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("PORT "), f"node server did not start: {line!r}"
        yield int(line.split()[1])
    finally:
        process.kill()
        process.wait(10)


def url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/"


@pytest.mark.parametrize("message", ["hello", "", "é" * 1000, b"\x00\xff" * 10, b""])
async def test_echo(node_ws_port: int, message: str | bytes) -> None:
    async with wsclient.connect(url(node_ws_port), proxy=None) as ws:
        await ws.send(message)
        assert await ws.recv() == message


async def test_large_messages_and_fragmentation(node_ws_port: int) -> None:
    """16 MiB each way; wsclient fragments at 64 KiB, ws answers in one frame."""
    big = os.urandom(16 * 1024 * 1024)
    async with wsclient.connect(url(node_ws_port), proxy=None, max_message_size=32 * 1024 * 1024) as ws:
        await ws.send(big)
        assert await ws.recv() == big
        text = "x" * (3 * 1024 * 1024 + 7)
        await ws.send(text)
        assert await ws.recv() == text


async def test_permessage_deflate_negotiated(node_ws_port: int) -> None:
    async with wsclient.connect(url(node_ws_port), proxy=None) as ws:
        assert ws.extensions == ["permessage-deflate"]
        payload = "compressible " * 10_000
        for _ in range(3):  # context takeover across messages
            await ws.send(payload)
            assert await ws.recv() == payload


async def test_no_deflate_when_not_offered(node_ws_port: int) -> None:
    async with wsclient.connect(url(node_ws_port), proxy=None, permessage_deflate=False) as ws:
        assert ws.extensions == []
        await ws.send("plain")
        assert await ws.recv() == "plain"


async def test_subprotocol(node_ws_port: int) -> None:
    async with wsclient.connect(url(node_ws_port), ["other", "chat"], proxy=None) as ws:
        assert ws.subprotocol == "chat"


async def test_ping_pong(node_ws_port: int) -> None:
    async with wsclient.connect(url(node_ws_port), proxy=None) as ws:
        latency = await asyncio.wait_for(await ws.ping(b"are you there"), 10)
        assert latency >= 0


async def test_close_codes(node_ws_port: int) -> None:
    ws = await wsclient.connect(url(node_ws_port), proxy=None)
    await ws.send("close-4001")
    with pytest.raises(wsclient.ConnectionClosedError) as info:
        await ws.recv()
    assert info.value.code == 4001
    assert info.value.reason == "asked to"
    await ws.wait_closed()

    ws = await wsclient.connect(url(node_ws_port), proxy=None)
    await ws.close(1000, "bye")
    assert ws.close_code == 1000
