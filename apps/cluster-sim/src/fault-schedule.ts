import type { RandomSource } from "@lockstep/consensus";
import type { Envelope, NodeId } from "@lockstep/protocol";
import { pickOne, randomInt } from "@lockstep/transport-memory";
import type { MemoryNetwork, VirtualClock } from "@lockstep/transport-memory";
import type { SimCluster } from "./sim-cluster.js";
import { LostDiskAnswerScenario } from "./lost-disk-answer-scenario.js";
import { StaleLeaderScenario } from "./stale-leader-scenario.js";
import { pickWeighted } from "./swarm-profile.js";
import type { SwarmProfile } from "./swarm-profile.js";
import { actionOf, matches, SendHistory, timedFaultKinds } from "./timed-faults.js";
import type { TimedFaultKind } from "./timed-faults.js";

/** Timed faults waiting for their message at once, at most. */
const armedTimedFaultsMax = 4;
/** Virtual ms a timed fault waits for its message before it lapses. */
const timedFaultArmedMsMax = 1_500;
/** A clock running fast or slow does so for a virtual duration in [100, this]. */
const clockRateFaultMsMax = 2_000;
/** A burst of loss, duplication and reordering lasts a virtual duration in [50, this]. */
const linkFaultsBurstMsMax = 1_500;

export interface FaultStats {
  partitions: number;
  crashes: number;
  /** Crashes timed against a message (part of `crashes`). */
  timedCrashes: number;
  /** Isolations timed against a message (not counted in `partitions`). */
  timedIsolations: number;
  restarts: number;
  /** Crashes after which the node's disk was replaced by an empty one (part of `crashes`). */
  wipes: number;
  heals: number;
  linkFaultBursts: number;
  clockPauses: number;
  clockRateChanges: number;
  staleLeaderRuns: number;
  /** Stale-leader runs that reached their last step (a returned leader moved its commit index and was cut off). */
  staleLeaderCompleted: number;
  lostDiskAnswerRuns: number;
  /** Lost-disk-answer runs whose held-back Acknowledgment reached the leader after it heard from the new disk. */
  lostDiskAnswerCompleted: number;
}

type Operation = "partition" | "isolate" | "one_way_cut" | "bridge" | "heal" | "crash" | "restart" | "wipe" | "link_faults" | "timed_fault" | "clock_fault" | "stale_leader" | "lost_disk_answer";

interface ArmedFault {
  kind: TimedFaultKind;
  /** Only this node's message counts; null: any node's. */
  node: NodeId | null;
  expiresAtMs: number;
}

/**
 * The nemesis: at random moments during the safety phase it injects one operation, drawn with the
 * weights of the seed's swarm profile: partitions (symmetric, one-way, isolation, bridges),
 * crashes (half aimed at the leader; packets on the wire kept or lost) and restarts, bursts of
 * loss, duplication and reordering, clock faults (pauses, fast or slow clocks), faults timed
 * against one message (a crash right after an Acknowledgment, between a write and its send...),
 * the stale-leader schedule of Figure 8, and an Acknowledgment delivered after the loss of the disk
 * it speaks for (`lost-disk-answer-scenario.ts`). At most a minority is crashed at once, so the
 * liveness phase can always recover.
 */
export class FaultSchedule {
  readonly stats: FaultStats = {
    partitions: 0,
    crashes: 0,
    timedCrashes: 0,
    timedIsolations: 0,
    restarts: 0,
    wipes: 0,
    heals: 0,
    linkFaultBursts: 0,
    clockPauses: 0,
    clockRateChanges: 0,
    staleLeaderRuns: 0,
    staleLeaderCompleted: 0,
    lostDiskAnswerRuns: 0,
    lostDiskAnswerCompleted: 0,
  };
  private running = false;
  private readonly crashed = new Set<NodeId>();
  /** Silenced by a timed fault, crashing at the end of the current instant. */
  private readonly crashing = new Set<NodeId>();
  private readonly armed: ArmedFault[] = [];
  /**
   * Wiped nodes not yet repaired, with the cluster's commit index when their disk went. One lost
   * disk is one failure; a second before the first is repaired could be the loss of every copy
   * of a committed entry, which no protocol survives (that is `lockstep recover`'s case).
   */
  private readonly awaitingRepair = new Map<NodeId, number>();
  private readonly history = new SendHistory();
  private readonly staleLeader: StaleLeaderScenario;
  private readonly lostDiskAnswer: LostDiskAnswerScenario;
  private readonly operations: ReadonlyArray<readonly [Operation, number]>;

