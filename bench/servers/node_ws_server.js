// Node.js reference echo server: the npm `ws` package (with bufferutil/utf-8-validate
// when installed). Usage: node bench/servers/node_ws_server.js PORT
// Defaults except compression (off) and maxPayload (16 MiB). Prints "READY <port>".
"use strict";
const { WebSocketServer } = require("ws");

const port = Number(process.argv[2]);
const server = new WebSocketServer({
  host: "127.0.0.1",
  port,
  perMessageDeflate: false,
  maxPayload: 16 * 1024 * 1024,
});
server.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("error", () => {});
});
server.on("listening", () => console.log(`READY ${port}`));
process.on("SIGTERM", () => process.exit(0));
