import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { freePorts, isPortFree } from "./free-ports.js";

function ephemeralRangeStart(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  } catch {
    return 32_768;
  }
}

describe("freePorts", () => {
  it("hands out free ports below the ephemeral range, which outgoing connections never take as source ports", async () => {
    const ports = await freePorts("127.0.0.1", 8);
    expect(new Set(ports).size).toBe(8);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralRangeStart());
      expect(await isPortFree("127.0.0.1", port)).toBe(true);
    }
  });

  it("never repeats a port across calls in one process", async () => {
    const first = await freePorts("127.0.0.1", 16);
    const second = await freePorts("127.0.0.1", 16);
    expect(new Set([...first, ...second]).size).toBe(32);
  });
});

describe("freePorts, called at once", () => {
  it("gives concurrent calls in one process different ports", async () => {
    const [first, second] = await Promise.all([freePorts("127.0.0.1", 12), freePorts("127.0.0.1", 12)]);
    expect(new Set([...first, ...second]).size).toBe(24);
  });
});
