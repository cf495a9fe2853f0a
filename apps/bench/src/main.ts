import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { benchUsage, parseBenchArgs, type BenchArgs } from "./bench-args.js";
import { runClusterBench } from "./cluster-bench.js";
import { clusterGoals, compare, inProcessGoal } from "./comparison.js";
import { summarizeCpuProfileFile } from "./cpu-profile-summary.js";
import { runInProcessBench } from "./in-process-bench.js";
import { describeMachine, machineInfo, type MachineInfo } from "./machine-info.js";
import { clusterTable, comparisonTable, goalLines, hotFunctionsTable, inProcessTable, internalsTable, roundsTable } from "./markdown-report.js";
import { ProgressLine } from "./progress-line.js";
import { throughputAndLatencyChart } from "./bench-chart.js";
import { platformMarkdown, runPlatformBench } from "./platform-bench.js";
import { runScalingBench } from "./scaling-bench.js";
import { timelineMarkdown } from "./commit-timeline.js";
import { runTimelineBench } from "./timeline-bench.js";
import { scalingCharts, scalingTables } from "./scaling-report.js";
import { securityCosts, securityCostTable, securityGoals, securityPairs } from "./security-cost.js";

/** apps/bench/{src,dist}/main.* -> the repository root. */
const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseBenchArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`bench: ${parsed.reason}\n\n${benchUsage}`);
    return 2;
  }
  const args = parsed.args;
  if (args.help) {
    process.stdout.write(benchUsage);
    return 0;
  }
  const outDirectory = inRepository(args.outDirectory);
  mkdirSync(outDirectory, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const profileDirectory = args.profile ? join(outDirectory, `profiles-${stamp}`) : null;
  if (profileDirectory !== null) mkdirSync(profileDirectory, { recursive: true });
  const machine = machineInfo();
  const progress = new ProgressLine();
  progress.done(`bench: ${args.mode}${args.vsEtcd ? " vs etcd" : ""}, clients ${args.concurrencies.join(", ")}, ${args.warmupSeconds} s warm-up + ${args.seconds} s each`);
  progress.done(`machine: ${describeMachine(machine)}`);
  const report =
    args.mode === "in-process"
      ? await inProcess(args, machine, profileDirectory, progress)
      : args.mode === "scaling"
        ? await scaling(args, machine, progress)
        : args.mode === "platform"
          ? await platform(args, machine, progress)
          : args.mode === "timeline"
            ? await timeline(args, machine, progress)
            : await cluster(args, machine, profileDirectory, progress);
  const base = join(outDirectory, `${args.mode}${args.vsEtcd ? "-vs-etcd" : ""}-${stamp}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(report.json, null, 2)}\n`);
  writeFileSync(`${base}.md`, report.markdown);
  process.stdout.write(`\n${report.markdown}\nresults: ${base}.json and .md\n`);
  return 0;
}

async function platform(args: BenchArgs, machine: MachineInfo, progress: ProgressLine): Promise<Report> {
  const clients = args.concurrencies[0] ?? 128;
  const figures = await runPlatformBench({ workDirectory: benchDataParent(args), seconds: args.seconds, warmupSeconds: args.warmupSeconds, httpClients: clients, progress });
  return { json: { machine, figures }, markdown: `## The machine's floor, without lockstep (${describeMachine(machine)})\n\n${platformMarkdown(figures, clients)}` };
}

