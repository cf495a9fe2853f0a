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

  it("agrees with a byte-at-a-time reference on every length and alignment (the eight-byte steps and the tail)", () => {
    const reference = (bytes: Uint8Array): number => {
      let crc = 0xffffffff;
      for (const byte of bytes) {
        crc ^= byte;
        for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
      }
      return (crc ^ 0xffffffff) >>> 0;
    };
    const bytes = new Uint8Array(300);
    for (let position = 0; position < bytes.length; position++) bytes[position] = (position * 131 + 7) & 0xff;
    for (let start = 0; start < 9; start++) {
      for (let length = 0; length <= bytes.length - start; length += 1 + (length >> 4)) {
        const slice = bytes.subarray(start, start + length);
        expect(crc32(slice), `start ${start} length ${length}`).toBe(reference(slice));
      }
    }
  });

  it("continues from a previous CRC: the CRC of a body written in pieces is the CRC of the whole", () => {
    const whole = encode("a snapshot body written one run of keys at a time, then its closing fields");
    for (const cut of [0, 1, 7, 8, 9, 33, whole.length]) {
      expect(crc32(whole.subarray(cut), crc32(whole.subarray(0, cut))), `cut at ${cut}`).toBe(crc32(whole));
    }
  });
});
