"""`python -m wsframe`: a short walk through the sans-IO core, with no network.

A client and a server `Connection` talk to each other through plain byte strings: each
side's `data_to_send()` is fed to the other's `receive_data()`. It prints what crosses
the wire and the events each side sees.
"""

from __future__ import annotations

from . import SPEEDUPS, Connection, ConnectionOptions, Role, __version__


def _show(direction: str, data: bytes) -> None:
    shown = data[:24].hex(" ")
    print(f"  {direction} {len(data):>5} bytes  {shown}{' ...' if len(data) > 24 else ''}")


def main() -> None:
    """Run the demo."""
    print(f"wsframe {__version__} (masking: {'C accelerator' if SPEEDUPS else 'pure Python'})")
    options = ConnectionOptions(fragmentation_threshold=16)
    client = Connection(Role.CLIENT, options)
    server = Connection(Role.SERVER, options)

    def client_to_server() -> None:
        data = client.data_to_send()
        _show("client -> server", data)
        for event in server.receive_data(data):
            print(f"  server got {event!r}")
        reply = server.data_to_send()
        if reply:
            _show("server -> client", reply)
            for event in client.receive_data(reply):
                print(f"  client got {event!r}")

    print("\n1. a text message, masked by the client")
    client.send_text("Hello, WebSocket")
    client_to_server()

    print("\n2. a binary message longer than fragmentation_threshold: sent in fragments")
    client.send_binary(bytes(range(40)))
    client_to_server()

    print("\n3. a ping, answered automatically")
    client.send_ping(b"are you there?")
    client_to_server()

    print("\n4. the closing handshake")
    client.send_close(1000, "bye")
    client_to_server()
    print(f"  client state {client.state.name}, close code {client.close_code}, clean: {client.close_was_clean}")
    print(f"  server state {server.state.name}, should close TCP now: {server.should_close_transport}")

    print("\n5. a protocol violation: a frame with a reserved opcode")
    server = Connection(Role.SERVER)
    events = server.receive_data(bytes([0x83, 0x80, 0, 0, 0, 0]))
    print(f"  server got {events!r}")
    server.fail()
    _show("server -> client", server.data_to_send())


if __name__ == "__main__":
    main()