  constructor(
    private readonly context: {
      clock: VirtualClock;
      random: RandomSource;
      network: MemoryNetwork;
      cluster: SimCluster;
      ids: NodeId[];
      profile: SwarmProfile;
      /** An operation that threw: reported as a violation of the seed, not an unhandled rejection that ends every run. */
      onError: (error: unknown) => void;
    },
  ) {
    const profile = context.profile;
    this.operations = [
      ["partition", profile.partitionWeight],
      ["isolate", profile.isolateWeight],
      ["one_way_cut", profile.oneWayCutWeight],
      ["bridge", context.ids.length >= 3 ? profile.bridgeWeight : 0],
      ["heal", profile.healWeight],
      ["crash", profile.crashWeight],
      ["restart", profile.restartWeight],
      ["wipe", profile.wipeWeight],
      ["link_faults", profile.linkFaultsWeight],
      ["timed_fault", profile.timedFaultWeight],
      ["clock_fault", profile.clockFaultWeight],
      ["stale_leader", profile.staleLeaderWeight],
      ["lost_disk_answer", profile.lostDiskAnswerWeight],
    ];
    this.staleLeader = new StaleLeaderScenario({
      clock: context.clock,
      random: context.random,
      network: context.network,
      ids: context.ids,
      onEnd: () => {
        this.stats.staleLeaderCompleted = this.staleLeader.stats.completed;
      },
    });
    this.lostDiskAnswer = new LostDiskAnswerScenario({
      clock: context.clock,
      random: context.random,
      network: context.network,
      cluster: context.cluster,
      replaceDisk: (id, downMs) => this.replaceDiskThenRestart(id, downMs),
      onEnd: () => {
        this.stats.lostDiskAnswerCompleted = this.lostDiskAnswer.stats.completed;
      },
    });
    context.cluster.interceptSends((from, envelope) => this.onSend(from, envelope));
  }

  /** A scheduled scenario owns the network while it runs: a random heal or cut would undo it. */
  private scenarioActive(): boolean {
    return this.staleLeader.active || this.lostDiskAnswer.active;
  }

  start(): void {
    this.running = true;
    this.scheduleNext();
  }

  /** Ends the safety phase: stop injecting, heal the network and the clocks, restart every crashed node. */
  async stopAndHeal(): Promise<void> {
    this.running = false;
    this.armed.length = 0;
    this.staleLeader.abandon();
    this.stats.staleLeaderCompleted = this.staleLeader.stats.completed;
    this.lostDiskAnswer.abandon();
    this.stats.lostDiskAnswerCompleted = this.lostDiskAnswer.stats.completed;
    this.context.network.heal();
    this.context.network.setFaults({ lossProbability: 0, duplicateProbability: 0, reorderProbability: 0 });
    this.context.cluster.healClocks();
    for (const id of [...this.crashing]) this.crashNow(id, false);
    for (const id of [...this.crashed]) await this.restart(id);
  }

  private scheduleNext(): void {
    const { faultIntervalMsMin, faultIntervalMsMax } = this.context.profile;
    const delayMs = randomInt(this.context.random, faultIntervalMsMin, faultIntervalMsMax);
    this.context.clock.setTimeout(() => {
      if (!this.running) return;
      this.injectOne().then(
        () => this.scheduleNext(),
        (error: unknown) => this.context.onError(error),
      );
    }, delayMs);
  }

