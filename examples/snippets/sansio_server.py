"""An echo server on blocking sockets: wsframe speaks the protocol, you do the I/O."""

import os
import socket
import threading

import wsframe

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))


def handle(sock: socket.socket) -> None:
    # 1. The opening handshake: bytes in, events out, bytes to send.
    handshake = wsframe.ServerHandshake()
    while handshake.state is wsframe.HandshakeState.RECEIVING:
        data = sock.recv(65536)
        if not data:
            return
        handshake.receive_data(data)
        for event in iter(handshake.next_event, None):
            if isinstance(event, wsframe.RequestReceived):
                handshake.accept()  # check event.request.origin first in a real server
            elif isinstance(event, wsframe.HttpRequestReceived):
                handshake.require_upgrade()  # 426: this server speaks only WebSocket
            # wsframe.HandshakeInvalid: the refusal (400, 426, 431...) is queued already
        sock.sendall(handshake.data_to_send())
    if handshake.state is not wsframe.HandshakeState.OPEN:
        return

    # 2. Frames: bytes in, events out; calls in, bytes out.
    connection = handshake.connection
    data = handshake.trailing_data  # frames the client sent right after its request
    while not connection.should_close_transport:
        for event in connection.receive_data(data):
            if isinstance(event, (wsframe.TextMessage, wsframe.BinaryMessage)):
                if connection.state is wsframe.State.OPEN:
                    connection.send(event.data)
            elif isinstance(event, wsframe.ConnectionFailed):
                connection.fail()  # close code 1002, 1007 or 1009
        sock.sendall(connection.data_to_send())  # replies, pongs, close frames
        if connection.should_close_transport:
            break
        data = sock.recv(65536)
        if not data:
            connection.receive_eof()

    # 3. The server closes the TCP connection first (RFC 6455 section 7.1.1).
    sock.shutdown(socket.SHUT_WR)


def serve(sock: socket.socket) -> None:
    with sock:
        sock.settimeout(
            60
        )  # a real server needs a deadline for the handshake and idle peers
        try:
            handle(sock)
        except OSError:
            pass


def main() -> None:
    with socket.create_server((HOST, PORT)) as listener:
        host, port = listener.getsockname()[:2]
        print(f"listening on ws://{host}:{port}", flush=True)
        while True:
            sock, _ = listener.accept()
            threading.Thread(target=serve, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    main()
