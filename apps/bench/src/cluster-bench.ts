import { join } from "node:path";
import { EtcdGrpcClient } from "./etcd-grpc-client.js";
import { EtcdGrpcLoadClient } from "./etcd-grpc-load-client.js";
import { EtcdLoadClient } from "./etcd-load-client.js";
import { findEtcd, startEtcdCluster, type RunningEtcdCluster } from "./etcd-cluster.js";
import { HttpJsonClient } from "./http-json-client.js";
import { runPhase, type LoadClient, type PhaseResult } from "./load-generator.js";
import { LockstepLoadClient } from "./lockstep-load-client.js";
import { RpcJsonClient } from "./rpc-json-client.js";
import { startLockstepCluster, type RunningCluster } from "./lockstep-cluster.js";
import { internalsBetween, scrapeMetrics, type LockstepInternals } from "./lockstep-internals.js";
import { medianRound } from "./median-round.js";
import { processesCpuMs } from "./process-cpu.js";
import type { ProgressLine } from "./progress-line.js";

/**
 * `lockstep` is lockstep over keep-alive HTTP/1.1 (one socket per client); `lockstep-rpc` the same
 * cluster through its multiplexed protocol (every client's request a frame on one `/v1/rpc`
 * WebSocket); `lockstep-secure` a second cluster whose client ports serve HTTPS and require
 * tokens (keep-alive HTTPS with a `write` token). `etcd` is etcd through its native gRPC API (how its own clients and benchmark tool
 * use it); `etcd-gateway` the same cluster through its JSON gateway, a second, labelled row.
 */
export type SystemName = "lockstep" | "lockstep-secure" | "lockstep-rpc" | "lockstep-secure-rpc" | "etcd" | "etcd-gateway";

/** The systems that are lockstep (their leader's /metrics are read around each phase). */
export function isLockstep(system: SystemName): boolean {
  return system === "lockstep" || system === "lockstep-secure" || system === "lockstep-rpc" || system === "lockstep-secure-rpc";
}

export interface ClusterBenchOptions {
  repositoryRoot: string;
  workDirectory: string;
  concurrencies: readonly number[];
  seconds: number;
  warmupSeconds: number;
  /** Seconds of unmeasured load each system serves at the first level before its first measured phase. */
  settleSeconds: number;
  /** Measured rounds per level; the row of a system is its median round (`medianRound`). */
  rounds: number;
  vsEtcd: boolean;
  /** When set, the lockstep nodes run under `--cpu-prof` and write their profiles here. */
  profileDirectory: string | null;
  progress: ProgressLine;
}

export interface ClusterRun {
  system: SystemName;
  concurrency: number;
  /** Which measured round of its level this was (0-based). */
  round: number;
  result: PhaseResult;
  /** CPU of the cluster's three server processes during the phase, summed (null if /proc is unreadable). */
  serverCpuMs: number | null;
  /** The kernel's share of the server CPU (sockets, fsync), in percent of `serverCpuMs`. */
  serverSystemCpuShare: number | null;
  /** Server CPU as a share of one core (200 % = both cores of this machine). */
  serverCpuPercent: number | null;
  serverCpuUsPerCommit: number | null;
  generatorCpuPercent: number;
  /** lockstep only: the leader's own per-stage timings, fsyncs and messages over the phase (from /metrics). */
  internals: LockstepInternals | null;
}

export interface ClusterBenchOutcome {
  /** One row per system and level: the median of its rounds. */
  runs: ClusterRun[];
  /** Every measured round, in the order they ran (`runs` when there is one round). */
  rounds: ClusterRun[];
  lockstepLeader: string;
  etcd: { version: string; gatewayPath: string; leader: string } | { missing: string } | null;
  /** The leader's CPU profile, when `--profile` was given. */
  leaderProfilePath: string | null;
  /** The same for the cluster whose client port is secured. */
  secureLeaderProfilePath: string | null;
}

const clusterSize = 3;
const leaderWaitMs = 30_000;

/**
 * `pnpm bench` (and `--vs etcd`): starts the cluster(s), then for each concurrency runs a warm-up
 * and a measured phase per system. With etcd the order alternates from one level to the next
 * (lockstep first, then etcd first, ...) so that neither system always runs on a warmer or a
 * busier machine.
 */
