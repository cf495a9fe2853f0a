/**
 * Debian's real Prometheus server (`apt-get install prometheus`) scrapes a three-process cluster
 * with the alert rules of deploy/prometheus loaded, on loopback with its own temporary data
 * directory and config. Through its HTTP API: every member is up, exactly one is leader, commits
 * show up as a rate, every query of the Grafana dashboard evaluates, every rule is healthy, and
 * with two of three members killed the no-leader and lost-majority alerts become active.
 * Fails, never skips, when /usr/bin/prometheus is missing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { freePorts } from "../src/cluster/free-ports.js";
import { postTransition, sleep, waitFor } from "./support/node-api.js";
import { fastTiming, ProcessCluster } from "./support/process-cluster.js";

const prometheusPath = "/usr/bin/prometheus";
const deployDirectory = fileURLToPath(new URL("../../../deploy/", import.meta.url));
const rulesFile = join(deployDirectory, "prometheus", "lockstep-rules.yaml");
const dashboardFile = join(deployDirectory, "grafana", "lockstep-dashboard.json");
const startTimeoutMs = 20_000;
const logLinesKeptMax = 100;
const transitionSpacingMs = 150;

let cluster: ProcessCluster;
let prometheus: ChildProcess | undefined;
let prometheusUrl = "";
const prometheusLog: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), "lockstep-prometheus-"));

interface QueryAnswer {
  status: "success" | "error";
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

async function query(expression: string): Promise<QueryAnswer> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expression)}`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as QueryAnswer;
}

/** The single value of an instant query, or undefined while it has no result. */
async function scalarOf(expression: string): Promise<number | undefined> {
  const answer = await query(expression);
  if (answer.status !== "success") throw new Error(`${expression}: ${answer.error}`);
  const first = answer.data?.result[0];
  return first === undefined ? undefined : Number(first.value[1]);
}

beforeAll(async () => {
  expect(existsSync(prometheusPath), `${prometheusPath} is missing: apt-get install -y --no-install-recommends prometheus (tooling/scripts/setup.sh does)`).toBe(true);
  cluster = await ProcessCluster.prepare({ cluster: "prometheus", config: fastTiming });
  cluster.startAll();
  if ((await waitForAgreedLeader(cluster.clientUrls, startTimeoutMs)) === null) throw new Error(`no leader\n${cluster.logTail()}`);
  const [port] = await freePorts("127.0.0.1", 1);
  prometheusUrl = `http://127.0.0.1:${port}`;
  const targets = cluster.nodes.map((node) => `"127.0.0.1:${node.clientPort}"`).join(", ");
  const configFile = join(scratch, "prometheus.yaml");
  writeFileSync(
    configFile,
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      `rule_files: [${JSON.stringify(rulesFile)}]`,
      "scrape_configs:",
      "  - job_name: lockstep",
      `    static_configs: [{ targets: [${targets}] }]`,
      "",
    ].join("\n"),
  );
  prometheus = spawn(prometheusPath, [`--config.file=${configFile}`, `--storage.tsdb.path=${join(scratch, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"], { stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [prometheus.stdout, prometheus.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      prometheusLog.push(chunk.toString());
      if (prometheusLog.length > logLinesKeptMax) prometheusLog.shift();
    });
  }
  await waitFor("Prometheus to be ready", async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined), startTimeoutMs).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${prometheusLog.join("")}`);
  });
}, 2 * startTimeoutMs + 5_000);

afterAll(async () => {
  if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus!.once("exit", resolve));
    prometheus.kill("SIGTERM");
    await exited;
  }
  await cluster?.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

describe("Prometheus scraping a three-node cluster", () => {
  it("sees every member up, one leader, one term and commits as a rate", async () => {
    await waitFor("three members up", async () => ((await scalarOf('count(up{job="lockstep"} == 1)')) === 3 ? true : undefined), 15_000);
    // Spread over several scrapes: a counter's first sample already holds what came before it.
    const lifecycle = ["Running", "Stopped", "Init"];
    for (let index = 0; index < 30; index++) {
      const answer = await postTransition(cluster.nodes[index % 3]!.clientUrl, "scraped", { to: lifecycle[index % 3]! });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      await sleep(transitionSpacingMs);
    }
    expect(await scalarOf("sum(lockstep_is_leader)")).toBe(1);
    expect(await scalarOf("max(lockstep_term) - min(lockstep_term)")).toBe(0);
    await waitFor(
      "a commit rate",
      async () => {
        const rate = await scalarOf('sum(rate(lockstep_transitions_total{result="ok"}[10s]))');
        return rate !== undefined && rate > 0 ? rate : undefined;
      },
      15_000,
    );
  }, 40_000);

  it("evaluates every query of the Grafana dashboard without error", async () => {
    const dashboard = JSON.parse(readFileSync(dashboardFile, "utf8")) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    const expressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr })));
    expect(expressions.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const { title, expr } of expressions) {
      const concrete = expr.replaceAll("$__rate_interval", "15s").replaceAll('"$job"', '"lockstep"').replaceAll('"$node"', '".*"');
      const answer = await query(concrete);
      if (answer.status !== "success") failures.push(`${title}: ${answer.error}`);
    }
    expect(failures).toEqual([]);
    // A query that reads something the node exports has data: the leader panel names the leader.
    const leader = await query(expressions.find((expression) => expression.title === "Leader")!.expr.replaceAll('"$job"', '"lockstep"'));
    expect(leader.data?.result.map((series) => series.metric.node)).toHaveLength(1);
  });

  it("loads every alert rule as healthy", async () => {
    const answer = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
    const rules = answer.data.groups.flatMap((group) => group.rules);
    expect(rules.length).toBeGreaterThanOrEqual(10);
    await waitFor("every rule evaluated", async () => {
      const again = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as typeof answer;
      const all = again.data.groups.flatMap((group) => group.rules);
      return all.every((rule) => rule.health === "ok") ? true : undefined;
    }, 10_000);
  });

  it("raises LockstepNoLeader and LockstepQuorumAtRisk once two of three members are killed", async () => {
    await cluster.kill("n1", "SIGKILL");
    await cluster.kill("n2", "SIGKILL");
    const active = await waitFor(
      "the no-leader and lost-majority alerts",
      async () => {
        const answer = (await (await fetch(`${prometheusUrl}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: { alertname: string }; state: string }> } };
        const names = new Set(answer.data.alerts.filter((alert) => alert.state === "pending" || alert.state === "firing").map((alert) => alert.labels.alertname));
        return names.has("LockstepNoLeader") && names.has("LockstepQuorumAtRisk") ? [...names].sort() : undefined;
      },
      20_000,
    );
    expect(active).toEqual(expect.arrayContaining(["LockstepNoLeader", "LockstepQuorumAtRisk"]));
  }, 30_000);
});
