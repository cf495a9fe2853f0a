import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEnvelope } from "./envelope-codec.js";
import { decodeHotEnvelope } from "./hot-envelope.js";
import { EnvelopeSchema } from "./messages.js";
import { clientSessionArbitrary, envelopeArbitrary, keyArbitrary, nodeIdArbitrary, stateNameArbitrary } from "./testing/arbitraries.js";

const safeNat = fc.maxSafeNat();
const positive = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });

/** Every command kind the hand check knows, with and without each optional field, and one it leaves to the schema. */
const hotCommand = fc.oneof(
  fc.record({ kind: fc.constant("transition"), key: keyArbitrary, to: stateNameArbitrary, expect: stateNameArbitrary, session: clientSessionArbitrary }, { requiredKeys: ["kind", "key", "to"] }),
  fc.record({ kind: fc.constant("delete"), key: keyArbitrary, expect: stateNameArbitrary, session: clientSessionArbitrary }, { requiredKeys: ["kind", "key"] }),
  fc.record({ kind: fc.constant("register_session"), nonce: fc.string({ unit: fc.constantFrom(..."aZ09_.-"), minLength: 1, maxLength: 64 }) }),
  fc.constant({ kind: "noop" }),
  fc.record({ kind: fc.constant("members"), members: fc.constant([{ id: "n1", peerAddress: "127.0.0.1:1", clientUrl: "http://127.0.0.1:2", voter: true }]) }),
);

const hotBody = fc.oneof(
  fc.record(
    {
      type: fc.constant("Proposal"),
      term: safeNat,
      prevIndex: safeNat,
      prevTerm: safeNat,
      entries: fc.array(fc.record({ index: positive, term: safeNat, command: hotCommand }), { maxLength: 6 }),
      commitIndex: safeNat,
      context: safeNat,
      epoch: positive,
    },
    { requiredKeys: ["type", "term", "prevIndex", "prevTerm", "entries", "commitIndex"] },
  ),
  fc.record(
    { type: fc.constant("Acknowledgment"), term: safeNat, matchIndex: safeNat, context: safeNat, recovering: fc.boolean(), epoch: positive, incarnation: fc.integer({ min: 1, max: 0xffff_ffff }) },
    { requiredKeys: ["type", "term", "matchIndex"] },
  ),
  fc.record({ type: fc.constant("Commit"), term: safeNat, commitIndex: safeNat }),
);

const hotEnvelope = fc.record(
  {
    v: fc.constant(1),
    cluster: nodeIdArbitrary,
    from: nodeIdArbitrary,
    to: nodeIdArbitrary,
    body: hotBody,
    auth: fc.record({ alg: fc.constantFrom("ed25519", "ecdsa-p256-sha256"), sig: fc.string({ maxLength: 128 }) }),
  },
  { requiredKeys: ["v", "cluster", "from", "to", "body"] },
);

/** Values that sit on or across some rule's edge: types, ranges, lengths, patterns. */
const edgeValue = fc.oneof(
  fc.constantFrom<unknown>(-1, 0, 1, 1.5, -0, 2 ** 53, 2 ** 53 - 1, 0xffff_ffff, 0x1_0000_0000, "", "x", "-x", "a b", "a\n", "é", "a".repeat(65), "a".repeat(129), null, true, false, [], {}, "Proposal", "transition", "noop"),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Every place in a JSON tree: the containers and the keys (or positions) in them. */
function places(value: unknown, found: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = []): typeof found {
  if (Array.isArray(value)) {
    value.forEach((item, position) => {
      found.push({ parent: value, key: position });
      places(item, found);
    });
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      found.push({ parent: value as Record<string, unknown>, key });
      places(item, found);
    }
  }
  return found;
}

/** A string one character longer at either end (a pattern's first character, its allowed set), a number one off or made fractional. */
function tweak(value: unknown, character: string, atStart: boolean, step: number): unknown {
  if (typeof value === "string") return atStart ? character + value : value + character;
  if (typeof value === "number") return step === 0 ? value + 0.5 : value + step;
  return value;
}

