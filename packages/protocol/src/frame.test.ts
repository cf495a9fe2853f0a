import { describe, expect, it } from "vitest";
import { decodeEnvelope } from "./envelope-codec.js";
import { defaultFrameBytesMax, encodeEnvelopeFrame, encodeFrame } from "./frame.js";
import { ProtocolError } from "./protocol-error.js";
import { sampleGoodbyeEnvelope } from "./testing/sample-envelopes.js";

describe("encodeFrame", () => {
  it("prefixes the payload with its length, 4 bytes big-endian", () => {
    const payload = new Uint8Array(0x0102).fill(7);
    const framed = encodeFrame(payload);
    if (!framed.ok) throw new Error(framed.detail);
    expect([...framed.value.subarray(0, 4)]).toEqual([0, 0, 1, 2]);
    expect(framed.value.subarray(4)).toEqual(payload);
  });

  it("accepts a payload of exactly frameBytesMax and refuses one byte more", () => {
    expect(encodeFrame(new Uint8Array(10), { frameBytesMax: 10 }).ok).toBe(true);
    expect(encodeFrame(new Uint8Array(11), { frameBytesMax: 10 })).toMatchObject({ ok: false, reason: "oversized" });
    expect(encodeFrame(new Uint8Array(defaultFrameBytesMax + 1))).toMatchObject({ ok: false, reason: "oversized" });
  });

  it("refuses an empty payload, which the parser would reject", () => {
    expect(encodeFrame(new Uint8Array(0))).toMatchObject({ ok: false, reason: "empty_frame" });
  });

  it("throws ProtocolError invalid_option for a limit the prefix cannot express", () => {
    for (const frameBytesMax of [0, -1, 1.5, Number.NaN, 2 ** 32]) {
      expect(() => encodeFrame(new Uint8Array(1), { frameBytesMax })).toThrow(
        expect.objectContaining({ name: "ProtocolError", code: "invalid_option" }),
      );
    }
    expect(() => encodeFrame(new Uint8Array(1), { frameBytesMax: 0 })).toThrow(ProtocolError);
  });
});

describe("encodeEnvelopeFrame", () => {
  it("frames the UTF-8 JSON of the envelope", () => {
    const framed = encodeEnvelopeFrame(sampleGoodbyeEnvelope);
    if (!framed.ok) throw new Error(framed.detail);
    const length = new DataView(framed.value.buffer).getUint32(0, false);
    expect(length).toBe(framed.value.byteLength - 4);
    expect(decodeEnvelope(framed.value.subarray(4))).toStrictEqual({ ok: true, value: sampleGoodbyeEnvelope });
  });

  it("refuses an envelope larger than frameBytesMax", () => {
    expect(encodeEnvelopeFrame(sampleGoodbyeEnvelope, { frameBytesMax: 16 })).toMatchObject({ ok: false, reason: "oversized" });
  });
});
