import { describe, expect, it } from "vitest";
import type { TransitionCommand } from "./command.js";
import { lifecycleDefinition } from "./definition.js";
import { Store } from "./store.js";

function transition(key: string, to: string, clientId: string, seq: number): TransitionCommand {
  return { kind: "transition", key, to, session: { clientId, seq } };
}

describe("Store client sessions (Raft thesis §6.3)", () => {
  it("answers a retry with the first answer and applies it once", () => {
    const store = new Store(lifecycleDefinition);
    const first = store.apply(1, transition("m", "Running", "c1", 1));
    expect(first).toEqual({ ok: true, kind: "transition", key: "m", from: "Init", to: "Running", revision: 1 });
    store.apply(2, { kind: "transition", key: "m", to: "Stopped" });
    store.apply(3, { kind: "transition", key: "m", to: "Init" });
    // Applied again, the retry would move Init -> Running at revision 4; it must not.
    const retry = store.apply(4, transition("m", "Running", "c1", 1));
    expect(retry).toEqual(first);
    expect(store.get("m")).toEqual({ state: "Init", revision: 3 });
    expect(store.appliedIndex).toBe(4);
    store.assertInvariants();
  });

  it("answers a retried rejection with the same rejection, even when it would now succeed", () => {
    const store = new Store(lifecycleDefinition);
    const first = store.apply(1, transition("m", "Stopped", "c1", 1));
    expect(first).toMatchObject({ code: "invalid_transition", from: "Init" });
    store.apply(2, { kind: "transition", key: "m", to: "Running" });
    expect(store.apply(3, transition("m", "Stopped", "c1", 1))).toEqual(first);
    expect(store.get("m").state).toBe("Running");
  });

  it("keeps seqs of different clients apart", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, transition("a", "Running", "c1", 1));
    expect(store.apply(2, transition("b", "Running", "c2", 1))).toMatchObject({ ok: true, key: "b", revision: 2 });
  });

  it("applies reordered seqs inside the window once each", () => {
    const store = new Store(lifecycleDefinition, { sessionWindowSeqs: 8 });
    expect(store.apply(1, transition("b", "Running", "c1", 5))).toMatchObject({ ok: true, revision: 1 });
    expect(store.apply(2, transition("a", "Running", "c1", 3))).toMatchObject({ ok: true, revision: 2 });
    expect(store.apply(3, transition("a", "Running", "c1", 3))).toMatchObject({ ok: true, revision: 2 });
    expect(store.apply(4, transition("b", "Running", "c1", 5))).toMatchObject({ ok: true, revision: 1 });
    expect(store.get("a")).toEqual({ state: "Running", revision: 2 });
    expect(store.get("b")).toEqual({ state: "Running", revision: 1 });
    store.assertInvariants();
  });

  it("refuses a seq below the window as session_expired without applying it", () => {
    const store = new Store(lifecycleDefinition, { sessionWindowSeqs: 4 });
    store.apply(1, transition("a", "Running", "c1", 10));
    // The window is now [7, 10]: seq 7 is new and applies, seq 6 is too old to know about.
    expect(store.apply(2, transition("b", "Running", "c1", 7))).toMatchObject({ ok: true });
    expect(store.apply(3, transition("c", "Running", "c1", 6))).toEqual({
      ok: false,
      code: "session_expired",
      clientId: "c1",
      seq: 6,
      oldestSeq: 7,
    });
    expect(store.get("c")).toEqual({ state: "Init", revision: 0 });
    expect(store.appliedIndex).toBe(3);
  });

  it("forgets answers that slide out of the window", () => {
    const store = new Store(lifecycleDefinition, { sessionWindowSeqs: 2 });
    store.apply(1, transition("a", "Running", "c1", 1));
    store.apply(2, transition("b", "Running", "c1", 2));
    store.apply(3, transition("c", "Running", "c1", 3));
    expect(store.apply(4, transition("a", "Running", "c1", 1))).toMatchObject({ code: "session_expired", oldestSeq: 2 });
    expect(store.apply(5, transition("b", "Running", "c1", 2))).toMatchObject({ ok: true, revision: 2 });
    // A far jump drops everything below the new window without walking the seqs in between.
    store.apply(6, transition("d", "Running", "c1", 1e15));
    expect(store.apply(7, transition("c", "Running", "c1", 3))).toMatchObject({ code: "session_expired", oldestSeq: 1e15 - 1 });
    store.assertInvariants();
  });

  it("keeps at most sessionsMax clients, evicting the least recently active", () => {
    const store = new Store(lifecycleDefinition, { sessionsMax: 2 });
    const first = store.apply(1, transition("a", "Running", "c1", 1));
    store.apply(2, transition("b", "Running", "c2", 1));
    // c1 is active again, so c2 becomes the least recently active.
    expect(store.apply(3, transition("a", "Running", "c1", 1))).toEqual(first);
    store.apply(4, transition("c", "Running", "c3", 1));
    expect(store.sessionCount).toBe(2);
    // c1 survived: its retry is still answered from the session.
    expect(store.apply(5, transition("a", "Running", "c1", 1))).toEqual(first);
    // c2 was evicted: its retry is evaluated afresh (the documented cost of eviction).
    expect(store.apply(6, transition("b", "Running", "c2", 1))).toMatchObject({ code: "invalid_transition", from: "Running" });
    expect(store.sessionCount).toBe(2);
    store.assertInvariants();
  });

  it("crashes on a seq that is not a positive integer (commands must be validated upstream)", () => {
    const store = new Store(lifecycleDefinition);
    expect(() => store.apply(1, transition("a", "Running", "c1", 0))).toThrow(/seq/);
  });
});