/** One change at one place: the value replaced or tweaked, the key removed, or a key added beside it. */
const mutated = fc
  .tuple(hotEnvelope, fc.nat(), fc.constantFrom("replace", "tweak", "remove", "add"), edgeValue, fc.constantFrom("extra", "__proto__", "type", "context", "epoch", "kind"), fc.constantFrom(..."_.-:/ é\nA0"), fc.boolean(), fc.constantFrom(-1, 0, 1))
  .map(([envelope, which, how, value, extraKey, character, atStart, step]) => {
  const copy = JSON.parse(JSON.stringify(envelope)) as unknown;
  const all = places(copy);
  const place = all[which % all.length]!;
  const slot = place.parent as Record<string | number, unknown>;
  if (how === "replace") slot[place.key] = value;
  else if (how === "tweak") slot[place.key] = tweak(slot[place.key], character, atStart, step);
  else if (how === "remove" && !Array.isArray(place.parent)) delete place.parent[place.key as string];
  else if (!Array.isArray(place.parent)) place.parent[extraKey] = value;
  // Through JSON text, as a peer's frame is: `__proto__` becomes an own key, as JSON.parse makes it.
  return JSON.parse(JSON.stringify(copy).replace('"extra"', extraKey === "__proto__" ? '"__proto__"' : '"extra"')) as unknown;
});

/** The hand check's answer must be the schema's, field for field and in the schema's order, whenever it gives one. */
function agrees(json: unknown): boolean {
  const hot = decodeHotEnvelope(json);
  if (hot === null) return true;
  const parsed = EnvelopeSchema.safeParse(json);
  expect(parsed.success).toBe(true);
  if (!parsed.success) return false;
  expect(hot).toStrictEqual(parsed.data);
  expect(JSON.stringify(hot)).toBe(JSON.stringify(parsed.data));
  return true;
}

describe("the hand check of the messages of every commit agrees with the schema", () => {
  it("accepts every valid Proposal, Acknowledgment and Commit of the common commands, with the schema's value", () => {
    let decided = 0;
    fc.assert(
      fc.property(hotEnvelope, (envelope) => {
        const json = JSON.parse(JSON.stringify(envelope)) as unknown;
        const leftToSchema = envelope.body.type === "Proposal" && envelope.body.entries.some((entry) => entry.command.kind === "members");
        if (!leftToSchema) {
          expect(decodeHotEnvelope(json)).not.toBeNull();
          decided++;
        }
        return agrees(json);
      }),
      { numRuns: 2_000, seed: 15 },
    );
    expect(decided).toBeGreaterThan(1_000);
  });

  it("never accepts what the schema refuses, nor gives another value, on envelopes changed at one place", () => {
    let refusedBySchema = 0;
    fc.assert(
      fc.property(mutated, (json) => {
        if (!EnvelopeSchema.safeParse(json).success) {
          refusedBySchema++;
          expect(decodeHotEnvelope(json)).toBeNull();
        }
        return agrees(json);
      }),
      { numRuns: 20_000, seed: 16 },
    );
    // The mutations reach the rules: most of them break one.
    expect(refusedBySchema).toBeGreaterThan(5_000);
  });

  it("leaves every other message type to the schema", () => {
    fc.assert(
      fc.property(envelopeArbitrary(), (envelope) => {
        const json = JSON.parse(JSON.stringify(envelope)) as unknown;
        if (!["Proposal", "Acknowledgment", "Commit"].includes(envelope.body.type)) expect(decodeHotEnvelope(json)).toBeNull();
        return agrees(json);
      }),
      { numRuns: 2_000, seed: 17 },
    );
  });

  it("decodeEnvelope gives the same result through either path, and the schema's reasons for what it refuses", () => {
    const frame = { v: 1, cluster: "c", from: "n1", to: "n2", body: { type: "Acknowledgment", term: 3, matchIndex: 9, epoch: 0 } };
    const refused = decodeEnvelope(new TextEncoder().encode(JSON.stringify(frame)));
    expect(refused).toMatchObject({ ok: false, reason: "schema_invalid" });
    expect(refused.ok ? "" : refused.detail).toContain("body.epoch");
    const accepted = decodeEnvelope(new TextEncoder().encode(JSON.stringify({ ...frame, body: { ...frame.body, epoch: 2 } })));
    expect(accepted).toEqual({ ok: true, value: { ...frame, body: { ...frame.body, epoch: 2 } } });
  });
});
