import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { WriteCommand } from "./command.js";
import { commandFingerprint, sameWriteCommand } from "./command-fingerprint.js";
import { lifecycleDefinition } from "./definition.js";
import { Store } from "./store.js";

// Few distinct values, so that equal fields (and quotes and separators inside them) come up often.
const text = fc.constantFrom("a", "b", 'a","b', "", "Running", "null", "\u0000");
const writeCommand: fc.Arbitrary<WriteCommand> = fc.oneof(
  fc.record({ kind: fc.constant("transition" as const), key: text, to: text, expect: fc.option(text, { nil: undefined }) }),
  fc.record({ kind: fc.constant("delete" as const), key: text, expect: fc.option(text, { nil: undefined }) }),
);

describe("command fingerprints", () => {
  it("compares field by field exactly as the fingerprint strings compare", () => {
    fc.assert(
      fc.property(writeCommand, writeCommand, (left, right) => {
        expect(sameWriteCommand(left, right)).toBe(commandFingerprint(left) === commandFingerprint(right));
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps the snapshot's recorded fingerprint format: JSON of [kind, key, to, expect]", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, { kind: "register_session", nonce: "n" });
    store.apply(2, { kind: "transition", key: "web-1", to: "Running", session: { clientId: "1", seq: 1 } });
    store.apply(3, { kind: "delete", key: "web-1", expect: "Running", session: { clientId: "1", seq: 2 } });
    const snapshot = JSON.parse(new TextDecoder().decode(store.snapshot())) as { body: { sessions: { answers: [number, string, unknown][] }[] } };
    const fingerprints = snapshot.body.sessions[0]?.answers.map(([seq, fingerprint]) => [seq, fingerprint]);
    expect(fingerprints).toEqual([
      [1, '["transition","web-1","Running",null]'],
      [2, '["delete","web-1",null,"Running"]'],
    ]);
  });
});
