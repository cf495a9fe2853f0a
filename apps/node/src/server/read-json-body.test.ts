import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { readJsonBody } from "./read-json-body.js";
import { rpcExchange } from "./rpc-exchange.js";

const upgrade = { url: "/v1/rpc", headers: { host: "127.0.0.1" }, socket: {} } as unknown as IncomingMessage;

function frameRequest(body: unknown): IncomingMessage {
  const frame = body === undefined ? { id: 1, method: "POST" as const, path: "/v1/machines/k/transition" } : { id: 1, method: "POST" as const, path: "/v1/machines/k/transition", body };
  return rpcExchange(frame, upgrade, () => undefined).request;
}

describe("readJsonBody of a /v1/rpc frame", () => {
  it("reads the body the frame carried, as the same body over HTTP reads", async () => {
    expect(await readJsonBody(frameRequest({ to: "Running", expect: "Init" }), 1024)).toEqual({ ok: true, value: { to: "Running", expect: "Init" } });
    // No body reads as {}, as an empty HTTP body does; a JSON null is a null, as over HTTP.
    expect(await readJsonBody(frameRequest(undefined), 1024)).toEqual({ ok: true, value: {} });
    expect(await readJsonBody(frameRequest(null), 1024)).toEqual({ ok: true, value: null });
  });

  it("refuses a body larger than the limit, counted in the bytes of its JSON", async () => {
    const body = { to: "x".repeat(100) };
    expect(JSON.stringify(body).length).toBe(109);
    expect(await readJsonBody(frameRequest(body), 109)).toMatchObject({ ok: true });
    expect(await readJsonBody(frameRequest(body), 108)).toMatchObject({ ok: false, code: "payload_too_large" });
  });

  it("still streams the body's JSON to a reader of the request", async () => {
    const request = frameRequest({ to: "Running" });
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(Buffer.from(chunk as string));
    expect(Buffer.concat(chunks).toString("utf8")).toBe('{"to":"Running"}');
  });
});
