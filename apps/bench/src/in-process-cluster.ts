import { ConsensusNode, defaultDriverConfig, type DriverConfig, type TransitionOutcome } from "@lockstep/consensus";
import { lifecycleDefinition } from "@lockstep/state-machine";
import { MemoryStorage } from "@lockstep/storage";
import { DirectNetwork } from "./direct-network.js";
import { pollUntil } from "./poll-until.js";
import { createSystemClock } from "node";
import type { LoadClient, OperationOutcome } from "./load-generator.js";
import { lifecycleNext } from "./lockstep-load-client.js";

export interface InProcessCluster {
  nodes: ConsensusNode[];
  leader: ConsensusNode;
  network: DirectNetwork;
  tickMs: number;
  stop(): Promise<void>;
}

/**
 * Three (or `nodeCount`) ConsensusNodes in this process: the real driver and core, MemoryStorage
 * (nothing is fsynced), the zero-latency DirectNetwork, and real time. What it measures is the
 * consensus core, the driver and the state machine, and nothing else.
 */
export async function startInProcessCluster(nodeCount: number, leaderWaitMs: number, config: Partial<DriverConfig> = {}): Promise<InProcessCluster> {
  const network = new DirectNetwork();
  const clock = createSystemClock();
  const members = Array.from({ length: nodeCount }, (_, index) => `n${index + 1}`);
  const nodes = await Promise.all(
    members.map((id) =>
      ConsensusNode.start({
        id,
        cluster: "bench",
        members,
        definition: lifecycleDefinition,
        transport: network.transport(id),
        storage: new MemoryStorage(),
        clock,
        // The bench is an application, not the core: plain Math.random is fine for election jitter here.
        random: Math.random,
        config,
        schedule: setImmediate,
      }),
    ),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop(0)));
  };
  const leader = await pollUntil(leaderWaitMs, () => Promise.resolve(nodes.find((node) => node.status().role === "leader") ?? null));
  if (leader === null) {
    await stop();
    throw new Error(`the in-process cluster elected no leader within ${leaderWaitMs} ms`);
  }
  return { nodes, leader, network, tickMs: config.tickMs ?? defaultDriverConfig.tickMs, stop };
}

/** Every committed answer is the same value: nothing reads it but the generator. */
const committedOutcome: OperationOutcome = Object.freeze({ ok: true });

/**
 * A closed-loop client calling the leader's `transition` directly (no HTTP) on its own key, with
 * its own session so that a retry is applied at most once, exactly as the HTTP API would.
 */
export class InProcessLoadClient implements LoadClient {
  private state = "Init";
  private seq = 0;
  private pendingTo: string | null = null;
  private readonly key: string;
  private clientId: string | null = null;

  constructor(
    private readonly node: ConsensusNode,
    runId: string,
    index: number,
  ) {
    this.key = `bench-${runId}-${index}`;
  }

  next(): Promise<OperationOutcome> {
    return new Promise((resolve) => this.nextThen(resolve));
  }

  nextThen(done: (outcome: OperationOutcome) => void): void {
    if (this.clientId === null) {
      void this.node.registerSession().then((registered) => {
        if (!registered.ok) return done({ ok: false, code: registered.code });
        this.clientId = registered.clientId;
        this.seq = 0;
        this.pendingTo = null;
        this.nextThen(done);
      });
      return;
    }
    if (this.pendingTo === null) {
      this.seq += 1;
      this.pendingTo = lifecycleNext[this.state] ?? "Running";
    }
    const to = this.pendingTo;
    // No rejection handler: the node answers every request with an outcome, so a rejection is a
    // bug, and it ends the bench as an unhandled rejection instead of being counted as a failure.
    void this.node.transition({ key: this.key, to, session: { clientId: this.clientId, seq: this.seq } }).then((outcome) => done(this.answered(to, outcome)));
  }

  private answered(to: string, outcome: TransitionOutcome): OperationOutcome {
    if (outcome.ok) {
      this.state = to;
      this.pendingTo = null;
      return committedOutcome;
    }
    if (outcome.code === "invalid_transition") {
      this.state = outcome.from;
      this.pendingTo = null;
    } else if (outcome.code === "session_expired") {
      this.clientId = null;
    }
    return { ok: false, code: outcome.code };
  }
}
