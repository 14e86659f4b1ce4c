"""Coverage-guided fuzzing of the HTTP head parsers and the handshake checks (atheris).

Input layout: byte 0 selects the parser (request or response) and the limits, bytes
1-2 the chunk sizes; the rest is what the peer sends.

Oracle: `RequestParser`/`ResponseParser` (`feed`, `feed_eof`), `check_request`,
`check_response`, `parse_extension_header`, `parse_subprotocol_header`,
`parse_token_list`, `parse_cookie_header` and the server's extension negotiation raise
nothing but `HandshakeError` (`NegotiationError` is one); the parser never buffers more
than its limits allow; a failed parser raises the same error again; the outcome does not
depend on how the bytes are chunked.
"""

from __future__ import annotations

import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    from wsframe import HandshakeError, ServerPerMessageDeflate
    from wsframe.cookies import parse_cookie_header
    from wsframe.extensions import negotiate_server_extensions
    from wsframe.handshake import check_request, check_response
    from wsframe.http import (
        RequestParser,
        ResponseParser,
        parse_extension_header,
        parse_subprotocol_header,
        parse_token_list,
    )

# (max_start_line_size, max_header_count, max_head_size, max_header_line_size)
LIMITS = [(8192, 128, 16384, 8192), (64, 4, 128, 48), (16, 2, 32, 16), (200, 8, 400, 100)]
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
FACTORIES = [ServerPerMessageDeflate(), ServerPerMessageDeflate(client_max_window_bits=9)]


def _limits(config: int) -> dict[str, int]:
    start, count, head, line = LIMITS[(config >> 1) & 3]
    return {
        "max_start_line_size": start,
        "max_header_count": count,
        "max_head_size": head,
        "max_header_line_size": line,
    }


def _check_buffer(parser: Any, limits: dict[str, int]) -> None:
    # Anything buffered fits in a head that respects the limits.
    bound = limits["max_start_line_size"] + limits["max_head_size"] + 4
    assert len(parser._buffer) <= bound, (len(parser._buffer), bound)
    body = getattr(parser, "_body", None)
    if body is not None:
        assert len(body) <= 64 * 1024 + 8, len(body)  # DEFAULT_MAX_BODY_SIZE


def _headers_checks(headers: Any) -> None:
    for name in ("Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol", "Connection", "Cookie"):
        values = headers.get_all(name)
        try:
            if name == "Sec-WebSocket-Extensions":
                offers = parse_extension_header(values)
                negotiate_server_extensions(offers, FACTORIES)
            elif name == "Sec-WebSocket-Protocol":
                parse_subprotocol_header(values)
            elif name == "Connection":
                for value in values:
                    parse_token_list(value)
            else:
                for value in values:
                    parse_cookie_header(value)
        except HandshakeError:
            pass


def _parse(config: int, chunks: list[bytes], eof: bool) -> tuple[Any, ...]:
    limits = _limits(config)
    response = bool(config & 1)
    parser: Any = ResponseParser(**limits) if response else RequestParser(**limits)
    result = None
    rest = b""
    try:
        for index, chunk in enumerate(chunks):
            result = parser.feed(chunk)
            _check_buffer(parser, limits)
            if result is not None:
                rest = b"".join(chunks[index + 1 :])
                break
        if result is None and response and eof:
            result = parser.feed_eof()
    except HandshakeError as exc:
        if not 400 <= exc.status <= 599:
            raise AssertionError(f"status {exc.status}") from None
        # A failed parser keeps failing with the same error.
        try:
            parser.feed(b"x")
        except HandshakeError as again:
            if again is not exc:
                raise AssertionError("a failed parser raised another error") from None
        else:
            raise AssertionError("a failed parser accepted more data") from None
        return ("error", exc.status)
    if result is None:
        return ("incomplete",)
    _headers_checks(result.headers)
    try:
        if response:
            outcome: Any = check_response(result, key=KEY, subprotocols=["chat", "superchat"])
        else:
            opening = check_request(result)
            outcome = (opening.key, opening.path)
    except HandshakeError as exc:
        outcome = ("rejected", exc.status)
    head = (result.headers.items(), parser.trailing_data + rest)
    if response:
        return ("response", result.status, head, bytes(result.body), outcome)
    return ("request", result.method, result.target, head, outcome)


def test_one_input(data: bytes) -> None:
    if len(data) < 3:
        return
    config, sizes, stream = data[0], data[1:3], data[3:]
    eof = bool(config & 8)
    whole = _parse(config, [stream], eof)
    chunks = []
    pos = 0
    i = 0
    while pos < len(stream):
        size = 1 + sizes[i % 2]
        chunks.append(stream[pos : pos + size])
        pos += size
        i += 1
    chunked = _parse(config, chunks, eof)
    if whole != chunked:
        raise AssertionError(f"chunking changed the outcome:\nwhole   {whole}\nchunked {chunked}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
