import { describe, expect, it } from "vitest";
import { lifecycleDefinition } from "./definition.js";
import { canonicalDefinitionJson, definitionHash } from "./definition-hash.js";

const lifecycleHash = definitionHash(lifecycleDefinition);

describe("definitionHash", () => {
  it("is 64 lowercase hex characters", () => {
    expect(lifecycleHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("does not change when states or transitions are listed in another order", () => {
    const reordered = {
      name: "lifecycle",
      states: ["Stopped", "Init", "Running"],
      initial: "Init",
      transitions: [
        { from: "Stopped", to: "Init" },
        { from: "Init", to: "Running" },
        { from: "Running", to: "Stopped" },
      ],
    };
    expect(definitionHash(reordered)).toBe(lifecycleHash);
    expect(canonicalDefinitionJson(reordered)).toBe(canonicalDefinitionJson(lifecycleDefinition));
  });

  it("differs when the definition differs in any part", () => {
    const variants = [
      { ...lifecycleDefinition, name: "lifecycle2" },
      { ...lifecycleDefinition, initial: "Running" },
      { ...lifecycleDefinition, states: [...lifecycleDefinition.states, "Paused"] },
      { ...lifecycleDefinition, transitions: lifecycleDefinition.transitions.slice(1) },
      { ...lifecycleDefinition, transitions: [...lifecycleDefinition.transitions, { from: "Running", to: "Init" }] },
      // Reversing a transition keeps the same pairs of names but must not hash the same.
      { ...lifecycleDefinition, transitions: [{ from: "Running", to: "Init" }, { from: "Stopped", to: "Running" }, { from: "Init", to: "Stopped" }] },
    ];
    const hashes = new Set(variants.map(definitionHash));
    expect(hashes.size).toBe(variants.length);
    expect(hashes.has(lifecycleHash)).toBe(false);
  });

  it("is pinned, so that a change to the canonical form is noticed (nodes of two versions would refuse each other)", () => {
    expect(canonicalDefinitionJson(lifecycleDefinition)).toBe(
      '{"format":"lockstep-definition-v1","name":"lifecycle","initial":"Init","states":["Init","Running","Stopped"],"transitions":[["Init","Running"],["Running","Stopped"],["Stopped","Init"]]}',
    );
    expect(lifecycleHash).toMatchInlineSnapshot(`"ae5900f3a6fbfcb37d49c3663b9e0ae296d342393e217c24eb015d94da757389"`);
  });
});
