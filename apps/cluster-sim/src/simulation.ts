import type { NodeId } from "@lockstep/protocol";
import { createRandom, fork, MemoryNetwork, VirtualClock } from "@lockstep/transport-memory";
import { checkLinearizability, HistoryRecorder } from "./checkers/index.js";
import type { HistoryEvent } from "./history/index.js";
import { lifecycleDefinition } from "@lockstep/state-machine";
import { describeDiskFaults } from "@lockstep/storage";
import { FaultSchedule } from "./fault-schedule.js";
import type { FaultStats } from "./fault-schedule.js";
import { checkFinalLogs } from "./monitor/final-checks.js";
import { countRepairs, type RepairCount } from "./monitor/repair-count.js";
import { SafetyMonitor } from "./monitor/safety-monitor.js";
import type { Violation } from "./monitor/safety-monitor.js";
import { SimCluster } from "./sim-cluster.js";
import { defaultSimulationOptions } from "./sim-options.js";
import type { SimulationOptions } from "./sim-options.js";
import { diskFaultsOf, drawSwarmProfile, quietProfile } from "./swarm-profile.js";
import type { SwarmProfile } from "./swarm-profile.js";
import { MembershipChurn } from "./membership-churn.js";
import type { ChurnStats } from "./membership-churn.js";
import { Workload } from "./workload.js";
import type { WorkloadStats } from "./workload.js";

/** Events one run may process before it is declared stuck: a bound on the event loop. */
const eventsPerRunMax = 5_000_000;
/** Bound on the linearizability search per run; healthy runs need a few thousand states. */
const linearizabilityStatesMax = 500_000;
/** A caught-up learner is promoted by the leader after this long (a real node waits 1 s; runs are 4 s). */
const learnerPromoteStableMs = 300;
/** After the end-of-run promotions: longer than any disk's sync delay, so every write in flight lands. */
const settleAfterPromotionsMs = 500;

export interface SimulationResult {
  seed: number;
  nodes: number;
  /** The fault probabilities and limits this run used (print it with a failing seed). */
  profile: SwarmProfile;
  violations: Violation[];
  workload: WorkloadStats;
  faults: FaultStats;
  churn: ChurnStats;
  /** Recovering voters the leaders demoted, and how many became voters again (`countRepairs`). */
  repair: RepairCount;
  simulatedMs: number;
  events: number;
  /** Virtual ms from the end of faults to the first committed write. */
  recoveryMs: number | null;
  history: HistoryEvent[];
  /** Storage counters summed over the nodes (operations, writes lost at crashes, ...). */
  storage: Record<string, number>;
  /** What the nodes' simulated disks did wrong this run (drawn from the seed; print it with a failure). */
  disk: string;
}

/**
 * One seeded run: a safety phase (client load under faults, checked after every event), then a
 * liveness phase (faults stop; a leader must be elected and a write committed within the bound,
 * and every node must converge), then the final checks over the logs and the client history.
 * The same options give the same run, event for event.
 */
