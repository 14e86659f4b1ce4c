"""`python -m wsserver`: starts, echoes with the conformance defaults, stops on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import ssl
import sys
from typing import Any

import pytest
import trustme
from websockets.asyncio.client import connect


async def start(tools: Any, *args: str) -> tuple[asyncio.subprocess.Process, int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wsserver",
        "--port",
        "0",
        *args,
        env=tools.env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    lines: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 20)).decode()
        assert line, f"server exited: {lines}"
        lines.append(line)
        match = re.search(r"listening on wss?://127\.0\.0\.1:(\d+)", line)
        if match:
            return process, int(match.group(1)), lines


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_cli_echoes_and_stops_gracefully(tools: Any, signum: int) -> None:
    process, port, lines = await start(tools)
    try:
        assert "INFO" in lines[-1]
        async with connect(f"ws://127.0.0.1:{port}/", max_size=None, subprotocols=["echo"]) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "echo"
            assert [extension.name for extension in ws.protocol.extensions] == ["permessage-deflate"]
            big = b"\x01" * (4 * 1024 * 1024)  # above the library default, within the CLI's 16 MiB
            await ws.send(big)
            assert await ws.recv() == big
            process.send_signal(signum)
            await asyncio.wait_for(ws.wait_closed(), 10)
            assert ws.close_code == 1001
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_cli_without_deflate_and_with_a_limit(tools: Any) -> None:
    process, port, _ = await start(tools, "--no-deflate", "--max-message-size", "1000")
    try:
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            assert ws.protocol.extensions == []
            await ws.send("x" * 1001)
            await asyncio.wait_for(ws.wait_closed(), 10)
            assert ws.close_code == 1009
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_cli_reports_a_port_in_use(tools: Any) -> None:
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wsserver",
            "--port",
            str(port),
            env=tools.env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 1
        assert b"cannot start" in stderr
    finally:
        blocker.close()


async def test_cli_tls(tools: Any) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_context)
    with cert.cert_chain_pems[0].tempfile() as certfile, cert.private_key_pem.tempfile() as keyfile:
        process, port, lines = await start(tools, "--certfile", certfile, "--keyfile", keyfile)
        try:
            assert "wss://" in lines[-1]
            async with connect(f"wss://127.0.0.1:{port}/", ssl=client_context) as ws:
                await ws.send("tls")
                assert await ws.recv() == "tls"
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 10) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
