"""The public names of wsframe: a curated top level, public submodules, old names kept."""

from __future__ import annotations

import ast
import importlib
import pathlib
import subprocess
import sys
import types

import pytest

import wsframe

SUBMODULES = ("close", "cookies", "extensions", "frames", "handshake", "http", "typing")

# The top level: what a user of the codec needs (see the CHANGELOG, "Changed").
TOP_LEVEL = {
    # the frame connection
    "Connection",
    "Role",
    "State",
    "ConnectionOptions",
    "DEFAULT_FRAGMENTATION_THRESHOLD",
    "DEFAULT_MAX_MESSAGE_SIZE",
    # events
    "BinaryMessage",
    "CloseReceived",
    "ConnectionEvent",
    "ConnectionFailed",
    "Fragment",
    "Ping",
    "Pong",
    "TextMessage",
    # exceptions
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "HandshakeError",
    "InvalidData",
    "InvalidState",
    "MessageTooBig",
    "NegotiationError",
    "ProtocolError",
    "WebSocketError",
    # close codes, the opening handshake, permessage-deflate, HTTP
    "CloseCode",
    "ClientHandshake",
    "HandshakeEvent",
    "HandshakeInvalid",
    "HandshakeState",
    "HttpRequestReceived",
    "RequestReceived",
    "ResponseReceived",
    "ServerHandshake",
    "ClientPerMessageDeflate",
    "ServerPerMessageDeflate",
    "Headers",
    # the package
    "SPEEDUPS",
    "__version__",
}

# Every name of the flat top level before the submodules (0.1.0.dev0): all still import.
FORMER_TOP_LEVEL = (TOP_LEVEL - {"ConnectionEvent"}) | {
    # renamed ConnectionEvent (wsclient's W3C Event is another thing)
    "Event",
    # wsframe.close
    "CLOSE_DESCRIPTIONS",
    "MAX_CLOSE_REASON_BYTES",
    "check_close_code",
    "decode_close_payload",
    "encode_close_payload",
    "is_valid_close_code",
    # wsframe.cookies
    "SameSite",
    "SetCookie",
    "parse_cookie_header",
    # wsframe.extensions
    "RSV1",
    "RSV2",
    "RSV3",
    "ClientExtensionFactory",
    "Extension",
    "ExtensionParameters",
    "ServerExtensionFactory",
    "negotiate_client_extensions",
    "negotiate_server_extensions",
    "PerMessageDeflate",
    # wsframe.frames
    "CONTROL_OPCODES",
    "DATA_OPCODES",
    "MAX_CONTROL_PAYLOAD",
    "Frame",
    "FrameParser",
    "Opcode",
    "check_frame_header",
    "encode_frame",
    "frame_header",
    "apply_mask",
    "apply_mask_python",
    "Utf8Decoder",
    "is_valid_utf8",
    # wsframe.handshake
    "DEFAULT_MAX_EARLY_DATA",
    "SUPPORTED_VERSIONS",
    "WEBSOCKET_GUID",
    "OpeningRequest",
    "accept_key",
    "build_accept_response",
    "build_reject_response",
    "build_request",
    "check_request",
    "check_response",
    "generate_key",
    "is_upgrade_request",
    # wsframe.http
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEADER_COUNT",
    "DEFAULT_MAX_HEADER_LINE_SIZE",
    "DEFAULT_MAX_HEAD_SIZE",
    "DEFAULT_MAX_START_LINE_SIZE",
    "HeadersLike",
    "HttpRequest",
    "HttpResponse",
    "RequestParser",
    "ResponseParser",
    "reason_phrase",
    "serialize_request",
    "serialize_response",
    "ExtensionHeader",
    "format_extension_header",
    "format_subprotocol_header",
    "is_token",
    "parse_extension_header",
    "parse_subprotocol_header",
    "parse_token_list",
    # wsframe.typing
    "BytesLike",
    "Data",
}

# Top-level names with no submodule: the connection, its events and exceptions.
TOP_LEVEL_ONLY = {
    name
    for name in TOP_LEVEL
    if name
    not in {
        "CloseCode",
        "ClientHandshake",
        "HandshakeEvent",
        "HandshakeInvalid",
        "HandshakeState",
        "HttpRequestReceived",
        "RequestReceived",
        "ResponseReceived",
        "ServerHandshake",
        "ClientPerMessageDeflate",
        "ServerPerMessageDeflate",
        "Headers",
    }
}


def submodule(name: str) -> types.ModuleType:
    return importlib.import_module(f"wsframe.{name}")


def test_top_level_all_is_the_curated_set() -> None:
    assert len(wsframe.__all__) == len(set(wsframe.__all__)), "duplicates in wsframe.__all__"
    assert set(wsframe.__all__) == TOP_LEVEL
    assert len(FORMER_TOP_LEVEL) == 104


