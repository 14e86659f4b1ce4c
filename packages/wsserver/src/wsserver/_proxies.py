"""Which peers may tell us the client's address: `X-Forwarded-For` behind trusted proxies.

WebSocket-Node trusted `X-Forwarded-For` by default and took its left-most entry, which
any client writes itself: every address was spoofable. wsserver trusts nobody unless
told: the client's address is the socket's peer, and `X-Forwarded-For` is read only
when that peer is a configured proxy. Then the list is walked from the right (each proxy
appends the address it received the request from), skipping the trusted proxies; the
first address that is not one of them is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["TrustedProxies", "UNIX", "peer_ip", "split_forwarded_for"]

#: The entry of `trusted_proxies` that trusts every peer of a Unix socket (a local proxy).
UNIX = "unix"

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# An X-Forwarded-For entry longer than this is not an address.
_MAX_ENTRY = 64


def _parse_ip(text: str) -> _Address | None:
    """`text` as an address (IPv4-mapped IPv6 as IPv4, brackets and zone dropped), or None."""
    text = text.strip(" \t")
    if not text or len(text) > _MAX_ENTRY:
        return None
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:8080"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:8080"
        text = text.partition(":")[0]
    text = text.partition("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def peer_ip(peername: Any) -> str | None:
    """The IP address of a socket peer as a string, or None for a Unix socket.

    Args:
        peername: the transport's `peername`: ``(host, port)``, ``(host, port, flow,
            scope)`` or a Unix socket path.

    Returns:
        ``"192.0.2.1"``, ``"2001:db8::1"`` (IPv4-mapped addresses as IPv4), or None.
    """
    if isinstance(peername, tuple) and peername and isinstance(peername[0], str):
        address = _parse_ip(peername[0])
        return str(address) if address is not None else peername[0]
    return None


class TrustedProxies:
    """A set of proxy addresses and networks whose `X-Forwarded-For` is believed.

    Args:
        proxies: addresses (``"10.0.0.5"``, ``"::1"``), networks (``"10.0.0.0/8"``), or
            ``"unix"`` for every peer of a Unix socket. Empty: trust nobody.

    Raises:
        ValueError: an entry is neither; the message names it.
    """

    __slots__ = ("_networks", "_unix")

    def __init__(self, proxies: Iterable[str] = ()) -> None:
        if isinstance(proxies, str):
            raise TypeError("trusted_proxies must be a sequence of addresses, not a string")
        self._networks: list[_Network] = []
        self._unix = False
        for entry in proxies:
            if entry == UNIX:
                self._unix = True
                continue
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except (TypeError, ValueError):
                raise ValueError(f"trusted proxy {entry!r} is not an IP address, a network or 'unix'") from None

    def __bool__(self) -> bool:
        return self._unix or bool(self._networks)

    def _trusts(self, address: _Address) -> bool:
        return any(address in network for network in self._networks)

    def client_address(self, peername: Any, forwarded_for: Sequence[str]) -> str | None:
        """The client's address for a request from `peername` with these `X-Forwarded-For` entries.

        Args:
            peername: the socket peer (see [`peer_ip`][wsserver._proxies.peer_ip]).
            forwarded_for: the comma-separated entries of every `X-Forwarded-For` line.

        Returns:
            The socket peer's address unless it is a trusted proxy; then the right-most
            entry that is not a trusted proxy (the left-most if all are). An entry that
            is not an address ends the walk at the last trusted hop. None for a Unix
            socket peer without a trusted forwarded address.
        """
        ip = peer_ip(peername)
        if ip is None:
            if not self._unix:
                return None
            current: str | None = None
        else:
            address = _parse_ip(ip)
            if address is None or not self._trusts(address):
                return ip
            current = ip
        for entry in reversed(forwarded_for):
            parsed = _parse_ip(entry)
            if parsed is None:
                return current
            current = str(parsed)
            if not self._trusts(parsed):
                return current
        return current


def split_forwarded_for(values: Sequence[str]) -> list[str]:
    """The entries of every `X-Forwarded-For` line, in order, stripped, empty ones skipped."""
    return [entry.strip(" \t") for value in values for entry in value.split(",") if entry.strip(" \t")]
