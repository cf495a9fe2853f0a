import type { TokenRecord } from "@lockstep/state-machine";
import { describe, expect, it } from "vitest";
import { authorize, routeAccess } from "./route-access.js";

const token = (role: TokenRecord["role"], prefixes: string[] = []): TokenRecord => ({ name: "t", hash: "0".repeat(64), role, prefixes, createdRevision: 1 });

describe("routeAccess and authorize: what the dashboard needs", () => {
  it("lets a read token open the dashboard's feed, samples and cluster view", () => {
    for (const path of ["/v1/dashboard-feed", "/v1/dashboard-samples", "/v1/cluster", "/v1/watch"]) {
      expect(authorize(token("read"), routeAccess("GET", path)), path).toEqual({ ok: true });
    }
  });

  it("refuses the feed to a token limited to key prefixes: the feed pages through every key", () => {
    expect(authorize(token("admin", ["web-"]), routeAccess("GET", "/v1/dashboard-feed"))).toMatchObject({ ok: false, reason: "forbidden_prefix" });
    // The chart points name no keys, so a limited token may read them.
    expect(authorize(token("read", ["web-"]), routeAccess("GET", "/v1/dashboard-samples"))).toEqual({ ok: true });
  });

  it("opens no dashboard route without a token, except the page itself", () => {
    expect(routeAccess("GET", "/")).toEqual({ level: "open" });
    for (const path of ["/v1/dashboard-feed", "/v1/dashboard-samples"]) expect(routeAccess("GET", path).level, path).toBe("token");
  });
});
