"""Two wsframe connections wired back to back in memory: no sockets, no event loop."""

import wsframe

client = wsframe.Connection(wsframe.Role.CLIENT)
server = wsframe.Connection(wsframe.Role.SERVER)

client.send_text("Hello")
client.send_ping(b"are you there?")
wire = client.data_to_send()  # masked frames, as a client must send them
print("client sends", len(wire), "bytes")
print("server gets", server.receive_data(wire))

print("client gets", client.receive_data(server.data_to_send()))  # the automatic pong

server.send_close(wsframe.CloseCode.GOING_AWAY, "bye")
print("client gets", client.receive_data(server.data_to_send()))
server.receive_data(client.data_to_send())  # the client's reply to the close frame
print(
    "states:", client.state.name, server.state.name, "| close code", client.close_code
)
print("server should close the transport:", server.should_close_transport)
