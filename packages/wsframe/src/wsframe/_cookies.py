"""Cookies in the opening handshake: parse `Cookie` (RFC 6265 section 5.4), build `Set-Cookie` (section 4.1).

Unlike WebSocket-Node, which ran ``decodeURIComponent`` on every value so that one
malformed ``%`` escape failed the whole handshake with 400, wskit does no percent-decoding:
values are returned as sent, and decoding (if the application encoded them) is the
application's choice. Parsing never raises on peer input.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Literal

from ._headers import is_token

__all__ = [
    "SameSite",
    "SetCookie",
    "parse_cookie_header",
]

#: Values of the `SameSite` attribute.
SameSite = Literal["Strict", "Lax", "None"]

# cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E (RFC 6265 section 4.1.1)
_COOKIE_OCTETS_RE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
# path-value / domain-value: any CHAR except CTLs or ";" (printable ASCII here)
_ATTRIBUTE_RE = re.compile(r"[\x20-\x3a\x3c-\x7e]*")

_UTC = datetime.timezone(datetime.timedelta(0))
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_cookie_header(value: str) -> list[tuple[str, str]]:
    """Parse a `Cookie` header value into ``(name, value)`` pairs.

    Pairs are separated by ``;`` (RFC 6265 section 4.2.1; commas are kept inside
    values, as browsers send them). Each pair is stripped of surrounding whitespace;
    a value wrapped in double quotes loses them. Lenient by design: a pair without
    ``=`` or with an empty name is skipped, nothing is percent-decoded, and the
    function never raises. Repeated names are all returned, in order.

    Args:
        value: the header value (join several `Cookie` lines with ``"; "``).

    Returns:
        The pairs in order, such as ``[("session", "abc"), ("theme", "dark")]``.
    """
    result: list[tuple[str, str]] = []
    for pair in value.split(";"):
        name, sep, val = pair.partition("=")
        if not sep:
            continue
        name = name.strip(" \t")
        if not name:
            continue
        val = val.strip(" \t")
        if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
            val = val[1:-1]
        result.append((name, val))
    return result


def _imf_fixdate(moment: datetime.datetime) -> str:
    """``Sun, 06 Nov 1994 08:49:37 GMT`` (RFC 7231 section 7.1.1.1), independent of the locale."""
    utc = moment.astimezone(_UTC)
    return (
        f"{_WEEKDAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month - 1]} {utc.year:04d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} GMT"
    )


@dataclasses.dataclass(frozen=True, slots=True)
class SetCookie:
    """A cookie to set with the handshake response, validated when built.

    Attributes:
        name: the cookie name, an RFC 7230 token.
        value: RFC 6265 cookie-octets (no space, DQUOTE, comma, semicolon or
            backslash), optionally wrapped in double quotes; may be empty.
        path: the `Path` attribute; printable ASCII without ``;``.
        domain: the `Domain` attribute; printable ASCII without ``;``.
        expires: the `Expires` attribute, a timezone-aware datetime (sent in GMT).
        max_age: the `Max-Age` attribute in seconds, 0 or more (0 deletes the cookie).
        secure: send the `Secure` attribute.
        http_only: send the `HttpOnly` attribute.
        same_site: the `SameSite` attribute, ``"Strict"``, ``"Lax"`` or ``"None"``
            (browsers require `secure` with ``"None"``, so that combination is refused).

    Raises:
        ValueError: a field is invalid; the message names it.
    """

    name: str
    value: str
    path: str | None = None
    domain: str | None = None
    expires: datetime.datetime | None = None
    max_age: int | None = None
    secure: bool = False
    http_only: bool = False
    same_site: SameSite | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not is_token(self.name):
            raise ValueError(f"name {self.name!r} is not a token")
        value = self.value
        if not isinstance(value, str):
            raise TypeError(f"value must be a str, not {type(value).__name__}")
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1]
        if _COOKIE_OCTETS_RE.fullmatch(value) is None:
            raise ValueError(f"value {self.value!r} has characters that a cookie value cannot contain")
        for field in ("path", "domain"):
            attribute = getattr(self, field)
            if attribute is None:
                continue
            if not isinstance(attribute, str) or _ATTRIBUTE_RE.fullmatch(attribute) is None:
                raise ValueError(f"{field} {attribute!r} must be printable ASCII without ';'")
        if self.expires is not None:
            if not isinstance(self.expires, datetime.datetime):
                raise ValueError(f"expires must be a datetime, not {type(self.expires).__name__}")
            if self.expires.utcoffset() is None:
                raise ValueError("expires must be timezone-aware")
        if self.max_age is not None and (
            not isinstance(self.max_age, int) or isinstance(self.max_age, bool) or self.max_age < 0
        ):
            raise ValueError(f"max_age must be a non-negative int, not {self.max_age!r}")
        for field in ("secure", "http_only"):
            if not isinstance(getattr(self, field), bool):
                raise TypeError(f"{field} must be a bool, not {getattr(self, field)!r}")
        if self.same_site is not None:
            if self.same_site not in ("Strict", "Lax", "None"):
                raise ValueError(f"same_site must be 'Strict', 'Lax' or 'None', not {self.same_site!r}")
            if self.same_site == "None" and not self.secure:
                raise ValueError("same_site 'None' requires secure")

    def to_header(self) -> str:
        """The `Set-Cookie` header value.

        Returns:
            For example ``"id=a3fWa; Path=/; Max-Age=3600; Secure; HttpOnly"``.
        """
        parts = [f"{self.name}={self.value}"]
        if self.path is not None:
            parts.append(f"Path={self.path}")
        if self.domain is not None:
            parts.append(f"Domain={self.domain}")
        if self.expires is not None:
            parts.append(f"Expires={_imf_fixdate(self.expires)}")
        if self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
        if self.secure:
            parts.append("Secure")
        if self.http_only:
            parts.append("HttpOnly")
        if self.same_site is not None:
            parts.append(f"SameSite={self.same_site}")
        return "; ".join(parts)
