import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { requestUrl } from "./request-url.js";

describe("requestUrl", () => {
  it("parses a request's URL once, so the guard and the route table read the same pathname", () => {
    const request = { url: "/v1/machines/a%2Fb/transition?x=1" } as IncomingMessage;
    const first = requestUrl(request);
    expect(requestUrl(request)).toBe(first);
    expect([first.pathname, first.searchParams.get("x")]).toEqual(["/v1/machines/a%2Fb/transition", "1"]);
    expect(requestUrl({ url: "/v1/cluster" } as IncomingMessage).pathname).toBe("/v1/cluster");
    expect(requestUrl({} as IncomingMessage).pathname).toBe("/");
  });
});
