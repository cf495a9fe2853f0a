import type { ConsensusEnvelope, ConsensusMessage, Envelope, NodeId } from "@lockstep/protocol";
import { lifecycleDefinition } from "@lockstep/state-machine";
import { ConsensusNode, type ConsensusNodeOptions } from "../driver/consensus-node.js";
import type { DriverConfig } from "../driver/driver-config.js";
import type { Clock, HardState, Logger, PersistedState, Snapshot, Storage, StorageWrite, TimerHandle, Transport } from "../interfaces.js";
import type { CounterName, GaugeName, HistogramName, MetricLabels, MetricsSink } from "../metrics-sink.js";
import { seededRandom } from "./seeded-random.js";

/** Virtual time for one driver under test: timers run only when the test moves the clock. */
export class ManualClock implements Clock {
  private now = 0;
  private nextTimerId = 1;
  private readonly timers = new Map<number, { dueMs: number; callback: () => void }>();

  nowMs(): number {
    return this.now;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timerId = this.nextTimerId++;
    this.timers.set(timerId, { dueMs: this.now + delayMs, callback });
    return { timerId };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.timerId);
  }

  /** Moves time forward by `ms`, running every timer that falls due, in due order. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      let next: [number, { dueMs: number; callback: () => void }] | undefined;
      for (const timer of this.timers) if (timer[1].dueMs <= target && (next === undefined || timer[1].dueMs < next[1].dueMs)) next = timer;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.now = next[1].dueMs;
      next[1].callback();
      await settle();
    }
    this.now = target;
    await settle();
  }
}

/** Lets promise chains and microtasks run (the driver's Ready loop is asynchronous). */
export async function settle(): Promise<void> {
  for (let round = 0; round < 5; round++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A transport that records what the node sends and lets the test play the other members. */
export class CapturingTransport implements Transport {
  readonly sent: Envelope[] = [];
  private handler: ((envelope: ConsensusEnvelope) => void) | null = null;

  send(envelope: Envelope): void {
    this.sent.push(envelope);
  }

  onMessage(handler: (envelope: ConsensusEnvelope) => void): void {
    this.handler = handler;
  }

  deliver(from: NodeId, to: NodeId, body: ConsensusMessage, cluster = "test"): void {
    this.handler?.({ v: 1, cluster, from, to, body });
  }

  bodies<T extends ConsensusMessage["type"]>(type: T): Array<Extract<ConsensusMessage, { type: T }>> {
    return this.sent.map((envelope) => envelope.body).filter((body): body is Extract<ConsensusMessage, { type: T }> => body.type === type);
  }

  async close(): Promise<void> {}
}

/** Storage kept in memory that survives a "restart" (a new ConsensusNode over the same object). */
export class ArrayStorage implements Storage {
  hardState: HardState = { term: 0, votedFor: null, commitIndex: 0 };
  snapshot: Snapshot | null = null;
  entries: PersistedState["entries"] = [];
  readonly snapshotsSaved: Snapshot[] = [];

  load(): Promise<PersistedState> {
    return Promise.resolve({ hardState: { ...this.hardState }, snapshot: this.snapshot, entries: [...this.entries] });
  }

  persist(write: StorageWrite): Promise<void> {
    const first = write.entries[0];
    if (first !== undefined) {
      const keep = this.entries.findIndex((entry) => entry.index >= first.index);
      if (keep >= 0) this.entries.length = keep;
      this.entries.push(...write.entries);
    }
    if (write.hardState !== undefined) this.hardState = write.hardState;
    return Promise.resolve();
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.snapshotsSaved.push(snapshot);
    this.snapshot = snapshot;
    return Promise.resolve();
  }

  compact(index: number): Promise<void> {
    this.entries = this.entries.filter((entry) => entry.index > index);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Every metric reported, summed per name and labels. */
export class RecordingMetrics implements MetricsSink {
  readonly counters = new Map<string, number>();

  increment(name: CounterName, labels: MetricLabels = {}, by = 1): void {
    const key = `${name}${JSON.stringify(labels)}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  observe(_name: HistogramName, _labels: MetricLabels, _value: number): void {}

  set(_name: GaugeName, _labels: MetricLabels, _value: number): void {}

  counter(name: CounterName, labels: MetricLabels): number {
    return this.counters.get(`${name}${JSON.stringify(labels)}`) ?? 0;
  }
}

/** A logger that keeps every line, for tests that count what was logged. */
export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; fields: object; message: string }> = [];
  debug(fields: object, message: string): void {
    this.lines.push({ level: "debug", fields, message });
  }
  info(fields: object, message: string): void {
    this.lines.push({ level: "info", fields, message });
  }
  warn(fields: object, message: string): void {
    this.lines.push({ level: "warn", fields, message });
  }
  error(fields: object, message: string): void {
    this.lines.push({ level: "error", fields, message });
  }
  child(): Logger {
    return this;
  }
}

/** Starts one ConsensusNode `n2` of the members n1, n2, n3 over test doubles; the test plays n1 and n3. */
export async function startDriver(
  parts: { clock: ManualClock; transport: CapturingTransport; storage: ArrayStorage; seed: number } & Partial<ConsensusNodeOptions>,
): Promise<ConsensusNode> {
  const { clock, transport, storage, seed, ...rest } = parts;
  return ConsensusNode.start({
    id: "n2",
    cluster: "test",
    members: ["n1", "n2", "n3"],
    definition: lifecycleDefinition,
    transport,
    storage,
    clock,
    random: seededRandom(seed),
    config: { tickMs: 10, consensusTimeoutMs: 5_000 },
    ...rest,
  });
}

/**
 * A one-member cluster `n1` over test doubles, already leader: it elects itself and commits alone,
 * so every write is applied at once. `metrics` and `config` are passed through.
 */
export async function startSingleNode(
  options: { seed: number; config?: Partial<DriverConfig>; metrics?: ConsensusNodeOptions["metrics"] } = { seed: 1 },
): Promise<{ node: ConsensusNode; clock: ManualClock; storage: ArrayStorage }> {
  const clock = new ManualClock();
  const storage = new ArrayStorage();
  const node = await ConsensusNode.start({
    id: "n1",
    cluster: "test",
    members: ["n1"],
    definition: lifecycleDefinition,
    transport: new CapturingTransport(),
    storage,
    clock,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    random: seededRandom(options.seed),
    config: { tickMs: 10, consensusTimeoutMs: 5_000, ...options.config },
  });
  await clock.advance(500);
  if (node.summary().role !== "leader") throw new Error(`startSingleNode: n1 is ${node.summary().role} after 500 ms, not leader`);
  return { node, clock, storage };
}
