import type { RandomSource } from "@lockstep/consensus";
import type { Envelope, NodeId } from "@lockstep/protocol";
import { randomInt } from "@lockstep/transport-memory";
import type { MemoryNetwork, VirtualClock } from "@lockstep/transport-memory";
import type { SimCluster } from "./sim-cluster.js";
import { ScenarioSteps } from "./scenario-steps.js";

/** Virtual ms one step may wait for what it is timed against before the scenario gives up. */
const stepMsMax = 2_500;
/** Virtual ms the replaced follower stays down before it starts on its new disk, at most. */
const downMsMax = 200;
/** Virtual ms the late answer may lag the new disk's first answer, at most. */
const lagMsMax = 10;
/** Virtual ms the leader may commit in after the late answer, at most, before its Proposals reach the starved followers again. */
const holdMsMax = 800;

type Step =
  | { name: "tail"; leader: NodeId | null; starved: NodeId[]; firstIndex: number }
  | { name: "answer"; leader: NodeId; starved: NodeId[]; firstIndex: number }
  | { name: "news"; leader: NodeId; starved: NodeId[]; follower: NodeId; term: number; late: Envelope }
  | { name: "hold"; leader: NodeId; starved: NodeId[] };

export interface LostDiskAnswerStats {
  started: number;
  /** Runs whose late Acknowledgment reached the network after the leader heard from the new disk. */
  completed: number;
}

/**
 * An Acknowledgment delivered after the disk it speaks for was lost, timed against messages:
 *
 * 1. tail: the moments the leader L sends entries above its commit index to the first followers,
 *    as many as are not needed for a majority with L and one more (1 of 3 voters, 2 of 5), those
 *    Proposals are lost, and so is every later one with entries from L to these starved followers
 *    until the run ends (they still answer L's heartbeats, so L keeps its quorum of answers);
 * 2. answer: the moment one of the other followers, F, acknowledges those entries, its
 *    Acknowledgment is held back, and F loses power and its disk (`replaceDisk`): the entries are
 *    on one voter short of a majority;
 * 3. news: F starts on an empty disk; once L has received F's first answer from it, the held
 *    Acknowledgment reaches L (as bytes of F's old connection that L reads after the new one's);
 * 4. hold: for a while L may commit, then the Proposals to the starved followers flow again.
 *
 * With the per-follower epochs the late Acknowledgment is dropped as stale, and L commits the
 * entries only once F or a starved follower holds them. With `trust_answers_of_lost_disks` L counts it and commits
 * what only its own disk holds: the commit-quorum check sees that at the commit
 * (`monitor/replaced-disk-views.ts`).
 */
export class LostDiskAnswerScenario {
  readonly stats: LostDiskAnswerStats = { started: 0, completed: 0 };
  private readonly steps: ScenarioSteps<Step>;

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
    this.steps = new ScenarioSteps<Step>(context.clock, stepMsMax, () => this.abandon());
  }

  get active(): boolean {
    return this.steps.step !== null;
  }

  start(): void {
    // From a whole network: a cut left by an earlier operation could keep F from ever answering.
    this.context.network.heal();
    this.stats.started++;
    this.steps.enter({ name: "tail", leader: null, starved: [], firstIndex: 0 });
  }

  /** Ends a run now (the safety phase is over). */
  abandon(): void {
    if (this.steps.step === null) return;
    this.steps.end();
    this.context.onEnd();
  }

  /** Sees every message before the network; "drop" loses or holds back what the run times itself against. */
  observe(from: NodeId, envelope: Envelope): "pass" | "drop" {
    const step = this.steps.step;
    if (step === null) return "pass";
    const body = envelope.body;
    if (from === step.leader && step.starved.includes(envelope.to) && body.type === "Proposal" && body.entries.length > 0) return "drop";
    if (step.name === "tail") return this.maybeStarve(step, from, envelope);
    if (step.name === "answer") return this.maybeHold(step, from, envelope);
    if (step.name === "news") this.maybeDeliverLate(step);
    return "pass";
  }

  private maybeStarve(step: Extract<Step, { name: "tail" }>, from: NodeId, envelope: Envelope): "pass" | "drop" {
    const body = envelope.body;
    if (body.type !== "Proposal" || body.entries.length === 0 || (step.leader !== null && from !== step.leader)) return "pass";
    const leader = this.context.cluster.node(from)?.summary();
    const last = body.entries[body.entries.length - 1];
    if (leader === undefined || leader.role !== "leader" || last === undefined || last.index <= leader.commitIndex) return "pass";
    const voters = this.context.cluster.configuration().voters;
    if (voters.length < 3 || !voters.includes(from) || !voters.includes(envelope.to)) return "pass";
    // L and one more make a majority with F's late answer; the rest get no entries.
    const starvedCount = voters.length - (Math.floor(voters.length / 2) + 1);
    if (step.leader === null) step.firstIndex = Math.max(leader.commitIndex + 1, body.prevIndex + 1);
    step.leader = from;
    step.starved.push(envelope.to);
    if (step.starved.length >= starvedCount) this.steps.enter({ name: "answer", leader: from, starved: step.starved, firstIndex: step.firstIndex });
    return "drop";
  }

  private maybeHold(step: Extract<Step, { name: "answer" }>, from: NodeId, envelope: Envelope): "pass" | "drop" {
    const body = envelope.body;
    if (body.type !== "Acknowledgment" || envelope.to !== step.leader || step.starved.includes(from)) return "pass";
    const leader = this.context.cluster.node(step.leader)?.summary();
    if (leader === undefined || leader.role !== "leader" || leader.term !== body.term || body.matchIndex < step.firstIndex || body.matchIndex <= leader.commitIndex) return "pass";
    if (!this.context.replaceDisk(from, randomInt(this.context.random, 1, downMsMax + 1))) return "pass";
    this.steps.enter({ name: "news", leader: step.leader, starved: step.starved, follower: from, term: body.term, late: envelope });
    return "drop";
  }

  private maybeDeliverLate(step: Extract<Step, { name: "news" }>): void {
    if (!this.context.cluster.leaderHeardFromCurrentDisk(step.leader, step.term, step.follower)) return;
    this.steps.enter({ name: "hold", leader: step.leader, starved: step.starved });
    const { clock, random, cluster } = this.context;
    clock.setTimeout(() => {
      if (this.steps.step?.name !== "hold") return;
      if (cluster.sendLate(step.follower, step.late)) this.stats.completed++;
    }, randomInt(random, 0, lagMsMax + 1));
    this.steps.expireIn(randomInt(random, 100, holdMsMax + 1));
  }
}