/** `pnpm bench --timeline`: one commit, hop by hop (timeline-bench.ts). The warm-up includes `--settle`, so the path is compiled. */
async function timeline(args: BenchArgs, machine: MachineInfo, progress: ProgressLine): Promise<Report> {
  const workDirectory = mkdtempSync(join(benchDataParent(args), "timeline-run-"));
  const warmupSeconds = args.settleSeconds + args.warmupSeconds;
  try {
    const run = await runTimelineBench({ repositoryRoot, workDirectory, seconds: args.seconds, warmupSeconds, progress });
    const soundness = run.droppedEvents + run.unreadableLines === 0 ? "" : `\n**Incomplete:** ${run.droppedEvents} events dropped past a process's bound, ${run.unreadableLines} unreadable lines.\n`;
    const markdown = [
      `## One commit, hop by hop (${describeMachine(machine)})`,
      "",
      `1 client on \`/v1/rpc\`, 3 nodes (leader ${run.leaderName}), fsync always, ${args.seconds} s measured after ${warmupSeconds} s of warm-up: ${Math.round(run.phase.committedPerSecond)} committed/s, p50 ${run.phase.latency.p50Us.toFixed(0)} µs with the hooks' cost. Each row is the median over requests of when that step happened, from the client's write; a step's µs is the difference of two medians.`,
      "",
      timelineMarkdown(run.analysis),
      soundness,
    ].join("\n");
    return { json: { machine, leader: run.leaderName, phase: run.phase, analysis: run.analysis, droppedEvents: run.droppedEvents, unreadableLines: run.unreadableLines }, markdown };
  } finally {
    if (!args.keepData) rmSync(workDirectory, { recursive: true, force: true });
  }
}

interface Report {
  json: unknown;
  markdown: string;
}

async function inProcess(args: BenchArgs, machine: MachineInfo, profileDirectory: string | null, progress: ProgressLine): Promise<Report> {
  const runs = await runInProcessBench({ concurrencies: args.concurrencies, seconds: args.seconds, warmupSeconds: args.warmupSeconds, profileDirectory, progress });
  const goal = inProcessGoal(runs);
  const sections = [
    `## In-process: 3 ConsensusNodes, MemoryStorage, zero-latency network (${describeMachine(machine)})`,
    "",
    inProcessTable(runs),
    "",
    goal === null ? "" : goalLines([goal]),
  ];
  for (const run of runs) {
    if (run.profile === null) continue;
    sections.push("", `### Profile, ${run.concurrency} clients (${run.profile.path}): top functions by self time of ${run.profile.totalMs.toFixed(0)} ms sampled`, "", hotFunctionsTable(run.profile.rows));
  }
  return { json: { kind: "in-process", machine, args, runs, goal }, markdown: `${sections.join("\n")}\n` };
}

