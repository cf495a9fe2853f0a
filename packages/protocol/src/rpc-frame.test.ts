import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeRpcAnswerFrame, decodeRpcRequestFrame, RpcRequestFrameSchema, wellFormedRequestFrame } from "./rpc-frame.js";

describe("decodeRpcRequestFrame", () => {
  it("reads a request frame with a body", () => {
    const decoded = decodeRpcRequestFrame('{"id":7,"method":"POST","path":"/v1/machines/web-1/transition","body":{"to":"Running"}}');
    expect(decoded).toEqual({ ok: true, frame: { id: 7, method: "POST", path: "/v1/machines/web-1/transition", body: { to: "Running" } } });
  });

  it("refuses text that is not JSON, without an id", () => {
    const decoded = decodeRpcRequestFrame("{not json");
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.id).toBeNull();
      expect(decoded.reason).toMatch(/^frame is not JSON/);
    }
  });

  it("names the bad field and keeps a readable id so the answer can be matched", () => {
    expect(decodeRpcRequestFrame('{"id":3,"method":"PUT","path":"/v1/cluster"}')).toMatchObject({ ok: false, id: 3, reason: expect.stringMatching(/^method:/) });
    expect(decodeRpcRequestFrame('{"id":4,"method":"GET","path":"v1/cluster"}')).toMatchObject({ ok: false, id: 4, reason: expect.stringMatching(/^path:/) });
    expect(decodeRpcRequestFrame('{"id":5,"method":"GET","path":"/v1/cluster","extra":1}')).toMatchObject({ ok: false, id: 5 });
  });

  it("refuses ids that are not non-negative safe integers, and then reports no id", () => {
    for (const id of ["-1", "1.5", '"7"', "9007199254740992", "null"]) {
      expect(decodeRpcRequestFrame(`{"id":${id},"method":"GET","path":"/v1/cluster"}`)).toMatchObject({ ok: false, id: null, reason: expect.stringMatching(/^id:/) });
    }
  });

  it("never throws on hostile input", () => {
    for (const text of ["", "null", "[]", "1", '"x"', "{}", '{"id":{}}', "\u0000".repeat(10), '{"__proto__":{"id":1}}']) {
      expect(decodeRpcRequestFrame(text).ok).toBe(false);
    }
  });
});

describe("decodeRpcAnswerFrame", () => {
  it("reads answers, with a null id for unmatched errors", () => {
    expect(decodeRpcAnswerFrame('{"id":1,"status":200,"body":{"key":"a"}}')).toEqual({ ok: true, frame: { id: 1, status: 200, body: { key: "a" } } });
    expect(decodeRpcAnswerFrame('{"id":null,"status":400,"body":{"error":{"code":"bad_request","message":"m"}}}').ok).toBe(true);
    expect(decodeRpcAnswerFrame('{"id":1,"status":42}').ok).toBe(false);
  });
});

describe("the hand-written check of a request frame", () => {
  // It runs for every frame instead of the schema; accepting anything the schema refuses would
  // let a malformed frame reach the handlers.
  const value = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(0, -0, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 60, 1e300),
    fc.constantFrom("GET", "POST", "DELETE", "PUT", "get", "", "/", "/v1/cluster", "v1/cluster", "/".repeat(2048), "/".repeat(2049)),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
  );
  const frameLike = fc.oneof(
    fc.record({ id: value, method: value, path: value, body: value }, { requiredKeys: [] }),
    fc.record(
      {
        id: fc.oneof(fc.nat(), fc.constantFrom(-1, -0, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1)),
        method: fc.constantFrom("GET", "POST", "DELETE", "PUT"),
        path: fc.oneof(fc.string().map((path) => `/${path}`), fc.constantFrom("/".repeat(2048), "/".repeat(2049), "", "x/")),
        body: value,
      },
      { requiredKeys: ["id", "method", "path"] },
    ),
    fc.tuple(fc.record({ id: fc.nat(), method: fc.constant("GET"), path: fc.constant("/v1/cluster") }), fc.constantFrom("extra", "__proto__", "constructor", "Body"), value).map(([frame, key, extra]) => JSON.parse(JSON.stringify({ ...frame, [key]: extra })) as unknown),
    value,
  );

  it("accepts exactly what RpcRequestFrameSchema accepts, with the same result", () => {
    fc.assert(
      fc.property(frameLike, (candidate) => {
        const json = JSON.parse(JSON.stringify(candidate) ?? "null") as unknown;
        const byHand = wellFormedRequestFrame(json);
        const bySchema = RpcRequestFrameSchema.safeParse(json);
        expect(byHand !== undefined).toBe(bySchema.success);
        if (byHand !== undefined && bySchema.success) expect(byHand).toEqual(bySchema.data);
      }),
      { numRuns: 3000 },
    );
  });

  it("refuses a frame whose JSON has an own __proto__ key, as the schema does", () => {
    const json = JSON.parse('{"id":1,"method":"GET","path":"/v1/cluster","__proto__":{"x":1}}') as unknown;
    expect(wellFormedRequestFrame(json)).toBeUndefined();
    expect(RpcRequestFrameSchema.safeParse(json).success).toBe(false);
  });
});
