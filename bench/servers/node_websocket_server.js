// Node.js reference echo server: the npm `websocket` package (WebSocket-Node, the design
// wskit ports). Usage: node bench/servers/node_websocket_server.js PORT
// Defaults except the frame and message limits (16 MiB); WebSocket-Node never
// negotiates compression. Prints "READY <port>".
"use strict";
const http = require("http");
const { server: WebSocketServer } = require("websocket");

const port = Number(process.argv[2]);
const httpServer = http.createServer((request, response) => {
  response.writeHead(404);
  response.end();
});
const wsServer = new WebSocketServer({
  httpServer,
  autoAcceptConnections: false,
  maxReceivedFrameSize: 16 * 1024 * 1024,
  maxReceivedMessageSize: 16 * 1024 * 1024,
});
wsServer.on("request", (request) => {
  const connection = request.accept(null, request.origin);
  connection.on("message", (message) => {
    if (message.type === "utf8") connection.sendUTF(message.utf8Data);
    else connection.sendBytes(message.binaryData);
  });
  connection.on("error", () => {});
});
httpServer.listen(port, "127.0.0.1", () => console.log(`READY ${port}`));
process.on("SIGTERM", () => process.exit(0));