  private async injectOne(): Promise<void> {
    if (this.scenarioActive()) return;
    const operation = pickWeighted(this.context.random, this.operations);
    if (operation === null) return;
    const { random, network } = this.context;
    const ids = this.context.cluster.ids();
    switch (operation) {
      case "partition": {
        // Membership churn can leave a single machine: there is nothing to cut then.
        if (ids.length < 2) return;
        const shuffled = this.shuffle(ids);
        const cut = randomInt(random, 1, ids.length);
        network.partition(shuffled.slice(0, cut), shuffled.slice(cut));
        this.stats.partitions++;
        this.healLater();
        return;
      }
      case "isolate":
        network.isolate(this.pickIsolationTarget());
        this.stats.partitions++;
        this.healLater();
        return;
      case "one_way_cut": {
        const [from, to] = this.shuffle(ids);
        if (from !== undefined && to !== undefined) network.cutOneWay(from, to);
        this.stats.partitions++;
        this.healLater();
        return;
      }
      case "bridge": {
        if (ids.length < 3) return;
        const [bridge, ...rest] = this.shuffle(ids);
        const half = Math.floor(rest.length / 2);
        if (bridge !== undefined) network.bridge(rest.slice(0, half), rest.slice(half), bridge);
        this.stats.partitions++;
        this.healLater();
        return;
      }
      case "heal":
        network.heal();
        this.stats.heals++;
        return;
      case "crash":
        this.crashOne();
        return;
      case "restart": {
        const id = this.pickOrNull([...this.crashed]);
        if (id !== null) await this.restart(id);
        return;
      }
      case "wipe": {
        this.noteRepairs();
        if (this.awaitingRepair.size > 0) return;
        // A node its damaged disk keeps down gets the new disk first: what an operator would replace.
        const down = this.context.cluster.downForGood()[0];
        // Replacing a disk already damaged adds no damage; replacing a sound one spends the budget.
        if (down === undefined && (!this.mayCrash() || !this.context.cluster.mayDamageDisk())) return;
        const commitIndex = Math.max(0, ...this.context.cluster.liveNodes().map((node) => node.status().commitIndex));
        const id = down ?? this.crashOne();
        if (id === null) return;
        if (down === undefined) this.context.cluster.spendDiskDamage(id);
        this.crashed.add(id);
        this.awaitingRepair.set(id, commitIndex);
        this.context.cluster.wipe(id, commitIndex);
        this.stats.wipes++;
        return;
      }
      case "link_faults":
        this.burstLinkFaults();
        return;
      case "timed_fault":
        this.armTimedFault();
        return;
      case "clock_fault":
        this.clockFault();
        return;
      case "stale_leader":
        this.staleLeader.start();
        this.stats.staleLeaderRuns++;
        return;
      case "lost_disk_answer":
        this.lostDiskAnswer.start();
        this.stats.lostDiskAnswerRuns = this.lostDiskAnswer.stats.started;
        return;
    }
  }

  /** Heals the network after the profile's partition duration (unless cuts last until a heal operation). */
  private healLater(): void {
    const { partitionMsMin, partitionMsMax } = this.context.profile;
    if (partitionMsMax === 0) return;
    this.context.clock.setTimeout(() => {
      if (!this.running || this.scenarioActive()) return;
      this.context.network.heal();
      this.stats.heals++;
    }, randomInt(this.context.random, partitionMsMin, partitionMsMax + 1));
  }

