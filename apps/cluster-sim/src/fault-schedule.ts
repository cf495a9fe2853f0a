import type { RandomSource } from "@lockstep/consensus";
import type { NodeId } from "@lockstep/protocol";
import { pickOne, randomInt } from "@lockstep/transport-memory";
import type { MemoryNetwork, VirtualClock } from "@lockstep/transport-memory";
import type { SimCluster } from "./sim-cluster.js";

/** Virtual ms between fault events: [min, max). */
const faultIntervalMsMin = 100;
const faultIntervalMsMax = 600;

export interface FaultStats {
  partitions: number;
  crashes: number;
  restarts: number;
  heals: number;
}

/**
 * Injects faults at random moments during the safety phase: partitions (symmetric, one-way,
 * isolation, bridges), crashes and restarts (losing unsynced writes), and bursts of loss,
 * duplication and reordering. A minority of nodes is kept crashed at most, so that the
 * liveness phase can always recover.
 */
export class FaultSchedule {
  readonly stats: FaultStats = { partitions: 0, crashes: 0, restarts: 0, heals: 0 };
  private running = false;
  private readonly crashed = new Set<NodeId>();

  constructor(
    private readonly context: {
      clock: VirtualClock;
      random: RandomSource;
      network: MemoryNetwork;
      cluster: SimCluster;
      ids: NodeId[];
    },
  ) {}

  start(): void {
    this.running = true;
    this.scheduleNext();
  }

  /** Ends the safety phase: stop injecting, heal the network, restart every crashed node. */
  async stopAndHeal(): Promise<void> {
    this.running = false;
    this.context.network.heal();
    this.context.network.setFaults({ lossProbability: 0, duplicateProbability: 0, reorderProbability: 0 });
    for (const id of [...this.crashed]) await this.restart(id);
  }

  private scheduleNext(): void {
    const delayMs = randomInt(this.context.random, faultIntervalMsMin, faultIntervalMsMax);
    this.context.clock.setTimeout(() => {
      if (!this.running) return;
      void this.injectOne().then(() => this.scheduleNext());
    }, delayMs);
  }

  private async injectOne(): Promise<void> {
    const { random, network, ids } = this.context;
    const choice = random();
    if (choice < 0.2) {
      const shuffled = this.shuffle(ids);
      const cut = randomInt(random, 1, ids.length);
      network.partition(shuffled.slice(0, cut), shuffled.slice(cut));
      this.stats.partitions++;
    } else if (choice < 0.3) {
      network.isolate(this.pick(ids));
      this.stats.partitions++;
    } else if (choice < 0.38) {
      const [from, to] = this.shuffle(ids);
      if (from !== undefined && to !== undefined) network.cutOneWay(from, to);
      this.stats.partitions++;
    } else if (choice < 0.45 && ids.length >= 3) {
      const shuffled = this.shuffle(ids);
      const [bridge, ...rest] = shuffled;
      const half = Math.floor(rest.length / 2);
      if (bridge !== undefined) network.bridge(rest.slice(0, half), rest.slice(half), bridge);
      this.stats.partitions++;
    } else if (choice < 0.6) {
      network.heal();
      this.stats.heals++;
    } else if (choice < 0.75) {
      this.crashOne();
    } else if (choice < 0.88) {
      const id = this.pickOrNull([...this.crashed]);
      if (id !== null) await this.restart(id);
    } else {
      network.setFaults({
        lossProbability: random() * 0.2,
        duplicateProbability: random() * 0.1,
        reorderProbability: random() * 0.3,
      });
    }
  }

  private crashOne(): void {
    // Keep a majority able to run: crash at most a minority at a time.
    const minority = Math.floor((this.context.ids.length - 1) / 2);
    if (this.crashed.size >= minority) return;
    const candidates = this.context.ids.filter((id) => !this.crashed.has(id));
    // Half the crashes hit the leader: leader changes are where replication bugs hide.
    const leader = this.context.cluster.liveNodes().find((node) => node.status().role === "leader")?.status().id;
    const id = leader !== undefined && this.context.random() < 0.5 ? leader : this.pick(candidates);
    this.context.cluster.crash(id);
    this.crashed.add(id);
    this.stats.crashes++;
  }

  private async restart(id: NodeId): Promise<void> {
    this.crashed.delete(id);
    await this.context.cluster.start(id);
    this.stats.restarts++;
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
