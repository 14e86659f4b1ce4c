"""picows echo server for the benchmark: its frame-level listener API (the only one).

``python bench/servers/picows_server.py PORT [--uvloop]``. picows does not implement
permessage-deflate. Each frame is echoed as it comes (a fragmented message comes back
fragmented the same way), as in picows' own echo examples.
"""

from __future__ import annotations

from _common import HOST, MAX_MESSAGE_SIZE, parse_args, ready, run
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server


class Echo(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        elif frame.msg_type != WSMsgType.PONG:
            # The memoryview is valid during this call; send() copies it into the frame.
            transport.send(frame.msg_type, frame.get_payload_as_memoryview(), frame.fin)


def listener_factory(request: WSUpgradeRequest) -> Echo:
    return Echo()


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    if args.deflate:
        raise SystemExit("picows does not support permessage-deflate")

    async def serve() -> None:
        server = await ws_create_server(listener_factory, HOST, args.port, max_frame_size=MAX_MESSAGE_SIZE)
        ready(args.port)
        await server.serve_forever()

    run(serve, use_uvloop=args.uvloop)


if __name__ == "__main__":
    main()
