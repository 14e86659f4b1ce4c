"""wsserver against the npm `ws` client (Node.js), a peer no one here wrote.

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

import pytest

import wsserver

WS_VERSION = "8"

# Connects, checks the handshake, echoes a list of messages through the server and
# closes with 4002; prints one line per check and "DONE" at the end.
CLIENT_JS = r"""
const WebSocket = require("ws");
const url = process.argv[2];
const ws = new WebSocket(url, ["other", "chat"], { perMessageDeflate: true, maxPayload: 64 * 1024 * 1024 });
const big = Buffer.alloc(16 * 1024 * 1024);
for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
const messages = [["text", "hello"], ["text", ""], ["text", "é".repeat(1000)],
                  ["binary", Buffer.from([0, 255, 1])], ["binary", big],
                  ["text", "compressible ".repeat(10000)]];
let index = 0;
function next() {
  if (index === messages.length) { ws.close(4002, "done"); return; }
  const [kind, data] = messages[index];
  ws.send(data, { binary: kind === "binary", fragment: false });
}
ws.on("open", () => {
  console.log("PROTOCOL " + ws.protocol);
  console.log("EXTENSIONS " + ws.extensions);
  ws.ping(Buffer.from("p"));
  next();
});
ws.on("pong", (data) => console.log("PONG " + data.toString()));
ws.on("message", (data, isBinary) => {
  const [kind, sent] = messages[index];
  const same = kind === "binary" ? isBinary && Buffer.compare(data, sent) === 0 : !isBinary && data.toString() === sent;
  console.log((same ? "ECHO " : "MISMATCH ") + index);
  index += 1;
  next();
});
ws.on("close", (code, reason) => { console.log("CLOSE " + code + " " + reason.toString()); console.log("DONE"); });
ws.on("error", (error) => { console.log("ERROR " + error.message); process.exit(1); });
"""


def _cache() -> pathlib.Path:
    return pathlib.Path(os.environ.get("WSKIT_CACHE", pathlib.Path.home() / ".cache" / "wskit")) / "node-ws"


def _node_ws() -> tuple[str, pathlib.Path]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed to run the npm `ws` client")
    prefix = _cache()
    if not (prefix / "node_modules" / "ws" / "package.json").is_file():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"ws@{WS_VERSION}"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    script = prefix / "echo_client.js"
    script.write_text(CLIENT_JS)
    return node, script


async def test_node_ws_client_round_trip() -> None:
    node, script = _node_ws()
    closes: list[tuple[int | None, str | None]] = []

    async def handler(request: wsserver.WebSocketRequest) -> None:
        protocol = "chat" if "chat" in request.requested_protocols else None
        connection = request.accept(protocol)
        try:
            async for message in connection:
                await connection.send(message)
        except wsserver.ConnectionClosed:
            pass
        closes.append((connection.close_code, connection.close_reason))

    async with wsserver.WebSocketServer(handler, max_message_size=32 * 1024 * 1024) as server:
        addresses = await server.listen("127.0.0.1", 0)
        port = addresses[0][1]
        process = await asyncio.create_subprocess_exec(
            node,
            str(script),
            f"ws://127.0.0.1:{port}/echo",
            stdout=asyncio.subprocess.PIPE,
            cwd=script.parent,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), 25)
        finally:
            if process.returncode is None:
                process.kill()
        lines = output.decode().splitlines()
        assert process.returncode == 0, lines
    assert "PROTOCOL chat" in lines
    assert "EXTENSIONS permessage-deflate" in lines
    assert "PONG p" in lines
    assert [line for line in lines if line.startswith(("ECHO", "MISMATCH"))] == [f"ECHO {i}" for i in range(6)]
    # The server's reply echoes the code (RFC 6455 section 5.5.1), not the reason.
    assert "CLOSE 4002 " in lines, lines
    assert closes == [(4002, "done")]
