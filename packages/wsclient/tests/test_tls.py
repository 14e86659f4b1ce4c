"""wss:// with certificates from a test CA (`trustme`)."""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

import wsclient
from wsclient import WebSocketClient, is_retryable

Server = Callable[..., AbstractAsyncContextManager[int]]


async def test_wss_with_the_ca_loaded(ws_server: Server, tls: Any) -> None:
    names: list[str | None] = []
    context = tls.server_context()
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment]
    async with ws_server(ssl=context) as port:
        async with wsclient.connect(f"wss://localhost:{port}/", ssl=tls.client_context()) as ws:
            await ws.send("secret")
            assert await ws.recv() == "secret"
            assert ws.url == f"wss://localhost:{port}/"
            ssl_object = ws._transport.get_extra_info("ssl_object")
            assert ssl_object is not None
            assert ssl_object.server_hostname == "localhost"
        async with wsclient.connect(f"wss://127.0.0.1:{port}/", ssl=tls.client_context()) as ws:
            await ws.send("by address")
            assert await ws.recv() == "by address"
    assert names[0] == "localhost"  # SNI sent for names (not for addresses)


async def test_untrusted_certificate_is_refused_by_default(ws_server: Server, tls: Any) -> None:
    async with ws_server(ssl=tls.server_context()) as port:
        # The default context trusts the system store, which does not know the test CA.
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed") as info:
            await wsclient.connect(f"wss://localhost:{port}/")
        assert not is_retryable(info.value)
        with pytest.raises(ssl.SSLCertVerificationError):
            await wsclient.connect(f"wss://localhost:{port}/", ssl=tls.client_context(trust=False))


async def test_host_name_mismatch_is_refused(ws_server: Server, tls: Any) -> None:
    async with ws_server(ssl=tls.server_context(wrong_name=True)) as port:
        with pytest.raises(ssl.SSLCertVerificationError, match=r"mismatch|doesn't match|not valid for"):
            await wsclient.connect(f"wss://localhost:{port}/", ssl=tls.client_context())


async def test_server_hostname_overrides_sni_and_check(ws_server: Server, tls: Any) -> None:
    names: list[str | None] = []
    context = tls.server_context(wrong_name=True)
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment]
    async with (
        ws_server(ssl=context) as port,
        wsclient.connect(f"wss://127.0.0.1:{port}/", ssl=tls.client_context(), server_hostname="other.example") as ws,
    ):
        await ws.send("ok")
        assert await ws.recv() == "ok"
    assert names == ["other.example"]


async def test_default_context_verifies_and_offers_http11(tls: Any) -> None:
    client = WebSocketClient()
    context = client.default_ssl_context()
    assert context is client.default_ssl_context()  # made once
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


async def test_plain_server_behind_wss_url(ws_server: Server) -> None:
    async with ws_server() as port:
        # The server answers the ClientHello with an HTTP 400 and closes: asyncio reports
        # ConnectionResetError or an SSLError depending on timing; both are OSErrors.
        with pytest.raises(OSError) as info:
            await wsclient.connect(f"wss://127.0.0.1:{port}/", open_timeout=5)
        assert not isinstance(info.value, wsclient.WebSocketError)


async def test_wss_over_unix_socket(tls: Any) -> None:
    unix_serve = pytest.importorskip(
        "websockets.asyncio.server", reason="the websockets package is a test dependency (pip install websockets)"
    ).unix_serve

    async def handler(server_ws: Any) -> None:
        await server_ws.send("over unix")
        await server_ws.wait_closed()

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "wss.sock")
        async with (
            unix_serve(handler, path, ssl=tls.server_context()),
            wsclient.connect("wss://localhost/", unix_socket=path, ssl=tls.client_context()) as ws,
        ):
            assert await ws.recv() == "over unix"
