import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ScenarioDriver } from "./scenario-driver.js";
import { formatScenario, parseScenario, type ScenarioItem } from "./scenario-file.js";

/**
 * Golden scenario files (etcd-io/raft's datadriven testdata): every `testdata/*.txt` is replayed
 * step by step against real cores, and the printed output must match the file exactly.
 * `LOCKSTEP_GOLDEN_REWRITE=1 pnpm exec vitest run src/golden` writes the new outputs instead, to be
 * reviewed as a diff.
 */
const directory = join(import.meta.dirname, "testdata");
const rewrite = process.env["LOCKSTEP_GOLDEN_REWRITE"] === "1";
const files = readdirSync(directory).filter((name) => name.endsWith(".txt")).sort();

function replay(text: string, name: string): ScenarioItem[] {
  const parsed = parseScenario(text);
  if (!parsed.ok) throw new Error(`${name}: ${parsed.reason}`);
  const driver = new ScenarioDriver();
  return parsed.items.map((item) => {
    if (item.kind === "comment") return item;
    try {
      return { ...item, output: driver.run(item.command) };
    } catch (error) {
      throw new Error(`${name}:${item.line}: ${item.command}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  });
}

describe("golden scenario files (src/golden/testdata)", () => {
  it("has scenarios to replay", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const name of files) {
    it(name, () => {
      const path = join(directory, name);
      const expected = readFileSync(path, "utf8");
      const actual = formatScenario(replay(expected, name));
      if (rewrite) writeFileSync(path, actual);
      else expect(actual, `${name} changed: rerun with LOCKSTEP_GOLDEN_REWRITE=1 and review the diff`).toBe(expected);
    });
  }
});
