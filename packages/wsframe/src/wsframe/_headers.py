"""Header value grammar: tokens, token lists, quoted strings, subprotocols and extensions.

The parsers follow RFC 7230 section 3.2.6 (tokens, quoted strings) and section 7 (the
``#rule`` list syntax: recipients accept empty list elements such as ``"a, , b"``), and
RFC 6455 sections 4.3 and 9.1 for `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`.
Every parser scans its input once, left to right: linear time, no backtracking regular
expressions (the only regular expressions used are single character classes).

Parsers of peer input raise [`HandshakeError`][wsframe.HandshakeError] with status 400;
formatters of values given by the application raise `ValueError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._errors import HandshakeError

__all__ = [
    "ExtensionHeader",
    "format_extension_header",
    "format_subprotocol_header",
    "is_token",
    "parse_extension_header",
    "parse_subprotocol_header",
    "parse_token_list",
]

#: A parsed `Sec-WebSocket-Extensions` header: ``[(name, [(param, value or None), ...]), ...]``.
ExtensionHeader = list[tuple[str, list[tuple[str, "str | None"]]]]

# tchar (RFC 7230 section 3.2.6): any VCHAR except delimiters.
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_OWS_RE = re.compile(r"[ \t]*")

#: The longest excerpt of a peer's value quoted in an error message.
_EXCERPT = 60


def _excerpt(value: str) -> str:
    """`value` as ``repr``, cut to a readable length for error messages."""
    if len(value) > _EXCERPT:
        return repr(value[:_EXCERPT]) + "..."
    return repr(value)


def is_token(s: str) -> bool:
    """Tell whether `s` is an RFC 7230 token (one or more ``tchar``).

    Args:
        s: the string to check.

    Returns:
        True for a non-empty string of letters, digits and ``!#$%&'*+-.^_`|~``.
    """
    return isinstance(s, str) and _TOKEN_RE.fullmatch(s) is not None


def _join(values: str | Sequence[str]) -> str:
    """Concatenate the values of repeated header lines, as RFC 7230 section 3.2.2 allows."""
    if isinstance(values, str):
        return values
    return ", ".join(values)


def parse_token_list(value: str) -> list[str]:
    """Split a comma-separated header value such as `Connection` or `Upgrade`.

    Elements are stripped of optional whitespace and keep their case; empty elements
    are skipped (RFC 7230 section 7). Elements are not required to be tokens, since an
    `Upgrade` element may carry a version (``"HTTP/2.0"``): compare them yourself,
    case-insensitively for `Connection` and `Upgrade`. This function never raises.

    Args:
        value: the header value (join repeated header lines with ``", "`` first).

    Returns:
        The non-empty elements, in order.
    """
    result: list[str] = []
    for element in value.split(","):
        element = element.strip(" \t")
        if element:
            result.append(element)
    return result


def parse_subprotocol_header(values: str | Sequence[str]) -> list[str]:
    """Parse `Sec-WebSocket-Protocol` (RFC 6455 section 4.1): a list of tokens.

    Args:
        values: the header value, or the values of every `Sec-WebSocket-Protocol`
            line in order (they are concatenated).

    Returns:
        The subprotocols in the peer's order of preference, with their original case.
        Empty list elements are skipped.

    Raises:
        HandshakeError: an element is not a token (status 400).
    """
    result: list[str] = []
    for element in _join(values).split(","):
        element = element.strip(" \t")
        if not element:
            continue
        if not is_token(element):
            raise HandshakeError(f"invalid subprotocol in Sec-WebSocket-Protocol header: {_excerpt(element)}")
        result.append(element)
    return result


def format_subprotocol_header(protocols: Sequence[str]) -> str:
    """Format a `Sec-WebSocket-Protocol` value from subprotocol names.

    Args:
        protocols: one or more subprotocol names; each must be a token.

    Returns:
        The names joined with ``", "``.

    Raises:
        ValueError: `protocols` is empty, a bare string, or holds a non-token.
    """
    if isinstance(protocols, str):
        raise TypeError("protocols must be a sequence of names, not a string")
    if not protocols:
        raise ValueError("protocols must not be empty")
    for protocol in protocols:
        if not is_token(protocol):
            raise ValueError(f"subprotocol {protocol!r} is not a token")
    return ", ".join(protocols)


def _skip_ows(s: str, i: int) -> int:
    match = _OWS_RE.match(s, i)
    assert match is not None  # `[ \t]*` matches everywhere
    return match.end()


def _parse_quoted_string(s: str, i: int) -> tuple[str, int]:
    """Parse the quoted-string that starts at ``s[i] == '"'``; return it unquoted and the next index.

    One pass over the characters (RFC 7230 section 3.2.6: ``qdtext`` and ``quoted-pair``).
    """
    n = len(s)
    i += 1
    chars: list[str] = []
    while i < n:
        c = s[i]
        if c == '"':
            return "".join(chars), i + 1
        if c == "\\":
            i += 1
            if i == n:
                break
            c = s[i]
        if (c < " " and c != "\t") or c == "\x7f" or c > "\xff":
            raise HandshakeError(f"invalid character {c!r} in quoted string")
        chars.append(c)
        i += 1
    raise HandshakeError("unterminated quoted string")


def parse_extension_header(values: str | Sequence[str]) -> ExtensionHeader:
    """Parse `Sec-WebSocket-Extensions` (RFC 6455 section 9.1).

    The grammar is ``extension *( "," extension )`` with ``extension = token *( ";" param )``
    and ``param = token [ "=" ( token / quoted-string ) ]``, optional whitespace around
    separators. A quoted value is unquoted, and must then be a token, as RFC 6455 requires.
    Names and values keep their case. Empty list elements are skipped.

    Args:
        values: the header value, or the values of every `Sec-WebSocket-Extensions`
            line in order (they are concatenated).

    Returns:
        ``[(extension_name, [(param_name, value or None), ...]), ...]`` in order.

    Raises:
        HandshakeError: the value does not follow the grammar (status 400).
    """
    s = _join(values)
    n = len(s)
    result: ExtensionHeader = []
    i = 0
    while True:
        i = _skip_ows(s, i)
        if i == n:
            return result
        if s[i] == ",":  # empty list element
            i += 1
            continue
        match = _TOKEN_RE.match(s, i)
        if match is None:
            raise HandshakeError(f"invalid extension name in Sec-WebSocket-Extensions at {_excerpt(s[i:])}")
        name = match.group()
        i = match.end()
        params: list[tuple[str, str | None]] = []
        while True:
            i = _skip_ows(s, i)
            if i == n or s[i] == ",":
                break
            if s[i] != ";":
                raise HandshakeError(f"expected ';' or ',' in Sec-WebSocket-Extensions at {_excerpt(s[i:])}")
            i = _skip_ows(s, i + 1)
            match = _TOKEN_RE.match(s, i)
            if match is None:
                raise HandshakeError(f"invalid parameter name in Sec-WebSocket-Extensions at {_excerpt(s[i:])}")
            param = match.group()
            i = _skip_ows(s, match.end())
            value: str | None = None
            if i < n and s[i] == "=":
                i = _skip_ows(s, i + 1)
                if i < n and s[i] == '"':
                    value, i = _parse_quoted_string(s, i)
                    if not is_token(value):
                        raise HandshakeError(f"quoted value of parameter {param!r} is not a token: {_excerpt(value)}")
                else:
                    match = _TOKEN_RE.match(s, i)
                    if match is None:
                        raise HandshakeError(f"invalid value for parameter {param!r} in Sec-WebSocket-Extensions")
                    value = match.group()
                    i = match.end()
            params.append((param, value))
        result.append((name, params))
        if i < n:  # s[i] == ","
            i += 1


def format_extension_header(extensions: Sequence[tuple[str, Sequence[tuple[str, str | None]]]]) -> str:
    """Format a `Sec-WebSocket-Extensions` value.

    Args:
        extensions: ``[(name, [(param, value or None), ...]), ...]``, as
            [`parse_extension_header`][wsframe.http.parse_extension_header] returns or
            [`negotiate_server_extensions`][wsframe.extensions.negotiate_server_extensions] answers.

    Returns:
        The value, such as ``"permessage-deflate; client_max_window_bits=10"``.

    Raises:
        ValueError: `extensions` is empty, or a name or value is not a token (RFC 6455
            section 9.1 allows only tokens, even when quoted).
    """
    if not extensions:
        raise ValueError("extensions must not be empty")
    parts: list[str] = []
    for name, params in extensions:
        if not is_token(name):
            raise ValueError(f"extension name {name!r} is not a token")
        items = [name]
        for param, value in params:
            if not is_token(param):
                raise ValueError(f"parameter name {param!r} of extension {name!r} is not a token")
            if value is None:
                items.append(param)
            elif is_token(value):
                items.append(f"{param}={value}")
            else:
                raise ValueError(f"value {value!r} of parameter {param!r} is not a token")
        parts.append("; ".join(items))
    return ", ".join(parts)