  /** Sees every message before the network does: timed faults and the stale-leader schedule act here. */
  private onSend(from: NodeId, envelope: Envelope): "pass" | "drop" {
    const facts = this.history.observe(from, envelope);
    if (!this.running) return "pass";
    this.staleLeader.observe(from, envelope, facts);
    if (this.lostDiskAnswer.observe(from, envelope) === "drop") return "drop";
    const nowMs = this.context.clock.nowMs();
    for (let i = 0; i < this.armed.length; i++) {
      const fault = this.armed[i] as ArmedFault;
      if (fault.expiresAtMs < nowMs) {
        this.armed.splice(i--, 1);
        continue;
      }
      if ((fault.node !== null && fault.node !== from) || !matches(fault.kind, envelope, facts)) continue;
      this.armed.splice(i, 1);
      return this.fire(fault.kind, from);
    }
    return "pass";
  }

  private fire(kind: TimedFaultKind, node: NodeId): "pass" | "drop" {
    const action = actionOf(kind);
    if (action.effect === "isolate") {
      // After the message: it was already handed over, so cut the links it did not use yet.
      this.context.network.isolate(node);
      this.stats.timedIsolations++;
      return action.messageLeaves ? "pass" : "drop";
    }
    if (!this.mayCrash()) return "pass";
    // Nothing after this message leaves; the crash itself falls at the same instant, once the
    // node's current step has returned (a crash inside it would let the dead process write on).
    this.context.cluster.silence(node);
    this.crashing.add(node);
    this.context.clock.setTimeout(() => {
      if (this.crashing.has(node)) this.crashNow(node, this.context.random() < this.context.profile.inflightSurvivesCrashProbability);
    }, 0);
    return action.messageLeaves ? "pass" : "drop";
  }

  private armTimedFault(): void {
    if (this.armed.length >= armedTimedFaultsMax) return;
    const { random, clock } = this.context;
    const ids = this.context.cluster.ids();
    const kind = pickOne(random, timedFaultKinds);
    const node = random() < 0.5 ? pickOne(random, ids) : null;
    this.armed.push({ kind, node, expiresAtMs: clock.nowMs() + timedFaultArmedMsMax });
  }

  private burstLinkFaults(): void {
    const { random, network, profile } = this.context;
    const ids = this.context.cluster.ids();
    const faults = {
      lossProbability: random() * profile.lossProbabilityMax,
      duplicateProbability: random() * profile.duplicateProbabilityMax,
      reorderProbability: random() * profile.reorderProbabilityMax,
    };
    // Either one directed link turns bad, or every link does, for a while.
    if (random() < 0.5) {
      const [from, to] = this.shuffle(ids);
      if (from !== undefined && to !== undefined) network.setLinkFaults(from, to, faults);
    } else {
      network.setFaults(faults);
    }
    this.stats.linkFaultBursts++;
    this.context.clock.setTimeout(() => {
      network.clearLinkFaults();
      network.setFaults({ lossProbability: 0, duplicateProbability: 0, reorderProbability: 0 });
    }, randomInt(random, 50, linkFaultsBurstMsMax + 1));
  }

  private clockFault(): void {
    const { random, cluster, profile, clock } = this.context;
    const id = this.leaderOr(() => pickOne(random, this.context.cluster.ids()));
    if (this.crashed.has(id) || this.crashing.has(id)) return;
    const nodeClock = cluster.clockOf(id);
    if (random() < 0.5) {
      nodeClock.pause(randomInt(random, 10, profile.clockPauseMsMax + 1));
      this.stats.clockPauses++;
      return;
    }
    const baseRate = nodeClock.currentRate;
    nodeClock.setRate(profile.clockRateMin + random() * (profile.clockRateMax - profile.clockRateMin));
    this.stats.clockRateChanges++;
    clock.setTimeout(() => nodeClock.setRate(baseRate), randomInt(random, 100, clockRateFaultMsMax + 1));
  }

