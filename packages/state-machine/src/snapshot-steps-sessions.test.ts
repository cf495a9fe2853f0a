import { describe, expect, it } from "vitest";
import { lifecycleDefinition } from "./definition.js";
import { Store } from "./store.js";

/** `sessions` clients, each registered and then with `writes` transitions of its own key remembered. */
function storeWithSessions(sessions: number, writes: number): Store {
  const limits = { sessionWindowSeqs: 64, sessionsMax: 10_000, sessionIdleEntriesMax: 1_000_000, keysMax: 100_000, stateBytesMax: 10_000_000 };
  const store = new Store(lifecycleDefinition, { limits });
  let index = 0;
  const clientIds: string[] = [];
  for (let client = 0; client < sessions; client++) {
    const registered = store.apply(++index, { kind: "register_session", nonce: `n${client}` });
    if (!registered.ok || registered.kind !== "register_session") throw new Error("registration refused");
    clientIds.push(registered.clientId);
  }
  const walk = ["Running", "Stopped", "Init"];
  for (let seq = 1; seq <= writes; seq++) {
    clientIds.forEach((clientId, client) => store.apply(++index, { kind: "transition", key: `key-${client}`, to: walk[(seq - 1) % 3]!, session: { clientId, seq } }));
  }
  return store;
}

describe("a snapshot of many sessions is built in steps, not in one", () => {
  it("yields after about keysPerStep remembered answers, and the bytes are those of snapshot()", () => {
    // 40 keys at 20 a step: 2 steps. 40 sessions worth 7 each (itself and its 6 answers): a step every 3 sessions, 13 of them.
    const store = storeWithSessions(40, 6);
    const steps = store.snapshotSteps(20);
    let stepsTaken = 0;
    let step = steps.next();
    while (step.done !== true) {
      stepsTaken++;
      step = steps.next();
    }
    expect(stepsTaken).toBe(Math.ceil(40 / 20) + Math.floor(40 / 3));
    expect(step.value).toEqual(store.snapshot());
  });

  it("keeps every step short with thousands of sessions of 64 answers (a leader must not stall its heartbeats)", () => {
    const store = storeWithSessions(1_500, 64);
    const steps = store.snapshotSteps(20_000);
    let longestMs = 0;
    let stepsTaken = 0;
    for (;;) {
      const started = performance.now();
      const step = steps.next();
      longestMs = Math.max(longestMs, performance.now() - started);
      if (step.done === true) {
        // Compared as bytes: a deep equality over megabytes would take longer than the test.
        expect(Buffer.from(step.value).equals(Buffer.from(store.snapshot()))).toBe(true);
        break;
      }
      stepsTaken++;
    }
    // 1,500 x 65 = 97,500 answers' worth: at least 4 session steps besides the one key step.
    expect(stepsTaken).toBeGreaterThanOrEqual(5);
    // Far below an election timeout (500 ms by default) even on a slow, shared machine.
    expect(longestMs).toBeLessThan(250);
  });
});
