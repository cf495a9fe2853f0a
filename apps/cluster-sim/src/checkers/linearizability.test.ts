import { createRandom, randomInt } from "@lockstep/transport-memory";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../history/index.js";
import { checkLinearizability } from "./linearizability.js";

type Line = [process: number, type: HistoryEvent["type"], f: HistoryEvent["f"], value: string | null, expect?: string];

/** A history on one key; event i happens at time i µs. */
function history(lines: Line[], key = "k"): HistoryEvent[] {
  return lines.map(([process, type, f, value, expectState], i) => ({
    process,
    type,
    f,
    key,
    value,
    time: i * 1_000,
    ...(expectState === undefined ? {} : { expect: expectState }),
  }));
}

describe("checkLinearizability on hand-made histories", () => {
  it("accepts a concurrent history that has a valid order, and rejects it once one read contradicts every order", () => {
    const lines: Line[] = [
      [0, "invoke", "transition", "Running"],
      [1, "invoke", "read", null],
      [1, "ok", "read", "Init"], // linearized before the transition
      [0, "ok", "transition", "Running"],
      [2, "invoke", "read", null],
      [1, "invoke", "transition", "Stopped", "Running"],
      [0, "invoke", "read", null],
      [0, "ok", "read", "Running"], // before the concurrent Stopped
      [2, "ok", "read", "Stopped"], // after it
      [1, "ok", "transition", "Stopped"],
    ];
    expect(checkLinearizability(history(lines))).toMatchObject({ ok: true, keys: 1, operations: 5 });
    const broken = lines.map((line): Line => (line[0] === 0 && line[2] === "read" && line[1] === "ok" ? [0, "ok", "read", "Init"] : line));
    expect(checkLinearizability(history(broken))).toMatchObject({ ok: false, reason: "not_linearizable" });
  });

  it("rejects a stale read: Init after an acknowledged Init -> Running that completed before the read began", () => {
    const result = checkLinearizability(
      history([
        [0, "invoke", "transition", "Running"],
        [0, "ok", "transition", "Running"],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Init"],
      ]),
    );
    expect(result.ok).toBe(false);
    if (result.ok !== false) return;
    expect(result.key).toBe("k");
    expect(result.blocking).toMatchObject({ process: 1, f: "read", value: "Init" });
    expect(result.longestOrder?.map((operation) => operation.value)).toEqual(["Running"]);
    expect(result.explanation).toContain("the state is Running, but the read saw Init");
  });

  it("accepts the same read when it overlaps the transition", () => {
    const result = checkLinearizability(
      history([
        [0, "invoke", "transition", "Running"],
        [1, "invoke", "read", null],
        [0, "ok", "transition", "Running"],
        [1, "ok", "read", "Init"],
      ]),
    );
    expect(result.ok).toBe(true);
  });

  it("rejects a lost acknowledged transition: later reads and writes show it never happened", () => {
    const result = checkLinearizability(
      history([
        [0, "invoke", "transition", "Running"],
        [0, "ok", "transition", "Running"],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Init"],
        [1, "invoke", "transition", "Running"],
        [1, "ok", "transition", "Running"],
      ]),
    );
    expect(result).toMatchObject({ ok: false, reason: "not_linearizable", key: "k" });
  });

  it("rejects an acknowledged invalid transition (Init -> Stopped)", () => {
    const result = checkLinearizability(
      history([
        [0, "invoke", "transition", "Stopped"],
        [0, "ok", "transition", "Stopped"],
      ]),
    );
    expect(result).toMatchObject({ ok: false, blocking: { value: "Stopped" } });
    if (result.ok === false) expect(result.explanation).toContain("Init -> Stopped is not an allowed transition");
  });

  it("rejects an acknowledged transition whose expect did not match, and accepts one whose expect did", () => {
    const base: Line[] = [
      [0, "invoke", "transition", "Running", "Init"],
      [0, "ok", "transition", "Running"],
    ];
    expect(checkLinearizability(history(base)).ok).toBe(true);
    const result = checkLinearizability(
      history([...base, [1, "invoke", "transition", "Stopped", "Init"], [1, "ok", "transition", "Stopped"]]),
    );
    expect(result).toMatchObject({ ok: false, blocking: { expect: "Init" } });
    if (result.ok === false) expect(result.explanation).toContain("expected Init");
  });

  it("treats a failed transition as never having happened", () => {
    const failed: Line[] = [
      [0, "invoke", "transition", "Running"],
      [0, "fail", "transition", null],
      [1, "invoke", "read", null],
    ];
    expect(checkLinearizability(history([...failed, [1, "ok", "read", "Init"]])).ok).toBe(true);
    expect(checkLinearizability(history([...failed, [1, "ok", "read", "Running"]])).ok).toBe(false);
  });

  it("accepts indeterminate transitions that did take effect, even long after their invoke", () => {
    const result = checkLinearizability(
      history([
        [0, "invoke", "transition", "Running"],
        [0, "info", "transition", null],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Init"],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Running"],
      ]),
    );
    expect(result.ok).toBe(true);
  });

  it("accepts indeterminate transitions that did not take effect, including ones never completed", () => {
    const result = checkLinearizability(
      history([
        [0, "invoke", "transition", "Running"],
        [0, "info", "transition", null],
        [2, "invoke", "transition", "Running"],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Init"],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Init"],
      ]),
    );
    expect(result).toMatchObject({ ok: true, operations: 4 });
  });

  it("rejects histories no indeterminate operation can explain", () => {
    // Once seen, an indeterminate transition cannot un-happen.
    const undone = checkLinearizability(
      history([
        [0, "invoke", "transition", "Running"],
        [0, "info", "transition", null],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Running"],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Init"],
      ]),
    );
    expect(undone.ok).toBe(false);
    // An indeterminate invalid transition cannot explain the state it targets.
    const invalid = checkLinearizability(
      history([
        [0, "invoke", "transition", "Stopped"],
        [0, "info", "transition", null],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Stopped"],
      ]),
    );
    expect(invalid.ok).toBe(false);
    // It takes effect at most once: two reads of Running around a Stopped need two Init -> Running.
    const twice = checkLinearizability(
      history([
        [0, "invoke", "transition", "Running"],
        [0, "info", "transition", null],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Running"],
        [1, "invoke", "transition", "Stopped"],
        [1, "ok", "transition", "Stopped"],
        [1, "invoke", "transition", "Init"],
        [1, "ok", "transition", "Init"],
        [1, "invoke", "read", null],
        [1, "ok", "read", "Running"],
      ]),
    );
    expect(twice.ok).toBe(false);
  });

  it("checks each key on its own and names the key that broke", () => {
    const events = [
      ...history([[0, "invoke", "transition", "Running"], [0, "ok", "transition", "Running"]], "a"),
      ...history([[1, "invoke", "read", null], [1, "ok", "read", "Running"]], "b"),
    ].map((event, i) => ({ ...event, time: i }));
    expect(checkLinearizability(events)).toMatchObject({ ok: false, key: "b" });
  });

  it("uses the definition it is given", () => {
    const definition = { initial: "Off", transitions: [{ from: "Off", to: "On" }] };
    const events = history([
      [0, "invoke", "transition", "On"],
      [0, "ok", "transition", "On"],
      [1, "invoke", "read", null],
      [1, "ok", "read", "On"],
    ]);
    expect(checkLinearizability(events, { definition }).ok).toBe(true);
    expect(checkLinearizability(events).ok).toBe(false);
  });

  it("reports a malformed history instead of guessing", () => {
    expect(checkLinearizability(history([[0, "ok", "read", "Init"]]))).toMatchObject({ ok: false, reason: "malformed_history" });
    const twoOpen = history([
      [0, "invoke", "read", null],
      [0, "invoke", "read", null],
    ]);
    expect(checkLinearizability(twoOpen)).toMatchObject({ ok: false, reason: "malformed_history" });
    const backwards = history([
      [0, "invoke", "read", null],
      [0, "ok", "read", "Init"],
    ]).reverse();
    expect(checkLinearizability(backwards)).toMatchObject({ ok: false, reason: "malformed_history" });
  });

  it("answers unknown rather than searching past its bound", () => {
    const events = generateHistory(3, { keys: 1, operationsPerKey: 200, processes: 5 });
    expect(checkLinearizability(events, { statesExploredMax: 10 })).toMatchObject({ ok: "unknown", reason: "search limit" });
  });
});

