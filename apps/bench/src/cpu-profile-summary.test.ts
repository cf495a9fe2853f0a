import { describe, expect, it } from "vitest";
import { summarizeCpuProfile } from "./cpu-profile-summary.js";

const frame = (functionName: string, url: string, lineNumber: number) => ({ functionName, url, lineNumber, scriptId: "0", columnNumber: 0 });

describe("summarizeCpuProfile", () => {
  it("charges each sample's delta to its node and merges nodes of one function", () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame("(root)", "", -1), children: [2, 3, 4] },
        { id: 2, callFrame: frame("step", "file:///repo/packages/consensus/dist/raft-core.js", 9) },
        { id: 3, callFrame: frame("step", "file:///repo/packages/consensus/dist/raft-core.js", 9) },
        { id: 4, callFrame: frame("", "file:///repo/apps/bench/dist/main.js", 0) },
      ],
      startTime: 0,
      endTime: 10_000,
      samples: [2, 3, 4, 2],
      timeDeltas: [1000, 2000, 3000, 4000],
    };
    const summary = summarizeCpuProfile(JSON.stringify(profile));
    expect(summary?.totalMs).toBe(10);
    expect(summary?.rows[0]).toEqual({ functionName: "step", location: "consensus/dist/raft-core.js:10", selfMs: 7, selfPercent: 70 });
    expect(summary?.rows[1]).toMatchObject({ functionName: "(anonymous)", location: "bench/dist/main.js:1", selfMs: 3 });
  });

  it("returns null for something that is not a profile", () => {
    expect(summarizeCpuProfile("{}")).toBeNull();
    expect(summarizeCpuProfile("not json")).toBeNull();
  });
});