export async function runSimulation(partial: Partial<SimulationOptions> & { seed: number }): Promise<SimulationResult> {
  const options: SimulationOptions = { ...defaultSimulationOptions, ...partial };
  const profile = options.profile ?? (options.faults ? drawSwarmProfile(options.seed) : quietProfile());
  const random = createRandom(options.seed);
  const clock = new VirtualClock();
  const network = new MemoryNetwork({
    clock,
    random: fork(random),
    faults: { latencyMsMin: profile.latencyMsMin, latencyMsMax: profile.latencyMsMax, reorderDelayMsMax: profile.reorderDelayMsMax },
  });
  const monitor = new SafetyMonitor(() => clock.nowMs());
  const ids: NodeId[] = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const skewRandom = fork(random);
  const rates = new Map(ids.map((id) => [id, 1 + (skewRandom() * 2 - 1) * profile.clockSkewMax]));
  const diskFaults = diskFaultsOf(profile);
  const cluster = new SimCluster({
    clock,
    network,
    random: fork(random),
    monitor,
    cluster: "sim",
    ids,
    driverConfig: {
      tickMs: options.tickMs,
      consensusTimeoutMs: 1_000,
      snapshotEntriesThreshold: profile.snapshotEntriesThreshold,
      electionTimeoutTicks: profile.electionTimeoutTicks,
      heartbeatTicks: profile.heartbeatTicks,
      entriesPerProposalMax: profile.entriesPerProposalMax,
      inflightProposalsMax: profile.inflightProposalsMax,
      autoPromote: profile.autoPromote === 1,
      promoteStableMs: learnerPromoteStableMs,
      ...(options.breakRule === undefined ? {} : { unsafeBreakRule: options.breakRule }),
    },
    clockRateOf: (id) => rates.get(id) ?? 1,
    diskFaults,
    hardStateBeforeEntries: options.breakRule === "hard_state_before_entries",
  });
  const history = new HistoryRecorder(() => Math.round(clock.nowMs() * 1_000_000));
  const keys = Array.from({ length: options.keys }, (_, i) => `k${i}`);
  const workload = new Workload({ clock, random: fork(random), cluster, history, keys });
  const nemesisFailed = (error: unknown): void => monitor.report("invariant", `the nemesis threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  const faults = new FaultSchedule({ clock, random: fork(random), network, cluster, ids, profile, onError: nemesisFailed });
  // Forked last, so that a profile without churn runs exactly as before churn existed.
  const churn = new MembershipChurn({ clock, random: fork(random), cluster, ids, profile, onError: nemesisFailed });
  let events = 0;

  const runUntil = async (deadlineMs: number, done: () => boolean = () => false): Promise<void> => {
    // A run stops at its first violation: what follows a broken rule is noise, and the seed replays it.
    while (clock.nowMs() < deadlineMs && !done() && monitor.violations.length === 0) {
      try {
        if (!clock.runNext()) break;
      } catch (error) {
        // A node that throws (a broken rule can drive the core into states it refuses) is a finding, not a harness crash.
        monitor.report("invariant", `an event threw: ${error instanceof Error ? (process.env.LOCKSTEP_SIM_TRACE === undefined ? error.message : String(error.stack)) : String(error)}`);
        break;
      }
      // Let every promise chain the event started settle before the next event.
      await new Promise<void>((resolve) => setImmediate(resolve));
      cluster.observeLeaders();
      try {
        cluster.assertInvariants();
      } catch (error) {
        monitor.report("invariant", error instanceof Error ? error.message : String(error));
      }
      if (++events > eventsPerRunMax) {
        monitor.report("liveness", `run exceeded ${eventsPerRunMax} events`);
        return;
      }
    }
  };

  /** Runs virtual time until `work` settles: starting a node recovers its storage, and fsyncs take virtual time. */
  const drive = async (work: Promise<void>): Promise<void> => {
    let settled = false;
    const watched = work.finally(() => (settled = true));
    await runUntil(Number.POSITIVE_INFINITY, () => settled);
    if (settled) await watched;
  };

  await drive(cluster.startAll());
  if (options.faults) {
    faults.start();
    churn.start();
  }
  const clientsDone = workload.start(options.clients);
  await runUntil(options.safetyPhaseMs);

  // Liveness phase: heal everything and require progress within the bound.
  workload.stop();
  churn.stop();
  await drive(faults.stopAndHeal());
  await drive(cluster.stopStorageFaults());
  await drive(cluster.replaceRefusedDisks());
  const healedAtMs = clock.nowMs();
  const probe = { committed: false, atMs: 0 };
  void probeWrite(cluster, clock, probe);
  await runUntil(healedAtMs + options.livenessBoundMs, () => probe.committed && converged(cluster));
  const recoveryMs = probe.committed ? probe.atMs - healedAtMs : null;
  if (!probe.committed && monitor.violations.length === 0) monitor.report("liveness", `no write committed within ${options.livenessBoundMs} virtual ms after faults stopped`);
  // Let client loops finish their last operation so the history has no dangling invokes, then
  // let every node apply what was committed meanwhile.
  let clientsSettled = false;
  void clientsDone.then(() => (clientsSettled = true));
  await runUntil(clock.nowMs() + 3_000, () => clientsSettled);
  await runUntil(clock.nowMs() + options.livenessBoundMs, () => converged(cluster));
  if (probe.committed && monitor.violations.length === 0 && !converged(cluster)) {
    monitor.report("convergence", `nodes did not converge within ${options.livenessBoundMs} virtual ms after the load stopped: ${describeProgress(cluster)}`);
  }
  if (profile.autoPromote === 1 && monitor.violations.length === 0) {
    // With faults healed and no operator left, the leader promotes every live learner once it
    // has caught up: one added by the churn, and one it demoted for repair (issue 11, point 5).
    const learnersAtStart = liveLearners(cluster).length;
    await runUntil(clock.nowMs() + options.livenessBoundMs, () => liveLearners(cluster).length === 0);
    const left = liveLearners(cluster);
    if (left.length > 0) monitor.report("liveness", `learners not promoted within ${options.livenessBoundMs} virtual ms after the load stopped, with autoPromote on: ${left.join(", ")}; ${describeProgress(cluster)}`);
    // A promotion is an entry: the final checks read durable logs, so they wait for every member
    // to apply it and for the writes still in flight (a leader may commit before its own write).
    if (learnersAtStart > 0) {
      await runUntil(clock.nowMs() + options.livenessBoundMs, () => converged(cluster));
      await runUntil(clock.nowMs() + settleAfterPromotionsMs);
    }
  }
  for (const node of cluster.liveNodes()) node.halt();

  if (monitor.violations.length === 0) checkFinalLogs(cluster, monitor);
  const events_ = history.events();
  const linearizable = checkLinearizability(events_, { definition: lifecycleDefinition, statesExploredMax: linearizabilityStatesMax });
  if (linearizable.ok === false) monitor.report("linearizability", linearizable.explanation);
  // A search that hit its bound proved nothing either way: the seed is reported so a person looks.
  if (linearizable.ok === "unknown") monitor.report("linearizability", `undecided: ${linearizable.explanation}`);

  return {
    seed: options.seed,
    nodes: options.nodes,
    profile,
    violations: monitor.violations,
    workload: workload.stats,
    faults: faults.stats,
    churn: churn.stats,
    repair: countRepairs(monitor.committedEntries),
    simulatedMs: clock.nowMs(),
    events,
    recoveryMs,
    history: events_,
    storage: sumStorageStats(cluster),
    disk: describeDiskFaults(diskFaults),
  };
}

async function probeWrite(cluster: SimCluster, clock: VirtualClock, probe: { committed: boolean; atMs: number }): Promise<void> {
  for (let attempt = 1; attempt <= 100 && !probe.committed; attempt++) {
    const nodes = cluster.liveNodes();
    const node = nodes[attempt % Math.max(1, nodes.length)];
    if (node !== undefined) {
      // The node's own session: a probe retried on another node may apply twice, which is harmless here.
      const outcome = await node.transition({ key: "liveness-probe", to: "Running" });
      if (outcome.ok || (!outcome.ok && (outcome.code === "invalid_transition" || outcome.code === "expect_failed"))) {
        probe.committed = true;
        probe.atMs = clock.nowMs();
        return;
      }
    }
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 50));
  }
}

function sumStorageStats(cluster: SimCluster): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const storage of cluster.storages()) {
    // Whatever numeric counters the storage model keeps, by its own names.
    const stats: object = storage.stats();
    for (const [name, value] of Object.entries(stats) as Array<[string, unknown]>) {
      if (typeof value === "number") totals[name] = (totals[name] ?? 0) + value;
    }
  }
  return totals;
}

/** Every live member of the configuration the cluster has at the end (removed machines aside) applied the same commit index. */
function converged(cluster: SimCluster): boolean {
  const nodes = cluster.memberNodes();
  const first = nodes[0];
  if (first === undefined) return false;
  const status = first.summary();
  return nodes.every((node) => {
    const other = node.summary();
    return other.appliedIndex === status.appliedIndex && other.commitIndex === status.commitIndex && other.appliedIndex === other.commitIndex;
  });
}

/** Learners of the cluster's configuration whose machines run. */
function liveLearners(cluster: SimCluster): string[] {
  const { members, voters } = cluster.configuration();
  const live = new Set(cluster.liveNodes().map((node) => node.summary().id));
  return members.filter((id) => !voters.includes(id) && live.has(id));
}

function describeProgress(cluster: SimCluster): string {
  return cluster
    .memberNodes()
    .map((node) => {
      const status = node.status();
      return `${status.id}(${status.role} t${status.term} commit ${status.commitIndex} applied ${status.appliedIndex})`;
    })
    .join(", ");
}