export async function runClusterBench(options: ClusterBenchOptions): Promise<ClusterBenchOutcome> {
  let etcdInfo: ClusterBenchOutcome["etcd"] = null;
  const clusters = new Map<SystemName, RunningCluster>();
  try {
    const lockstep = await startLockstepCluster({
      repositoryRoot: options.repositoryRoot,
      workDirectory: join(options.workDirectory, "lockstep"),
      nodeCount: clusterSize,
      profileDirectory: options.profileDirectory,
      leaderWaitMs,
    });
    clusters.set("lockstep", lockstep);
    clusters.set("lockstep-rpc", lockstep);
    options.progress.done(`lockstep: 3 nodes up (FileStorage, fsync always), leader ${lockstep.leaderName} at ${lockstep.leaderUrl.origin}`);
    // The same cluster with the client port secured (HTTPS, tokens required), measured next to it (issue 10's cost goal).
    const secured = await startLockstepCluster({
      repositoryRoot: options.repositoryRoot,
      workDirectory: join(options.workDirectory, "lockstep-secure"),
      nodeCount: clusterSize,
      profileDirectory: options.profileDirectory === null ? null : join(options.profileDirectory, "lockstep-secure"),
      leaderWaitMs,
      secureClientPort: true,
      name: "lockstep-secure",
    });
    clusters.set("lockstep-secure", secured);
    // ...and through /v1/rpc over wss with one token, against `lockstep-rpc`: the same cost on the multiplexed protocol.
    clusters.set("lockstep-secure-rpc", secured);
    options.progress.done(`lockstep-secure: 3 nodes up, client port HTTPS with tokens required, leader ${secured.leaderName} at ${secured.leaderUrl.origin}`);
    if (options.vsEtcd) {
      const etcd = findEtcd();
      if (etcd === null) {
        etcdInfo = { missing: "no `etcd` on PATH: running lockstep alone (Debian: sudo apt-get install -y etcd-server etcd-client)" };
        options.progress.done(`etcd: ${etcdInfo.missing}`);
      } else {
        const running = await startEtcdCluster({ etcdPath: etcd.path, workDirectory: join(options.workDirectory, "etcd"), memberCount: clusterSize, leaderWaitMs }, etcd.version);
        clusters.set("etcd", running);
        clusters.set("etcd-gateway", running);
        etcdInfo = { version: running.version, gatewayPath: running.gatewayPath, leader: running.leaderName };
        options.progress.done(`etcd ${running.version}: 3 members up (${etcd.path}), leader ${running.leaderName} at ${running.leaderUrl.origin}, gateway ${running.gatewayPath}`);
      }
    }
    const systems = [...clusters.keys()];
    const firstLevel = options.concurrencies[0];
    if (options.settleSeconds > 0 && firstLevel !== undefined) {
      for (const system of systems) await settle(system, clusters.get(system)!, firstLevel, options);
    }
    const runs: ClusterRun[] = [];
    const rounds: ClusterRun[] = [];
    for (const [level, concurrency] of options.concurrencies.entries()) {
      const measured = new Map<SystemName, ClusterRun[]>(systems.map((system) => [system, []]));
      for (let round = 0; round < options.rounds; round++) {
        // The order alternates from one level (and round) to the next, so that no system always
        // runs on a warmer or a busier machine.
        const order = (level + round) % 2 === 1 ? [...systems].reverse() : systems;
        for (const system of order) {
          const run = await measure(system, clusters.get(system)!, concurrency, round, options);
          measured.get(system)!.push(run);
          rounds.push(run);
        }
      }
      for (const system of systems) runs.push(medianRound(measured.get(system)!));
    }
    return {
      runs,
      rounds,
      lockstepLeader: lockstep.leaderName,
      etcd: etcdInfo,
      leaderProfilePath: options.profileDirectory === null ? null : join(options.profileDirectory, `lockstep-${lockstep.leaderName}.cpuprofile`),
      secureLeaderProfilePath: options.profileDirectory === null ? null : join(options.profileDirectory, "lockstep-secure", `lockstep-${secured.leaderName}.cpuprofile`),
    };
  } finally {
    // Stopping lets a profiled node write its profile on exit.
    await Promise.all([...new Set(clusters.values())].map((cluster) => cluster.stop()));
  }
}

/** What one measured phase needs of the bench's options. */
export type MeasureOptions = Pick<ClusterBenchOptions, "seconds" | "warmupSeconds" | "progress">;

/**
 * Unmeasured load before the first level: a fresh Node.js process runs its hot paths in the
 * interpreter until V8 has compiled them, which at 1 client takes a few seconds (docs/benchmarks.md:
 * p50 2.2 ms in the first 5 s of a fresh cluster, 1.0 ms after); a node in production has long
 * passed that. Every system gets the same time, etcd included.
 */
async function settle(system: SystemName, cluster: RunningCluster, concurrency: number, options: Pick<ClusterBenchOptions, "settleSeconds" | "progress">): Promise<void> {
  const label = `${system.padEnd(12)} ${String(concurrency).padStart(4)} clients  settle`;
  await withLoadClients(system, cluster, concurrency, (clients) => runPhase({ clients, durationMs: options.settleSeconds * 1000, onProgress: (progress) => options.progress.update(label, progress) }));
}

