import { describe, expect, it } from "vitest";
import type { ApplyResult } from "./apply-result.js";
import type { DeleteCommand, TransitionCommand } from "./command.js";
import { lifecycleDefinition } from "./definition.js";
import { Store, type StoreOptions } from "./store.js";

function transition(key: string, to: string, clientId: string, seq: number, expect?: string): TransitionCommand {
  return { kind: "transition", key, to, ...(expect === undefined ? {} : { expect }), session: { clientId, seq } };
}

/** A store and a log position that only grows, so tests read like a client's story. */
class Log {
  readonly store: Store;
  index = 0;
  constructor(options: StoreOptions = {}) {
    this.store = new Store(lifecycleDefinition, options);
  }
  apply(command: Parameters<Store["apply"]>[1]): ApplyResult {
    return this.store.apply(++this.index, command);
  }
  register(): string {
    const result = this.apply({ kind: "register_session", nonce: `n${this.index}` });
    if (!(result.ok && result.kind === "register_session")) throw new Error("registration failed");
    return result.clientId;
  }
}

describe("Store client sessions (Raft thesis §6.3)", () => {
  it("opens a session through the log: its id is the registering entry's index", () => {
    const log = new Log();
    log.apply({ kind: "noop" });
    expect(log.apply({ kind: "register_session", nonce: "xyz" })).toEqual({ ok: true, kind: "register_session", clientId: "2", nonce: "xyz" });
    expect(log.store.sessionCount).toBe(1);
  });

  it("answers a retry with the first answer and applies it once", () => {
    const log = new Log();
    const client = log.register();
    const first = log.apply(transition("m", "Running", client, 1));
    expect(first).toEqual({ ok: true, kind: "transition", key: "m", from: "Init", to: "Running", revision: 2 });
    log.apply({ kind: "transition", key: "m", to: "Stopped" });
    log.apply({ kind: "transition", key: "m", to: "Init" });
    // Applied again, the retry would move Init -> Running at revision 5; it must not.
    expect(log.apply(transition("m", "Running", client, 1))).toEqual(first);
    expect(log.store.get("m")).toEqual({ state: "Init", revision: 4 });
    log.store.assertInvariants();
  });

  it("refuses a session that was never registered, without applying anything", () => {
    const log = new Log();
    expect(log.apply(transition("m", "Running", "c1", 1))).toEqual({
      ok: false,
      code: "session_expired",
      clientId: "c1",
      seq: 1,
      reason: "unknown_session",
      oldestSeq: null,
    });
    expect(log.store.get("m")).toEqual({ state: "Init", revision: 0 });
    expect(log.store.sessionCount).toBe(0);
  });

  // The bug this fixes: the table evicted the least recently used of 10,000 clients and gave an
  // unknown client a fresh record, so X:1 retried after 10,000 other clients was applied again.
  it("never applies a retry twice, even after 10,000 other clients pushed its session out", () => {
    const log = new Log();
    const x = log.register();
    expect(log.apply(transition("m", "Running", x, 1))).toMatchObject({ ok: true, revision: 2 });
    log.apply({ kind: "transition", key: "m", to: "Stopped" });
    log.apply({ kind: "transition", key: "m", to: "Init" });
    for (let client = 0; client < 10_000; client++) {
      const id = log.register();
      log.apply(transition(`k${client}`, "Running", id, 1));
    }
    const before = log.store.get("m");
    const retry = log.apply(transition("m", "Running", x, 1));
    expect(retry).toMatchObject({ ok: false, code: "session_expired", reason: "unknown_session" });
    expect(log.store.get("m")).toEqual(before);
    expect(log.store.usage().sessionExpirations.capacity).toBe(1);
    log.store.assertInvariants();
  });

  // The same defence for clients that pick their own ids, as every client could before sessions
  // were registered: the retry of an id the store forgot is refused, never evaluated afresh.
  it("never applies a retry twice for a self-chosen client id after 10,000 others", () => {
    const log = new Log();
    log.apply(transition("m", "Running", "X", 1));
    log.apply({ kind: "transition", key: "m", to: "Running" });
    log.apply({ kind: "transition", key: "m", to: "Stopped" });
    log.apply({ kind: "transition", key: "m", to: "Init" });
    for (let client = 0; client < 10_001; client++) log.apply(transition(`k${client % 7}`, "Running", `other-${client}`, 1));
    const before = log.store.get("m");
    log.apply(transition("m", "Running", "X", 1));
    expect(log.store.get("m")).toEqual(before);
  });

  // The other bug: a reused clientId:seq with a different command got the first command's answer.
  it("refuses a reused request id with another command as request_id_reused", () => {
    const log = new Log();
    const client = log.register();
    log.apply(transition("a", "Running", client, 1));
    const reused = { ok: false, code: "request_id_reused", clientId: client, seq: 1 };
    expect(log.apply(transition("b", "Running", client, 1))).toEqual(reused);
    expect(log.apply(transition("a", "Stopped", client, 1))).toEqual(reused);
    expect(log.apply(transition("a", "Running", client, 1, "Init"))).toEqual(reused);
    expect(log.apply({ kind: "delete", key: "a", session: { clientId: client, seq: 1 } } satisfies DeleteCommand)).toEqual(reused);
    expect(log.store.get("b")).toEqual({ state: "Init", revision: 0 });
    expect(log.store.get("a")).toEqual({ state: "Running", revision: 2 });
    // The identical command is still answered with its first answer.
    expect(log.apply(transition("a", "Running", client, 1))).toMatchObject({ ok: true, revision: 2 });
  });

  it("answers a retried rejection with the same rejection, even when it would now succeed", () => {
    const log = new Log();
    const client = log.register();
    const first = log.apply(transition("m", "Stopped", client, 1));
    expect(first).toMatchObject({ code: "invalid_transition", from: "Init" });
    log.apply({ kind: "transition", key: "m", to: "Running" });
    expect(log.apply(transition("m", "Stopped", client, 1))).toEqual(first);
    expect(log.store.get("m").state).toBe("Running");
  });

  it("keeps seqs of different sessions apart", () => {
    const log = new Log();
    const one = log.register();
    const two = log.register();
    log.apply(transition("a", "Running", one, 1));
    expect(log.apply(transition("b", "Running", two, 1))).toMatchObject({ ok: true, key: "b", revision: 4 });
  });

  it("applies reordered seqs inside the window once each", () => {
    const log = new Log({ sessionWindowSeqs: 8 });
    const client = log.register();
    expect(log.apply(transition("b", "Running", client, 5))).toMatchObject({ ok: true, revision: 2 });
    expect(log.apply(transition("a", "Running", client, 3))).toMatchObject({ ok: true, revision: 3 });
    expect(log.apply(transition("a", "Running", client, 3))).toMatchObject({ ok: true, revision: 3 });
    expect(log.apply(transition("b", "Running", client, 5))).toMatchObject({ ok: true, revision: 2 });
    expect(log.store.get("a")).toEqual({ state: "Running", revision: 3 });
    log.store.assertInvariants();
  });

  it("refuses a seq below the window as session_expired without applying it", () => {
    const log = new Log({ sessionWindowSeqs: 4 });
    const client = log.register();
    log.apply(transition("a", "Running", client, 10));
    // The window is now [7, 10]: seq 7 is new and applies, seq 6 is too old to know about.
    expect(log.apply(transition("b", "Running", client, 7))).toMatchObject({ ok: true });
    expect(log.apply(transition("c", "Running", client, 6))).toEqual({
      ok: false,
      code: "session_expired",
      clientId: client,
      seq: 6,
      reason: "seq_below_window",
      oldestSeq: 7,
    });
    expect(log.store.get("c")).toEqual({ state: "Init", revision: 0 });
  });

  it("forgets answers that slide out of the window", () => {
    const log = new Log({ sessionWindowSeqs: 2 });
    const client = log.register();
    log.apply(transition("a", "Running", client, 1));
    log.apply(transition("b", "Running", client, 2));
    log.apply(transition("c", "Running", client, 3));
    expect(log.apply(transition("a", "Running", client, 1))).toMatchObject({ code: "session_expired", oldestSeq: 2 });
    expect(log.apply(transition("b", "Running", client, 2))).toMatchObject({ ok: true, revision: 3 });
    // A far jump drops everything below the new window without walking the seqs in between.
    log.apply(transition("d", "Running", client, 1e15));
    expect(log.apply(transition("c", "Running", client, 3))).toMatchObject({ code: "session_expired", oldestSeq: 1e15 - 1 });
    log.store.assertInvariants();
  });

  it("keeps at most sessionsMax sessions, expiring the least recently active at registration", () => {
    const log = new Log({ sessionsMax: 2 });
    const one = log.register();
    const two = log.register();
    const first = log.apply(transition("a", "Running", one, 1));
    log.apply(transition("b", "Running", two, 1));
    // One is active again, so two becomes the least recently active.
    expect(log.apply(transition("a", "Running", one, 1))).toEqual(first);
    log.register();
    expect(log.store.sessionCount).toBe(2);
    expect(log.apply(transition("a", "Running", one, 1))).toEqual(first);
    expect(log.apply(transition("b", "Running", two, 1))).toMatchObject({ code: "session_expired", reason: "unknown_session" });
    expect(log.store.usage().sessionExpirations).toEqual({ capacity: 1, idle: 0 });
    log.store.assertInvariants();
  });

  it("expires a session idle for more than sessionIdleEntriesMax entries, by log position only", () => {
    const log = new Log({ limits: { sessionIdleEntriesMax: 3 } });
    const idle = log.register(); // 1
    const busy = log.register(); // 2
    log.apply(transition("a", "Running", busy, 1)); // 3
    log.apply(transition("a", "Stopped", busy, 2)); // 4: idle's last activity is 3 entries ago
    expect(log.store.sessionCount).toBe(2);
    log.apply({ kind: "noop" }); // 5: 4 entries ago, it expires
    expect(log.store.sessionCount).toBe(1);
    expect(log.apply(transition("b", "Running", idle, 1))).toMatchObject({ code: "session_expired", reason: "unknown_session" });
    expect(log.store.usage().sessionExpirations).toEqual({ capacity: 0, idle: 1 });
    log.store.assertInvariants();
  });

  it("applies a limits entry: a smaller table and window take effect at once", () => {
    const log = new Log();
    const one = log.register();
    const two = log.register();
    log.apply(transition("a", "Running", one, 1));
    log.apply(transition("a", "Stopped", one, 2));
    log.apply(transition("b", "Running", two, 1));
    const limits = { ...log.store.limits, sessionsMax: 1, sessionWindowSeqs: 1 };
    expect(log.apply({ kind: "limits", limits })).toEqual({ ok: true, kind: "limits", limits });
    expect(log.store.sessionCount).toBe(1);
    expect(log.apply(transition("a", "Running", one, 1))).toMatchObject({ code: "session_expired", reason: "unknown_session" });
    expect(log.apply(transition("b", "Running", two, 1))).toMatchObject({ ok: true, revision: 5 });
    log.store.assertInvariants();
  });

  it("crashes on a seq that is not a positive integer (commands must be validated upstream)", () => {
    const log = new Log();
    const client = log.register();
    expect(() => log.apply(transition("a", "Running", client, 0))).toThrow(/seq/);
  });
});
