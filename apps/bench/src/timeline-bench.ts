import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { installTimelineHooks, timelineDirectoryVariable } from "./commit-timeline-hooks.js";
import { analyzeTimeline, parseTimeline, type TimelineAnalysis, type TimelineEvent } from "./commit-timeline.js";
import { LockstepLoadClient } from "./lockstep-load-client.js";
import { startLockstepCluster } from "./lockstep-cluster.js";
import { runPhase, type PhaseResult } from "./load-generator.js";
import type { ProgressLine } from "./progress-line.js";
import { RpcJsonClient } from "./rpc-json-client.js";

export interface TimelineBenchOptions {
  repositoryRoot: string;
  /** The cluster's data directories and the timeline files go under it. */
  workDirectory: string;
  seconds: number;
  warmupSeconds: number;
  progress: ProgressLine;
}

export interface TimelineBenchResult {
  analysis: TimelineAnalysis;
  /** The measured phase, with the hooks' own cost in every figure. */
  phase: PhaseResult;
  leaderName: string;
  /** Events past a process's bound, and lines no process should have written: both 0 in a sound run. */
  droppedEvents: number;
  unreadableLines: number;
}

/**
 * `pnpm bench --timeline`: one client on `/v1/rpc` against a 3-node cluster whose every process
 * records when it writes and reads each socket, writes its log and calls fdatasync
 * (`commit-timeline-hooks.ts`); the events of all processes, on one clock, are lined up into one
 * timeline per request. It shows which step of a commit takes how long, hop by hop, where a CPU
 * profile shows only what one process computed. The hooks cost each call a few microseconds:
 * read the steps, not the total, against the other rows.
 */
export async function runTimelineBench(options: TimelineBenchOptions): Promise<TimelineBenchResult> {
  const directory = mkdtempSync(join(options.workDirectory, "timeline-"));
  const preload = new URL("./commit-timeline-preload.js", import.meta.url).href;
  const savedNodeOptions = process.env.NODE_OPTIONS;
  // The nodes inherit this process's environment: the preload, and where to write.
  process.env.NODE_OPTIONS = `${savedNodeOptions ?? ""} --import ${preload}`.trim();
  process.env[timelineDirectoryVariable] = directory;
  let cluster;
  try {
    cluster = await startLockstepCluster({ repositoryRoot: options.repositoryRoot, workDirectory: join(directory, "cluster"), nodeCount: 3, profileDirectory: null, leaderWaitMs: 30_000 });
  } finally {
    if (savedNodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = savedNodeOptions;
    delete process.env[timelineDirectoryVariable];
  }
  const rpc = new RpcJsonClient(cluster.leaderUrl);
  let phase: PhaseResult;
  try {
    const clients = [new LockstepLoadClient(rpc, "timeline", 0)];
    await runPhase({ clients, durationMs: options.warmupSeconds * 1000, onProgress: (progress) => options.progress.update("timeline  1 client  warm-up", progress) });
    const hooks = await installTimelineHooks(directory);
    phase = await runPhase({ clients, durationMs: options.seconds * 1000, onProgress: (progress) => options.progress.update("timeline  1 client", progress) });
    hooks.dump();
    options.progress.done(`timeline  1 client: ${Math.round(phase.committedPerSecond)} committed/s, p50 ${phase.latency.p50Us.toFixed(0)} µs (with the hooks' cost)`);
  } finally {
    rpc.close();
    // Each node writes its timeline as it exits.
    await cluster.stop();
  }
  const roles = new Map<number, string>([[process.pid, "client"]]);
  for (const child of cluster.processes.children) {
    const id = child.name.replace(/^lockstep /, "");
    roles.set(child.pid, id === cluster.leaderName ? "leader" : id);
  }
  const events: TimelineEvent[] = [];
  let droppedEvents = 0;
  let unreadableLines = 0;
  for (const file of readdirSync(directory).filter((name) => name.endsWith(".timeline"))) {
    const parsed = parseTimeline(readFileSync(join(directory, file), "utf8"), Number(file.replace(/\.timeline$/, "")));
    for (const event of parsed.events) events.push(event);
    droppedEvents += parsed.dropped;
    unreadableLines += parsed.unreadable;
  }
  const missing = [...roles.keys()].filter((pid) => !events.some((event) => event.pid === pid));
  if (missing.length > 0) throw new Error(`timeline: no events from ${missing.map((pid) => roles.get(pid)).join(", ")} (files in ${directory})`);
  return { analysis: analyzeTimeline({ events, clientPid: process.pid, roles }), phase, leaderName: cluster.leaderName, droppedEvents, unreadableLines };
}
