import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256, sha256Hex } from "./sha256.js";

const encode = (text: string) => new TextEncoder().encode(text);
const reference = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("sha256", () => {
  it("matches the FIPS 180-4 example vectors", () => {
    expect(sha256Hex(encode(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex(encode("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex(encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("matches the million-'a' vector, a 1 MB input", () => {
    expect(sha256Hex(new Uint8Array(1_000_000).fill(0x61))).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  });

  it("matches node:crypto on a 1 MiB pseudo-random input", () => {
    const bytes = new Uint8Array(1 << 20);
    let seed = 12345;
    for (let offset = 0; offset < bytes.length; offset++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[offset] = seed >>> 24;
    }
    expect(sha256Hex(bytes)).toBe(reference(bytes));
  });

  it("matches node:crypto on every length around the padding boundaries", () => {
    for (let length = 0; length <= 200; length++) {
      const bytes = new Uint8Array(length).map((_, offset) => (offset * 31 + length) & 0xff);
      expect(sha256Hex(bytes), `length ${length}`).toBe(reference(bytes));
    }
  });

  it("matches node:crypto on random inputs, including subarray views", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(8), (bytes, skip) => {
        const view = bytes.subarray(Math.min(skip, bytes.length));
        expect(sha256Hex(view)).toBe(reference(view));
      }),
    );
  });

  it("returns 32 bytes", () => {
    expect(sha256(encode("abc"))).toHaveLength(32);
  });
});
