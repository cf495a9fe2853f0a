import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ApplyResult, WriteResult } from "./apply-result.js";
import type { Command, DeleteCommand, TransitionCommand } from "./command.js";
import { lifecycleDefinition, type Definition } from "./definition.js";
import { Store } from "./store.js";

// A deliberately naive reference (STYLE.md: quorum arithmetic is tested against one too): it
// never prunes session answers, scans linearly for expiry, eviction and transitions, recounts the
// state bytes from scratch, and shares no code with the store. The store must answer every
// command exactly as it does.
type ReferenceSession = { lastActivityIndex: number; highestSeq: number; answers: Map<number, { command: string; result: WriteResult }> };

class ReferenceStore {
  readonly machines = new Map<string, { state: string; revision: number }>();
  readonly sessions = new Map<string, ReferenceSession>();
  members: string[] = [];

  constructor(
    readonly definition: Definition,
    readonly limits: { sessionWindowSeqs: number; sessionsMax: number; sessionIdleEntriesMax: number; keysMax: number; stateBytesMax: number },
  ) {}

  apply(index: number, command: Command): ApplyResult {
    for (const [id, session] of [...this.sessions]) {
      if (index - session.lastActivityIndex > this.limits.sessionIdleEntriesMax) this.sessions.delete(id);
    }
    switch (command.kind) {
      case "noop":
        return { ok: true, kind: "noop" };
      case "members":
        this.members = [...command.members];
        return { ok: true, kind: "members", members: [...command.members] };
      case "limits":
      case "join_token_create":
      case "join_token_use":
      case "join_token_revoke":
      case "token_create":
      case "token_revoke":
        // Limits, join tokens and client tokens have their own tests; the generator never makes them.
        throw new Error(`the reference does not apply ${command.kind}`);
      case "register_session": {
        while (this.sessions.size >= this.limits.sessionsMax) {
          const [oldest] = [...this.sessions].sort((left, right) => left[1].lastActivityIndex - right[1].lastActivityIndex)[0]!;
          this.sessions.delete(oldest);
        }
        this.sessions.set(String(index), { lastActivityIndex: index, highestSeq: 0, answers: new Map() });
        return { ok: true, kind: "register_session", clientId: String(index), nonce: command.nonce };
      }
      case "transition":
      case "delete":
        return this.write(index, command);
    }
  }

  write(index: number, command: TransitionCommand | DeleteCommand): ApplyResult {
    const evaluate = (): WriteResult =>
      command.kind === "transition" ? this.transition(index, command.key, command.to, command.expect) : this.remove(index, command.key, command.expect);
    if (command.session === undefined) return evaluate();
    const { clientId, seq } = command.session;
    const session = this.sessions.get(clientId);
    if (session === undefined) return { ok: false, code: "session_expired", clientId, seq, reason: "unknown_session", oldestSeq: null };
    session.lastActivityIndex = index;
    const described = JSON.stringify([command.kind, command.key, command.kind === "transition" ? command.to : undefined, command.expect]);
    const oldestSeq = Math.max(1, session.highestSeq - this.limits.sessionWindowSeqs + 1);
    if (seq < oldestSeq) return { ok: false, code: "session_expired", clientId, seq, reason: "seq_below_window", oldestSeq };
    const known = session.answers.get(seq);
    if (known !== undefined) return known.command === described ? known.result : { ok: false, code: "request_id_reused", clientId, seq };
    const result = evaluate();
    session.answers.set(seq, { command: described, result });
    session.highestSeq = Math.max(session.highestSeq, seq);
    return result;
  }

  stateBytes(): number {
    let bytes = 0;
    for (const [key, record] of this.machines) bytes += key.length + record.state.length + 16;
    return bytes;
  }

  transition(index: number, key: string, to: string, expected: string | undefined): WriteResult {
    const current = this.machines.get(key);
    const from = current?.state ?? this.definition.initial;
    if (expected !== undefined && expected !== from) return { ok: false, code: "expect_failed", key, expected, actual: from };
    const targets = this.definition.transitions.filter((candidate) => candidate.from === from).map((candidate) => candidate.to);
    if (!targets.includes(to)) return { ok: false, code: "invalid_transition", key, from, to, allowed: targets.sort() };
    if (current === undefined && this.machines.size >= this.limits.keysMax) {
      return { ok: false, code: "quota_exceeded", key, quota: "keys", limit: this.limits.keysMax, used: this.machines.size };
    }
    const used = this.stateBytes();
    const after = used - (current === undefined ? 0 : key.length + from.length + 16) + key.length + to.length + 16;
    if (after > used && after > this.limits.stateBytesMax) {
      return { ok: false, code: "quota_exceeded", key, quota: "state_bytes", limit: this.limits.stateBytesMax, used };
    }
    this.machines.set(key, { state: to, revision: index });
    return { ok: true, kind: "transition", key, from, to, revision: index };
  }

  remove(index: number, key: string, expected: string | undefined): WriteResult {
    const current = this.machines.get(key);
    const from = current?.state ?? this.definition.initial;
    if (expected !== undefined && expected !== from) return { ok: false, code: "expect_failed", key, expected, actual: from };
    this.machines.delete(key);
    return { ok: true, kind: "delete", key, from, deleted: current !== undefined, revision: index };
  }
}

const stateNames = ["Init", "Running", "Stopped", "Paused"];