/** `body` with `concurrency` closed-loop clients of `system`; their connections are closed after. */
async function withLoadClients<T>(system: SystemName, cluster: RunningCluster, concurrency: number, body: (clients: LoadClient[]) => Promise<T>): Promise<T> {
  const http = new HttpJsonClient(cluster.leaderUrl, concurrency, cluster.credentials ?? {});
  const grpc = system === "etcd" ? new EtcdGrpcClient(cluster.leaderUrl) : null;
  const rpc = system === "lockstep-rpc" || system === "lockstep-secure-rpc" ? new RpcJsonClient(cluster.leaderUrl, cluster.credentials ?? {}) : null;
  try {
    const runId = `${system}-c${concurrency}-${Date.now().toString(36)}`;
    return await body(Array.from({ length: concurrency }, (_, index) => loadClient({ system, cluster, http, grpc, rpc, runId, index })));
  } finally {
    http.close();
    grpc?.close();
    rpc?.close();
  }
}

/** One measured phase (after its warm-up) of `system` at `concurrency`. */
export async function measure(system: SystemName, cluster: RunningCluster, concurrency: number, round: number, options: MeasureOptions): Promise<ClusterRun> {
  return withLoadClients(system, cluster, concurrency, async (clients) => {
    const label = `${system.padEnd(12)} ${String(concurrency).padStart(4)} clients`;
    await runPhase({ clients, durationMs: options.warmupSeconds * 1000, onProgress: (progress) => options.progress.update(`${label}  warm-up`, progress) });
    const metricsBefore = isLockstep(system) ? await scrapeMetrics(cluster.leaderUrl, cluster.credentials?.ca) : null;
    const serverCpuBefore = processesCpuMs(cluster.processes.pids);
    const result = await runPhase({ clients, durationMs: options.seconds * 1000, onProgress: (progress) => options.progress.update(label, progress) });
    const serverCpuAfter = processesCpuMs(cluster.processes.pids);
    const metricsAfter = metricsBefore === null ? null : await scrapeMetrics(cluster.leaderUrl, cluster.credentials?.ca);
    const exited = cluster.processes.exited();
    if (exited.length > 0) throw new Error(`${system}: server process(es) exited during the run: ${exited.join(", ")}`);
    const serverUserMs = serverCpuBefore === null || serverCpuAfter === null ? null : serverCpuAfter.userMs - serverCpuBefore.userMs;
    const serverSystemMs = serverCpuBefore === null || serverCpuAfter === null ? null : serverCpuAfter.systemMs - serverCpuBefore.systemMs;
    const serverCpuMs = serverUserMs === null || serverSystemMs === null ? null : serverUserMs + serverSystemMs;
    const run: ClusterRun = {
      system,
      concurrency,
      round,
      result,
      serverCpuMs,
      serverSystemCpuShare: serverCpuMs === null || serverSystemMs === null || serverCpuMs === 0 ? null : (serverSystemMs / serverCpuMs) * 100,
      serverCpuPercent: serverCpuMs === null ? null : (serverCpuMs / (result.seconds * 1000)) * 100,
      serverCpuUsPerCommit: serverCpuMs === null || result.committed === 0 ? null : (serverCpuMs * 1000) / result.committed,
      generatorCpuPercent: (result.generatorCpuMs / (result.seconds * 1000)) * 100,
      internals: metricsBefore === null || metricsAfter === null ? null : internalsBetween(metricsBefore, metricsAfter, result.committed, result.seconds),
    };
    const failures = result.failed > 0 ? `, ${result.failed} failed (${JSON.stringify(result.failuresByCode)})` : "";
    options.progress.done(
      `${label}: ${Math.round(result.committedPerSecond)}/s, p50 ${(result.latency.p50Us / 1000).toFixed(2)} ms, p99 ${(result.latency.p99Us / 1000).toFixed(2)} ms, server CPU ${run.serverCpuPercent?.toFixed(0) ?? "?"} %${failures}`,
    );
    return run;
  });
}

interface LoadClientParts {
  system: SystemName;
  cluster: RunningCluster;
  http: HttpJsonClient;
  grpc: EtcdGrpcClient | null;
  rpc: RpcJsonClient | null;
  runId: string;
  index: number;
}

function loadClient({ system, cluster, http, grpc, rpc, runId, index }: LoadClientParts): LoadClient {
  switch (system) {
    case "lockstep":
    case "lockstep-secure":
      return new LockstepLoadClient(http, runId, index);
    case "lockstep-rpc":
    case "lockstep-secure-rpc":
      if (rpc === null) throw new Error("lockstep over /v1/rpc needs its WebSocket");
      return new LockstepLoadClient(rpc, runId, index);
    case "etcd":
      if (grpc === null) throw new Error("etcd over gRPC needs its HTTP/2 session");
      return new EtcdGrpcLoadClient(grpc, runId, index);
    case "etcd-gateway":
      return new EtcdLoadClient(http, (cluster as RunningEtcdCluster).gatewayPath, runId, index);
  }
}
