"""URL parsing, proxy URLs, and the proxy settings of the environment."""

from __future__ import annotations

import base64

import pytest

from wsclient import WebSocketURL, no_proxy_matches, parse_url, proxy_from_environment
from wsclient._url import parse_proxy_url


def test_ws_url_defaults() -> None:
    url = parse_url("ws://Example.COM")
    assert url == WebSocketURL(secure=False, host="example.com", port=80, target="/")
    assert url.host_header == "example.com"
    assert url.authority == "example.com:80"
    assert str(url) == "ws://example.com/"


def test_wss_url_with_port_path_and_query() -> None:
    url = parse_url("WSS://example.com:8443/chat/room?x=1&y=2")
    assert url.secure
    assert (url.host, url.port, url.target) == ("example.com", 8443, "/chat/room?x=1&y=2")
    assert url.host_header == "example.com:8443"
    assert str(url) == "wss://example.com:8443/chat/room?x=1&y=2"


def test_default_port_given_explicitly_is_omitted_from_host() -> None:
    assert parse_url("wss://example.com:443/").host_header == "example.com"
    assert parse_url("ws://example.com:443/").host_header == "example.com:443"


def test_ipv6_literal() -> None:
    url = parse_url("ws://[::1]:9000/x")
    assert url.host == "::1"
    assert url.host_header == "[::1]:9000"
    assert url.authority == "[::1]:9000"
    assert parse_url("wss://[2001:db8::1]/").host_header == "[2001:db8::1]"


def test_userinfo_becomes_basic_authorization() -> None:
    url = parse_url("wss://al%40ice:p%3Ass@example.com/")
    assert (url.username, url.password) == ("al@ice", "p:ss")
    assert url.authorization == "Basic " + base64.b64encode(b"al@ice:p:ss").decode()
    assert "al" not in str(url)
    assert parse_url("ws://bob@example.com/").authorization == "Basic " + base64.b64encode(b"bob:").decode()
    assert parse_url("ws://example.com/").authorization is None


def test_target_is_percent_encoded() -> None:
    url = parse_url("ws://example.com/caf\u00e9 bar?q=a b&r=%41")
    assert url.target == "/caf%C3%A9%20bar?q=a%20b&r=%41"
    assert parse_url("ws://example.com?x").target == "/?x"
    assert parse_url("ws://example.com/?").target == "/?"


def test_international_host_name_is_idna_encoded() -> None:
    assert parse_url("ws://b\u00fccher.example/").host == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/", "scheme must be ws or wss"),
        ("example.com/chat", "has no scheme"),
        ("ws:///chat", "has no host"),
        ("ws://example.com/#frag", "fragment"),
        ("ws://example.com/#", "fragment"),
        ("ws://example.com:99999/", "invalid url"),
        ("ws://example.com:0/", "port 0"),
        ("ws://example.com/\r\nX: y", "control characters"),
    ],
)
def test_invalid_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_url(url)


def test_url_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="url must be a str"):
        parse_url(b"ws://example.com/")  # type: ignore[arg-type]


def test_proxy_urls() -> None:
    proxy = parse_proxy_url("http://user:secret@proxy.local:3128")
    assert (proxy.secure, proxy.host, proxy.port) == (False, "proxy.local", 3128)
    assert proxy.authorization == "Basic " + base64.b64encode(b"user:secret").decode()
    assert str(proxy) == "http://proxy.local:3128"
    assert parse_proxy_url("proxy.local:8080") == parse_proxy_url("http://proxy.local:8080")
    assert parse_proxy_url("https://proxy.local").port == 443
    assert parse_proxy_url("http://proxy.local").port == 80
    assert parse_proxy_url("http://[::1]:3128").host == "::1"
    with pytest.raises(ValueError, match="proxy scheme must be http or https"):
        parse_proxy_url("socks5://proxy.local:1080")


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "expected"),
    [
        ("*", "anything.example", 80, True),
        ("example.com", "example.com", 80, True),
        ("example.com", "api.example.com", 443, True),
        ("example.com", "badexample.com", 443, False),
        (".example.com", "api.example.com", 443, True),
        (".example.com", "example.com", 443, True),
        ("*.example.com", "api.example.com", 443, True),
        ("EXAMPLE.com", "Api.Example.Com", 443, True),
        ("other.org, example.com", "example.com", 80, True),
        ("other.org example.com", "example.com", 80, True),
        ("example.com:8080", "example.com", 8080, True),
        ("example.com:8080", "example.com", 80, False),
        ("127.0.0.1", "127.0.0.1", 9000, True),
        ("127.0.0.1", "127.0.0.2", 9000, False),
        ("10.0.0.0/8", "10.1.2.3", 80, True),
        ("10.0.0.0/8", "11.1.2.3", 80, False),
        ("::1", "::1", 80, True),
        ("[::1]", "::1", 80, True),
        ("[::1]:8080", "::1", 8080, True),
        ("[::1]:8080", "::1", 80, False),
        ("fd00::/8", "fd12::1", 80, True),
        ("localhost", "127.0.0.1", 80, False),
        ("", "example.com", 80, False),
        (" , ,", "example.com", 80, False),
    ],
)
def test_no_proxy_matching(no_proxy: str, host: str, port: int, expected: bool) -> None:
    assert no_proxy_matches(no_proxy, host, port) is expected


def test_proxy_from_environment_by_scheme() -> None:
    env = {"http_proxy": "http://plain:1", "HTTPS_PROXY": "http://secure:2"}
    assert proxy_from_environment(parse_url("ws://example.com/"), env) == "http://plain:1"
    assert proxy_from_environment(parse_url("wss://example.com/"), env) == "http://secure:2"


def test_proxy_from_environment_lower_case_wins_and_all_proxy_falls_back() -> None:
    env = {"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2", "ALL_PROXY": "http://all:3"}
    assert proxy_from_environment(parse_url("wss://example.com/"), env) == "http://lower:1"
    assert proxy_from_environment(parse_url("ws://example.com/"), env) == "http://all:3"
    assert proxy_from_environment(parse_url("ws://example.com/"), {}) is None
    assert proxy_from_environment(parse_url("ws://example.com/"), {"http_proxy": "  "}) is None


def test_proxy_from_environment_honours_no_proxy() -> None:
    env = {"HTTP_PROXY": "http://proxy:1", "NO_PROXY": "internal.example,127.0.0.1"}
    assert proxy_from_environment(parse_url("ws://svc.internal.example/"), env) is None
    assert proxy_from_environment(parse_url("ws://127.0.0.1:9000/"), env) is None
    assert proxy_from_environment(parse_url("ws://public.example/"), env) == "http://proxy:1"


def test_upper_case_http_proxy_is_ignored_in_cgi() -> None:
    env = {"HTTP_PROXY": "http://attacker:1", "REQUEST_METHOD": "GET"}
    assert proxy_from_environment(parse_url("ws://example.com/"), env) is None
    env["http_proxy"] = "http://configured:1"
    assert proxy_from_environment(parse_url("ws://example.com/"), env) == "http://configured:1"
