import type { RandomSource } from "@lockstep/consensus";
import { lifecycleDefinition } from "@lockstep/state-machine";
import { pickOne, randomInt } from "@lockstep/transport-memory";
import type { VirtualClock } from "@lockstep/transport-memory";
import type { HistoryRecorder } from "./history/index.js";
import type { SimCluster } from "./sim-cluster.js";

/** Attempts per logical operation; each retry of a transition reuses its session seq. */
const attemptsPerOperationMax = 4;
/** Virtual ms a client waits between operations, at most. */
const thinkTimeMsMax = 30;

export interface WorkloadStats {
  operations: number;
  ok: number;
  failed: number;
  indeterminate: number;
}

/**
 * Clients issuing transitions (valid and invalid, with and without `expect`) and linearizable
 * reads against random live nodes, recording every operation in the history. A transition whose
 * outcome is unknown is retried with the same session seq, so it takes effect at most once.
 */
export class Workload {
  readonly stats: WorkloadStats = { operations: 0, ok: 0, failed: 0, indeterminate: 0 };
  private running = true;
  private readonly states = lifecycleDefinition.states;

  constructor(
    private readonly context: {
      clock: VirtualClock;
      random: RandomSource;
      cluster: SimCluster;
      history: HistoryRecorder;
      keys: string[];
    },
  ) {}

  /** Starts `clients` client loops; they run until `stop()` and resolve when their last operation ends. */
  start(clients: number): Promise<void[]> {
    const loops: Promise<void>[] = [];
    for (let process = 0; process < clients; process++) loops.push(this.clientLoop(process));
    return Promise.all(loops);
  }

  stop(): void {
    this.running = false;
  }

  private async clientLoop(process: number): Promise<void> {
    // Every client registers a session through the log first (Raft thesis §6.3), and again
    // whenever the cluster says it expired.
    let clientId: string | null = null;
    let seq = 0;
    while (this.running) {
      await this.sleep(randomInt(this.context.random, 1, thinkTimeMsMax));
      if (!this.running) break;
      const key = this.pick(this.context.keys);
      if (this.context.random() < 0.3) await this.read(process, key);
      else if (clientId === null) {
        clientId = await this.register();
        seq = 0;
      } else if ((await this.transition(process, key, clientId, ++seq)) === "session_expired") clientId = null;
    }
  }

  private async register(): Promise<string | null> {
    const node = this.pickNode();
    if (node === null) return null;
    const outcome = await node.registerSession();
    return outcome.ok ? outcome.clientId : null;
  }

  /** Runs one transition; says whether the session must be registered again. */
  private async transition(process: number, key: string, clientId: string, seq: number): Promise<"session_expired" | undefined> {
    const to = this.pick(this.states);
    const expect = this.context.random() < 0.3 ? this.pick(this.states) : undefined;
    const operation = this.context.history.invoke(process, "transition", key, to, expect);
    this.stats.operations++;
    // Whether an earlier attempt may have been applied: then a refusal of a later one proves nothing.
    let mayHaveApplied = false;
    for (let attempt = 0; attempt < attemptsPerOperationMax; attempt++) {
      const node = this.pickNode();
      if (node === null) {
        await this.sleep(20);
        continue;
      }
      const outcome = await node.transition({
        key,
        to,
        ...(expect === undefined ? {} : { expect }),
        session: { clientId, seq },
      });
      if (outcome.ok) {
        this.stats.ok++;
        this.context.history.ok(operation, to);
        return undefined;
      }
      switch (outcome.code) {
        case "invalid_transition":
        case "expect_failed":
        case "quota_exceeded":
        case "request_id_reused":
          this.stats.failed++;
          this.context.history.fail(operation);
          return;
        case "join_token_refused":
        case "token_exists":
        case "token_not_found":
        case "already_bootstrapped":
        case "tokens_full":
          throw new Error(`a transition was answered with a token result (${outcome.code})`);
        case "session_expired":
          if (mayHaveApplied) {
            this.stats.indeterminate++;
            this.context.history.info(operation);
          } else {
            this.stats.failed++;
            this.context.history.fail(operation);
          }
          return "session_expired";
        case "overloaded":
          // Refused before it was proposed: it did not take effect, try again.
          break;
        case "timeout":
        case "no_quorum":
        case "shutting_down":
          // Unknown outcome: try again with the same seq; the state machine applies it at most once.
          mayHaveApplied = true;
          break;
      }
    }
    this.stats.indeterminate++;
    this.context.history.info(operation);
    return undefined;
  }

  private async read(process: number, key: string): Promise<void> {
    const operation = this.context.history.invoke(process, "read", key, null);
    this.stats.operations++;
    const node = this.pickNode();
    if (node === null) {
      this.context.history.fail(operation);
      this.stats.failed++;
      return;
    }
    const outcome = await node.read(key, "linearizable");
    if (outcome.ok) {
      this.stats.ok++;
      this.context.history.ok(operation, outcome.state);
    } else {
      // A read that did not answer changed nothing: it certainly did not take effect.
      this.stats.failed++;
      this.context.history.fail(operation);
    }
  }

  private pickNode() {
    const nodes = this.context.cluster.liveNodes();
    return nodes.length === 0 ? null : this.pick(nodes);
  }

  private pick<T>(items: readonly T[]): T {
    return pickOne(this.context.random, items);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.context.clock.setTimeout(resolve, ms));
  }
}
