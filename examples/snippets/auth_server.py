"""Check the origin, then authenticate with a bearer token or a session cookie."""

import asyncio
import logging
import os

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))

# Browsers send the origin of the page; None: other clients usually send none.
ALLOWED_ORIGINS = {"https://app.example.com", None}
SESSIONS = {"s3cr3t-token": "alice"}  # your session store


def authenticate(request: wsserver.WebSocketRequest) -> str | None:
    """The user name, from `Authorization: Bearer <token>` or the `session` cookie."""
    authorization = request.headers.get("Authorization") or ""
    if authorization.startswith("Bearer "):
        return SESSIONS.get(authorization[len("Bearer ") :])
    return SESSIONS.get(request.cookie_dict.get("session", ""))


async def handler(request: wsserver.WebSocketRequest) -> None:
    if request.origin not in ALLOWED_ORIGINS:
        request.reject(403, "origin not allowed")
        return
    user = authenticate(request)
    if user is None:
        challenge = [("WWW-Authenticate", "Bearer")]
        request.reject(401, "authentication required", headers=challenge)
        return
    cookie = wsserver.SetCookie(
        "greeted", "yes", path="/", http_only=True, same_site="Strict"
    )
    connection = request.accept(cookies=[cookie])
    await connection.send(f"Hello, {user}!")
    async for message in connection:
        await connection.send(message)


async def main() -> None:
    async with wsserver.WebSocketServer(handler) as server:
        await server.listen(HOST, PORT)  # logs "listening on ws://..."
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
