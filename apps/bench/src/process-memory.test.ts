import { describe, expect, it } from "vitest";
import { parseVmRssBytes, residentBytes } from "./process-memory.js";

describe("parseVmRssBytes", () => {
  it("reads VmRSS in kB as bytes", () => {
    expect(parseVmRssBytes("Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t   68420 kB\nThreads:\t7\n")).toBe(68420 * 1024);
  });

  it("is null without a VmRSS line (a kernel thread, or not Linux)", () => {
    expect(parseVmRssBytes("Name:\tkthreadd\n")).toBeNull();
  });

  it("measures this process", () => {
    expect(residentBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });
});
