import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "./base64.js";

describe("base64 for snapshot chunks", () => {
  it("round-trips any bytes and matches the platform encoder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64"));
        const decoded = decodeBase64(text);
        expect(decoded.ok && Array.from(decoded.bytes)).toEqual(Array.from(bytes));
      }),
    );
  });

  it("returns a reason instead of throwing on bad input", () => {
    expect(decodeBase64("abc")).toMatchObject({ ok: false });
    expect(decodeBase64("ab!d")).toMatchObject({ ok: false });
    expect(decodeBase64("a=bc")).toMatchObject({ ok: false });
  });
});
