/**
 * The far end of `pnpm bench --platform`, run as its own process (so every message crosses
 * between processes, as between cluster nodes): a TCP echo, or an HTTP or HTTPS server that
 * answers each JSON POST with a small JSON body, the shape of a lockstep transition answer.
 * It sends its port to the parent over IPC and runs until killed.
 */
import { readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type AddressInfo, type Server } from "node:net";

/** Request bodies larger than this are answered 413: the bench sends about 100 bytes. */
const bodyBytesMax = 64 * 1024;

function answer(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  let received = 0;
  request.on("data", (chunk: Buffer) => {
    received += chunk.byteLength;
    if (received <= bodyBytesMax) chunks.push(chunk);
  });
  request.on("end", () => {
    const body = received > bodyBytesMax ? JSON.stringify({ error: { code: "too_large" } }) : JSON.stringify({ ok: true, index: received, state: "Running", echo: Buffer.concat(chunks).byteLength });
    response.statusCode = received > bodyBytesMax ? 413 : 200;
    response.setHeader("Content-Type", "application/json; charset=utf-8");
    response.setHeader("Content-Length", Buffer.byteLength(body));
    response.end(body);
  });
}

function start(mode: string, keyFile: string | undefined, certFile: string | undefined): Server {
  if (mode === "tcp-echo") {
    return createTcpServer((socket) => {
      socket.setNoDelay(true);
      socket.on("data", (data) => socket.write(data));
      socket.on("error", () => socket.destroy());
    });
  }
  if (mode === "http") return createHttpServer({ keepAliveTimeout: 60_000 }, answer);
  if (mode === "https") {
    if (keyFile === undefined || certFile === undefined) throw new Error("platform peer: https needs a key file and a certificate file");
    return createHttpsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile), minVersion: "TLSv1.3", keepAliveTimeout: 60_000 }, answer);
  }
  throw new Error(`platform peer: unknown mode "${mode}"`);
}

/** `fdatasync PATH COUNT BYTES`: COUNT appends of BYTES, each followed by an fdatasync; sends each latency in µs, then exits. */
async function appendAndSync(path: string, count: number, bytes: number): Promise<number[]> {
  const handle = await open(path, "w");
  try {
    const data = Buffer.alloc(bytes, 0x63);
    const latenciesUs: number[] = [];
    for (let append = 0; append < count; append++) {
      const started = performance.now();
      await handle.write(data, 0, data.byteLength, append * data.byteLength);
      await handle.datasync();
      latenciesUs.push((performance.now() - started) * 1000);
    }
    return latenciesUs;
  } finally {
    await handle.close();
  }
}

const [mode = "", first, second, third] = process.argv.slice(2);
if (mode === "fdatasync") {
  const count = Number(second);
  const bytes = Number(third);
  if (first === undefined || !Number.isInteger(count) || count < 1 || count > 100_000 || !Number.isInteger(bytes) || bytes < 1 || bytes > 1024 * 1024) throw new Error("platform peer: fdatasync PATH COUNT BYTES");
  // Started together by the parent (a "go" message), so that the writers overlap.
  process.once("message", () => {
    void appendAndSync(first, count, bytes).then((latenciesUs) => process.send?.(latenciesUs, () => process.exit(0)));
  });
  process.send?.("ready");
} else {
  const server = start(mode, first, second);
  server.listen(0, "127.0.0.1", () => process.send?.((server.address() as AddressInfo).port));
}
// The parent's exit (or its kill) ends this process: nothing here outlives the bench.
process.on("disconnect", () => process.exit(0));
