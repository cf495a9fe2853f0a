import * as zlib from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32, tableCrc32 } from "./crc32.js";

describe("crc32", () => {
  it("matches the standard check value", () => {
    const check = new TextEncoder().encode("123456789");
    expect(crc32(check)).toBe(0xcbf43926);
    expect(tableCrc32(check)).toBe(0xcbf43926);
  });

  it("the table fallback agrees with zlib, also when continued", () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (head, tail) => {
        expect(tableCrc32(tail, tableCrc32(head))).toBe(zlib.crc32(tail, zlib.crc32(head)));
      }),
    );
  });
});
