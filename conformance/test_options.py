"""One mistake, one exception, everywhere: every option through every object that takes it.

Each option gets a value of the wrong type and, where it has a range, a value out of
it. Every object that takes the option (wsframe's `ConnectionOptions` and
`DriverOptions`, the asyncio `WebSocketConnection`, the sans-IO handshakes and HTTP
parsers, `WebSocketServer`, `WebSocketClient`, `wsclient.connect`, `reconnecting`) must
raise the same exception, `TypeError` for the type and `ValueError` for the range, with
the same message, naming the option (the message of `permessage_deflate` names the
side's factory class).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

import wsclient
import wsserver
from wsframe import ClientHandshake, ConnectionOptions, ServerHandshake
from wsframe.asyncio import WebSocketConnection
from wsframe.http import RequestParser, ResponseParser
from wsframe.options import DriverOptions

URL = "ws://127.0.0.1:1/"


def _connection(**kwargs: Any) -> object:
    async def build() -> object:
        return WebSocketConnection(**kwargs)

    return asyncio.run(build())


def _client_handshake(**kwargs: Any) -> object:
    return ClientHandshake("example.com", "/", **kwargs)


CORE: dict[str, Callable[..., object]] = {
    "ConnectionOptions": ConnectionOptions,
    "WebSocketServer": lambda **kw: wsserver.WebSocketServer(None, **kw),
    "WebSocketClient": wsclient.WebSocketClient,
    "wsclient.connect": lambda **kw: wsclient.connect(URL, **kw),
}
DRIVER: dict[str, Callable[..., object]] = {
    "DriverOptions": DriverOptions,
    "WebSocketServer": lambda **kw: wsserver.WebSocketServer(None, **kw),
    "WebSocketClient": wsclient.WebSocketClient,
    "wsclient.connect": lambda **kw: wsclient.connect(URL, **kw),
}
CONNECTION = {**DRIVER, "WebSocketConnection": _connection}
HTTP: dict[str, Callable[..., object]] = {
    "RequestParser": RequestParser,
    "ResponseParser": ResponseParser,
    "ServerHandshake": ServerHandshake,
    "ClientHandshake": _client_handshake,
}
SERVER_HTTP = {**HTTP, "WebSocketServer": lambda **kw: wsserver.WebSocketServer(None, **kw)}
SERVER: dict[str, Callable[..., object]] = {"WebSocketServer": lambda **kw: wsserver.WebSocketServer(None, **kw)}
CLIENT: dict[str, Callable[..., object]] = {
    "WebSocketClient": wsclient.WebSocketClient,
    "wsclient.connect": lambda **kw: wsclient.connect(URL, **kw),
}
RECONNECT: dict[str, Callable[..., object]] = {"reconnecting": lambda **kw: wsclient.reconnecting(URL, **kw)}

# option, a value of the wrong type, a value out of range (None: the option has no range), takers
CASES: list[tuple[str, object, object, dict[str, Callable[..., object]]]] = [
    # ConnectionOptions: the sans-IO connection's limits and fragmentation
    ("max_message_size", "1", -1, CORE),
    ("max_message_size", True, -1, CORE),
    ("max_frame_size", 1.5, -1, CORE),
    ("assemble_fragments", 1, None, CORE),
    ("fragment_outgoing_messages", "yes", None, CORE),
    ("fragmentation_threshold", True, 0, CORE),
    ("auto_pong", None, None, {"ConnectionOptions": ConnectionOptions}),
    # DriverOptions: timers and flow control
    ("open_timeout", "10", 0, DRIVER),
    ("close_timeout", True, -1.0, CONNECTION),
    ("keepalive_interval", "20", 0, CONNECTION),
    ("keepalive_grace", [], float("nan"), CONNECTION),
    ("max_queue", True, 0, CONNECTION),
    ("max_queue", 16.0, -1, CONNECTION),
    ("write_limit", 1.5, -1, CONNECTION),
    # HTTP limits: the sans-IO parsers and handshakes, and the server
    ("max_start_line_size", "8", 0, SERVER_HTTP),
    ("max_header_count", True, 0, SERVER_HTTP),
    ("max_head_size", 1.5, -1, SERVER_HTTP),
    ("max_header_line_size", "8", 0, SERVER_HTTP),
    ("max_body_size", True, 0, {"ResponseParser": ResponseParser, "ClientHandshake": _client_handshake}),
    ("max_early_data", "0", -1, {"ServerHandshake": ServerHandshake}),
    # server only
    ("max_pending_handshakes", True, 0, SERVER),
    ("memory_release_interval", "5", 0, SERVER),
    ("permessage_deflate", "yes", None, SERVER),
    # client only
    ("permessage_deflate", "yes", None, CLIENT),
    ("version", "13", 7, CLIENT),
    ("max_redirects", True, -1, CLIENT),
    ("initial_delay", "1", -1, RECONNECT),
    ("max_delay", None, -0.5, RECONNECT),
    ("factor", True, 0.5, RECONNECT),
    ("reset_after", "30", -1, RECONNECT),
    ("max_attempts", 2.0, 0, RECONNECT),
]


def _failures(option: str, value: object, takers: dict[str, Callable[..., object]]) -> dict[str, BaseException]:
    failures: dict[str, BaseException] = {}
    for name, take in takers.items():
        try:
            take(**{option: value})
        except (TypeError, ValueError) as exc:
            failures[name] = exc
        else:
            pytest.fail(f"{name} accepted {option}={value!r}")
    return failures


def _check(option: str, value: object, takers: dict[str, Callable[..., object]], error: type[Exception]) -> None:
    failures = _failures(option, value, takers)
    for name, exc in failures.items():
        assert type(exc) is error, f"{name}({option}={value!r}) raised {exc!r}, not {error.__name__}"
        assert re.search(rf"\b{option}\b", str(exc)), f"{name}: {exc} does not name {option}"
    assert len({str(exc) for exc in failures.values()}) == 1, f"different messages for {option}: {failures}"


@pytest.mark.parametrize(("option", "wrong_type", "out_of_range", "takers"), CASES, ids=[c[0] for c in CASES])
def test_wrong_type_is_a_type_error(option: str, wrong_type: object, out_of_range: object, takers: Any) -> None:
    _check(option, wrong_type, takers, TypeError)


@pytest.mark.parametrize(
    ("option", "wrong_type", "out_of_range", "takers"),
    [case for case in CASES if case[2] is not None],
    ids=[case[0] for case in CASES if case[2] is not None],
)
def test_out_of_range_is_a_value_error(option: str, wrong_type: object, out_of_range: object, takers: Any) -> None:
    _check(option, out_of_range, takers, ValueError)


def test_the_server_and_the_client_share_the_driver_defaults() -> None:
    server = wsserver.WebSocketServer(None)
    client = wsclient.WebSocketClient()
    assert server._settings.driver == client.driver == DriverOptions()
    assert wsserver.DEFAULT_OPEN_TIMEOUT is wsclient.DEFAULT_OPEN_TIMEOUT
    # The one default that differs, on purpose (wsframe.options.DEFAULT_CLIENT_MAX_MESSAGE_SIZE).
    assert server._settings.options.max_message_size == ConnectionOptions().max_message_size == 1024 * 1024
    assert client.options.max_message_size == wsclient.DEFAULT_MAX_MESSAGE_SIZE == 8 * 1024 * 1024
