import type { RandomSource } from "@lockstep/consensus";
import type { Envelope, NodeId } from "@lockstep/protocol";
import { randomInt } from "@lockstep/transport-memory";
import type { MemoryNetwork, VirtualClock } from "@lockstep/transport-memory";
import type { SimCluster } from "./sim-cluster.js";
import { ScenarioDeadline } from "./scenario-deadline.js";

/** Virtual ms one step may wait for what it is timed against before the scenario gives up. */
const stepMsMax = 2_500;
/** Virtual ms the replaced follower stays down before it starts on its new disk, at most. */
const downMsMax = 200;
/** Virtual ms the late answer may lag the new disk's first answer, at most. */
const lagMsMax = 10;
/** Virtual ms the leader may commit in after the late answer, at most, before its Proposals reach S again. */
const holdMsMax = 800;

type Step =
  | { name: "tail" }
  | { name: "answer"; leader: NodeId; starved: NodeId; firstIndex: number }
  | { name: "news"; leader: NodeId; starved: NodeId; follower: NodeId; term: number; late: Envelope }
  | { name: "hold"; leader: NodeId; starved: NodeId };

export interface LostDiskAnswerStats {
  started: number;
  /** Runs whose late Acknowledgment reached the network after the leader heard from the new disk. */
  completed: number;
}

/**
 * An Acknowledgment delivered after the disk it speaks for was lost, timed against messages:
 *
 * 1. tail: the moment the leader L of a 3-voter cluster sends entries above its commit index to
 *    a follower S, that Proposal is lost, and so is every later one with entries from L to S
 *    until the run ends (S still answers L's heartbeats, so L keeps its quorum of answers);
 * 2. answer: the moment the other follower F acknowledges those entries, its Acknowledgment is
 *    held back, and F loses power and its disk (`replaceDisk`): the entries are on L alone;
 * 3. news: F starts on an empty disk; once L has received F's first answer from it, the held
 *    Acknowledgment reaches L (as bytes of F's old connection that L reads after the new one's);
 * 4. hold: for a while L may commit, then the Proposals to S flow again.
 *
 * With the per-follower epochs the late Acknowledgment is dropped as stale, and L commits the
 * entries only once F or S holds them. With `trust_answers_of_lost_disks` L counts it and commits
 * what only its own disk holds: the commit-quorum check sees that at the commit
 * (`monitor/replaced-disk-views.ts`).
 */
export class LostDiskAnswerScenario {
  readonly stats: LostDiskAnswerStats = { started: 0, completed: 0 };
  private step: Step | null = null;
  private readonly deadline: ScenarioDeadline;

  constructor(
    private readonly context: {
      clock: VirtualClock;
      random: RandomSource;
      network: MemoryNetwork;
      cluster: SimCluster;
      /** Crashes `id` now and replaces its disk, then starts it again after `downMs`; false when the crash or disk budget forbids it. */
      replaceDisk: (id: NodeId, downMs: number) => boolean;
      /** Called when a run ends: the fault schedule takes over again. */
      onEnd: () => void;
    },
  ) {
    this.deadline = new ScenarioDeadline(context.clock, () => this.abandon());
  }

  get active(): boolean {
    return this.step !== null;
  }

  start(): void {
    // Only with three voters does the held-back answer decide a commit: L and F are a majority.
    if (this.context.cluster.configuration().voters.length !== 3) return;
    // From a whole network: a cut left by an earlier operation could keep F from ever answering.
    this.context.network.heal();
    this.stats.started++;
    this.enter({ name: "tail" });
  }

  /** Ends a run now (the safety phase is over). */
  abandon(): void {
    if (this.step === null) return;
    this.finish();
  }

  /** Sees every message before the network; "drop" loses or holds back what the run times itself against. */
  observe(from: NodeId, envelope: Envelope): "pass" | "drop" {
    const step = this.step;
    if (step === null) return "pass";
    if (step.name === "tail") return this.maybeStarve(from, envelope);
    const body = envelope.body;
    if (from === step.leader && envelope.to === step.starved && body.type === "Proposal" && body.entries.length > 0) return "drop";
    if (step.name === "answer") return this.maybeHold(step, from, envelope);
    if (step.name === "news") this.maybeDeliverLate(step);
    return "pass";
  }

  private maybeStarve(from: NodeId, envelope: Envelope): "pass" | "drop" {
    const body = envelope.body;
    if (body.type !== "Proposal" || body.entries.length === 0) return "pass";
    const leader = this.context.cluster.node(from)?.summary();
    const last = body.entries[body.entries.length - 1];
    if (leader === undefined || leader.role !== "leader" || last === undefined || last.index <= leader.commitIndex) return "pass";
    const voters = this.context.cluster.configuration().voters;
    if (voters.length !== 3 || !voters.includes(from) || !voters.includes(envelope.to)) return "pass";
    this.enter({ name: "answer", leader: from, starved: envelope.to, firstIndex: Math.max(leader.commitIndex + 1, body.prevIndex + 1) });
    return "drop";
  }

  private maybeHold(step: Extract<Step, { name: "answer" }>, from: NodeId, envelope: Envelope): "pass" | "drop" {
    const body = envelope.body;
    if (body.type !== "Acknowledgment" || envelope.to !== step.leader || from === step.starved) return "pass";
    const leader = this.context.cluster.node(step.leader)?.summary();
    if (leader === undefined || leader.role !== "leader" || leader.term !== body.term || body.matchIndex < step.firstIndex || body.matchIndex <= leader.commitIndex) return "pass";
    if (!this.context.replaceDisk(from, randomInt(this.context.random, 1, downMsMax + 1))) return "pass";
    this.enter({ name: "news", leader: step.leader, starved: step.starved, follower: from, term: body.term, late: envelope });
    return "drop";
  }

  private maybeDeliverLate(step: Extract<Step, { name: "news" }>): void {
    if (!this.context.cluster.leaderHeardFromCurrentDisk(step.leader, step.term, step.follower)) return;
    this.enter({ name: "hold", leader: step.leader, starved: step.starved });
    const { clock, random, cluster } = this.context;
    clock.setTimeout(() => {
      if (this.step?.name !== "hold") return;
      if (cluster.sendLate(step.follower, step.late)) this.stats.completed++;
    }, randomInt(random, 0, lagMsMax + 1));
    this.deadline.set(randomInt(random, 100, holdMsMax + 1));
  }

  private enter(step: Step): void {
    this.step = step;
    if (step.name !== "hold") this.deadline.set(stepMsMax);
  }

  private finish(): void {
    this.deadline.clear();
    this.step = null;
    this.context.onEnd();
  }
}