  /**
   * For the lost-disk-answer schedule: `id` sends nothing more, loses power and its disk at the end
   * of this instant (as a "wipe" does), and starts again on the new disk after `downMs`. False,
   * and nothing done, when the crash budget or the disk-damage budget forbids it.
   */
  private replaceDiskThenRestart(id: NodeId, downMs: number): boolean {
    const { cluster, clock } = this.context;
    this.noteRepairs();
    if (this.awaitingRepair.size > 0 || this.crashed.has(id) || this.crashing.has(id) || !this.mayCrash() || !cluster.mayDamageDisk()) return false;
    cluster.silence(id);
    this.crashing.add(id);
    clock.setTimeout(() => {
      if (!this.crashing.has(id)) return;
      const commitIndex = Math.max(0, ...cluster.liveNodes().map((node) => node.status().commitIndex));
      this.crashNow(id, false);
      cluster.spendDiskDamage(id);
      this.awaitingRepair.set(id, commitIndex);
      cluster.wipe(id, commitIndex);
      this.stats.wipes++;
      clock.setTimeout(() => {
        if (this.running && this.crashed.has(id)) this.restart(id).catch((error: unknown) => this.context.onError(error));
      }, downMs);
    }, 0);
    return true;
  }

  /** A wiped node is repaired once a leader has brought it to the commit index of when its disk went. */
  private noteRepairs(): void {
    for (const [id, commitIndex] of this.awaitingRepair) {
      const node = this.context.cluster.node(id);
      if (node !== null && node.status().commitIndex >= commitIndex) this.awaitingRepair.delete(id);
    }
  }

  private mayCrash(): boolean {
    // Keep a majority able to run: crash at most a minority at a time.
    // A node whose storage refused to start is down too.
    // Counted against the voters of the configuration now (membership churn changes it); a
    // retired machine is gone, not down.
    const { cluster } = this.context;
    const downForGood = cluster.downForGood().filter((id) => !this.crashed.has(id)).length;
    const crashed = [...this.crashed].filter((id) => !cluster.isRetired(id)).length;
    return crashed + this.crashing.size + downForGood < Math.floor((cluster.configuration().voters.length - 1) / 2);
  }

  /** Crashes one node (the leader at the profile's rate); returns it, or null when a minority is already down. */
  private crashOne(): NodeId | null {
    if (!this.mayCrash()) return null;
    const candidates = this.context.cluster.ids().filter((id) => !this.crashed.has(id) && !this.crashing.has(id));
    const leader = this.currentLeader();
    const aimAtLeader = this.context.random() < this.context.profile.leaderCrashFraction;
    const id = leader !== null && aimAtLeader && !this.crashing.has(leader) ? leader : this.pick(candidates);
    this.crashNow(id, this.context.random() < this.context.profile.inflightSurvivesCrashProbability);
    return id;
  }

  private crashNow(id: NodeId, inflightSurvives: boolean): void {
    const timed = this.crashing.delete(id);
    this.context.cluster.crash(id, { inflightSurvives });
    this.history.forget(id);
    this.crashed.add(id);
    this.stats.crashes++;
    if (timed) this.stats.timedCrashes++;
  }

  private async restart(id: NodeId): Promise<void> {
    this.crashed.delete(id);
    await this.context.cluster.start(id);
    this.stats.restarts++;
  }

  private pickIsolationTarget(): NodeId {
    return this.leaderOr(() => this.pick(this.context.cluster.ids()));
  }

  /** The leader half of the time (leader changes are where replication bugs hide), else `other()`. */
  private leaderOr(other: () => NodeId): NodeId {
    const leader = this.currentLeader();
    return leader !== null && this.context.random() < 0.5 ? leader : other();
  }

  private currentLeader(): NodeId | null {
    return this.context.cluster.liveNodes().find((node) => node.status().role === "leader")?.status().id ?? null;
  }

  private pick<T>(items: readonly T[]): T {
    return pickOne(this.context.random, items);
  }

  private pickOrNull<T>(items: readonly T[]): T | null {
    return items.length === 0 ? null : pickOne(this.context.random, items);
  }

  private shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = randomInt(this.context.random, 0, i + 1);
      const a = copy[i] as T;
      copy[i] = copy[j] as T;
      copy[j] = a;
    }
    return copy;
  }
}