const sessionArbitrary = fc.record({ clientId: fc.constantFrom("1", "2", "3", "5", "8", "13", "x"), seq: fc.integer({ min: 1, max: 12 }) });

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        kind: fc.constant("transition" as const),
        key: fc.constantFrom("a", "b", "c", "long-key-name"),
        to: fc.constantFrom(...stateNames),
        expect: fc.constantFrom(...stateNames),
        session: sessionArbitrary,
      },
      { requiredKeys: ["kind", "key", "to"] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      { kind: fc.constant("delete" as const), key: fc.constantFrom("a", "b", "c"), expect: fc.constantFrom(...stateNames), session: sessionArbitrary },
      { requiredKeys: ["kind", "key"] },
    ),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("register_session" as const), nonce: fc.constantFrom("p", "q") }) },
  { weight: 1, arbitrary: fc.constant({ kind: "noop" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("members" as const), members: fc.subarray(["n1", "n2", "n3"], { minLength: 1 }) }) },
);

/** Commands with strictly increasing, sometimes gapped, log indexes. */
const entriesArbitrary = (maxLength: number) =>
  fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), commandArbitrary), { maxLength }).map((steps) => {
    let index = 0;
    return steps.map(([gap, command]) => ({ index: (index += gap), command }));
  });

/** Keys created, moved and deleted without sessions: every command takes effect, so the key set churns. */
const keyChurnArbitrary: fc.Arbitrary<Command[]> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("transition" as const), key: fc.constantFrom(..."abcdefghijkl"), to: fc.constantFrom("Running", "Stopped", "Init") }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), key: fc.constantFrom(..."abcdefghijkl") }) },
  ),
  { maxLength: 150 },
);

const limitsArbitrary = fc.record({
  sessionWindowSeqs: fc.integer({ min: 1, max: 6 }),
  sessionsMax: fc.integer({ min: 1, max: 3 }),
  sessionIdleEntriesMax: fc.integer({ min: 1, max: 40 }),
  keysMax: fc.integer({ min: 1, max: 4 }),
  stateBytesMax: fc.integer({ min: 20, max: 120 }),
});
const optionsArbitrary = limitsArbitrary.map((limits) => ({ limits }));

describe("Store properties", () => {
  it("answers every command as the naive reference does", () => {
    fc.assert(
      fc.property(optionsArbitrary, entriesArbitrary(120), (options, entries) => {
        const store = new Store(lifecycleDefinition, options);
        const reference = new ReferenceStore(lifecycleDefinition, options.limits);
        for (const { index, command } of entries) {
          expect(store.apply(index, command)).toEqual(reference.apply(index, command));
          store.assertInvariants();
        }
        expect(store.entries()).toEqual([...reference.machines].map(([key, record]) => ({ key, ...record })).sort((l, r) => (l.key < r.key ? -1 : 1)));
        expect(store.members).toEqual(reference.members);
        expect(store.sessionCount).toBe(reference.sessions.size);
        expect(store.stateBytes).toBe(reference.stateBytes());
      }),
      { numRuns: 300 },
    );
  });

  it("lists its keys in order after every command, as a fresh sort does (the index merges new keys in, drops deleted ones)", () => {
    fc.assert(
      fc.property(keyChurnArbitrary, fc.integer({ min: 1, max: 4 }), (commands, every) => {
        const limits = { sessionWindowSeqs: 4, sessionsMax: 4, sessionIdleEntriesMax: 1000, keysMax: 1000, stateBytesMax: 1_000_000 };
        const store = new Store(lifecycleDefinition, { limits });
        const reference = new ReferenceStore(lifecycleDefinition, limits);
        commands.forEach((command, position) => {
          const index = position + 1;
          store.apply(index, command);
          reference.apply(index, command);
          // Read the index now and then, so that keys created and deleted between reads pile up.
          if (position % every !== 0) return;
          const expected = [...reference.machines.keys()].sort((l, r) => (l < r ? -1 : l > r ? 1 : 0));
          expect(store.keys()).toEqual(expected);
          expect(store.pageAt(1, 2).map((entry) => entry.key)).toEqual(expected.slice(1, 3));
          const half = expected[Math.floor(expected.length / 2)];
          expect(store.page(half, 3).entries.map((entry) => entry.key)).toEqual(expected.filter((key) => half !== undefined && key > half).slice(0, 3));
          store.assertInvariants();
        });
      }),
      { numRuns: 300 },
    );
  });

  it("builds the same snapshot bytes a few keys at a time as all at once (snapshotSteps)", () => {
    fc.assert(
      fc.property(keyChurnArbitrary, fc.integer({ min: 1, max: 5 }), (commands, keysPerStep) => {
        const limits = { sessionWindowSeqs: 4, sessionsMax: 4, sessionIdleEntriesMax: 1000, keysMax: 1000, stateBytesMax: 1_000_000 };
        const store = new Store(lifecycleDefinition, { limits });
        commands.forEach((command, position) => store.apply(position + 1, command));
        const steps = store.snapshotSteps(keysPerStep);
        let stepsTaken = 0;
        let step = steps.next();
        while (step.done !== true) {
          stepsTaken++;
          step = steps.next();
        }
        expect(stepsTaken).toBe(Math.ceil(store.keyCount / keysPerStep));
        expect(step.value).toEqual(store.snapshot());
      }),
      { numRuns: 200 },
    );
    // With sessions, their answers and members too.
    fc.assert(
      fc.property(optionsArbitrary, entriesArbitrary(120), (options, entries) => {
        const store = new Store(lifecycleDefinition, options);
        for (const { index, command } of entries) store.apply(index, command);
        const steps = store.snapshotSteps(1);
        let step = steps.next();
        while (step.done !== true) step = steps.next();
        expect(step.value).toEqual(store.snapshot());
      }),
      { numRuns: 200 },
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
