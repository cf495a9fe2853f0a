import { describe, expect, it } from "vitest";
import { formatScenario, parseScenario } from "./scenario-file.js";

describe("golden scenario file format", () => {
  it("keeps comments and rewrites only outputs", () => {
    const text = "# why\ncampaign n1\n----\nold\n\n# next\nstatus\n----\nok\n\n";
    const parsed = parseScenario(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(formatScenario(parsed.items)).toBe(text);
    const rewritten = parsed.items.map((item) => (item.kind === "step" && item.command === "campaign n1" ? { ...item, output: ["new", "lines"] } : item));
    expect(formatScenario(rewritten)).toBe("# why\ncampaign n1\n----\nnew\nlines\n\n# next\nstatus\n----\nok\n\n");
  });

  it("refuses a step without its separator line, naming the line", () => {
    expect(parseScenario("status\nn1 leader\n")).toEqual({ ok: false, reason: 'line 1: "status" is not followed by a ---- line' });
  });
});
