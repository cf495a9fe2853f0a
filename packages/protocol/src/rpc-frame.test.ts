import { describe, expect, it } from "vitest";
import { decodeRpcAnswerFrame, decodeRpcRequestFrame } from "./rpc-frame.js";

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
