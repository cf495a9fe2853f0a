import { describe, expect, it } from "vitest";
import { parseProcStatCpuMs, processCpuMs } from "./process-cpu.js";

describe("parseProcStatCpuMs", () => {
  it("reads utime and stime even when the command name holds spaces and parentheses", () => {
    const line = "4242 (node (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 11 0 100 1000000 5000";
    expect(parseProcStatCpuMs(line, 100)).toEqual({ userMs: 2500, systemMs: 500 });
  });

  it("returns null for a line that is not a stat line", () => {
    expect(parseProcStatCpuMs("garbage", 100)).toBeNull();
    expect(parseProcStatCpuMs("1 (x) S 1", 100)).toBeNull();
  });

  it("reads this very process, and the figure grows as it works", () => {
    const before = processCpuMs(process.pid);
    if (before === null) return expect(process.platform).not.toBe("linux");
    const until = Date.now() + 150;
    let spin = 0;
    while (Date.now() < until) spin += 1;
    expect(spin).toBeGreaterThan(0);
    const after = processCpuMs(process.pid)!;
    expect(after.userMs + after.systemMs).toBeGreaterThan(before.userMs + before.systemMs);
  });
});
