import { describe, expect, it } from "vitest";
import { encodePutRequest, grpcFrame } from "./etcd-put-request.js";

describe("encodePutRequest", () => {
  it("writes key as field 1 and value as field 2, length-delimited", () => {
    const bytes = encodePutRequest(Buffer.from("k1"), Buffer.from("Running"));
    expect([...bytes]).toEqual([0x0a, 2, ...Buffer.from("k1"), 0x12, 7, ...Buffer.from("Running")]);
  });

  it("uses a multi-byte varint for a value of 300 bytes", () => {
    const bytes = encodePutRequest(Buffer.from("k"), Buffer.alloc(300, 1));
    // 300 = 0b1_0010_1100 -> 0xac 0x02
    expect([...bytes.subarray(3, 6)]).toEqual([0x12, 0xac, 0x02]);
    expect(bytes.byteLength).toBe(3 + 3 + 300);
  });
});

describe("grpcFrame", () => {
  it("prefixes an uncompressed flag and a 4-byte big-endian length", () => {
    const frame = grpcFrame(Buffer.from([1, 2, 3]));
    expect([...frame]).toEqual([0, 0, 0, 0, 3, 1, 2, 3]);
  });
});
