import type { ConsensusNode, MembershipChange, MembershipChangeOutcome, RandomSource } from "@lockstep/consensus";
import type { NodeId } from "@lockstep/protocol";
import { pickOne, randomInt } from "@lockstep/transport-memory";
import type { VirtualClock } from "@lockstep/transport-memory";
import type { SimCluster } from "./sim-cluster.js";
import { pickWeighted } from "./swarm-profile.js";
import type { SwarmProfile } from "./swarm-profile.js";

/** Fresh ids the nemesis may add over a run, at most: `n{N+1}` to `n{N+spareIdsMax}`. An id is never reused. */
export const spareIdsMax = 6;
/** Members (voters and learners) at most: the initial size plus this. */
const membersAboveInitialMax = 2;
/** Chance that a new leader gets a change the moment it is elected. */
const newLeaderChangeProbability = 0.5;
/**
 * A change made the moment a leader is elected that it refuses for now (`change_in_progress`
 * until it commits an entry of its term, `would_lose_quorum` until the voters answered it) is
 * tried again after this many virtual ms, as an operator's script retries, up to
 * `newLeaderAttemptsMax` times. Those first milliseconds of a term are where a change before
 * the leader's own commit (Ongaro's 2015 bug) would slip in.
 */
const newLeaderRetryDelayMs = 1;
const newLeaderAttemptsMax = 60;
/** A removal never leaves fewer voters than this. */
const votersAfterRemovalMin = 2;
/** A removed member's machine keeps running for up to this many virtual ms before it is retired (it must not disturb the cluster meanwhile). */
const removedRunsMsMax = 1_000;

export interface ChurnStats {
  added: number;
  promoted: number;
  removed: number;
  leaderRemoved: number;
  replaced: number;
  /** Changes the leader refused (change_in_progress, would_lose_quorum, ...) or that timed out. */
  refused: number;
  /** Refusals of a new leader that were tried again (not in `refused`). */
  retried: number;
}

/** Refusals that a new leader lifts by itself within a few round trips: worth trying again. */
const passingRefusals: ReadonlySet<string> = new Set(["change_in_progress", "would_lose_quorum"]);

type ChurnOperation = "add" | "promote" | "remove" | "remove_leader" | "replace";

/**
 * Membership churn, as an operator does it (DESIGN.md §9): on its own timer during the safety
 * phase, one change at a time, drawn with the weights of the seed's profile: add a fresh id (a new
 * machine with an empty disk) as a learner, promote a learner, remove a follower or the leader
 * itself, or replace a voter (remove it, retire its machine, add a fresh id). A removed machine
 * keeps running a while before it is retired, so the checkers see that it does not disturb the
 * cluster. Every change goes to the current leader through `changeMembership`, whose refusals
 * are expected outcomes. The other kind of replacement, a member restarted on a wiped disk under
 * its old id, is the fault schedule's `wipe`.
 */
export class MembershipChurn {
  readonly stats: ChurnStats = { added: 0, promoted: 0, removed: 0, leaderRemoved: 0, replaced: 0, refused: 0, retried: 0 };
  private running = false;
  /** A change is being made (the operator waits for its answer). */
  private busy = false;
  /** While a new leader's change is being retried: a passing refusal is noted here, not counted. */
  private retrying: { refusal: string | null } | null = null;
  private readonly spares: NodeId[];
  private readonly operations: ReadonlyArray<readonly [ChurnOperation, number]>;

  constructor(
    private readonly context: {
      clock: VirtualClock;
      random: RandomSource;
      cluster: SimCluster;
      /** The bootstrap members. */
      ids: readonly NodeId[];
      profile: SwarmProfile;
      /** A change that threw: reported as a violation of the seed, not an unhandled rejection that ends every run. */
      onError: (error: unknown) => void;
    },
  ) {
    const { profile, ids } = context;
    this.spares = Array.from({ length: spareIdsMax }, (_, index) => `n${ids.length + index + 1}`);
    this.operations = [
      ["add", profile.memberAddWeight],
      ["promote", profile.memberPromoteWeight],
      ["remove", profile.memberRemoveWeight],
      ["remove_leader", profile.leaderRemoveWeight],
      ["replace", profile.memberReplaceWeight],
    ];
  }

