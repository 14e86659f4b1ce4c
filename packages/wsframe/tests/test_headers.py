"""Tests for `wsframe._headers`: tokens, token lists, subprotocol and extension headers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsframe._errors import HandshakeError
from wsframe._headers import (
    format_extension_header,
    format_subprotocol_header,
    is_token,
    parse_extension_header,
    parse_subprotocol_header,
    parse_token_list,
)

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
tokens = st.text(alphabet=TCHARS, min_size=1, max_size=12)


class TestIsToken:
    @pytest.mark.parametrize("value", ["websocket", "chat.v2", "a!#$%&'*+-.^_`|~9", "X"])
    def test_tokens(self, value: str) -> None:
        assert is_token(value)

    @pytest.mark.parametrize(
        "value", ["", "a b", "a,b", "a;b", 'a"', "a/b", "a=b", "(a)", "a\r\n", "a\x00", "é", "a\t", "[a]", "{a}", "a:b"]
    )
    def test_non_tokens(self, value: str) -> None:
        assert not is_token(value)

    def test_non_str(self) -> None:
        assert not is_token(b"abc")  # type: ignore[arg-type]


class TestTokenList:
    def test_split(self) -> None:
        assert parse_token_list("keep-alive, Upgrade") == ["keep-alive", "Upgrade"]

    def test_empty_elements_tolerated(self) -> None:
        assert parse_token_list(" , a,,\tb ,") == ["a", "b"]
        assert parse_token_list("") == []

    def test_versions_kept(self) -> None:
        assert parse_token_list("HTTP/2.0, websocket") == ["HTTP/2.0", "websocket"]


class TestSubprotocolHeader:
    def test_parse(self) -> None:
        assert parse_subprotocol_header("chat, superchat") == ["chat", "superchat"]
        assert parse_subprotocol_header("Chat") == ["Chat"]

    def test_lines_concatenated(self) -> None:
        assert parse_subprotocol_header(["a, b", "c"]) == ["a", "b", "c"]
        assert parse_subprotocol_header([]) == []

    def test_empty_elements(self) -> None:
        assert parse_subprotocol_header(",a, ,b,") == ["a", "b"]

    @pytest.mark.parametrize("value", ["a b", "chat/1", '"chat"', "a;b", "a=b", "é"])
    def test_invalid(self, value: str) -> None:
        with pytest.raises(HandshakeError) as info:
            parse_subprotocol_header(value)
        assert info.value.status == 400
        assert "Sec-WebSocket-Protocol" in str(info.value)

    def test_format(self) -> None:
        assert format_subprotocol_header(["chat", "superchat"]) == "chat, superchat"

    @pytest.mark.parametrize("bad", ["a b", "a\r\nX: y", "a\n", "", "a,b"])
    def test_format_invalid(self, bad: str) -> None:
        with pytest.raises(ValueError, match="not a token"):
            format_subprotocol_header(["ok", bad])

    def test_format_empty_or_string(self) -> None:
        with pytest.raises(ValueError, match="empty"):
            format_subprotocol_header([])
        with pytest.raises(TypeError):
            format_subprotocol_header("chat")

    @given(st.lists(tokens, min_size=1, max_size=5))
    def test_round_trip(self, protocols: list[str]) -> None:
        assert parse_subprotocol_header(format_subprotocol_header(protocols)) == protocols


class TestExtensionHeader:
    def test_rfc7692_examples(self) -> None:
        assert parse_extension_header("permessage-deflate") == [("permessage-deflate", [])]
        assert parse_extension_header(
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate"
        ) == [
            ("permessage-deflate", [("client_max_window_bits", None), ("server_max_window_bits", "10")]),
            ("permessage-deflate", []),
        ]

    def test_quoted_values(self) -> None:
        assert parse_extension_header('x; a="10"; b="t\\ok"') == [("x", [("a", "10"), ("b", "tok")])]

    def test_whitespace_and_case(self) -> None:
        assert parse_extension_header(' Foo ;\tA = 1 ; B="2" ,bar ') == [
            ("Foo", [("A", "1"), ("B", "2")]),
            ("bar", []),
        ]

    def test_lines_and_empty_elements(self) -> None:
        assert parse_extension_header(["a; x", ", , b"]) == [("a", [("x", None)]), ("b", [])]
        assert parse_extension_header("") == []
        assert parse_extension_header([]) == []

    @pytest.mark.parametrize(
        "value",
        [
            "foo;",
            "foo; ",
            "foo; =1",
            "foo bar",
            "foo; a=",
            "foo; a=,",
            'foo; a="unterminated',
            'foo; a="\\',
            'foo; a="two words"',
            'foo; a=""',
            'foo; a="x,y"',
            'foo; a="\x01"',
            ";",
            "=x",
            "foo; a=b=c",
            "foo; a b",
            "foo/1",
            'foo; a=x"',
        ],
    )
    def test_invalid(self, value: str) -> None:
        with pytest.raises(HandshakeError) as info:
            parse_extension_header(value)
        assert info.value.status == 400

    def test_long_input(self) -> None:
        # Many parameters: a single pass handles them (no timing asserted).
        value = "x" + "; a=1" * 20_000
        parsed = parse_extension_header(value)
        assert len(parsed[0][1]) == 20_000
        with pytest.raises(HandshakeError):
            parse_extension_header('x; a="' + "b" * 100_000)

    def test_format(self) -> None:
        assert (
            format_extension_header(
                [
                    ("permessage-deflate", [("client_max_window_bits", None), ("server_max_window_bits", "10")]),
                    ("x", []),
                ]
            )
            == "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x"
        )

    @pytest.mark.parametrize(
        "extensions",
        [
            [("a b", [])],
            [("a\r\nX: y", [])],
            [("a", [("p q", None)])],
            [("a", [("p", "two words")])],
            [("a", [("p", "1\r\nX: y")])],
            [("a", [("p", "")])],
            [],
        ],
    )
    def test_format_invalid(self, extensions: list[tuple[str, list[tuple[str, str | None]]]]) -> None:
        with pytest.raises(ValueError):
            format_extension_header(extensions)

    @given(
        st.lists(
            st.tuples(tokens, st.lists(st.tuples(tokens, st.none() | tokens), max_size=4)),
            min_size=1,
            max_size=4,
        )
    )
    def test_round_trip(self, extensions: list[tuple[str, list[tuple[str, str | None]]]]) -> None:
        assert parse_extension_header(format_extension_header(extensions)) == extensions

    @given(st.text(max_size=60))
    def test_never_crashes(self, value: str) -> None:
        # Any input parses or fails with a 400 HandshakeError: nothing else escapes.
        error: HandshakeError | None = None
        try:
            parse_extension_header(value)
        except HandshakeError as exc:
            error = exc
        assert error is None or error.status == 400
