"""Flow control: a fast producer, a slow consumer, bounded memory on each side."""

import asyncio

import wsclient
import wsserver

MESSAGES = 200
SIZE = 64 * 1024
WRITE_LIMIT = 64 * 1024


async def producer(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    peak = 0
    for _ in range(MESSAGES):
        # send() returns at once while the write buffer holds at most WRITE_LIMIT bytes,
        # and waits for it to drain otherwise: the producer runs at the consumer's pace.
        await connection.send(bytes(SIZE))
        peak = max(peak, connection.buffered_amount)
    print(
        f"server: sent {MESSAGES} messages; write buffer peak {peak // 1024} KiB",
        end="",
    )
    print(f" (at most write_limit + one message: {(WRITE_LIMIT + SIZE) // 1024} KiB)")
    await connection.close()


async def main() -> None:
    async with wsserver.WebSocketServer(producer, write_limit=WRITE_LIMIT) as server:
        host, port = (await server.listen("127.0.0.1", 0))[0][:2]
        # At most 4 messages wait in the client's queue; then it stops reading the
        # socket, the kernel's buffers fill up, and the server's send() waits.
        async with wsclient.connect(f"ws://{host}:{port}/", max_queue=4) as ws:
            received = 0
            async for _ in ws:
                received += 1
                await asyncio.sleep(0.001)  # a slow consumer
            print(f"client: received {received} messages")


if __name__ == "__main__":
    asyncio.run(main())