  /** Whether the profile asks for any change at all. */
  get enabled(): boolean {
    return this.operations.some(([, weight]) => weight > 0);
  }

  start(): void {
    if (!this.enabled) return;
    this.running = true;
    this.scheduleNext();
    // Operators' scripts retry against a new leader the moment it is elected: that is when a
    // change before the leader's first commit of its term (Ongaro's 2015 bug) can happen at all.
    this.context.cluster.onNewLeader((id) => {
      if (!this.running || this.busy || this.context.random() >= newLeaderChangeProbability) return;
      this.context.clock.setTimeout(() => {
        this.injectAtNewLeader(id).catch((error: unknown) => this.context.onError(error));
      }, 0);
    });
  }

  stop(): void {
    this.running = false;
  }

  private scheduleNext(): void {
    const { churnIntervalMsMin, churnIntervalMsMax } = this.context.profile;
    this.context.clock.setTimeout(() => {
      if (!this.running) return;
      // One change at a time, as an operator makes them: the next is drawn once this one is answered.
      this.injectGuarded().then(
        () => {
          if (this.running) this.scheduleNext();
        },
        (error: unknown) => this.context.onError(error),
      );
    }, randomInt(this.context.random, churnIntervalMsMin, churnIntervalMsMax));
  }

  /** One change unless one is being made already. */
  private async injectGuarded(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.injectOne();
    } finally {
      this.busy = false;
    }
  }

  /** One change at a new leader, tried again while that leader refuses it for a passing reason. */
  private async injectAtNewLeader(id: NodeId): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const term = this.leader()?.status().term;
    try {
      for (let attempt = 1; attempt <= newLeaderAttemptsMax && this.running; attempt++) {
        const status = this.leader()?.status();
        if (status === undefined || status.id !== id || status.term !== term) return;
        const last = attempt === newLeaderAttemptsMax;
        this.retrying = last ? null : { refusal: null };
        await this.injectOne();
        const refusal = this.retrying?.refusal ?? null;
        this.retrying = null;
        if (refusal === null) return;
        this.stats.retried++;
        await new Promise<void>((resolve) => this.context.clock.setTimeout(resolve, newLeaderRetryDelayMs));
      }
    } finally {
      this.retrying = null;
      this.busy = false;
    }
  }

  private async injectOne(): Promise<void> {
    const operation = pickWeighted(this.context.random, this.operations);
    const leader = this.leader();
    if (operation === null || leader === null) return;
    // An operator changes the membership of a running cluster, not of one whose founders are
    // still starting: a founder on an empty disk follows no leader until every other founder has
    // answered its HistoryProbe, and one removed and shut down before that never answers (the
    // core's limitation with a voter it waits for that is gone: KNOWN-FAILING-SEEDS.md).
    if (!this.formed()) {
      this.noteRefusal("change_in_progress");
      return;
    }
    // The members a leader lists are those it has applied; until it has applied all it knows
    // committed they can lag the configuration it decides in (a new leader elected the moment
    // its predecessor's removal committed lists that predecessor still), and a removal judged
    // on them could leave a single voter. An operator's script waits for a leader that answers
    // with its current configuration.
    const status = leader.status();
    if (status.appliedIndex < status.commitIndex) {
      this.noteRefusal("change_in_progress");
      return;
    }
    const members = leader.members();
    const voters = members.filter((member) => member.voter).map((member) => member.id);
    const leaderId = status.id;
    switch (operation) {
      case "add":
        await this.add(leader, members.length);
        return;
      case "promote": {
        const learners = members.filter((member) => !member.voter).map((member) => member.id);
        if (learners.length === 0) return;
        if (await this.change(leader, { kind: "promote", id: pickOne(this.context.random, learners) })) this.stats.promoted++;
        return;
      }
      case "remove": {
        const followers = members.map((member) => member.id).filter((id) => id !== leaderId && (voters.length > votersAfterRemovalMin || !voters.includes(id)));
        if (followers.length === 0) return;
        const id = pickOne(this.context.random, followers);
        if (voters.includes(id) && !this.damageStaysMinority(voters, id)) return;
        if (!(await this.change(leader, { kind: "remove", id }))) return;
        this.stats.removed++;
        this.retireLater(id);
        return;
      }
      case "remove_leader":
        if (voters.length <= votersAfterRemovalMin || !this.damageStaysMinority(voters, leaderId)) return;
        if (!(await this.change(leader, { kind: "remove", id: leaderId }))) return;
        this.stats.leaderRemoved++;
        this.retireLater(leaderId);
        return;
      case "replace": {
        if (voters.length <= votersAfterRemovalMin || this.spares.length === 0) return;
        // The leader is replaced too, at times: its machine is the one being retired.
        const id = pickOne(this.context.random, voters);
        if (!this.damageStaysMinority(voters, id)) return;
        if (!(await this.change(leader, { kind: "remove", id }))) return;
        this.context.cluster.retire(id);
        this.stats.replaced++;
        const next = this.leader();
        if (next !== null) await this.add(next, next.members().length);
        return;
      }
    }
  }

  /** Adds the next spare id as a learner and starts its machine (empty disk, no configuration: it joins). */
  private async add(leader: ConsensusNode, membersNow: number): Promise<void> {
    const id = this.spares[0];
    if (id === undefined || membersNow >= this.context.ids.length + membersAboveInitialMax) return;
    const outcome = await leader.changeMembership({ kind: "add_learner", member: { id, peerAddress: `sim://${id}`, clientUrl: `http://${id}.sim` } });
    // Refused: nothing changed, the id stays spare. Timed out: it may be in the log, so the machine starts.
    if (!outcome.ok && outcome.reason !== "timeout") {
      this.noteRefusal(outcome.reason);
      return;
    }
    this.spares.shift();
    this.context.cluster.addNode(id);
    await this.context.cluster.start(id);
    if (outcome.ok) this.stats.added++;
    else this.stats.refused++;
  }

  /** Proposes one change at the leader; true once it is applied there. */
  private async change(leader: ConsensusNode, change: MembershipChange): Promise<boolean> {
    const outcome: MembershipChangeOutcome = await leader.changeMembership(change);
    if (!outcome.ok) this.noteRefusal(outcome.reason);
    return outcome.ok;
  }

  /** Counts a refusal, unless a new leader's change will be tried again for it. */
  private noteRefusal(reason: string): void {
    if (this.retrying !== null && passingRefusals.has(reason)) this.retrying.refusal = reason;
    else this.stats.refused++;
  }

  /**
   * Damaged disks (rotted or replaced) stay on a minority of the voters after `removed` goes:
   * beyond that, losing every copy of a committed entry is possible, which no protocol survives.
   */
  private damageStaysMinority(voters: readonly NodeId[], removed: NodeId): boolean {
    const damaged = this.context.cluster.damagedDisks();
    const remaining = voters.filter((id) => id !== removed);
    return remaining.filter((id) => damaged.has(id)).length <= Math.floor((remaining.length - 1) / 2);
  }

  private retireLater(id: NodeId): void {
    this.context.clock.setTimeout(() => this.context.cluster.retire(id), randomInt(this.context.random, 0, removedRunsMsMax + 1));
  }

  /** Set once every founder was seen running past its first start (no longer recovering). */
  private founded = false;

  private formed(): boolean {
    if (this.founded) return true;
    this.founded = this.context.ids.every((id) => {
      const node = this.context.cluster.node(id);
      return node !== null && !node.status().recovering;
    });
    return this.founded;
  }

  /** The live node that leads in the highest term, if any. */
  private leader(): ConsensusNode | null {
    let best: ConsensusNode | null = null;
    let bestTerm = -1;
    for (const node of this.context.cluster.liveNodes()) {
      const status = node.status();
      if (status.role === "leader" && status.term > bestTerm) {
        best = node;
        bestTerm = status.term;
      }
    }
    return best;
  }
}