describe("checkLinearizability on generated histories", () => {
  it("accepts every history produced by a real linearizable register, info operations included", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const result = checkLinearizability(generateHistory(seed, { keys: 3, operationsPerKey: 150, processes: 6 }));
      expect(result, `seed ${seed}`).toMatchObject({ ok: true });
    }
  });

  it("agrees with a brute-force reference on thousands of small random histories", () => {
    const verdicts = { linearizable: 0, violation: 0 };
    for (let seed = 1; seed <= 3_000; seed++) {
      const events = randomSmallHistory(seed);
      const expected = bruteForceLinearizable(events);
      const result = checkLinearizability(events);
      expect(result.ok, `seed ${seed}: ${JSON.stringify(events)}`).toBe(expected);
      verdicts[expected ? "linearizable" : "violation"]++;
    }
    // The sample must exercise both verdicts, or the comparison proves little.
    expect(verdicts.linearizable).toBeGreaterThan(300);
    expect(verdicts.violation).toBeGreaterThan(300);
  });

  it("checks 5 keys x 2000 operations from 10 concurrent processes well under a second", () => {
    const events = generateHistory(7, { keys: 5, operationsPerKey: 2_000, processes: 10 });
    const startedMs = performance.now();
    const result = checkLinearizability(events);
    const elapsedMs = performance.now() - startedMs;
    expect(result).toMatchObject({ ok: true, keys: 5 });
    expect(elapsedMs).toBeLessThan(1_000);
  });
});

