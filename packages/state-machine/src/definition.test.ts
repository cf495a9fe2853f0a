import { describe, expect, it } from "vitest";
import { allowedTargets, definitionStatesMax, definitionTransitionsMax, lifecycleDefinition, parseDefinition } from "./definition.js";

const valid = {
  name: "door",
  states: ["Open", "Closed", "Locked"],
  initial: "Closed",
  transitions: [
    { from: "Closed", to: "Open" },
    { from: "Open", to: "Closed" },
    { from: "Closed", to: "Locked" },
    { from: "Locked", to: "Closed" },
  ],
};

function errorsOf(json: unknown): string[] {
  const result = parseDefinition(json);
  if (result.ok) throw new Error("expected the definition to be refused");
  return result.errors;
}

describe("parseDefinition", () => {
  it("accepts a valid definition and the built-in lifecycle", () => {
    expect(parseDefinition(valid)).toEqual({ ok: true, definition: valid });
    expect(parseDefinition(JSON.parse(JSON.stringify(lifecycleDefinition)))).toEqual({ ok: true, definition: lifecycleDefinition });
  });

  it("refuses something that is not an object, without throwing", () => {
    expect(errorsOf(null)).toHaveLength(1);
    expect(errorsOf("lifecycle")).toHaveLength(1);
  });

  it("names a missing field", () => {
    const { initial: _initial, ...withoutInitial } = valid;
    expect(errorsOf(withoutInitial)).toEqual([expect.stringMatching(/^initial: /)]);
  });

  it("names an unknown field, so that a typo is not silently ignored", () => {
    expect(errorsOf({ ...valid, intial: "Open" })).toEqual([expect.stringMatching(/intial/)]);
  });

  it("refuses an empty state list", () => {
    expect(errorsOf({ ...valid, states: [], transitions: [] })).toContain("states: must list at least one state");
  });

  it("refuses duplicate states, naming both positions", () => {
    expect(errorsOf({ ...valid, states: ["Open", "Closed", "Locked", "Open"] })).toEqual([
      'states[3]: duplicate state "Open" (first at states[0])',
    ]);
  });

  it("refuses an initial state that is not a state", () => {
    expect(errorsOf({ ...valid, initial: "Ajar" })).toEqual(['initial: "Ajar" is not one of the states']);
  });

  it("refuses a transition to or from an unknown state, naming the transition", () => {
    const transitions = [...valid.transitions, { from: "Closed", to: "Ajar" }, { from: "Broken", to: "Open" }];
    expect(errorsOf({ ...valid, transitions })).toEqual([
      'transitions[4] (Closed -> Ajar): "to" state "Ajar" is not one of the states',
      'transitions[5] (Broken -> Open): "from" state "Broken" is not one of the states',
    ]);
  });

  it("refuses a duplicate transition", () => {
    const transitions = [...valid.transitions, { from: "Open", to: "Closed" }];
    expect(errorsOf({ ...valid, transitions })).toEqual(["transitions[4] (Open -> Closed): duplicate of transitions[1]"]);
  });

  it("refuses a self-transition", () => {
    const transitions = [...valid.transitions, { from: "Open", to: "Open" }];
    expect(errorsOf({ ...valid, transitions })).toEqual([
      "transitions[4] (Open -> Open): a self-transition is not allowed (a transition must change the state)",
    ]);
  });

  it("refuses badly spelled names", () => {
    expect(errorsOf({ ...valid, states: ["Open", "Closed", "Locked", "9lives"] })).toEqual([
      expect.stringMatching(/^states\[3\]: must start with a letter/),
    ]);
    expect(errorsOf({ ...valid, name: "" })).toEqual(["name: must not be empty"]);
    expect(errorsOf({ ...valid, name: "a".repeat(65) })).toEqual(["name: must be at most 64 characters"]);
    expect(errorsOf({ ...valid, initial: `A${"b".repeat(64)}` })).toEqual(["initial: must be at most 64 characters"]);
  });

  it("refuses more states or transitions than the bounds", () => {
    const states = Array.from({ length: definitionStatesMax + 1 }, (_, index) => `S${index}`);
    expect(errorsOf({ name: "big", states, initial: "S0", transitions: [] })).toEqual(["states: must list at most 64 states"]);
    const transitions = Array.from({ length: definitionTransitionsMax + 1 }, () => ({ from: "S0", to: "S1" }));
    expect(errorsOf({ name: "big", states: ["S0", "S1"], initial: "S0", transitions })).toEqual([
      "transitions: must list at most 1024 transitions",
    ]);
  });

  it("reports every problem at once", () => {
    const errors = errorsOf({ ...valid, initial: "Ajar", transitions: [...valid.transitions, { from: "Open", to: "Open" }] });
    expect(errors).toHaveLength(2);
  });
});

describe("allowedTargets", () => {
  it("lists the targets of a state, sorted", () => {
    expect(allowedTargets(valid, "Closed")).toEqual(["Locked", "Open"]);
    expect(allowedTargets(lifecycleDefinition, "Init")).toEqual(["Running"]);
  });

  it("is empty for a state with no way out or an unknown state", () => {
    expect(allowedTargets({ ...valid, transitions: [] }, "Open")).toEqual([]);
    expect(allowedTargets(valid, "Ajar")).toEqual([]);
  });
});

describe("lifecycleDefinition", () => {
  it("is frozen, so that no caller can change the default for everyone", () => {
    expect(Object.isFrozen(lifecycleDefinition)).toBe(true);
    expect(Object.isFrozen(lifecycleDefinition.states)).toBe(true);
    expect(Object.isFrozen(lifecycleDefinition.transitions[0])).toBe(true);
  });
});
