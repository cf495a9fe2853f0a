import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ApplyResult, TransitionResult } from "./apply-result.js";
import type { Command } from "./command.js";
import { lifecycleDefinition, type Definition } from "./definition.js";
import { Store } from "./store.js";

// A deliberately naive reference (STYLE.md: quorum arithmetic is tested against one too): it
// never prunes session answers, scans linearly for eviction and for transitions, and shares no
// code with the store. The store must answer every command exactly as it does.
class ReferenceStore {
  readonly machines = new Map<string, { state: string; revision: number }>();
  readonly clients = new Map<string, { lastActivityIndex: number; highestSeq: number; results: Map<number, TransitionResult> }>();
  members: string[] = [];

  constructor(
    readonly definition: Definition,
    readonly sessionWindowSeqs: number,
    readonly sessionsMax: number,
  ) {}

  apply(index: number, command: Command): ApplyResult {
    if (command.kind === "noop") return { ok: true, kind: "noop" };
    if (command.kind === "members") {
      this.members = [...command.members];
      return { ok: true, kind: "members", members: [...command.members] };
    }
    // Join-token commands have their own tests (join-token-table.test.ts); the generator never makes them.
    if (command.kind !== "transition") throw new Error(`the reference model does not apply ${command.kind}`);
    if (command.session === undefined) return this.transition(index, command.key, command.to, command.expect);
    const { clientId, seq } = command.session;
    let client = this.clients.get(clientId);
    if (client === undefined) {
      if (this.clients.size >= this.sessionsMax) {
        const [oldest] = [...this.clients].sort((left, right) => left[1].lastActivityIndex - right[1].lastActivityIndex)[0]!;
        this.clients.delete(oldest);
      }
      client = { lastActivityIndex: index, highestSeq: 0, results: new Map() };
      this.clients.set(clientId, client);
    }
    client.lastActivityIndex = index;
    const oldestSeq = Math.max(1, client.highestSeq - this.sessionWindowSeqs + 1);
    if (seq < oldestSeq) return { ok: false, code: "session_expired", clientId, seq, oldestSeq };
    const known = client.results.get(seq);
    if (known !== undefined) return known;
    const result = this.transition(index, command.key, command.to, command.expect);
    client.results.set(seq, result);
    client.highestSeq = Math.max(client.highestSeq, seq);
    return result;
  }

  transition(index: number, key: string, to: string, expected: string | undefined): TransitionResult {
    const from = this.machines.get(key)?.state ?? this.definition.initial;
    if (expected !== undefined && expected !== from) return { ok: false, code: "expect_failed", key, expected, actual: from };
    const targets = this.definition.transitions.filter((candidate) => candidate.from === from).map((candidate) => candidate.to);
    if (!targets.includes(to)) return { ok: false, code: "invalid_transition", key, from, to, allowed: targets.sort() };
    this.machines.set(key, { state: to, revision: index });
    return { ok: true, kind: "transition", key, from, to, revision: index };
  }
}

const stateNames = ["Init", "Running", "Stopped", "Paused"];

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        kind: fc.constant("transition" as const),
        key: fc.constantFrom("a", "b", "c"),
        to: fc.constantFrom(...stateNames),
        expect: fc.constantFrom(...stateNames),
        session: fc.record({ clientId: fc.constantFrom("c1", "c2", "c3", "c4"), seq: fc.integer({ min: 1, max: 12 }) }),
      },
      { requiredKeys: ["kind", "key", "to"] },
    ),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "noop" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("members" as const), members: fc.subarray(["n1", "n2", "n3"], { minLength: 1 }) }) },
);

/** Commands with strictly increasing, sometimes gapped, log indexes. */
const entriesArbitrary = (maxLength: number) =>
  fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), commandArbitrary), { maxLength }).map((steps) => {
    let index = 0;
    return steps.map(([gap, command]) => ({ index: (index += gap), command }));
  });

const optionsArbitrary = fc.record({ sessionWindowSeqs: fc.integer({ min: 1, max: 6 }), sessionsMax: fc.integer({ min: 1, max: 3 }) });

describe("Store properties", () => {
  it("answers every command as the naive reference does", () => {
    fc.assert(
      fc.property(optionsArbitrary, entriesArbitrary(120), (options, entries) => {
        const store = new Store(lifecycleDefinition, options);
        const reference = new ReferenceStore(lifecycleDefinition, options.sessionWindowSeqs, options.sessionsMax);
        for (const { index, command } of entries) {
          expect(store.apply(index, command)).toEqual(reference.apply(index, command));
          store.assertInvariants();
        }
        expect(store.entries()).toEqual([...reference.machines].map(([key, record]) => ({ key, ...record })).sort((l, r) => (l.key < r.key ? -1 : 1)));
        expect(store.members).toEqual(reference.members);
        expect(store.sessionCount).toBe(reference.clients.size);
      }),
      { numRuns: 300 },
    );
  });

  it("ends identical on two stores fed the same commands (compared by snapshot)", () => {
    fc.assert(
      fc.property(optionsArbitrary, entriesArbitrary(80), (options, entries) => {
        const left = new Store(lifecycleDefinition, options);
        const right = new Store(lifecycleDefinition, options);
        for (const { index, command } of entries) expect(left.apply(index, command)).toEqual(right.apply(index, command));
        expect(left.snapshot()).toEqual(right.snapshot());
      }),
    );
  });

  it("restores a snapshot that snapshots identically and behaves identically afterwards", () => {
    fc.assert(
      fc.property(optionsArbitrary, entriesArbitrary(80), entriesArbitrary(80), (options, before, after) => {
        const original = new Store(lifecycleDefinition, options);
        for (const { index, command } of before) original.apply(index, command);
        const bytes = original.snapshot();
        const restored = Store.restore(lifecycleDefinition, bytes);
        if (!restored.ok) throw new Error(`${restored.reason}: ${restored.detail}`);
        const copy = restored.store;
        expect(copy.snapshot()).toEqual(bytes);
        const offset = original.appliedIndex;
        for (const { index, command } of after) {
          expect(copy.apply(offset + index, command)).toEqual(original.apply(offset + index, command));
          copy.assertInvariants();
        }
        expect(copy.snapshot()).toEqual(original.snapshot());
      }),
    );
  });
});