const lifecycle: Record<string, string> = { Init: "Running", Running: "Stopped", Stopped: "Init" };
const states = ["Init", "Running", "Stopped"];

interface Planned {
  process: number;
  key: string;
  f: HistoryEvent["f"];
  to: string;
  expect?: string;
  invokeNs: number;
  pointNs: number;
  completeNs: number;
  indeterminate: boolean;
  outcome?: { type: HistoryEvent["type"]; value: string | null };
}

/**
 * A history of a correct register: each operation takes effect at a random instant between its
 * invoke and completion, in that instant's order. 5% of transitions end `info` (half of them took
 * effect, half did not); invalid transitions and failed expects end `fail`.
 */
function generateHistory(seed: number, shape: { keys: number; operationsPerKey: number; processes: number }): HistoryEvent[] {
  const random = createRandom(seed);
  const keys = Array.from({ length: shape.keys }, (_, i) => `k${i}`);
  const planned: Planned[] = [];
  const operationsPerProcess = Math.ceil((shape.keys * shape.operationsPerKey) / shape.processes);
  for (let process = 0; process < shape.processes; process++) {
    let freeNs = randomInt(random, 0, 1_000);
    for (let i = 0; i < operationsPerProcess; i++) {
      const invokeNs = freeNs + randomInt(random, 1, 500);
      const completeNs = invokeNs + randomInt(random, 2, 3_000);
      const key = keys[randomInt(random, 0, keys.length)]!;
      const isRead = random() < 0.3;
      const expectState = !isRead && random() < 0.3 ? states[randomInt(random, 0, 3)] : undefined;
      planned.push({
        process,
        key,
        f: isRead ? "read" : "transition",
        to: states[randomInt(random, 0, 3)]!,
        ...(expectState === undefined ? {} : { expect: expectState }),
        invokeNs,
        pointNs: randomInt(random, invokeNs + 1, completeNs),
        completeNs,
        indeterminate: !isRead && random() < 0.05,
      });
      freeNs = completeNs;
    }
  }
  const current = new Map(keys.map((key) => [key, "Init"]));
  for (const operation of [...planned].sort((a, b) => a.pointNs - b.pointNs)) {
    const state = current.get(operation.key)!;
    if (operation.f === "read") {
      operation.outcome = { type: "ok", value: state };
      continue;
    }
    const valid = lifecycle[state] === operation.to && (operation.expect === undefined || operation.expect === state);
    const applies = valid && (!operation.indeterminate || random() < 0.5);
    if (applies) current.set(operation.key, operation.to);
    if (operation.indeterminate) operation.outcome = { type: "info", value: null };
    else operation.outcome = valid ? { type: "ok", value: operation.to } : { type: "fail", value: null };
  }
  const timed: { ns: number; order: number; event: Omit<HistoryEvent, "time"> }[] = [];
  for (const operation of planned) {
    const { process, key, f } = operation;
    const invoke = { process, type: "invoke" as const, f, key, value: f === "read" ? null : operation.to, ...(operation.expect === undefined ? {} : { expect: operation.expect }) };
    timed.push({ ns: operation.invokeNs, order: 1, event: invoke });
    timed.push({ ns: operation.completeNs, order: 0, event: { process, type: operation.outcome!.type, f, key, value: operation.outcome!.value } });
  }
  timed.sort((a, b) => a.ns - b.ns || a.order - b.order);
  return timed.map(({ ns, event }) => ({ ...event, time: ns }));
}

