import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeDetailLengthMax, decodeEnvelope, encodeEnvelope } from "./envelope-codec.js";
import { BodySchema, type Body, type BodyType } from "./messages.js";
import { bodyArbitraries, envelopeArbitrary } from "./testing/arbitraries.js";
import { sampleEnvelopes, sampleProposalEnvelope } from "./testing/sample-envelopes.js";

const utf8 = new TextEncoder();
const bytesOf = (text: string): Uint8Array => utf8.encode(text);
const jsonBytesOf = (value: unknown): Uint8Array => bytesOf(JSON.stringify(value));

function expectFailure(bytes: Uint8Array, reason: string): string {
  const result = decodeEnvelope(bytes);
  if (result.ok) throw new Error(`expected ${reason}, decoded ${JSON.stringify(result.value)}`);
  expect(result.reason).toBe(reason);
  return result.detail;
}

describe("envelope round trip", () => {
  const bodyTypes = BodySchema.options.map((option) => option.shape.type.value);

  it("has an arbitrary for exactly the body types of BodySchema", () => {
    expect(Object.keys(bodyArbitraries).sort()).toEqual([...bodyTypes].sort());
    expect(bodyTypes.length).toBe(16);
  });

  it.each(bodyTypes)("decodes every %s envelope to the value that was encoded", (type: BodyType) => {
    fc.assert(
      fc.property(envelopeArbitrary<Body>(bodyArbitraries[type]), (envelope) => {
        expect(decodeEnvelope(encodeEnvelope(envelope))).toStrictEqual({ ok: true, value: envelope });
      }),
      { numRuns: 200 },
    );
  });

  it("round-trips the fixed samples, and decodes a view into a larger buffer", () => {
    for (const envelope of sampleEnvelopes) {
      const encoded = encodeEnvelope(envelope);
      const padded = new Uint8Array(encoded.byteLength + 10);
      padded.set(encoded, 5);
      expect(decodeEnvelope(padded.subarray(5, 5 + encoded.byteLength))).toStrictEqual({ ok: true, value: envelope });
    }
  });

  it("drops fields the schema does not know", () => {
    const withExtras = { ...sampleProposalEnvelope, trace: "x", body: { ...sampleProposalEnvelope.body, extra: 1 } };
    expect(decodeEnvelope(jsonBytesOf(withExtras))).toStrictEqual({ ok: true, value: sampleProposalEnvelope });
  });
});

describe("decode failures", () => {
  it("reports invalid UTF-8 as not_utf8 rather than decoding U+FFFD", () => {
    const valid = encodeEnvelope(sampleEnvelopes[2]!);
    const corrupted = Uint8Array.from(valid);
    // Replace the first byte of a multi-byte character with a continuation byte.
    corrupted[corrupted.findIndex((byte) => byte >= 0xc0)] = 0x80;
    expectFailure(corrupted, "not_utf8");
    expectFailure(Uint8Array.of(0xff, 0xfe, 0xfd), "not_utf8");
  });

  it("reports text that is not JSON as not_json", () => {
    expectFailure(bytesOf('{"v":1,'), "not_json");
    expectFailure(bytesOf("hello"), "not_json");
    expectFailure(new Uint8Array(0), "not_json");
  });

  it("reports another version as unsupported_version, before any schema error", () => {
    const detail = expectFailure(jsonBytesOf({ ...sampleProposalEnvelope, v: 2 }), "unsupported_version");
    expect(detail).toBe("v is 2; this build speaks 1");
    expectFailure(jsonBytesOf({ v: 2 }), "unsupported_version");
    expectFailure(jsonBytesOf({ v: "1", cluster: 5 }), "unsupported_version");
    expectFailure(jsonBytesOf({ v: null }), "unsupported_version");
  });

  it("names the first failing path in schema_invalid", () => {
    expect(expectFailure(jsonBytesOf({ ...sampleProposalEnvelope, v: undefined }), "schema_invalid")).toMatch(/^v: /);
    const badTerm = structuredClone(sampleProposalEnvelope);
    if (badTerm.body.type !== "Proposal") throw new Error("sample is a Proposal");
    const badEntry = { ...badTerm.body.entries[1]!, term: -1 };
    const badBody = { ...badTerm.body, entries: [badTerm.body.entries[0], badEntry] };
    expect(expectFailure(jsonBytesOf({ ...badTerm, body: badBody }), "schema_invalid")).toMatch(/^body\.entries\[1\]\.term: /);
    const unknownType = { ...sampleProposalEnvelope, body: { type: "Gossip", term: 1 } };
    expect(expectFailure(jsonBytesOf(unknownType), "schema_invalid")).toMatch(/^body\.type: /);
    expect(expectFailure(jsonBytesOf({ ...sampleProposalEnvelope, from: "" }), "schema_invalid")).toMatch(/^from: /);
  });

  it("reports JSON that is not an object as schema_invalid at the envelope", () => {
    for (const value of [5, null, [1], "text", true]) {
      expect(expectFailure(jsonBytesOf(value), "schema_invalid")).toMatch(/^\(envelope\): /);
    }
  });

  it("keeps details short whatever the input", () => {
    const hugeVersion = "9".repeat(100_000);
    expect(expectFailure(jsonBytesOf({ v: hugeVersion }), "unsupported_version").length).toBeLessThanOrEqual(decodeDetailLengthMax);
    expect(expectFailure(bytesOf(`{"v":1,"x":"${"a".repeat(100_000)}`), "not_json").length).toBeLessThanOrEqual(decodeDetailLengthMax);
  });
});

describe("decoding arbitrary bytes", () => {
  const decodeReasons = ["not_utf8", "not_json", "unsupported_version", "schema_invalid"];

  /**
   * Decoding never throws, and a success must be a genuine envelope: it round-trips, and it is what
   * the bytes say (exactly, or as a subset when the input may carry fields the schema drops).
   */
  function checkDecodeOf(bytes: Uint8Array, match: "exact" | "subset"): boolean {
    const result = decodeEnvelope(bytes);
    if (!result.ok) {
      expect(decodeReasons).toContain(result.reason);
      return false;
    }
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (match === "exact") expect(result.value).toStrictEqual(parsed);
    else expect(parsed).toMatchObject(result.value);
    expect(decodeEnvelope(encodeEnvelope(result.value))).toStrictEqual(result);
    return true;
  }

  it("never throws on random bytes, and decodes them only if they are an envelope", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        checkDecodeOf(bytes, "exact");
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on random JSON values, and decodes them only if they are an envelope", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        checkDecodeOf(jsonBytesOf(value), "exact");
      }),
      { numRuns: 1000 },
    );
  });

  it("handles envelopes with one byte changed or cut short: a failure reason, or a genuine envelope", () => {
    let decodedCount = 0;
    fc.assert(
      fc.property(
        envelopeArbitrary(),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        (envelope, position, byte, truncate) => {
          const encoded = Uint8Array.from(encodeEnvelope(envelope));
          const index = position % encoded.byteLength;
          if (truncate) {
            if (checkDecodeOf(encoded.subarray(0, index), "subset")) decodedCount += 1;
            return;
          }
          encoded[index] = byte;
          // A changed key name turns a known field into an unknown one, which the schema drops.
          if (checkDecodeOf(encoded, "subset")) decodedCount += 1;
        },
      ),
      { numRuns: 2000 },
    );
    // Changing a letter inside a string often leaves a valid envelope: those cases were exercised too.
    expect(decodedCount).toBeGreaterThan(0);
  });
});
