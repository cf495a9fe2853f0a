import { describe, expect, it } from "vitest";
import { LockstepClient } from "./lockstep-client.js";

describe("the client's credentials and schemes", () => {
  it("sends the token as a bearer on every request, and application/json on every write", async () => {
    const seen: Array<{ url: string; method: string; headers: Record<string, string> }> = [];
    const fakeFetch = ((url: string, init: RequestInit) => {
      seen.push({ url, method: init.method ?? "GET", headers: init.headers as Record<string, string> });
      const body = url.endsWith("/v1/sessions")
        ? { sessionId: "7" }
        : url.endsWith("/v1/cluster")
        ? { self: "n1", leader: "n1", term: 1, commitIndex: 1, appliedIndex: 1, members: [{ id: "n1", peerAddress: "127.0.0.1:7401", clientUrl: "https://127.0.0.1:8401", role: "leader", voter: true, matchIndex: null, lag: null }] }
        : { key: "web-1", from: "Init", to: "Running", revision: 2 };
      return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    }) as typeof fetch;
    const client = new LockstepClient({ endpoints: ["https://127.0.0.1:8401"], token: "app.secretsecretsecret", fetch: fakeFetch });
    await client.transition("web-1", "Running");
    expect(seen.length).toBeGreaterThan(0);
    for (const request of seen) expect(request.headers.authorization).toBe("Bearer app.secretsecretsecret");
    const write = seen.find((request) => request.method === "POST")!;
    expect(write.headers["content-type"]).toBe("application/json");
  });

  it("refuses endpoints that mix http and https, and a token with spaces", () => {
    expect(() => new LockstepClient({ endpoints: ["https://127.0.0.1:8401", "http://127.0.0.1:8402"] })).toThrow(/mix http/);
    expect(() => new LockstepClient({ endpoints: ["https://127.0.0.1:8401"], token: "a b" })).toThrow(/token/);
  });
});
