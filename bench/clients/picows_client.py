"""picows client for the client-side benchmark: its frame-level listener API (the only one).

Each echo arrives as one frame (the fixed server does not fragment); the listener sends
the next message from ``on_ws_frame``, as picows' own benchmark client does.
"""

from __future__ import annotations

import asyncio

from _common import MAX_MESSAGE_SIZE, Counters, measure, parse_args, payload_for, report, run
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    payload = payload_for(args)
    data = payload.encode() if isinstance(payload, str) else payload
    msg_type = WSMsgType.TEXT if args.text else WSMsgType.BINARY
    counters = Counters()

    class Client(WSListener):
        def __init__(self) -> None:
            self.first = True

        def on_ws_connected(self, transport: WSTransport) -> None:
            transport.send(msg_type, data)

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type != msg_type:
                return
            if not frame.fin:
                counters.errors.append("fragmented echo")
                counters.running = False
                return
            if self.first:
                self.first = False
                if frame.get_payload_as_bytes() != data:
                    counters.errors.append("wrong echo")
                    return
            else:
                counters.messages += 1
            if counters.running:
                transport.send(msg_type, data)

    async def bench() -> None:
        transports = []
        for _ in range(args.connections):
            transport, _client = await ws_connect(Client, args.url, max_frame_size=MAX_MESSAGE_SIZE)
            transports.append(transport)
        result = await measure(args, counters)
        await asyncio.sleep(0.1)
        for transport in transports:
            transport.send_close()
            transport.disconnect()
        report(result)

    run(bench, use_uvloop=args.uvloop)


if __name__ == "__main__":
    main()
