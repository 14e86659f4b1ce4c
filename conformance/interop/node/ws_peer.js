// The npm `ws` (version 8) peer: two servers on 127.0.0.1 (permessage-deflate on and
// off) and, on request from stdin, clients. Prints {"event": "listening", "ports": ...}
// once both servers listen. See agent.js for the protocol.
"use strict";

const { Agent, emit, readCommands, pickProtocol, requirePeer, peerVersion, MAX_MESSAGE_SIZE } = require("./agent.js");

const WebSocket = requirePeer("ws");

function adapter(ws, details) {
  return {
    send(data, isBinary) {
      ws.send(data, { binary: isBinary });
    },
    sendFragments(data, isBinary, size) {
      // `fin: false` sends a frame of a message that the next send() continues.
      let start = 0;
      do {
        const end = Math.min(start + size, data.length);
        ws.send(data.subarray(start, end), { binary: isBinary, fin: end >= data.length });
        start = end;
      } while (start < data.length);
    },
    ping(payload) {
      ws.ping(payload);
    },
    close(code, reason) {
      ws.close(code, reason);
    },
    info() {
      const socket = details.socket;
      return {
        protocol: ws.protocol,
        extensions: details.extensions(),
        offered: details.offered,
        bytesRead: socket ? socket.bytesRead : null,
        bytesWritten: socket ? socket.bytesWritten : null,
      };
    },
  };
}

function run(id, ws, details) {
  const agent = new Agent(id, adapter(ws, details));
  ws.on("message", (data, isBinary) => agent.onMessage(data, isBinary));
  ws.on("pong", (data) => agent.onPong(data));
  ws.on("close", (code, reason) => agent.onClose(code, reason.toString("utf8")));
  ws.on("error", (error) => emit({ id: id, event: "error", error: error.message }));
}

function startServer(deflate) {
  const server = new WebSocket.WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    maxPayload: MAX_MESSAGE_SIZE,
    // threshold 0: compress every message, small ones included.
    perMessageDeflate: deflate ? { threshold: 0 } : false,
    handleProtocols: (protocols) => pickProtocol([...protocols]) || false,
  });
  const sentExtensions = new WeakMap();
  server.on("headers", (headers, request) => {
    const line = headers.find((header) => /^sec-websocket-extensions:/i.test(header));
    sentExtensions.set(request, line ? line.slice(line.indexOf(":") + 1).trim() : "");
  });
  server.on("connection", (ws, request) => {
    const id = request.url.slice(1);
    emit({ id: id, event: "open" });
    run(id, ws, {
      socket: request.socket,
      offered: request.headers["sec-websocket-extensions"] || "",
      extensions: () => sentExtensions.get(request) || "",
    });
  });
  server.on("error", (error) => emit({ id: null, event: "fatal", error: error.message }));
  return new Promise((resolve) => server.on("listening", () => resolve(server.address().port)));
}

function connect(command) {
  const id = command.id;
  const ws = new WebSocket(command.url, command.protocols, {
    perMessageDeflate: command.deflate ? { threshold: 0 } : false,
    maxPayload: MAX_MESSAGE_SIZE,
    handshakeTimeout: 10000,
  });
  const details = { socket: null, offered: null, extensions: () => "" };
  ws.on("upgrade", (response) => {
    details.socket = response.socket;
    const header = response.headers["sec-websocket-extensions"] || "";
    details.extensions = () => header;
  });
  ws.on("open", () => emit({ id: id, event: "open" }));
  run(id, ws, details);
}

Promise.all([startServer(true), startServer(false)]).then(([deflatePort, plainPort]) => {
  emit({ event: "listening", ports: { deflate: deflatePort, plain: plainPort }, version: peerVersion("ws") });
  readCommands((command) => {
    if (command.op === "connect") connect(command);
  });
});
