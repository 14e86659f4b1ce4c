"""Tests for `wsframe._cookies`: lenient `Cookie` parsing and validated `Set-Cookie` building."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsframe._cookies import SetCookie, parse_cookie_header

UTC = datetime.timezone.utc


class TestParseCookieHeader:
    def test_pairs(self) -> None:
        assert parse_cookie_header("session=abc; theme=dark") == [("session", "abc"), ("theme", "dark")]

    def test_whitespace_and_quotes(self) -> None:
        assert parse_cookie_header(' a = "quoted" ;b=2;  c="" ') == [("a", "quoted"), ("b", "2"), ("c", "")]

    def test_lone_quote_kept(self) -> None:
        assert parse_cookie_header('a="x') == [("a", '"x')]

    def test_malformed_pairs_skipped(self) -> None:
        assert parse_cookie_header("novalue; =x; ;c=3;;") == [("c", "3")]

    def test_no_percent_decoding(self) -> None:
        # WebSocket-Node's decodeURIComponent failed the handshake on "%E0%A4%A".
        assert parse_cookie_header("a=%E0%A4%A; b=%20") == [("a", "%E0%A4%A"), ("b", "%20")]

    def test_equals_and_commas_in_values(self) -> None:
        assert parse_cookie_header("a=b=c; d=1,2") == [("a", "b=c"), ("d", "1,2")]

    def test_duplicates_kept_in_order(self) -> None:
        assert parse_cookie_header("a=1; a=2") == [("a", "1"), ("a", "2")]

    def test_empty(self) -> None:
        assert parse_cookie_header("") == []

    @given(st.text(max_size=80))
    def test_never_raises(self, value: str) -> None:
        for name, _ in parse_cookie_header(value):
            assert name
            assert ";" not in name


class TestSetCookie:
    def test_minimal(self) -> None:
        assert SetCookie("id", "a3fWa").to_header() == "id=a3fWa"

    def test_all_attributes(self) -> None:
        cookie = SetCookie(
            "id",
            '"a3fWa"',
            path="/chat",
            domain="Example.com",
            expires=datetime.datetime(2015, 10, 21, 9, 28, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
            max_age=3600,
            secure=True,
            http_only=True,
            same_site="None",
        )
        assert cookie.to_header() == (
            'id="a3fWa"; Path=/chat; Domain=Example.com; Expires=Wed, 21 Oct 2015 07:28:00 GMT; '
            "Max-Age=3600; Secure; HttpOnly; SameSite=None"
        )

    def test_expires_is_imf_fixdate(self) -> None:
        cookie = SetCookie("a", "b", expires=datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC))
        assert cookie.to_header() == "a=b; Expires=Sun, 06 Nov 1994 08:49:37 GMT"

    def test_max_age_zero_deletes(self) -> None:
        assert SetCookie("a", "", max_age=0).to_header() == "a=; Max-Age=0"

    def test_frozen(self) -> None:
        cookie = SetCookie("a", "b")
        with pytest.raises(dataclasses.FrozenInstanceError):
            cookie.name = "c"  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"name": ""}, "name"),
            ({"name": "a b"}, "name"),
            ({"name": "a;b"}, "name"),
            ({"name": "a\r\nSet-Cookie: x"}, "name"),
            ({"value": "a b"}, "value"),
            ({"value": "a;b"}, "value"),
            ({"value": "a,b"}, "value"),
            ({"value": 'a"b'}, "value"),
            ({"value": "a\\b"}, "value"),
            ({"value": "a\r\nX: y"}, "value"),
            ({"value": "é"}, "value"),
            ({"path": "/a;b"}, "path"),
            ({"path": "/a\r\nX: y"}, "path"),
            ({"path": "/\x00"}, "path"),
            ({"domain": "a.com; Secure"}, "domain"),
            ({"domain": "a\nb"}, "domain"),
            ({"expires": datetime.datetime(2020, 1, 1)}, "expires"),
            ({"expires": "tomorrow"}, "expires"),
            ({"max_age": -1}, "max_age"),
            ({"max_age": True}, "max_age"),
            ({"max_age": 1.5}, "max_age"),
            ({"same_site": "lax"}, "same_site"),
            ({"same_site": "None"}, "same_site 'None' requires secure"),
        ],
    )
    def test_invalid(self, kwargs: dict[str, object], field: str) -> None:
        args: dict[str, object] = {"name": "a", "value": "b", **kwargs}
        with pytest.raises(ValueError, match=field):
            SetCookie(**args)  # type: ignore[arg-type]

    @pytest.mark.parametrize("field", ["secure", "http_only"])
    def test_flags_must_be_bool(self, field: str) -> None:
        with pytest.raises(TypeError, match=field):
            SetCookie("a", "b", **{field: 1})  # type: ignore[arg-type]

    def test_value_type(self) -> None:
        with pytest.raises(TypeError, match="value"):
            SetCookie("a", 1)  # type: ignore[arg-type]
