/**
 * deploy/systemd/lockstep.service under Debian's `systemd-analyze verify` (which reports unknown
 * keys and a missing executable), and the settings a supervisor of lockstep needs.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { deployDirectory } from "./support/manifests.js";
import { environmentNamesIn, knownEnvironmentNames } from "./support/option-names.js";
import { runTool } from "./support/run-tool.js";

const unitPath = `${deployDirectory}systemd/lockstep.service`;
const unit = readFileSync(unitPath, "utf8");
const settings = new Map(unit.split("\n").filter((line) => /^[A-Za-z]+=/.test(line)).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const));

describe("the systemd unit", () => {
  it("passes systemd-analyze verify", () => {
    const run = runTool("/usr/bin/systemd-analyze", ["verify", unitPath], "apt-get install -y systemd");
    expect(run.status, run.output).toBe(0);
    expect(run.output.split("\n").filter((line) => line.includes("lockstep"))).toEqual([]);
  });

  it("restarts a failed node, never one with an invalid configuration, and stops it with SIGTERM", () => {
    expect(settings.get("Restart")).toBe("on-failure");
    expect(settings.get("RestartPreventExitStatus")).toBe("2");
    expect(settings.get("KillSignal")).toBe("SIGTERM");
    expect(settings.get("User")).not.toBe("root");
    expect(settings.get("ExecStart")).toMatch(/cli\.js start$/);
  });

  it("sets only options lockstep start knows", () => {
    const known = knownEnvironmentNames();
    expect(environmentNamesIn(unit).filter((name) => !known.has(name))).toEqual([]);
  });
});
