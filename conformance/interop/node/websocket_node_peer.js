// The npm `websocket` (WebSocket-Node, version 1.0.x) peer: a WebSocketServer on
// 127.0.0.1 and, on request from stdin, WebSocketClient connections. Prints
// {"event": "listening", "ports": ...} once the server listens. A connect command with
// "api": "w3c" uses its W3CWebSocket instead (messages and close only). See agent.js.
//
// WebSocket-Node implements no extension (no permessage-deflate): its server ignores
// the offer and its client offers none, so "deflate" and "plain" are the same port.
// Its frame limits stay at their defaults (server 64 KiB, client 1 MiB), which wskit's
// default fragmentation threshold (64 KiB) must respect; only the message limit is raised.
"use strict";

const http = require("http");
const { Agent, emit, readCommands, pickProtocol, requirePeer, peerVersion, MAX_MESSAGE_SIZE } = require("./agent.js");

const {
  server: WebSocketServer,
  client: WebSocketClient,
  w3cwebsocket: W3CWebSocket,
} = requirePeer("websocket");

function adapter(connection, details) {
  return {
    send(data, isBinary) {
      if (isBinary) connection.sendBytes(data);
      else connection.sendUTF(data.toString("utf8"));
    },
    sendFragments(data, isBinary, size) {
      // WebSocket-Node fragments outgoing messages by its fragmentationThreshold
      // setting (in bytes, so text may split inside a character); set it for one send.
      const saved = connection.config;
      connection.config = { ...saved, fragmentOutgoingMessages: true, fragmentationThreshold: size };
      try {
        this.send(data, isBinary);
      } finally {
        connection.config = saved;
      }
    },
    ping(payload) {
      connection.ping(payload);
    },
    close(code, reason) {
      connection.close(code, reason);
    },
    info() {
      return {
        protocol: connection.protocol || null,
        extensions: details.extensions,
        offered: details.offered,
        bytesRead: connection.socket.bytesRead,
        bytesWritten: connection.socket.bytesWritten,
      };
    },
  };
}

function run(id, connection, details) {
  const agent = new Agent(id, adapter(connection, details));
  connection.on("message", (message) => {
    if (message.type === "utf8") agent.onMessage(Buffer.from(message.utf8Data, "utf8"), false);
    else agent.onMessage(message.binaryData, true);
  });
  connection.on("pong", (data) => agent.onPong(data));
  connection.on("close", (code, description) => agent.onClose(code, description));
  connection.on("error", (error) => emit({ id: id, event: "error", error: error.message }));
}

function startServer() {
  const httpServer = http.createServer((request, response) => {
    response.writeHead(404);
    response.end();
  });
  const server = new WebSocketServer({
    httpServer: httpServer,
    autoAcceptConnections: false,
    maxReceivedMessageSize: MAX_MESSAGE_SIZE,
    keepalive: false,
  });
  server.on("request", (request) => {
    const id = request.resource.slice(1);
    const connection = request.accept(pickProtocol(request.requestedProtocols), request.origin);
    emit({ id: id, event: "open" });
    run(id, connection, {
      offered: request.httpRequest.headers["sec-websocket-extensions"] || "",
      extensions: "",
    });
  });
  return new Promise((resolve) => httpServer.listen(0, "127.0.0.1", () => resolve(httpServer.address().port)));
}

// The browser API has no ping and no fragment control.
function w3cAdapter(ws) {
  return {
    send(data, isBinary) {
      ws.send(isBinary ? data : data.toString("utf8"));
    },
    sendFragments() {
      throw new Error("W3CWebSocket cannot send fragments");
    },
    ping() {
      throw new Error("W3CWebSocket cannot ping");
    },
    close(code, reason) {
      ws.close(code, reason);
    },
    info() {
      const extensions = ws.extensions;
      return {
        protocol: ws.protocol || null,
        extensions: Array.isArray(extensions) ? extensions.join(", ") : extensions || "",
        offered: null,
        bytesRead: null,
        bytesWritten: null,
      };
    },
  };
}

function connectW3C(command) {
  const id = command.id;
  const protocols = command.protocols.length ? command.protocols : undefined;
  // (url, protocols, origin, headers, requestOptions, clientConfig)
  const config = { maxReceivedMessageSize: MAX_MESSAGE_SIZE };
  const ws = new W3CWebSocket(command.url, protocols, undefined, undefined, undefined, config);
  const agent = new Agent(id, w3cAdapter(ws));
  ws.onopen = () => emit({ id: id, event: "open" });
  ws.onerror = () => emit({ id: id, event: "error", error: "W3CWebSocket error" });
  ws.onmessage = (event) => {
    if (typeof event.data === "string") agent.onMessage(Buffer.from(event.data, "utf8"), false);
    else agent.onMessage(Buffer.from(event.data), true); // an ArrayBuffer
  };
  ws.onclose = (event) => {
    agent.onClose(event.code, event.reason);
    emit({ id: id, event: "w3c-close", code: event.code, reason: event.reason, wasClean: event.wasClean });
  };
}

function connect(command) {
  if (command.api === "w3c") {
    connectW3C(command);
    return;
  }
  const id = command.id;
  const client = new WebSocketClient({ maxReceivedMessageSize: MAX_MESSAGE_SIZE });
  client.on("connectFailed", (error) => {
    emit({ id: id, event: "error", error: error.message });
    emit({ id: id, event: "close", code: 1006, reason: "" });
  });
  client.on("connect", (connection) => {
    emit({ id: id, event: "open" });
    run(id, connection, {
      offered: null,
      extensions: client.response.headers["sec-websocket-extensions"] || "",
    });
  });
  client.connect(command.url, command.protocols.length ? command.protocols : null);
}

startServer().then((port) => {
  emit({ event: "listening", ports: { deflate: port, plain: port }, version: peerVersion("websocket") });
  readCommands((command) => {
    if (command.op === "connect") connect(command);
  });
});
