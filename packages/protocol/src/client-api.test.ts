import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatRequestId, parseRequestId } from "./client-api.js";
import { clientSessionArbitrary } from "./testing/arbitraries.js";

describe("request ids", () => {
  it("parses what it formats", () => {
    fc.assert(
      fc.property(clientSessionArbitrary, (session) => {
        expect(parseRequestId(formatRequestId(session))).toStrictEqual(session);
      }),
    );
  });

  it("formats back exactly the strings it accepts", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_:-]{0,20}$/), (requestId) => {
        const session = parseRequestId(requestId);
        if (session !== undefined) expect(formatRequestId(session)).toBe(requestId);
      }),
    );
  });

  it("parses a well-formed id", () => {
    expect(parseRequestId("client-7:42")).toStrictEqual({ clientId: "client-7", seq: 42 });
    expect(parseRequestId(`${"c".repeat(64)}:${Number.MAX_SAFE_INTEGER}`)).toStrictEqual({ clientId: "c".repeat(64), seq: Number.MAX_SAFE_INTEGER });
  });

  it.each([
    ["no separator", "abc"],
    ["zero sequence", "a:0"],
    ["negative sequence", "a:-1"],
    ["empty client id", ":5"],
    ["leading zero", "a:07"],
    ["two separators", "a:b:5"],
    ["client id too long", `${"c".repeat(65)}:5`],
    ["sequence beyond a safe integer", `a:${Number.MAX_SAFE_INTEGER + 1}`],
    ["sequence too many digits", `a:${"9".repeat(17)}`],
  ])("rejects %s (%s)", (_case, requestId) => {
    expect(parseRequestId(requestId)).toBeUndefined();
  });
});
