"""The public names of wsserver: re-exports are wsframe's own objects."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import wsframe
import wsframe.cookies
import wsserver


def test_reexports_are_the_same_objects() -> None:
    for name in (
        "CloseCode",
        "ConnectionClosed",
        "ConnectionClosedOK",
        "ConnectionClosedError",
        "HandshakeError",
        "InvalidState",
        "Fragment",
    ):
        assert getattr(wsserver, name) is getattr(wsframe, name)
    assert wsserver.SetCookie is wsframe.cookies.SetCookie
    assert wsserver.ServerPerMessageDeflate is wsframe.ServerPerMessageDeflate


def test_all_is_complete_and_importable() -> None:
    for name in wsserver.__all__:
        assert hasattr(wsserver, name), name
    assert issubclass(wsserver.ServerConnection, wsframe.asyncio.WebSocketConnection)


def test_import_is_cheap_and_silent(tools: Any) -> None:
    # Importing configures no logging handler and pulls in no CLI machinery.
    code = (
        "import logging, sys, wsserver; "
        "assert not logging.getLogger('wsserver').handlers; "
        "assert not logging.getLogger().handlers; "
        "assert 'argparse' not in sys.modules, 'argparse imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], env=tools.env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == ""
