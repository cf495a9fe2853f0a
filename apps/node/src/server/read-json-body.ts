import type { IncomingMessage } from "node:http";
import { rpcParsedBodyOf } from "./rpc-exchange.js";

export type ReadBodyResult =
  | { ok: true; value: unknown }
  | { ok: false; code: "payload_too_large" | "bad_request"; message: string };

/**
 * Reads a request body as JSON, refusing it as soon as it grows past `bytesMax` (counted while
 * reading, so a huge body is never held in memory). An empty body reads as `{}`.
 */
export function readJsonBody(request: IncomingMessage, bytesMax: number): Promise<ReadBodyResult> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > bytesMax) {
    request.resume();
    return Promise.resolve(tooLarge(bytesMax));
  }
  // A /v1/rpc frame's body was parsed with its frame; its content-length is its exact size.
  const parsed = rpcParsedBodyOf(request);
  if (parsed !== undefined) return Promise.resolve({ ok: true, value: parsed.value });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const finish = (result: ReadBodyResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    request.on("data", (chunk: Buffer) => {
      if (settled) return;
      bytes += chunk.length;
      if (bytes > bytesMax) {
        chunks.length = 0;
        // Keep draining (and discarding) so the 413 answer can still be written on this socket.
        finish(tooLarge(bytesMax));
        return;
      }
      chunks.push(chunk);
    });
    request.on("error", (error) => finish({ ok: false, code: "bad_request", message: `request body could not be read: ${error.message}` }));
    request.on("end", () => {
      if (settled) return;
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return finish({ ok: true, value: {} });
      try {
        finish({ ok: true, value: JSON.parse(text) as unknown });
      } catch (error) {
        finish({ ok: false, code: "bad_request", message: `request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}` });
      }
    });
  });
}

function tooLarge(bytesMax: number): ReadBodyResult {
  return { ok: false, code: "payload_too_large", message: `request body is larger than ${bytesMax} bytes (requestBodyBytesMax)` };
}
