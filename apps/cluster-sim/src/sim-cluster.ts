import { ConsensusNode } from "@lockstep/consensus";
import type { DriverConfig, RandomSource, Transport } from "@lockstep/consensus";
import type { ConsensusEnvelope, Envelope, NodeId } from "@lockstep/protocol";
import { lifecycleDefinition } from "@lockstep/state-machine";
import { fork } from "@lockstep/transport-memory";
import type { MemoryNetwork, VirtualClock } from "@lockstep/transport-memory";
import type { SafetyMonitor } from "./monitor/safety-monitor.js";
import { SimStorage } from "./sim-storage.js";

interface SimMember {
  id: NodeId;
  storage: SimStorage;
  node: ConsensusNode | null;
  /** Per-node tick length: clocks on real machines drift, and timeouts must tolerate it. */
  tickMs: number;
}

/**
 * The simulated cluster: nodes on one virtual clock and one memory network, each with a storage
 * that loses unsynced writes when the node crashes. Crash and restart keep the storage object, as
 * a real disk would be kept.
 */
export class SimCluster {
  readonly members = new Map<NodeId, SimMember>();

  constructor(
    private readonly context: {
      clock: VirtualClock;
      network: MemoryNetwork;
      random: RandomSource;
      monitor: SafetyMonitor;
      cluster: string;
      ids: NodeId[];
      driverConfig: Partial<DriverConfig>;
      tickMsOf: (id: NodeId) => number;
    },
  ) {
    for (const id of context.ids) {
      const storage = new SimStorage({ clock: context.clock, random: fork(context.random) });
      this.members.set(id, { id, storage, node: null, tickMs: context.tickMsOf(id) });
    }
  }

  async startAll(): Promise<void> {
    for (const id of this.context.ids) await this.start(id);
  }

  async start(id: NodeId): Promise<void> {
    const member = this.member(id);
    if (member.node !== null) return;
    this.context.network.restart(id);
    const transport = this.monitoredTransport(id, member.storage, this.context.network.endpoint(id));
    const node = await ConsensusNode.start({
      id,
      cluster: this.context.cluster,
      members: this.context.ids,
      definition: lifecycleDefinition,
      transport,
      storage: member.storage,
      clock: this.context.clock,
      random: fork(this.context.random),
      config: { ...this.context.driverConfig, tickMs: member.tickMs },
    });
    node.onApplied((event) => this.context.monitor.observeApplied(id, event.index, event.term, event.command));
    member.node = node;
  }

  /** Stops a node the way a power cut would: nothing more is sent or written, unsynced writes are lost. */
  crash(id: NodeId): void {
    const member = this.member(id);
    if (member.node === null) return;
    member.node.halt();
    member.node = null;
    member.storage.crash();
    this.context.network.crash(id);
  }

  liveNodes(): ConsensusNode[] {
    const nodes: ConsensusNode[] = [];
    for (const member of this.members.values()) if (member.node !== null) nodes.push(member.node);
    return nodes;
  }

  node(id: NodeId): ConsensusNode | null {
    return this.member(id).node;
  }

  /** Election safety, checked after every event: record each node that believes it leads. */
  observeLeaders(): void {
    for (const node of this.liveNodes()) {
      const status = node.status();
      if (status.role === "leader") this.context.monitor.observeLeader(status.id, status.term);
    }
  }

  assertInvariants(): void {
    for (const node of this.liveNodes()) node.assertInvariants();
  }

  private member(id: NodeId): SimMember {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`unknown simulated node ${id}`);
    return member;
  }

  private monitoredTransport(id: NodeId, storage: SimStorage, inner: Transport): Transport {
    const monitor = this.context.monitor;
    return {
      send: (envelope: Envelope) => {
        monitor.observeSend(id, envelope, storage);
        inner.send(envelope);
      },
      onMessage: (handler: (envelope: ConsensusEnvelope) => void) => inner.onMessage(handler),
      close: () => inner.close(),
    };
  }
}
