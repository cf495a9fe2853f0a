import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { EtcdLoadClient } from "./etcd-load-client.js";
import { HttpJsonClient } from "./http-json-client.js";
import { LockstepLoadClient } from "./lockstep-load-client.js";

interface Seen {
  path: string;
  body: Record<string, unknown>;
}

let server: Server | null = null;
let http: HttpJsonClient | null = null;

afterEach(async () => {
  http?.close();
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server = null;
  http = null;
});

/** A local HTTP server answering each request with the next scripted [status, body], recording what it was sent. */
async function scriptedServer(answers: Array<[number, unknown]>): Promise<{ seen: Seen[]; client: HttpJsonClient }> {
  const seen: Seen[] = [];
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    request.on("end", () => {
      seen.push({ path: request.url ?? "", body: JSON.parse(text) as Record<string, unknown> });
      const [status, body] = answers.shift() ?? [500, { error: { code: "internal", message: "script ran out" } }];
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no address");
  http = new HttpJsonClient(new URL(`http://127.0.0.1:${address.port}`), 4);
  return { seen, client: http };
}

describe("LockstepLoadClient", () => {
  it("walks the lifecycle on its own key and retries an unknown outcome with the same requestId", async () => {
    const ok = (from: string, to: string) => [200, { key: "k", from, to, revision: 1 }] as [number, unknown];
    const { seen, client } = await scriptedServer([
      [200, { sessionId: "41" }],
      ok("Init", "Running"),
      [503, { error: { code: "timeout", message: "t" } }],
      ok("Running", "Stopped"),
      ok("Stopped", "Init"),
    ]);
    const load = new LockstepLoadClient(client, "r1", 7);
    const outcomes = [await load.next(), await load.next(), await load.next(), await load.next()];
    expect(outcomes).toEqual([{ ok: true }, { ok: false, code: "timeout" }, { ok: true }, { ok: true }]);
    expect(seen.map((request) => request.path)).toEqual(["/v1/sessions", ...Array(4).fill("/v1/machines/bench-r1-7/transition")]);
    expect(seen.slice(1).map((request) => request.body)).toEqual([
      { to: "Running", requestId: "41:1" },
      { to: "Stopped", requestId: "41:2" },
      { to: "Stopped", requestId: "41:2" },
      { to: "Init", requestId: "41:3" },
    ]);
  });

  it("resynchronises on the server's state after an invalid transition instead of repeating it", async () => {
    const { seen, client } = await scriptedServer([
      [200, { sessionId: "9" }],
      [409, { error: { code: "invalid_transition", message: "m", from: "Stopped", to: "Running", allowed: ["Init"] } }],
      [200, { key: "k", from: "Stopped", to: "Init", revision: 2 }],
    ]);
    const load = new LockstepLoadClient(client, "r2", 0);
    expect(await load.next()).toEqual({ ok: false, code: "invalid_transition" });
    expect(await load.next()).toEqual({ ok: true });
    expect(seen[2]?.body).toEqual({ to: "Init", requestId: "9:2" });
  });

  it("reports a refused connection by its socket error code", async () => {
    const unreachable = new HttpJsonClient(new URL("http://127.0.0.1:1"), 1);
    try {
      expect(await new LockstepLoadClient(unreachable, "r3", 0).next()).toEqual({ ok: false, code: "ECONNREFUSED" });
    } finally {
      unreachable.close();
    }
  });
});

describe("EtcdLoadClient", () => {
  it("puts the next lifecycle state under its key, base64-encoded, through the gateway path", async () => {
    const header = { header: { revision: "2" } };
    const { seen, client } = await scriptedServer([[200, header], [503, { error: "etcdserver: too many requests", code: 14 }], [200, header]]);
    const load = new EtcdLoadClient(client, "/v3", "r4", 3);
    expect([await load.next(), await load.next(), await load.next()]).toEqual([{ ok: true }, { ok: false, code: "http_503" }, { ok: true }]);
    const decode = (value: unknown) => Buffer.from(String(value), "base64").toString("utf8");
    expect(seen.map((request) => request.path)).toEqual(["/v3/kv/put", "/v3/kv/put", "/v3/kv/put"]);
    expect(seen.map((request) => [decode(request.body["key"]), decode(request.body["value"])])).toEqual([
      ["bench-r4-3", "Running"],
      ["bench-r4-3", "Stopped"],
      ["bench-r4-3", "Stopped"],
    ]);
  });
});
