"""WebSocket URLs, proxy URLs, and the proxy settings of the environment.

Nothing here does I/O: these functions parse strings and read `os.environ`.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import os
import urllib.parse
from collections.abc import Mapping

__all__ = [
    "ProxyURL",
    "WebSocketURL",
    "basic_auth",
    "no_proxy_matches",
    "parse_proxy_url",
    "parse_url",
    "proxy_from_environment",
]

# Characters left as they are in a path or a query (RFC 3986 pchar, plus "%" so that
# escapes already in the URL are kept, plus "/" and "?").
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"


def basic_auth(username: str, password: str) -> str:
    """The value of an `Authorization` (or `Proxy-Authorization`) header for Basic auth.

    Args:
        username: the user name, UTF-8 encoded on the wire (RFC 7617 section 2.1).
        password: the password.

    Returns:
        ``"Basic <base64 of username:password>"``.
    """
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _ascii_host(host: str, what: str) -> str:
    """The host as it goes on the wire: IDNA for international names, lower case."""
    if not host:
        raise ValueError(f"{what} has no host")
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{what} has an invalid host {host!r}") from None
    return host


def _authority(host: str, port: int) -> str:
    """``host:port`` with an IPv6 literal in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclasses.dataclass(frozen=True, slots=True)
class WebSocketURL:
    """A parsed ``ws://`` or ``wss://`` URL.

    Attributes:
        secure: True for ``wss://``.
        host: the host: a name (IDNA-encoded, lower case), an IPv4 address, or an IPv6
            address without brackets.
        port: the port; 80 or 443 when the URL gives none.
        target: the request-target: the path (``/`` when empty) and the query,
            percent-encoded where needed.
        username: the user name of the URL's userinfo, percent-decoded, or None.
        password: the password of the URL's userinfo, percent-decoded, or None.
    """

    secure: bool
    host: str
    port: int
    target: str
    username: str | None = None
    password: str | None = None

    @property
    def scheme(self) -> str:
        """``"wss"`` or ``"ws"``."""
        return "wss" if self.secure else "ws"

    @property
    def default_port(self) -> bool:
        """True when the port is the scheme's default (443 or 80)."""
        return self.port == (443 if self.secure else 80)

    @property
    def host_header(self) -> str:
        """The `Host` value: the host, with ``:port`` when not the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.default_port else f"{host}:{self.port}"

    @property
    def authority(self) -> str:
        """``host:port``, the port always given (the target of a proxy's ``CONNECT``)."""
        return _authority(self.host, self.port)

    @property
    def origin(self) -> tuple[str, str, int]:
        """``(scheme, host, port)``: what a redirect must keep for credentials to follow."""
        return (self.scheme, self.host, self.port)

    @property
    def authorization(self) -> str | None:
        """The `Authorization` header for the URL's userinfo, or None without userinfo."""
        if self.username is None:
            return None
        return basic_auth(self.username, self.password or "")

    def __str__(self) -> str:
        """The URL, without its userinfo (safe to log)."""
        return f"{self.scheme}://{self.host_header}{self.target}"


def parse_url(url: str) -> WebSocketURL:
    """Parse a WebSocket URL.

    Accepted: ``ws://`` and ``wss://`` (any case), a host name, an IPv4 address or an
    IPv6 address in brackets, an optional port, path and query. A userinfo
    (``ws://user:password@host/``) becomes an `Authorization: Basic` header. Characters
    that may not appear in a request-target (spaces, non-ASCII) are percent-encoded.

    Args:
        url: the URL.

    Returns:
        The parsed URL.

    Raises:
        ValueError: `url` is not an absolute ``ws://`` or ``wss://`` URL, has a fragment
            (the WebSocket API forbids them), or has an invalid host or port.
        TypeError: `url` is not a str.
    """
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    if any(c in url for c in "\r\n\t\x00"):
        raise ValueError(f"url {url!r} contains control characters")
    try:
        parts = urllib.parse.urlsplit(url.strip(" "))
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid url {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss"):
        raise ValueError(
            f"url scheme must be ws or wss, not {parts.scheme!r}" if scheme else f"url {url!r} has no scheme"
        )
    if "#" in url:
        raise ValueError(f"url {url!r} must not have a fragment")
    if parts.hostname is None:
        raise ValueError(f"url {url!r} has no host")
    host = _ascii_host(parts.hostname, "url")
    if port == 0:
        raise ValueError(f"url {url!r} has port 0")
    secure = scheme == "wss"
    target = urllib.parse.quote(parts.path, safe=_PATH_SAFE) or "/"
    if not target.startswith("/"):
        target = "/" + target
    if parts.query:
        target += "?" + urllib.parse.quote(parts.query, safe=_QUERY_SAFE)
    elif url.rstrip(" ").endswith("?"):
        target += "?"
    username = urllib.parse.unquote(parts.username) if parts.username is not None else None
    password = urllib.parse.unquote(parts.password) if parts.password is not None else None
    return WebSocketURL(
        secure=secure,
        host=host,
        port=port if port is not None else (443 if secure else 80),
        target=target,
        username=username,
        password=password,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class ProxyURL:
    """A parsed ``http://`` or ``https://`` proxy URL.

    Attributes:
        secure: True for ``https://``: TLS to the proxy itself.
        host: the proxy's host (IPv6 without brackets).
        port: the proxy's port; 80 or 443 when the URL gives none (as curl does).
        username: the user name for `Proxy-Authorization: Basic`, or None.
        password: the password, or None.
    """

    secure: bool
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @property
    def authorization(self) -> str | None:
        """The `Proxy-Authorization` header, or None without credentials."""
        if self.username is None:
            return None
        return basic_auth(self.username, self.password or "")

    def __str__(self) -> str:
        """The URL without credentials (safe to log)."""
        return f"{'https' if self.secure else 'http'}://{_authority(self.host, self.port)}"


def parse_proxy_url(url: str) -> ProxyURL:
    """Parse a proxy URL such as ``http://user:password@proxy.example:3128``.

    A URL without a scheme is taken as ``http://`` (as curl does with `HTTPS_PROXY`).

    Args:
        url: the proxy URL.

    Returns:
        The parsed URL.

    Raises:
        ValueError: not an ``http://`` or ``https://`` URL with a host (SOCKS proxies
            are not supported), or an invalid port.
    """
    if not isinstance(url, str):
        raise TypeError(f"proxy must be a str, not {type(url).__name__}")
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid proxy url {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"proxy scheme must be http or https, not {parts.scheme!r}")
    if parts.hostname is None:
        raise ValueError(f"proxy url {url!r} has no host")
    secure = scheme == "https"
    return ProxyURL(
        secure=secure,
        host=_ascii_host(parts.hostname, "proxy url"),
        port=port if port else (443 if secure else 80),
        username=urllib.parse.unquote(parts.username) if parts.username is not None else None,
        password=urllib.parse.unquote(parts.password) if parts.password is not None else None,
    )


def _env(environ: Mapping[str, str], name: str) -> str | None:
    """`name` in lower case, else in upper case (as curl and urllib read them).

    The upper-case `HTTP_PROXY` is ignored in a CGI script (``REQUEST_METHOD`` set),
    where a client's `Proxy:` request header lands in it ("httpoxy").
    """
    value = environ.get(name)
    if value is None:
        upper = name.upper()
        if upper == "HTTP_PROXY" and "REQUEST_METHOD" in environ:
            return None
        value = environ.get(upper)
    if value is not None:
        value = value.strip()
    return value or None


def no_proxy_matches(no_proxy: str, host: str, port: int) -> bool:
    """Whether `host` is excluded from proxying by a `NO_PROXY` value.

    The value is a comma (or space) separated list. An entry matches:

    * ``*``: every host;
    * ``example.com``, ``.example.com`` or ``*.example.com``: that host and every
      host under it, ignoring case;
    * ``10.0.0.1``, ``::1`` or ``[::1]``: that address; ``10.0.0.0/8``: any address in
      the network;
    * any of the above with ``:port``: only that port.

    Args:
        no_proxy: the value of `NO_PROXY`.
        host: the destination host (IPv6 without brackets).
        port: the destination port.

    Returns:
        True when the connection must not go through the proxy.
    """
    host = host.lower().rstrip(".")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry_port: int | None = None
        if entry.startswith("["):
            end = entry.find("]")
            if end < 0:
                continue
            rest = entry[end + 1 :]
            entry = entry[1:end]
            if rest.startswith(":") and rest[1:].isdigit():
                entry_port = int(rest[1:])
        elif entry.count(":") == 1:
            name, _, port_text = entry.partition(":")
            if port_text.isdigit():
                entry, entry_port = name, int(port_text)
        if entry_port is not None and entry_port != port:
            continue
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.removeprefix("*").lstrip(".").rstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def proxy_from_environment(url: WebSocketURL, environ: Mapping[str, str] | None = None) -> str | None:
    """The proxy that the environment sets for `url`, or None.

    ``wss://`` URLs use `https_proxy`, ``ws://`` URLs `http_proxy`, both fall back on
    `all_proxy`; each name is read in lower case first, then in upper case. A host
    that `no_proxy` matches (see [`no_proxy_matches`][wsclient.no_proxy_matches]) gets
    no proxy.

    Args:
        url: the destination.
        environ: the environment; `os.environ` by default.

    Returns:
        The proxy URL as written in the environment, or None.
    """
    env = os.environ if environ is None else environ
    proxy = _env(env, "https_proxy" if url.secure else "http_proxy") or _env(env, "all_proxy")
    if proxy is None:
        return None
    no_proxy = _env(env, "no_proxy")
    if no_proxy and no_proxy_matches(no_proxy, url.host, url.port):
        return None
    return proxy