/** Up to 3 processes doing 1 to 3 operations each on one key, with random values and outcomes. */
function randomSmallHistory(seed: number): HistoryEvent[] {
  const random = createRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[randomInt(random, 0, items.length)]!;
  const queues = Array.from({ length: randomInt(random, 1, 4) }, () => randomInt(random, 1, 4));
  const open = new Map<number, HistoryEvent>();
  const events: HistoryEvent[] = [];
  let time = 0;
  while (queues.some((left) => left > 0) || open.size > 0) {
    const process = randomInt(random, 0, queues.length);
    const invoked = open.get(process);
    if (invoked === undefined) {
      if (queues[process]! === 0) continue;
      queues[process]!--;
      const f = random() < 0.4 ? "read" : "transition";
      const expectState = f === "transition" && random() < 0.25 ? pick(states) : undefined;
      const event: HistoryEvent = { process, type: "invoke", f, key: "k", value: f === "read" ? null : pick(states), time: time++, ...(expectState === undefined ? {} : { expect: expectState }) };
      open.set(process, event);
      events.push(event);
      continue;
    }
    open.delete(process);
    const roll = random();
    // Leave a few operations without completion at the end: they count as info.
    if (roll < 0.05 && queues[process] === 0) continue;
    const type = roll < 0.7 ? "ok" : roll < 0.85 ? "fail" : "info";
    const value = type !== "ok" ? null : invoked.f === "read" ? pick(states) : invoked.value;
    events.push({ process, type, f: invoked.f, key: "k", value, time: time++ });
  }
  return events;
}

/**
 * The naive reference: pair events by hand, then try every order of the ok operations and every
 * subset-and-order of the indeterminate ones that respects real time.
 */
function bruteForceLinearizable(events: HistoryEvent[]): boolean {
  interface Op { read: boolean; value: string; expect: string | undefined; start: number; end: number; required: boolean }
  const ops: Op[] = [];
  const open = new Map<number, { event: HistoryEvent; index: number }>();
  events.forEach((event, index) => {
    if (event.type === "invoke") {
      open.set(event.process, { event, index });
      return;
    }
    const invoke = open.get(event.process)!;
    open.delete(event.process);
    if (event.type === "fail" || (event.type === "info" && event.f === "read")) return;
    const read = event.f === "read";
    ops.push({ read, value: (read ? event.value : invoke.event.value)!, expect: invoke.event.expect, start: invoke.index, end: event.type === "ok" ? index : Infinity, required: event.type === "ok" });
  });
  for (const { event, index } of open.values()) {
    if (event.f === "transition") ops.push({ read: false, value: event.value!, expect: event.expect, start: index, end: Infinity, required: false });
  }
  const placed = new Array<boolean>(ops.length).fill(false);
  const search = (state: string): boolean => {
    if (ops.every((op, i) => placed[i] || !op.required)) return true;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (placed[i]) continue;
      // Every unplaced operation that finished before this one started must come first.
      if (ops.some((other, j) => !placed[j] && j !== i && other.required && other.end < op.start)) continue;
      let next: string | null;
      if (op.read) next = op.value === state ? state : null;
      else next = lifecycle[state] === op.value && (op.expect === undefined || op.expect === state) ? op.value : null;
      if (next === null) continue;
      placed[i] = true;
      const found = search(next);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search("Init");
}
