"""Trusted proxies and X-Forwarded-For, as pure functions (the socket tests are in test_handshake)."""

from __future__ import annotations

import pytest

from wsserver._proxies import TrustedProxies, peer_ip, split_forwarded_for


def test_nobody_is_trusted_by_default() -> None:
    proxies = TrustedProxies()
    assert not proxies
    assert proxies.client_address(("10.0.0.1", 5000), ["1.2.3.4"]) == "10.0.0.1"
    assert proxies.client_address("/run/ws.sock", ["1.2.3.4"]) is None


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ([], "10.0.0.1"),  # a trusted peer without the header is itself the client
        (["198.51.100.7"], "198.51.100.7"),
        (["6.6.6.6", "198.51.100.7"], "198.51.100.7"),  # the left-most entry is the client's own claim
        (["198.51.100.7", "10.0.0.9"], "198.51.100.7"),  # trusted hops are skipped from the right
        (["10.0.0.8", "10.0.0.9"], "10.0.0.8"),  # all trusted: the left-most
        (["garbage", "10.0.0.9"], "10.0.0.9"),  # not an address: stop at the last trusted hop
        (["[2001:db8::1]:443", "10.0.0.9"], "2001:db8::1"),
        (["198.51.100.7:8080"], "198.51.100.7"),
        (["::ffff:198.51.100.7"], "198.51.100.7"),
    ],
)
def test_walk_from_the_right(forwarded: list[str], expected: str) -> None:
    proxies = TrustedProxies(["10.0.0.0/8"])
    assert proxies.client_address(("10.0.0.1", 5000), forwarded) == expected


def test_unix_peers_and_ipv4_mapped_peers() -> None:
    assert TrustedProxies(["unix"]).client_address("/run/ws.sock", ["192.0.2.1"]) == "192.0.2.1"
    assert TrustedProxies(["unix"]).client_address("", []) is None
    assert TrustedProxies(["127.0.0.1"]).client_address(("::ffff:127.0.0.1", 1, 0, 0), ["192.0.2.1"]) == "192.0.2.1"
    assert peer_ip(("::ffff:127.0.0.1", 1, 0, 0)) == "127.0.0.1"
    assert peer_ip(("::1", 1, 0, 0)) == "::1"
    assert peer_ip("/path") is None


def test_invalid_entries() -> None:
    with pytest.raises(ValueError, match="'nope'"):
        TrustedProxies(["nope"])
    with pytest.raises(TypeError):
        TrustedProxies("10.0.0.1")


def test_split_forwarded_for() -> None:
    assert split_forwarded_for(["1.1.1.1, 2.2.2.2", " 3.3.3.3 ,, "]) == ["1.1.1.1", "2.2.2.2", "3.3.3.3"]
