"""The public names of wsclient: identity with wsframe's, lazy loading, the exception tree."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import pytest

import wsclient
import wsframe
from wsclient._client import CLIENT_ARGUMENTS, CONNECT_ARGUMENTS


def test_every_exported_name_exists() -> None:
    for name in wsclient.__all__:
        assert getattr(wsclient, name) is not None, name
    assert set(wsclient.__all__) <= set(dir(wsclient))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = wsclient.nope  # type: ignore[attr-defined]


def test_wsframe_names_are_the_same_objects() -> None:
    for name in (
        "CloseCode",
        "ConnectionClosed",
        "ConnectionClosedOK",
        "ConnectionClosedError",
        "Fragment",
        "HandshakeError",
        "NegotiationError",
        "WebSocketError",
    ):
        assert getattr(wsclient, name) is getattr(wsframe, name), name


def test_exception_tree() -> None:
    assert issubclass(wsclient.HandshakeFailed, wsframe.HandshakeError)
    assert issubclass(wsclient.RedirectError, wsclient.HandshakeFailed)
    for name in ("ProxyError", "OpenTimeout", "HandshakeInterrupted", "HandshakeFailed"):
        assert issubclass(getattr(wsclient, name), wsframe.WebSocketError), name
    assert issubclass(wsclient.OpenTimeout, TimeoutError)
    assert issubclass(wsclient.HandshakeInterrupted, ConnectionError)
    assert not issubclass(wsclient.HandshakeFailed, OSError)
    assert not issubclass(wsclient.ProxyError, OSError)
    distinct = [wsclient.HandshakeFailed, wsclient.ProxyError, wsclient.OpenTimeout, wsclient.HandshakeInterrupted]
    for a in distinct:
        for b in distinct:
            assert a is b or not issubclass(a, b)


def test_client_connection_shares_the_server_connection_class() -> None:
    from wsframe.asyncio import WebSocketConnection

    assert issubclass(wsclient.ClientConnection, WebSocketConnection)


def test_import_is_cheap() -> None:
    code = "import sys, wsclient; print(sorted(m for m in ('asyncio', 'ssl', 'wsclient._client') if m in sys.modules))"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_argument_tables_match_the_signatures() -> None:
    client = set(inspect.signature(wsclient.WebSocketClient).parameters)
    assert client == CLIENT_ARGUMENTS
    keyword_only = {
        name
        for name, parameter in inspect.signature(wsclient.WebSocketClient.connect).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    # open_timeout is both a client setting and a connect() override; connect() takes
    # the client's value.
    assert keyword_only - {"open_timeout"} == CONNECT_ARGUMENTS
    assert not CLIENT_ARGUMENTS & CONNECT_ARGUMENTS


def test_wsclient_does_not_import_wsserver() -> None:
    code = (
        "import sys, wsclient; wsclient.WebSocketClient; import wsclient._reconnect; print('wsserver' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"
