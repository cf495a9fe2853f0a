import type { RandomSource } from "@lockstep/consensus";
import type { Envelope, NodeId } from "@lockstep/protocol";
import { randomInt } from "@lockstep/transport-memory";
import type { MemoryNetwork, VirtualClock } from "@lockstep/transport-memory";
import { ScenarioSteps } from "./scenario-steps.js";

/** Virtual ms one step may wait for the message it is timed against before the scenario gives up. */
const stepMsMax = 2_500;
/** Virtual ms the returned leader stays cut off before everything heals, at most. */
const holdMsMax = 1_500;

type Step =
  | { name: "tail" }
  | { name: "rival"; oldTerm: number; minority: NodeId[] }
  | { name: "return"; rival: NodeId; rivalTerm: number }
  | { name: "hold" };

export interface StaleLeaderStats {
  started: number;
  /** Runs that reached the last step: a returned leader advanced its commit index and was cut off. */
  completed: number;
  abandoned: number;
}

/**
 * The schedule of Raft's Figure 8 (§5.4.2), timed against messages rather than left to chance:
 *
 * 1. tail: the moment a leader L1 sends a Proposal with entries, it is cut off with a minority
 *    (the follower that Proposal went to, on 5 nodes), so its newest entries end on a minority;
 * 2. rival: the majority elects L2; the moment L2 sends its first Proposal (its no-op, at the
 *    indexes of L1's tail), L2 is cut off and everyone else is reconnected;
 * 3. return: a node holding the old tail (usually L1) is elected with a later term and ships the
 *    tail; the moment it advances its commit index, it is cut off and L2 comes back;
 * 4. hold: for a while L2 may be elected over what the returned leader counted as committed.
 *
 * With Figure 8's rule intact the returned leader commits only through an entry of its own term,
 * so step 4 finds nothing to overwrite. With `commit_old_term_by_count` it commits the old tail by
 * count and applies it; L2 then overwrites it and the checkers see two entries applied at one index.
 */
export class StaleLeaderScenario {
  readonly stats: StaleLeaderStats = { started: 0, completed: 0, abandoned: 0 };
  private readonly steps: ScenarioSteps<Step>;

  constructor(
    private readonly context: {
      clock: VirtualClock;
      random: RandomSource;
      network: MemoryNetwork;
      ids: NodeId[];
      /** Called when a run ends (completed or abandoned): the fault schedule takes over again. */
      onEnd: () => void;
    },
  ) {
    this.steps = new ScenarioSteps<Step>(context.clock, stepMsMax, () => this.abandon());
  }

  get active(): boolean {
    return this.steps.step !== null;
  }

  start(): void {
    this.context.network.heal();
    this.stats.started++;
    this.steps.enter({ name: "tail" });
  }

  /** Ends a run now (the safety phase is over): heals the network. */
  abandon(): void {
    const step = this.steps.step;
    if (step === null) return;
    if (step.name !== "hold") this.stats.abandoned++;
    this.finish();
  }

  /** Sees every message a node sends; acts on the one the current step waits for. Never drops. */
  observe(from: NodeId, envelope: Envelope, facts: { firstProposalOfTerm: boolean; commitAdvanced: boolean }): void {
    const step = this.steps.step;
    if (step === null) return;
    const body = envelope.body;
    const term = "term" in body ? body.term : 0;
    switch (step.name) {
      case "tail":
        if (body.type === "Proposal" && body.entries.length > 0) this.cutTail(from, envelope.to, body.term);
        return;
      case "rival":
        if (facts.firstProposalOfTerm && term > step.oldTerm && !step.minority.includes(from)) {
          // The rival's no-op reaches nobody: everyone but the rival is reconnected.
          this.context.network.heal();
          this.context.network.isolate(from);
          this.steps.enter({ name: "return", rival: from, rivalTerm: term });
        }
        return;
      case "return":
        if (facts.commitAdvanced && from !== step.rival && term > step.rivalTerm) {
          this.context.network.heal();
          this.context.network.isolate(from);
          this.stats.completed++;
          this.steps.enter({ name: "hold" });
          this.steps.expireIn(randomInt(this.context.random, 100, holdMsMax + 1));
        }
        return;
      case "hold":
        return;
    }
  }

  private cutTail(leader: NodeId, firstFollower: NodeId, term: number): void {
    const { ids, random } = this.context;
    const majority = Math.floor(ids.length / 2) + 1;
    // The minority that keeps the tail: the leader, the follower this Proposal is addressed to,
    // and others up to one short of a majority.
    const minority = [leader];
    const others = ids.filter((id) => id !== leader && id !== firstFollower);
    if (majority - 1 > minority.length) minority.push(firstFollower);
    while (minority.length < majority - 1 && others.length > 0) minority.push(others.splice(randomInt(random, 0, others.length), 1)[0] as NodeId);
    const rest = ids.filter((id) => !minority.includes(id));
    this.context.network.partition(minority, rest);
    this.steps.enter({ name: "rival", oldTerm: term, minority });
  }

  private finish(): void {
    this.steps.end();
    this.context.network.heal();
    this.context.onEnd();
  }
}
