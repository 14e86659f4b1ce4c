"""Cookies in the opening handshake: parse `Cookie` (RFC 6265 section 5.4), build `Set-Cookie` (section 4.1).

A server reads the client's cookies from
[`OpeningRequest.cookies`][wsframe.handshake.OpeningRequest] (parsed by
[`parse_cookie_header`][wsframe.cookies.parse_cookie_header], which never raises on peer
input) and sets its own with [`SetCookie`][wsframe.cookies.SetCookie] objects passed to
[`ServerHandshake.accept`][wsframe.ServerHandshake.accept]. Values are not
percent-decoded.
"""

from __future__ import annotations

from ._cookies import SameSite, SetCookie, parse_cookie_header

__all__ = [
    "SameSite",
    "SetCookie",
    "parse_cookie_header",
]
