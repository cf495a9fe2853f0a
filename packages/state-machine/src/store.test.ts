import { describe, expect, it } from "vitest";
import type { TransitionCommand } from "./command.js";
import { lifecycleDefinition } from "./definition.js";
import { Store } from "./store.js";

const states = ["Init", "Running", "Stopped"] as const;
const validTargets: Record<string, string> = { Init: "Running", Running: "Stopped", Stopped: "Init" };

/** A store with key `m` moved to `state` along the lifecycle, and the next free log index. */
function storeWithKeyIn(state: string): { store: Store; nextIndex: number } {
  const store = new Store(lifecycleDefinition);
  let index = 1;
  let current = "Init";
  while (current !== state) {
    const to = validTargets[current]!;
    expect(store.apply(index++, { kind: "transition", key: "m", to }).ok).toBe(true);
    current = to;
  }
  return { store, nextIndex: index };
}

function transition(key: string, to: string, extra: Partial<TransitionCommand> = {}): TransitionCommand {
  return { kind: "transition", key, to, ...extra };
}

describe("Store transitions on the lifecycle (DESIGN.md §1)", () => {
  for (const from of states) {
    for (const to of states) {
      const valid = validTargets[from] === to;
      it(`${from} -> ${to} is ${valid ? "applied" : "refused as invalid_transition"}`, () => {
        const { store, nextIndex } = storeWithKeyIn(from);
        const before = store.get("m");
        const result = store.apply(nextIndex, transition("m", to));
        if (valid) {
          expect(result).toEqual({ ok: true, kind: "transition", key: "m", from, to, revision: nextIndex });
          expect(store.get("m")).toEqual({ state: to, revision: nextIndex });
        } else {
          expect(result).toEqual({ ok: false, code: "invalid_transition", key: "m", from, to, allowed: [validTargets[from]] });
          expect(store.get("m")).toEqual(before);
        }
        expect(store.appliedIndex).toBe(nextIndex);
        store.assertInvariants();
      });
    }
  }

  it("refuses a target that is not a state of the definition", () => {
    const store = new Store(lifecycleDefinition);
    expect(store.apply(1, transition("m", "Paused"))).toEqual({
      ok: false,
      code: "invalid_transition",
      key: "m",
      from: "Init",
      to: "Paused",
      allowed: ["Running"],
    });
    expect(store.keyCount).toBe(0);
  });

  it("lists every allowed target, sorted, whatever order the definition gives", () => {
    const store = new Store({
      name: "fan",
      states: ["Off", "Low", "High"],
      initial: "Off",
      transitions: [
        { from: "Off", to: "Low" },
        { from: "Off", to: "High" },
      ],
    });
    expect(store.apply(1, transition("f", "Off"))).toMatchObject({ code: "invalid_transition", allowed: ["High", "Low"] });
  });
});

describe("Store reads", () => {
  it("shows a never-touched key in the initial state at revision 0", () => {
    const store = new Store(lifecycleDefinition);
    expect(store.get("anything")).toEqual({ state: "Init", revision: 0 });
  });

  it("lists changed keys sorted by code unit, with their states", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, transition("web-2", "Running"));
    store.apply(2, transition("Web-1", "Running"));
    store.apply(3, transition("web-10", "Running"));
    store.apply(4, transition("web-2", "Stopped"));
    expect(store.keys()).toEqual(["Web-1", "web-10", "web-2"]);
    expect(store.entries()).toEqual([
      { key: "Web-1", state: "Running", revision: 2 },
      { key: "web-10", state: "Running", revision: 3 },
      { key: "web-2", state: "Stopped", revision: 4 },
    ]);
  });

  it("does not let a caller change the store through what it returned", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, transition("m", "Running"));
    const record = store.get("m") as { state: string };
    record.state = "Stopped";
    expect(store.get("m").state).toBe("Running");
  });
});

describe("Store compare-and-set (expect)", () => {
  it("applies when the key is in the expected state", () => {
    const store = new Store(lifecycleDefinition);
    expect(store.apply(1, transition("m", "Running", { expect: "Init" }))).toMatchObject({ ok: true, from: "Init", to: "Running" });
  });

  it("refuses with the actual state when it is not, and changes nothing", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(1, transition("m", "Running"));
    expect(store.apply(2, transition("m", "Stopped", { expect: "Init" }))).toEqual({
      ok: false,
      code: "expect_failed",
      key: "m",
      expected: "Init",
      actual: "Running",
    });
    expect(store.get("m")).toEqual({ state: "Running", revision: 1 });
    expect(store.appliedIndex).toBe(2);
  });

  it("checks expect before validity", () => {
    const store = new Store(lifecycleDefinition);
    expect(store.apply(1, transition("m", "Stopped", { expect: "Running" }))).toMatchObject({ code: "expect_failed", actual: "Init" });
  });
});

describe("Store noop and members", () => {
  it("applies a noop by advancing only the applied index", () => {
    const store = new Store(lifecycleDefinition, { members: ["a", "b", "c"] });
    expect(store.apply(7, { kind: "noop" })).toEqual({ ok: true, kind: "noop" });
    expect(store.appliedIndex).toBe(7);
    expect(store.keyCount).toBe(0);
    expect(store.members).toEqual(["a", "b", "c"]);
  });

  it("replaces the member list, keeping its own copy", () => {
    const store = new Store(lifecycleDefinition, { members: ["a"] });
    const members = ["a", "b"];
    expect(store.apply(1, { kind: "members", members })).toEqual({ ok: true, kind: "members", members: ["a", "b"] });
    members.push("c");
    expect(store.members).toEqual(["a", "b"]);
  });
});

describe("Store index discipline", () => {
  it("crashes on an index that does not increase (a programmer error)", () => {
    const store = new Store(lifecycleDefinition);
    store.apply(5, { kind: "noop" });
    expect(() => store.apply(5, { kind: "noop" })).toThrow(/apply index 5 after 5/);
    expect(() => store.apply(4, { kind: "noop" })).toThrow(/invariant/);
    expect(() => store.apply(0.5 + 5, { kind: "noop" })).toThrow(/invariant/);
  });

  it("crashes on an invalid definition", () => {
    expect(() => new Store({ ...lifecycleDefinition, initial: "Nope" })).toThrow(/initial/);
  });
});