@pytest.mark.parametrize("name", SUBMODULES)
def test_submodule_all_resolves(name: str) -> None:
    module = submodule(name)
    assert module.__doc__, f"wsframe.{name} has no docstring"
    assert module.__all__, name
    assert len(module.__all__) == len(set(module.__all__)), f"duplicates in wsframe.{name}.__all__"
    for exported in module.__all__:
        assert getattr(module, exported) is not None, f"wsframe.{name}.{exported}"
        # a re-export: the object lives in a private module
        defined_in = getattr(getattr(module, exported), "__module__", None)
        if isinstance(defined_in, str) and defined_in.startswith("wsframe"):
            assert defined_in.split(".")[-1].startswith("_"), f"wsframe.{name}.{exported}"


def test_submodules_partition_the_former_names() -> None:
    # Each name has one submodule home, except those only at the top level; together
    # with those they are exactly the former flat top level.
    homes: dict[str, str] = {}
    for name in SUBMODULES:
        for exported in submodule(name).__all__:
            assert exported not in homes, f"{exported} in wsframe.{homes[exported]} and wsframe.{name}"
            homes[exported] = name
    assert set(homes) | TOP_LEVEL_ONLY == (FORMER_TOP_LEVEL - {"Event"}) | {"ConnectionEvent"}
    assert not set(homes) & TOP_LEVEL_ONLY


@pytest.mark.parametrize("name", sorted(FORMER_TOP_LEVEL))
def test_every_former_name_still_imports(name: str) -> None:
    value = getattr(wsframe, name)
    namespace: dict[str, object] = {}
    exec(f"from wsframe import {name}", namespace)
    assert namespace[name] is value


def test_identity_between_top_level_and_submodules() -> None:
    for name in SUBMODULES:
        module = submodule(name)
        for exported in module.__all__:
            assert getattr(wsframe, exported) is getattr(module, exported), f"wsframe.{name}.{exported}"


def test_submodules_are_attributes_and_unknown_names_fail() -> None:
    for name in SUBMODULES:
        assert getattr(wsframe, name) is submodule(name)
    assert set(SUBMODULES) <= set(dir(wsframe))
    assert set(wsframe.__all__) <= set(dir(wsframe))
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = wsframe.nope  # type: ignore[attr-defined]


def test_options_submodule() -> None:
    # wsframe.options came after the flat top level: it moves no former name, and
    # re-exports the top level's options (the same objects) beside its own names.
    module = submodule("options")
    assert wsframe.options is module
    assert "options" in dir(wsframe)
    assert module.__doc__
    assert len(module.__all__) == len(set(module.__all__))
    assert set(module.__all__) & FORMER_TOP_LEVEL == {
        "ConnectionOptions",
        "DEFAULT_FRAGMENTATION_THRESHOLD",
        "DEFAULT_MAX_MESSAGE_SIZE",
    }
    for name in module.__all__:
        if name in TOP_LEVEL:
            assert getattr(wsframe, name) is getattr(module, name), name


def test_star_import_gives_the_curated_set() -> None:
    namespace: dict[str, object] = {}
    exec("from wsframe import *", namespace)
    assert set(namespace) - {"__builtins__"} == TOP_LEVEL


def test_import_loads_no_public_submodule() -> None:
    # `import wsframe` loads what the curated names need and nothing more: the
    # submodules, the former names' homes and the asyncio driver load on first use.
    code = "import sys, wsframe; print(sorted(m for m in sys.modules if m.startswith('wsframe.') and '._' not in m))"
    src = str(pathlib.Path(wsframe.__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": src}
    )
    assert result.stdout.strip() == "[]"


def _repo_root() -> pathlib.Path | None:
    root = pathlib.Path(__file__).resolve().parents[3]
    return root if (root / "packages" / "wsserver").is_dir() else None


def test_the_repository_imports_only_current_names() -> None:
    # wskit's own code spells each name where it lives now: `from wsframe import X`
    # and `wsframe.X` only for the curated top level.
    root = _repo_root()
    if root is None:
        pytest.skip("not in the wskit repository")
    offenders = []
    for directory in ("packages", "conformance", "examples", "fuzzing", "bench", "stress"):
        for path in sorted((root / directory).rglob("*.py")):
            if "wsframe/src/wsframe" in path.as_posix() or path.name == "test_exports.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "wsframe" and node.level == 0:
                    names = [alias.name for alias in node.names if alias.name != "*"]
                elif (
                    isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "wsframe"
                ):
                    names = [node.attr]
                else:
                    continue
                for name in names:
                    if name in FORMER_TOP_LEVEL - TOP_LEVEL:
                        offenders.append(f"{path.relative_to(root)}:{node.lineno}: wsframe.{name}")
    assert not offenders, "\n".join(offenders)


def test_event_is_the_former_name_of_connection_event() -> None:
    import wsframe

    assert wsframe.Event is wsframe.ConnectionEvent
    assert "Event" not in wsframe.__all__
