import { describe, expect, it } from "vitest";
import { crc32, crc32Hex } from "./crc32.js";

const encode = (text: string) => new TextEncoder().encode(text);

describe("crc32", () => {
  it("matches the standard check value and known vectors", () => {
    expect(crc32Hex(encode("123456789"))).toBe("cbf43926");
    expect(crc32(encode(""))).toBe(0);
    expect(crc32Hex(encode("The quick brown fox jumps over the lazy dog"))).toBe("414fa339");
  });

  it("changes when any single bit flips", () => {
    const bytes = encode("lockstep snapshot body");
    const original = crc32(bytes);
    for (let offset = 0; offset < bytes.length; offset++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = bytes.slice();
        flipped[offset]! ^= 1 << bit;
        expect(crc32(flipped)).not.toBe(original);
      }
    }
  });
});
