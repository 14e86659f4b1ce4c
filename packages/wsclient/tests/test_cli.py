"""``python -m wsclient``: run as a subprocess against servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from wsclient._cli import main

Server = Callable[..., AbstractAsyncContextManager[int]]

wsserver = pytest.importorskip("wsserver", reason="wsserver is not importable")

TIMEOUT = 20.0


async def echo(request: Any) -> None:
    connection = request.accept(request.requested_protocols[0] if request.requested_protocols else None)
    async for message in connection:
        await connection.send(message)


@contextlib.asynccontextmanager
async def serving(handler: Callable[[Any], Awaitable[None]] = echo, **kwargs: Any) -> AsyncIterator[int]:
    async with wsserver.WebSocketServer(handler, **kwargs) as server:
        addresses = await server.listen("127.0.0.1", 0)
        yield addresses[0][1]


async def run_cli(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``python -m wsclient ARGS``; return its exit status, stdout and stderr."""
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONIOENCODING="utf-8")
    environ.update(env or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wsclient",
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environ,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), TIMEOUT)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


# ---------------------------------------------------------------- -x mode


async def test_execute_prints_the_echoes_and_exits_0() -> None:
    async with serving() as port:
        status, out, err = await run_cli(f"ws://127.0.0.1:{port}/", "-x", "hello", "-x", "world")
    assert (status, out, err) == (0, "hello\nworld\n", "")


async def test_execute_with_count_stops_after_n_replies(ws_server: Server) -> None:
    async def handler(ws: Any) -> None:
        await ws.send("greeting")
        async for message in ws:
            await ws.send(message)

    async with ws_server(handler) as port:
        status, out, _ = await run_cli(f"ws://127.0.0.1:{port}/", "-x", "a", "-x", "b", "-n", "2")
    assert status == 0
    assert out == "greeting\na\n"


async def test_execute_closes_after_the_silence(ws_server: Server) -> None:
    closes: list[int | None] = []

    async def handler(ws: Any) -> None:
        async for _ in ws:
            pass  # never answers
        closes.append(ws.close_code)

    async with ws_server(handler) as port:
        loop = asyncio.get_running_loop()
        started = loop.time()
        status, out, err = await run_cli(f"ws://127.0.0.1:{port}/", "-x", "anyone?", "--wait", "0.3")
        elapsed = loop.time() - started
    assert (status, out, err) == (0, "", "")
    assert elapsed >= 0.3
    assert closes == [1000]


async def test_server_error_close_exits_3(ws_server: Server) -> None:
    async def handler(ws: Any) -> None:
        await ws.recv()
        await ws.close(1011, "broken")

    async with ws_server(handler) as port:
        status, out, err = await run_cli(f"ws://127.0.0.1:{port}/", "-x", "hi")
    assert status == 3
    assert out == ""
    assert err.startswith("error: ")
    assert "1011" in err
    assert "broken" in err
    assert err.count("\n") == 1


async def test_subprotocols_headers_and_origin(ws_server: Server) -> None:
    async def handler(ws: Any) -> None:
        headers = ws.request.headers
        await ws.send(f"{ws.subprotocol}|{headers.get('Origin')}|{headers.get('X-A')}|{headers.get('X-B')}")
        await ws.wait_closed()

    async with ws_server(handler, subprotocols=["b"]) as port:
        status, out, _ = await run_cli(
            f"ws://127.0.0.1:{port}/",
            "-s",
            "a",
            "--subprotocol",
            "b",
            "-H",
            "X-A: 1",
            "--header",
            "X-B:two words",
            "-o",
            "https://o.example",
            "-x",
            "ignored",
            "-n",
            "1",
        )
    assert status == 0
    assert out == "b|https://o.example|1|two words\n"


