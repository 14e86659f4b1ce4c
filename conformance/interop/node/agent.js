// The command-driven peer of the interop tests, shared by the `ws` and WebSocket-Node
// scripts. Each connection runs one Agent; the library script gives it an adapter:
//
//   send(data: Buffer, isBinary)           one message, the library's ordinary send
//   sendFragments(data: Buffer, isBinary, size)  one message in frames of `size` bytes
//   ping(data: Buffer)                     a ping; the script calls agent.onPong(data)
//   close(code, reason)                    start the closing handshake
//   info()                                 {protocol, extensions, offered, bytesRead, bytesWritten}
//
// Protocol (see test_interop.py): a text message starting with CMD followed by JSON is a
// command; every other message is echoed with its type, unless a `digest` command asked
// for its SHA-256 instead. Events (open, close, error) go to stdout as JSON lines.
"use strict";

const crypto = require("crypto");

const CMD = Buffer.from("\u0001cmd ", "utf8");
const PING_TIMEOUT_MS = 5000;

function emit(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

// `size` random characters of 1 to 4 UTF-8 bytes (about 1.09 x `size` bytes; random, so
// that a digest checks every byte). Same recipe as test_interop.random_text().
function randomText(size) {
  const raw = crypto.randomBytes(Math.floor((size * 3) / 4)).toString("base64");
  return raw.replaceAll("A", "\u00e9").replaceAll("B", "\u20ac").replaceAll("C", "\u{1d11e}");
}

function digest(data, isBinary) {
  return {
    sha256: crypto.createHash("sha256").update(data).digest("hex"),
    length: data.length,
    kind: isBinary ? "binary" : "text",
  };
}

class Agent {
  constructor(id, adapter) {
    this.id = id;
    this.adapter = adapter;
    this.digestNext = false;
    this.pings = new Map(); // payload (hex) -> timer
  }

  reply(object) {
    this.adapter.send(Buffer.from(JSON.stringify(object), "utf8"), false);
  }

  onMessage(data, isBinary) {
    if (!isBinary && data.length >= CMD.length && data.subarray(0, CMD.length).equals(CMD)) {
      let command;
      try {
        command = JSON.parse(data.subarray(CMD.length).toString("utf8"));
      } catch (error) {
        this.reply({ op: "error", error: "bad command: " + error.message });
        return;
      }
      try {
        this.command(command);
      } catch (error) {
        this.reply({ op: "error", error: String(error && error.stack ? error.stack : error) });
      }
    } else if (this.digestNext) {
      this.digestNext = false;
      this.reply({ op: "digest", ...digest(data, isBinary) });
    } else {
      this.adapter.send(data, isBinary);
    }
  }

  command(command) {
    switch (command.op) {
      case "info":
        this.reply({ op: "info", ...this.adapter.info() });
        break;
      case "digest":
        this.digestNext = true;
        break;
      case "generate": {
        const isBinary = command.kind === "binary";
        const data = isBinary ? crypto.randomBytes(command.size) : Buffer.from(randomText(command.size), "utf8");
        this.adapter.send(data, isBinary);
        this.reply({ op: "generate", ...digest(data, isBinary) });
        break;
      }
      case "fragments": {
        const data = Buffer.from(command.data, "base64");
        this.adapter.sendFragments(data, command.kind === "binary", command.size);
        break;
      }
      case "ping": {
        const payload = Buffer.from(command.data, "base64");
        const key = payload.toString("hex");
        const timer = setTimeout(() => {
          this.pings.delete(key);
          this.reply({ op: "ping", pong: null });
        }, PING_TIMEOUT_MS);
        this.pings.set(key, timer);
        this.adapter.ping(payload);
        break;
      }
      case "close":
        this.adapter.close(command.code, command.reason);
        break;
      default:
        this.reply({ op: "error", error: "unknown command " + command.op });
    }
  }

  onPong(payload) {
    const key = Buffer.from(payload).toString("hex");
    const timer = this.pings.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.pings.delete(key);
    this.reply({ op: "ping", pong: Buffer.from(payload).toString("base64") });
  }

  onClose(code, reason) {
    for (const timer of this.pings.values()) clearTimeout(timer);
    this.pings.clear();
    emit({ id: this.id, event: "close", code: code, reason: reason });
  }
}

// Reads JSON commands from stdin, one per line ({"op": "connect", ...}), and exits when
// stdin closes (the test process ended, whatever the way).
function readCommands(handler) {
  const readline = require("readline");
  const lines = readline.createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (!line.trim()) return;
    try {
      handler(JSON.parse(line));
    } catch (error) {
      emit({ id: null, event: "fatal", error: String(error && error.stack ? error.stack : error) });
    }
  });
  lines.on("close", () => process.exit(0));
}

process.on("uncaughtException", (error) => {
  emit({ id: null, event: "fatal", error: String(error && error.stack ? error.stack : error) });
});

// The server's choice among the client's offer: its own order of preference.
const SERVER_PROTOCOLS = ["chat.v2", "chat.v1"];

function pickProtocol(offered) {
  for (const protocol of SERVER_PROTOCOLS) if (offered.includes(protocol)) return protocol;
  return null;
}

const MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

// The npm package `name` from the test cache ($WSKIT_NODE_PREFIX/node_modules), never
// from a node_modules folder that happens to sit above these scripts.
function resolvePeer(name) {
  const prefix = process.env.WSKIT_NODE_PREFIX;
  return prefix ? require.resolve(name, { paths: [prefix] }) : require.resolve(name);
}

function requirePeer(name) {
  return require(resolvePeer(name));
}

function peerVersion(name) {
  return require(resolvePeer(name + "/package.json")).version;
}

module.exports = { Agent, emit, readCommands, pickProtocol, requirePeer, peerVersion, MAX_MESSAGE_SIZE };
