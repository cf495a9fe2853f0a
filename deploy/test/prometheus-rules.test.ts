/**
 * The alert rules in deploy/prometheus, checked and unit-tested by Debian's real promtool
 * (`apt-get install prometheus`), and held to the metrics a node really exports.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { exportedSeriesNames, lockstepNamesIn } from "./support/exported-metrics.js";
import { runTool } from "./support/run-tool.js";

const directory = fileURLToPath(new URL("../prometheus/", import.meta.url));
const promtool = "/usr/bin/promtool";
const installHint = "apt-get install -y --no-install-recommends prometheus";

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }>;
}
interface RuleTestFile {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

const rules = parse(readFileSync(`${directory}lockstep-rules.yaml`, "utf8")) as RuleFile;
const ruleTests = parse(readFileSync(`${directory}lockstep-rules.test.yaml`, "utf8")) as RuleTestFile;
const alerts = rules.groups.flatMap((group) => group.rules);

describe("Prometheus alert rules", () => {
  it("pass promtool check rules", () => {
    const run = runTool(promtool, ["check", "rules", "lockstep-rules.yaml"], installHint, directory);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it("load from the example Prometheus configuration (promtool check config)", () => {
    const run = runTool(promtool, ["check", "config", "prometheus.yaml"], installHint, directory);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain("SUCCESS: 1 rule files found");
  });

  it("pass their unit tests under promtool test rules", () => {
    const run = runTool(promtool, ["test", "rules", "lockstep-rules.test.yaml"], installHint, directory);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain("SUCCESS");
  });

  it("each have a unit test in which they fire", () => {
    const firing = new Set(ruleTests.tests.flatMap((test) => (test.alert_rule_test ?? []).filter((check) => check.exp_alerts.length > 0).map((check) => check.alertname)));
    expect(alerts.map((rule) => rule.alert).filter((name) => name !== undefined && !firing.has(name))).toEqual([]);
  });

  it("cover what an operator must be woken for", () => {
    const names = alerts.map((rule) => rule.alert);
    for (const name of ["LockstepNoLeader", "LockstepLeaderFlapping", "LockstepFsyncSlow", "LockstepFollowerFarBehind", "LockstepNodeDown", "LockstepQuorumAtRisk"]) expect(names).toContain(name);
    for (const rule of alerts) {
      expect(["warning", "critical"], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
  });

  it("name only metrics a node exports", async () => {
    const exported = await exportedSeriesNames();
    const unknown = alerts.flatMap((rule) => lockstepNamesIn(rule.expr).filter((name) => !exported.has(name)).map((name) => `${rule.alert}: ${name}`));
    expect(unknown).toEqual([]);
  });
});