async def test_binary_messages(ws_server: Server) -> None:
    async def handler(ws: Any) -> None:
        message = await ws.recv()
        await ws.send(type(message).__name__)
        await ws.send("h\u00e9".encode() + b"\xff")
        await ws.wait_closed()

    async with ws_server(handler) as port:
        url = f"ws://127.0.0.1:{port}/"
        status, out, _ = await run_cli(url, "-x", "h\u00e9", "-n", "2")
        assert status == 0
        assert out == "str\n[binary 4 bytes] 68c3a9ff\n"
        status, out, _ = await run_cli(url, "--binary", "-x", "h\u00e9", "-n", "2")
        assert status == 0
        assert out == "bytes\nh\u00e9\\xff\n"


async def test_no_deflate_and_max_message_size(ws_server: Server) -> None:
    async def handler(ws: Any) -> None:
        await ws.send(str(ws.request.headers.get("Sec-WebSocket-Extensions")))
        await ws.send("x" * 2000)
        await ws.wait_closed()

    async with ws_server(handler) as port:
        url = f"ws://127.0.0.1:{port}/"
        status, out, _ = await run_cli(url, "--no-deflate", "-x", "", "-n", "2")
        assert status == 0
        assert out == "None\n" + "x" * 2000 + "\n"
        status, out, err = await run_cli(url, "--max-message-size", "1000", "-x", "")
        assert status == 3
        assert out.startswith("permessage-deflate")
        assert "1009" in err


# ------------------------------------------------------------------ failures


async def test_handshake_failure_exits_1_with_the_status() -> None:
    async def handler(request: Any) -> None:
        request.reject(403, "not you")

    async with serving(handler) as port:
        status, out, err = await run_cli(f"ws://127.0.0.1:{port}/", "-x", "hi")
    assert status == 1
    assert out == ""
    assert err.startswith("error: ")
    assert "403" in err
    assert err.count("\n") == 1


async def test_refused_connection_exits_1(free_port: int) -> None:
    status, out, err = await run_cli(f"ws://127.0.0.1:{free_port}/")
    assert status == 1
    assert out == ""
    assert err.startswith(f"error: could not connect to ws://127.0.0.1:{free_port}/")
    assert err.count("\n") == 1


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["http://example.com/"],
        ["ws://example.com/", "--count", "2"],
        ["ws://example.com/", "--wait", "-1"],
        ["ws://example.com/", "-x", "a", "--count", "0"],
        ["ws://example.com/", "-x", "a", "--wait", "-1"],
        ["wss://example.com/", "--key", "k.pem"],
        ["ws://example.com/", "-H", "no colon"],
        ["ws://example.com/", "--max-message-size", "-5"],
        ["ws://example.com/", "--proxy", "http://p", "--no-proxy"],
        ["wss://example.com/", "--ca", "/nonexistent/ca.pem"],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2, argv
        assert "error:" in capsys.readouterr().err


async def test_forbidden_header_is_a_usage_error() -> None:
    status, _, err = await run_cli("ws://127.0.0.1:1/", "-H", "Sec-WebSocket-Key: x")
    assert status == 2
    assert "error" in err


# ------------------------------------------------------------ interactive


async def test_interactive_mode_fed_by_a_pipe() -> None:
    async with serving() as port:
        stdin = "first\n/ping hello\n//slash\n\n\u00e9t\u00e9\r\nlast".encode()
        status, out, err = await run_cli(f"ws://127.0.0.1:{port}/", "-s", "chat", "--wait", "0.5", stdin=stdin)
    assert status == 0, err
    assert err == ""  # not a terminal: no status lines
    lines = out.splitlines()
    pongs = [line for line in lines if line.startswith("% pong in ")]
    assert len(pongs) == 1
    assert pongs[0].endswith(" ms")
    assert [line for line in lines if not line.startswith("%")] == [
        "< first",
        "< /slash",
        "< ",
        "< \u00e9t\u00e9",
        "< last",
    ]