async function cluster(args: BenchArgs, machine: MachineInfo, profileDirectory: string | null, progress: ProgressLine): Promise<Report> {
  const workDirectory = mkdtempSync(join(benchDataParent(args), "run-"));
  try {
    const outcome = await runClusterBench({
      repositoryRoot,
      workDirectory,
      concurrencies: args.concurrencies,
      seconds: args.seconds,
      warmupSeconds: args.warmupSeconds,
      settleSeconds: args.settleSeconds,
      rounds: args.rounds,
      vsEtcd: args.vsEtcd,
      profileDirectory,
      progress,
    });
    const comparisons = compare(outcome.runs);
    const goals = clusterGoals(comparisons);
    const rpcComparisons = compare(outcome.runs, "lockstep-rpc");
    const rpcGoals = clusterGoals(rpcComparisons);
    const transportComparisons = compare(outcome.runs, "lockstep-rpc", "lockstep");
    const etcdLine =
      outcome.etcd === null ? "" : "missing" in outcome.etcd ? `etcd: ${outcome.etcd.missing}` : `etcd ${outcome.etcd.version}, leader ${outcome.etcd.leader}: rows \`etcd\` drive its native gRPC API (unary KV/Put, all calls multiplexed on one HTTP/2 connection), rows \`etcd-gateway\` its JSON gateway ${outcome.etcd.gatewayPath}`;
    const sections = [
      `## Real cluster: 3 processes on loopback, fsync on (${describeMachine(machine)})`,
      "",
      `lockstep leader ${outcome.lockstepLeader}${etcdLine === "" ? "" : `; ${etcdLine}`}. rows \`lockstep\` send their requests to the leader over keep-alive HTTP/1.1, one socket per client; rows \`lockstep-rpc\` send the same requests as frames on one \`/v1/rpc\` WebSocket to the leader, every client's request multiplexed on it; \`load gen CPU %\` is the generator's own CPU, which competes with the servers on this machine; ${settleLine(args)}${args.warmupSeconds} s warm-up, ${args.seconds} s measured per row${args.rounds > 1 ? `; each level measured in ${args.rounds} rounds (the systems' order alternating), each row the round with the median writes/s` : ""}.`,
      "",
      clusterTable(outcome.runs),
    ];
    if (args.rounds > 1) sections.push("", "### Every round (* the round each row above is)", "", roundsTable(outcome.rounds, outcome.runs));
    const costs = securityCosts(outcome.runs, securityPairs[0]);
    const costGoals = securityGoals(costs, "HTTPS + tokens");
    const rpcCosts = securityCosts(outcome.runs, securityPairs[1]);
    const rpcCostGoals = securityGoals(rpcCosts, "wss + token on /v1/rpc");
    if (costs.length > 0) {
      sections.push(
        "",
        "### The secured client port (`lockstep-secure`: HTTPS with the cluster CA, tokens required) against the plain one (`lockstep`), same run",
        "",
        "Both clusters have mutual TLS on the peer port (it has no plaintext mode). The load generator keeps one keep-alive connection per client, so each pays one TLS handshake, in the warm-up.",
        "",
        securityCostTable(costs),
        "",
        goalLines(costGoals),
      );
    }
    if (rpcCosts.length > 0) {
      sections.push(
        "",
        "### The same over /v1/rpc (`lockstep-secure-rpc`: one wss socket opened with a `write` token, every request a frame on it) against `lockstep-rpc`, same run",
        "",
        "The token is checked on every frame, as on every HTTP request; one TLS session carries every client's frames, several to a record.",
        "",
        securityCostTable(rpcCosts),
        "",
        goalLines(rpcCostGoals),
      );
    }
    if (transportComparisons.length > 0) {
      sections.push("", "### lockstep over /v1/rpc as a ratio of lockstep over HTTP (same run, same cluster)", "", comparisonTable(transportComparisons, "rpc ÷ http"));
    }
    if (comparisons.length > 0) sections.push("", "### lockstep (HTTP) as a ratio of etcd through its native gRPC API (same run)", "", comparisonTable(comparisons), "", goalLines(goals));
    if (rpcComparisons.length > 0) {
      sections.push("", "### lockstep over /v1/rpc as a ratio of etcd through its native gRPC API (same run)", "", comparisonTable(rpcComparisons, "lockstep-rpc ÷ etcd gRPC"), "", goalLines(rpcGoals));
    }
    if (outcome.runs.some((run) => run.internals !== null)) {
      sections.push(
        "",
        "### Inside the lockstep leader (its own /metrics, deltas over each measured phase)",
        "",
        "Stage means are per entry (persist: per write). Messages are what the leader sent per committed transition.",
        "",
        internalsTable(outcome.runs),
      );
    }
    const profile = outcome.leaderProfilePath === null ? null : summarizeCpuProfileFile(outcome.leaderProfilePath);
    if (profile !== null && outcome.leaderProfilePath !== null) {
      sections.push("", `### Profile of the leader (${outcome.leaderProfilePath}): top functions by self time of ${profile.totalMs.toFixed(0)} ms sampled`, "", hotFunctionsTable(profile.rows));
    }
    const secureProfile = outcome.secureLeaderProfilePath === null ? null : summarizeCpuProfileFile(outcome.secureLeaderProfilePath);
    if (secureProfile !== null) {
      sections.push("", `### Profile of the lockstep-secure leader (${outcome.secureLeaderProfilePath}): top functions by self time of ${secureProfile.totalMs.toFixed(0)} ms sampled`, "", hotFunctionsTable(secureProfile.rows));
    }
    if (args.chartPath !== null) {
      const chartPath = inRepository(args.chartPath);
      mkdirSync(dirname(chartPath), { recursive: true });
      writeFileSync(chartPath, throughputAndLatencyChart(outcome.runs, `3 nodes on loopback, fsync on; ${machine.cpuModel}, ${machine.cores} cores; ${machine.date.slice(0, 10)}`));
      progress.done(`chart: ${chartPath}`);
    }
    return { json: { kind: "cluster", machine, args, etcd: outcome.etcd, lockstepLeader: outcome.lockstepLeader, runs: outcome.runs, rounds: outcome.rounds, comparisons, goals, rpcComparisons, rpcGoals, transportComparisons, securityCosts: costs, securityGoals: costGoals, rpcSecurityCosts: rpcCosts, rpcSecurityGoals: rpcCostGoals, leaderProfile: profile === null ? null : { path: outcome.leaderProfilePath, ...profile } }, markdown: `${sections.join("\n")}\n` };
  } finally {
    if (args.keepData) progress.done(`data and server logs kept in ${workDirectory}`);
    else rmSync(workDirectory, { recursive: true, force: true });
  }
}

/** What the report says of the settle phase (`--settle`). */
function settleLine(args: BenchArgs): string {
  const first = args.concurrencies[0];
  if (args.settleSeconds <= 0 || first === undefined) return "measured from a cold start (no settle phase); ";
  return `each system served ${args.settleSeconds} s of unmeasured load at ${first} client${first === 1 ? "" : "s"} after its cluster started, so a fresh Node.js process is measured with its hot code compiled (etcd had the same); `;
}

async function scaling(args: BenchArgs, machine: MachineInfo, progress: ProgressLine): Promise<Report> {
  const workDirectory = mkdtempSync(join(benchDataParent(args), "scaling-"));
  try {
    const outcome = await runScalingBench({
      repositoryRoot,
      workDirectory,
      clients: args.concurrencies,
      nodes: args.nodeCounts,
      keys: args.keyCounts,
      sweepClients: scalingSweepClients,
      seconds: args.seconds,
      warmupSeconds: args.warmupSeconds,
      progress,
    });
    const caption = `lockstep, fsync on; ${machine.cpuModel}, ${machine.cores} cores; ${machine.date.slice(0, 10)}`;
    const charts = scalingCharts(outcome, caption);
    if (args.chartPath !== null) {
      for (const [name, svg] of Object.entries(charts)) {
        const path = inRepository(join(dirname(args.chartPath), `benchmarks-${name}.svg`));
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, svg);
        progress.done(`chart: ${path}`);
      }
    }
    const sections = [
      `## Cost as the work grows: lockstep processes on loopback, fsync on (${describeMachine(machine)})`,
      "",
      `Sweeps of cluster size and of keys run at ${scalingSweepClients} clients; ${args.warmupSeconds} s warm-up, ${args.seconds} s measured per row.`,
      "",
      scalingTables(outcome),
    ];
    return { json: { kind: "scaling", machine, args, outcome }, markdown: `${sections.join("\n")}\n` };
  } finally {
    if (args.keepData) progress.done(`data and server logs kept in ${workDirectory}`);
    else rmSync(workDirectory, { recursive: true, force: true });
  }
}

/** Concurrency of the cluster-size and key-count sweeps. */
const scalingSweepClients = 128;

function benchDataParent(args: BenchArgs): string {
  const parent = args.dataDirectory === null ? join(repositoryRoot, "apps", "bench", "node_modules", ".cache", "bench") : inRepository(args.dataDirectory);
  mkdirSync(parent, { recursive: true });
  return parent;
}

function inRepository(path: string): string {
  return isAbsolute(path) ? path : resolve(repositoryRoot, path);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
