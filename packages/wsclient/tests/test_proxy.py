"""Connections through HTTP CONNECT proxies: proxy.py (from the package index) and scripted ones."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

import wsclient
from wsclient import HandshakeInterrupted, ProxyError, is_retryable

Server = Callable[..., AbstractAsyncContextManager[int]]

pytest.importorskip("proxy", reason="proxy.py is not installed (pip install proxy.py)")


@contextlib.contextmanager
def run_proxy_py(*args: str) -> Iterator[int]:
    """Start proxy.py on 127.0.0.1 with a port chosen by the system; yield the port."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp, "port")
        log = open(Path(tmp, "log"), "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "proxy",
                "--hostname",
                "127.0.0.1",
                "--port",
                "0",
                "--port-file",
                str(port_file),
                "--num-acceptors",
                "1",
                "--num-workers",
                "1",
                "--data-dir",
                tmp,
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            while not (port_file.exists() and port_file.read_text().strip()):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError("proxy.py did not start: " + Path(tmp, "log").read_text()[-2000:])
                time.sleep(0.05)
            yield int(port_file.read_text())
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


@pytest.fixture(scope="module")
def proxy_port() -> Iterator[int]:
    with run_proxy_py() as port:
        yield port


@pytest.fixture(scope="module")
def auth_proxy_port() -> Iterator[int]:
    with run_proxy_py("--basic-auth", "user:s3cret") as port:
        yield port


@pytest.fixture(scope="module")
def https_proxy_port(tls: Any) -> Iterator[int]:
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        tls.cert.cert_chain_pems[0].write_to_path(cert)
        tls.cert.private_key_pem.write_to_path(key)
        with run_proxy_py("--cert-file", cert, "--key-file", key) as port:
            yield port


def _through(ws: wsclient.ClientConnection, port: int) -> bool:
    """Whether the connection's socket goes to `port` (the proxy's) on 127.0.0.1."""
    return ws.remote_address is not None and tuple(ws.remote_address[:2]) == ("127.0.0.1", port)


async def test_ws_through_http_proxy(ws_server: Server, proxy_port: int) -> None:
    proxy = f"http://127.0.0.1:{proxy_port}"
    async with ws_server() as port, wsclient.connect(f"ws://127.0.0.1:{port}/", proxy=proxy) as ws:
        assert _through(ws, proxy_port)
        await ws.send("via proxy")
        assert await ws.recv() == "via proxy"
        big = os.urandom(300_000)
        await ws.send(big)
        assert await ws.recv() == big


async def test_wss_through_http_proxy(ws_server: Server, proxy_port: int, tls: Any) -> None:
    async with (
        ws_server(ssl=tls.server_context()) as port,
        wsclient.connect(
            f"wss://localhost:{port}/", proxy=f"http://127.0.0.1:{proxy_port}", ssl=tls.client_context()
        ) as ws,
    ):
        assert _through(ws, proxy_port)
        assert ws._transport.get_extra_info("ssl_object").server_hostname == "localhost"
        await ws.send("tls inside the tunnel")
        assert await ws.recv() == "tls inside the tunnel"


async def test_certificate_still_checked_through_proxy(ws_server: Server, proxy_port: int, tls: Any) -> None:
    import ssl

    async with ws_server(ssl=tls.server_context()) as port:
        with pytest.raises(ssl.SSLCertVerificationError):
            await wsclient.connect(f"wss://localhost:{port}/", proxy=f"http://127.0.0.1:{proxy_port}")


async def test_proxy_basic_auth(ws_server: Server, auth_proxy_port: int) -> None:
    async with ws_server() as port:
        url = f"ws://127.0.0.1:{port}/"
        async with wsclient.connect(url, proxy=f"http://user:s3cret@127.0.0.1:{auth_proxy_port}") as ws:
            assert _through(ws, auth_proxy_port)
            await ws.send("authorized")
            assert await ws.recv() == "authorized"
        with pytest.raises(ProxyError, match=r"proxy refused to connect to 127\.0\.0\.1:\d+: 407") as info:
            await wsclient.connect(url, proxy=f"http://127.0.0.1:{auth_proxy_port}")
        assert info.value.status == 407
        assert not is_retryable(info.value)
        with pytest.raises(ProxyError) as info:
            await wsclient.connect(url, proxy=f"http://user:wrong@127.0.0.1:{auth_proxy_port}")
        assert info.value.status == 407


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TLS inside TLS needs asyncio of Python 3.11+")
async def test_wss_through_https_proxy(ws_server: Server, https_proxy_port: int, tls: Any) -> None:
    async with (
        ws_server(ssl=tls.server_context()) as port,
        wsclient.connect(
            f"wss://localhost:{port}/",
            proxy=f"https://localhost:{https_proxy_port}",
            proxy_ssl=tls.client_context(),
            ssl=tls.client_context(),
        ) as ws,
    ):
        await ws.send("two layers of TLS")
        assert await ws.recv() == "two layers of TLS"


@pytest.mark.skipif(sys.version_info >= (3, 11), reason="the limitation is of Python 3.10 only")
async def test_wss_through_https_proxy_refused_on_python_310(https_proxy_port: int, tls: Any) -> None:
    with pytest.raises(ProxyError, match=r"wss:// through an https:// proxy needs Python 3\.11 or later"):
        await wsclient.connect(
            "wss://localhost:1/",
            proxy=f"https://localhost:{https_proxy_port}",
            proxy_ssl=tls.client_context(),
            ssl=tls.client_context(),
        )


async def test_ws_through_https_proxy(ws_server: Server, https_proxy_port: int, tls: Any) -> None:
    async with ws_server() as port:
        async with wsclient.connect(
            f"ws://127.0.0.1:{port}/", proxy=f"https://localhost:{https_proxy_port}", proxy_ssl=tls.client_context()
        ) as ws:
            await ws.send("TLS to the proxy only")
            assert await ws.recv() == "TLS to the proxy only"
        import ssl

        with pytest.raises(ssl.SSLCertVerificationError):
            await wsclient.connect(f"ws://127.0.0.1:{port}/", proxy=f"https://localhost:{https_proxy_port}")


async def test_proxy_from_environment(
    ws_server: Server, proxy_port: int, tls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_port}")
    monkeypatch.setenv("HTTPS_PROXY", f"127.0.0.1:{proxy_port}")  # no scheme: http
    async with ws_server() as port, wsclient.connect(f"ws://127.0.0.1:{port}/") as ws:
        assert _through(ws, proxy_port)
    async with (
        ws_server(ssl=tls.server_context()) as port,
        wsclient.connect(f"wss://localhost:{port}/", ssl=tls.client_context()) as ws,
    ):
        assert _through(ws, proxy_port)
    # proxy=None (or False) ignores the environment.
    async with ws_server() as port:
        for value in (None, False):
            async with wsclient.connect(f"ws://127.0.0.1:{port}/", proxy=value) as ws:
                assert _through(ws, port)


async def test_no_proxy_bypasses_the_proxy(
    ws_server: Server, raw_server: Server, helpers: types.SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    contacted = asyncio.Event()

    async def refusing_proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        contacted.set()
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async with raw_server(refusing_proxy) as proxy, ws_server() as port:
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy}")
        with pytest.raises(ProxyError, match="403"):
            await wsclient.connect(f"ws://127.0.0.1:{port}/")
        assert contacted.is_set()
        contacted.clear()
        monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
        async with wsclient.connect(f"ws://127.0.0.1:{port}/") as ws:
            assert _through(ws, port)
            await ws.send("direct")
            assert await ws.recv() == "direct"
        assert not contacted.is_set()


async def test_proxy_refusing_with_403(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    requests: list[dict[str, str]] = []

    async def refusing_proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await helpers.read_head(reader))
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nno way")
        await writer.drain()
        await reader.read()

    async with raw_server(refusing_proxy) as proxy:
        with pytest.raises(ProxyError) as info:
            await wsclient.connect("wss://[2001:db8::1]:8443/x", proxy=f"http://u:p@127.0.0.1:{proxy}")
    assert info.value.status == 403
    assert info.value.headers["content-type"] == "text/plain"
    assert str(info.value) == "proxy refused to connect to [2001:db8::1]:8443: 403 Forbidden"
    assert not isinstance(info.value, OSError)
    (request,) = requests
    assert request[":line"] == "CONNECT [2001:db8::1]:8443 HTTP/1.1"
    assert request["host"] == "[2001:db8::1]:8443"
    assert request["proxy-authorization"] == "Basic " + base64.b64encode(b"u:p").decode()


async def test_proxy_answering_502_is_retryable(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
        await writer.drain()

    async with raw_server(proxy) as port:
        with pytest.raises(ProxyError) as info:
            await wsclient.connect("ws://example.invalid/", proxy=f"http://127.0.0.1:{port}")
    assert info.value.status == 502
    assert is_retryable(info.value)


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (b"", HandshakeInterrupted, "proxy closed the connection before answering"),
        (b"HTTP/1.1 200 OK\r\n", HandshakeInterrupted, "proxy closed"),
        (b"garbage\r\n\r\n", ProxyError, "invalid answer from the proxy"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 20_000, ProxyError, "too large"),
    ],
    ids=["closed", "closed-mid-head", "garbage", "endless-head"],
)
async def test_broken_proxies(
    raw_server: Server, helpers: types.SimpleNamespace, answer: bytes, error: type[Exception], message: str
) -> None:
    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        writer.write(answer)
        await writer.drain()

    async with raw_server(proxy) as port:
        with pytest.raises(error, match=message):
            await wsclient.connect("ws://example.invalid/", proxy=f"http://127.0.0.1:{port}")


async def test_scripted_tunnel_with_bare_lf_answer(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    """A proxy answering with bare LFs, then relaying to a scripted WebSocket server in-process."""

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        writer.write(b"HTTP/1.0 200 Connection established\n\n")
        head = await helpers.read_head(reader)
        writer.write(helpers.switching(head["sec-websocket-key"]) + b"\x81\x06tunnel")
        await helpers.answer_close(reader, writer)

    async with (
        raw_server(proxy) as port,
        wsclient.connect("ws://example.invalid/", proxy=f"http://127.0.0.1:{port}") as ws,
    ):
        assert await ws.recv() == "tunnel"


async def test_open_timeout_covers_the_proxy(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    release = asyncio.Event()

    async def silent_proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        await release.wait()

    async with raw_server(silent_proxy) as port:
        with pytest.raises(wsclient.OpenTimeout, match=r"during CONNECT example\.invalid:80 through proxy"):
            await wsclient.connect("ws://example.invalid/", proxy=f"http://127.0.0.1:{port}", open_timeout=0.2)
        release.set()


async def test_invalid_proxy_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(ProxyError, match="invalid proxy in the environment"):
        await wsclient.connect("ws://127.0.0.1:1/")
