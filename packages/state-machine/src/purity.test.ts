import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// DESIGN.md §3: the state machine runs inside the deterministic core and the simulator, so its
// sources may read no clock, no randomness and no Node module. Tests are exempt.
const sourceFiles = readdirSync(new URL(".", import.meta.url)).filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"));
const forbidden: [string, RegExp][] = [
  ["a node:* import", /from\s+["']node:/],
  ["a bare Node built-in import", /from\s+["'](fs|path|crypto|os|child_process|net|http|timers)["']/],
  ["an import of another lockstep package", /from\s+["']@lockstep\//],
  ["a clock", /\b(Date|performance|setTimeout|setInterval|setImmediate|queueMicrotask)\b/],
  ["randomness", /Math\.random|crypto\.getRandomValues/],
  ["process state", /\bprocess\./],
];

describe("state-machine sources are pure", () => {
  it("finds the sources it checks", () => {
    expect(sourceFiles).toContain("store.ts");
  });

  for (const file of sourceFiles) {
    it(`${file} uses no clock, randomness, I/O or sibling package`, () => {
      const text = readFileSync(new URL(file, import.meta.url), "utf8");
      for (const [what, pattern] of forbidden) expect(pattern.test(text), `${file} contains ${what}`).toBe(false);
    });
  }
});