async def test_interactive_close_command(ws_server: Server) -> None:
    seen: list[Any] = []

    async def handler(ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for message in ws:
                seen.append(message)
        seen.append((ws.close_code, ws.close_reason))

    async with ws_server(handler) as port:
        stdin = b"/close 999\nbefore\n/close 4001 see you\nnot sent\n"
        status, out, err = await run_cli(f"ws://127.0.0.1:{port}/", stdin=stdin)
    assert status == 0
    assert out == ""
    assert "/close" in err  # 999 refused, the session goes on
    assert seen == ["before", (4001, "see you")]


async def test_interactive_help_quit_and_unknown_commands(ws_server: Server) -> None:
    async with ws_server() as port:
        stdin = b"/help\n/nope\n/quit\nnot sent\n"
        status, out, err = await run_cli(f"ws://127.0.0.1:{port}/", "--binary", stdin=stdin)
    assert status == 0
    assert out == ""
    assert "/ping [payload]" in err
    assert "unknown command /nope" in err


async def test_interactive_binary_lines(ws_server: Server) -> None:
    async def handler(ws: Any) -> None:
        async for message in ws:
            await ws.send(f"{type(message).__name__}:{message!r}")

    async with ws_server(handler) as port:
        status, out, _ = await run_cli(f"ws://127.0.0.1:{port}/", "--binary", "-w", "0.3", stdin=b"abc\n")
    assert status == 0
    assert out == "< bytes:b'abc'\n"


async def test_end_of_input_closes_normally(ws_server: Server) -> None:
    codes: list[int | None] = []

    async def handler(ws: Any) -> None:
        await ws.wait_closed()
        codes.append(ws.close_code)

    async with ws_server(handler) as port:
        status, out, err = await run_cli(f"ws://127.0.0.1:{port}/", "--wait", "0")  # stdin: /dev/null
    assert (status, out, err) == (0, "", "")
    assert codes == [1000]


async def test_server_closing_ends_interactive_mode(ws_server: Server) -> None:
    async def handler(ws: Any) -> None:
        await ws.send("bye")
        await ws.close(1001)

    async with ws_server(handler) as port:
        environ = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wsclient",
            f"ws://127.0.0.1:{port}/",
            stdin=asyncio.subprocess.PIPE,  # stays open: the server ends the session
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environ,
        )
        assert process.stdout is not None
        try:
            out = await asyncio.wait_for(process.stdout.read(), TIMEOUT)
            status = await asyncio.wait_for(process.wait(), TIMEOUT)
        finally:
            if process.returncode is None:  # pragma: no cover - on failure only
                process.kill()
                await process.wait()
    assert status == 0
    assert out.decode() == "< bye\n"


# --------------------------------------------------------------- TLS, proxy


async def test_tls_options(ws_server: Server, tls: Any, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    tls.ca.cert_pem.write_to_path(str(ca))
    async with ws_server(ssl=tls.server_context()) as port:
        url = f"wss://localhost:{port}/"
        status, out, err = await run_cli(url, "--ca", str(ca), "-x", "secure")
        assert (status, out) == (0, "secure\n"), err
        status, out, err = await run_cli(url, "-x", "secure")
        assert status == 1
        assert "certificate" in err.lower()
        status, out, err = await run_cli(url, "--insecure", "-x", "anyway")
        assert (status, out) == (0, "anyway\n"), err


async def test_proxy_options(free_port: int) -> None:
    async with serving() as port:
        url = f"ws://127.0.0.1:{port}/"
        dead_proxy = f"http://127.0.0.1:{free_port}"
        status, _, err = await run_cli(url, "--proxy", dead_proxy, "-x", "a")
        assert status == 1
        assert err.startswith("error: ")
        status, _, err = await run_cli(url, "-x", "a", env={"http_proxy": dead_proxy})
        assert status == 1
        status, out, err = await run_cli(url, "--no-proxy", "-x", "a", env={"http_proxy": dead_proxy})
        assert (status, out) == (0, "a\n"), err
