import { noopMetrics } from "@lockstep/consensus";
import type { MetricsSink, RandomSource, TimerHandle, Transport } from "@lockstep/consensus";
import { ConsensusMessageSchema, EnvelopeSchema } from "@lockstep/protocol";
import type { ConsensusEnvelope, Envelope, NodeId } from "@lockstep/protocol";
import { LinkCuts } from "./link-cuts.js";
import { defaultLinkFaults, emptyNetworkStats, mergeLinkFaults } from "./network-faults.js";
import type { DropReason, LatencyFunction, LinkFaults, NetworkStats } from "./network-faults.js";
import { randomInt } from "./seeded-random.js";
import type { VirtualClock } from "./virtual-clock.js";

export const defaultInflightPerLinkMax = 1_000;

// Which body types reach a consensus handler; Hello/Goodbye belong to a connection, not to Raft.
const consensusTypes: ReadonlySet<string> = new Set(ConsensusMessageSchema.options.map((option) => option.shape.type.value));

export interface MemoryNetworkOptions {
  clock: VirtualClock;
  /** The only source of randomness: the same seed and the same calls give the same deliveries. */
  random: RandomSource;
  /** Faults of every link without its own setting. */
  faults?: Partial<LinkFaults>;
  /** Replaces the uniform [latencyMsMin, latencyMsMax] latency on every link. */
  latencyMs?: LatencyFunction;
  /** Messages in flight per directed link at most; more are dropped as "overflow". */
  inflightPerLinkMax?: number;
  /** Checks every envelope against the protocol schema at send (slower; catches malformed senders). */
  validateEnvelopes?: boolean;
  metrics?: MetricsSink;
  /** Called for every send, delivery, duplicate and drop: a trace of the run. */
  onEvent?: (event: NetworkEvent) => void;
}

export interface NetworkEvent {
  kind: "send" | "deliver" | "duplicate" | "drop";
  atMs: number;
  from: NodeId;
  to: NodeId;
  type: string;
  reason?: DropReason;
}

interface NodeState {
  /** Bumped by every crash: endpoints of an older incarnation are dead. */
  incarnation: number;
  down: boolean;
  handler: ((envelope: ConsensusEnvelope) => void) | null;
}

interface InFlight {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly type: string;
  /** The wire copy: a string cannot be mutated by the sender, and each delivery parses its own object. */
  readonly json: string;
  handle: TimerHandle | null;
}

/**
 * An in-process network on virtual time (see README.md for the contract). Each message is
 * serialized with JSON at send and parsed at delivery, as a socket would: the receiver gets its
 * own object, fields set to `undefined` vanish, and a sender that mutates the envelope afterwards
 * changes nothing in flight.
 */
export class MemoryNetwork {
  private readonly clock: VirtualClock;
  private readonly random: RandomSource;
  private readonly metrics: MetricsSink;
  private readonly inflightPerLinkMax: number;
  private readonly options: MemoryNetworkOptions;
  private defaults: LinkFaults;
  private readonly linkFaults = new Map<string, LinkFaults>();
  private readonly cuts = new LinkCuts();
  private readonly nodes = new Map<NodeId, NodeState>();
  private readonly inflight = new Set<InFlight>();
  private readonly inflightByLink = new Map<string, number>();
  private readonly counters: NetworkStats = emptyNetworkStats();

  constructor(options: MemoryNetworkOptions) {
    this.options = options;
    this.clock = options.clock;
    this.random = options.random;
    this.metrics = options.metrics ?? noopMetrics;
    this.inflightPerLinkMax = options.inflightPerLinkMax ?? defaultInflightPerLinkMax;
    this.defaults = mergeLinkFaults(defaultLinkFaults, options.faults ?? {});
  }

  /** The transport of node `id` in its current incarnation (after a crash, call `restart` first). */
  endpoint(id: NodeId): Transport {
    const node = this.node(id);
    const incarnation = node.incarnation;
    let closed = false;
    const alive = (): boolean => !closed && node.incarnation === incarnation;
    return {
      send: (envelope: Envelope) => {
        this.send(id, envelope, alive() ? null : closed ? "closed" : "crashed");
      },
      onMessage: (handler) => {
        if (alive()) node.handler = handler;
      },
      close: () => {
        if (alive()) node.handler = null;
        closed = true;
        return Promise.resolve();
      },
    };
  }

  /** Changes the faults of every link that has no setting of its own. */
  setFaults(update: Partial<LinkFaults>): void {
    this.defaults = mergeLinkFaults(this.defaults, update);
  }

  /** Gives one directed link its own faults (on top of the current defaults). */
  setLinkFaults(from: NodeId, to: NodeId, update: Partial<LinkFaults>): void {
    this.linkFaults.set(linkKey(from, to), mergeLinkFaults(this.faultsOf(from, to), update));
  }

  clearLinkFaults(): void {
    this.linkFaults.clear();
  }

  faultsOf(from: NodeId, to: NodeId): LinkFaults {
    return this.linkFaults.get(linkKey(from, to)) ?? this.defaults;
  }

  partition(groupA: readonly NodeId[], groupB: readonly NodeId[]): void {
    this.cuts.partition(groupA, groupB);
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cuts.cutOneWay(from, to);
  }

  isolate(id: NodeId): void {
    this.cuts.isolate(id);
  }

  bridge(sideA: readonly NodeId[], sideB: readonly NodeId[], bridgeNode: NodeId): void {
    this.cuts.bridge(sideA, sideB, bridgeNode);
  }

  /** Removes every cut (partitions, one-way cuts, isolations, bridges). Link faults stay. */
  heal(): void {
    this.cuts.heal();
  }

  canReach(from: NodeId, to: NodeId): boolean {
    return this.cuts.canReach(from, to);
  }

  describeCuts(): string[] {
    return this.cuts.describe();
  }

  /**
   * A power cut at `id`: everything in flight to or from it is dropped, its handler is removed,
   * and every endpoint it was given is dead for good. Messages sent to it are dropped until
   * `restart(id)`.
   */
  crash(id: NodeId): void {
    const node = this.node(id);
    node.incarnation++;
    node.down = true;
    node.handler = null;
    for (const message of [...this.inflight]) {
      if (message.from === id || message.to === id) this.dropInflight(message, "crashed");
    }
  }

  /** Brings `id` back: fetch a fresh `endpoint(id)` and register its handler. A no-op if it is up. */
  restart(id: NodeId): void {
    this.node(id).down = false;
  }

  /** Copies of the counters. */
  stats(): NetworkStats {
    return { ...this.counters, droppedByReason: { ...this.counters.droppedByReason } };
  }

  /** Messages scheduled and not yet delivered or dropped. */
  inflightCount(): number {
    return this.inflight.size;
  }

  private send(from: NodeId, envelope: Envelope, deadEndpoint: DropReason | null): void {
    const to = typeof (envelope as { to?: unknown } | null | undefined)?.to === "string" ? envelope.to : "unknown";
    const type = bodyType(envelope);
    this.counters.sent++;
    this.metrics.increment("messages_sent_total", { node: from, peer: to, type });
    this.emit("send", from, to, type);
    const rejected = deadEndpoint ?? this.checkSendable(from, envelope, type);
    if (rejected !== null) return this.countDrop(from, to, type, rejected);
    const json = serialize(envelope, this.options.validateEnvelopes === true);
    if (json === null) return this.countDrop(from, to, type, "invalid");
    // Every decision is drawn on every send, so a run's random stream does not depend on which
    // faults fired; only the extra draws of a reorder or a duplicate depend on the outcome.
    const faults = this.faultsOf(from, to);
    const lost = this.random() < faults.lossProbability;
    const duplicated = this.random() < faults.duplicateProbability;
    if (lost) return this.countDrop(from, to, type, "lost");
    this.schedule({ from, to, type, json, handle: null }, faults);
    if (duplicated) {
      this.counters.duplicated++;
      this.emit("duplicate", from, to, type);
      this.schedule({ from, to, type, json, handle: null }, faults);
    }
  }

  private checkSendable(from: NodeId, envelope: Envelope, type: string): DropReason | null {
    if (this.node(from).down) return "crashed";
    if (!consensusTypes.has(type) || envelope.from !== from) return "invalid";
    if (!this.cuts.canReach(from, envelope.to)) return "partitioned";
    return null;
  }

  private schedule(message: InFlight, faults: LinkFaults): void {
    const key = linkKey(message.from, message.to);
    const count = this.inflightByLink.get(key) ?? 0;
    if (count >= this.inflightPerLinkMax) return this.countDrop(message.from, message.to, message.type, "overflow");
    let delayMs = this.latency(message.from, message.to, faults);
    if (this.random() < faults.reorderProbability && faults.reorderDelayMsMax > 0) {
      delayMs += randomInt(this.random, 0, faults.reorderDelayMsMax);
    }
    this.inflightByLink.set(key, count + 1);
    this.inflight.add(message);
    message.handle = this.clock.setTimeout(() => this.deliver(message), delayMs);
  }

  private latency(from: NodeId, to: NodeId, faults: LinkFaults): number {
    const custom = this.options.latencyMs;
    if (custom !== undefined) return Math.max(0, custom(this.random, from, to));
    return randomInt(this.random, faults.latencyMsMin, faults.latencyMsMax + 1);
  }

  private deliver(message: InFlight): void {
    this.forget(message);
    const { from, to, type } = message;
    const receiver = this.node(to);
    // A partition that formed while the message was on the wire drops it, as a real one would.
    if (!this.cuts.canReach(from, to)) return this.countDrop(from, to, type, "partitioned");
    if (receiver.down) return this.countDrop(from, to, type, "crashed");
    const handler = receiver.handler;
    if (handler === null) return this.countDrop(from, to, type, "no_handler");
    this.counters.delivered++;
    this.metrics.increment("messages_received_total", { node: to, peer: from, type });
    this.emit("deliver", from, to, type);
    handler(JSON.parse(message.json) as ConsensusEnvelope);
  }

  private dropInflight(message: InFlight, reason: DropReason): void {
    if (message.handle !== null) this.clock.clearTimeout(message.handle);
    this.forget(message);
    this.countDrop(message.from, message.to, message.type, reason);
  }

  private forget(message: InFlight): void {
    if (!this.inflight.delete(message)) return;
    const key = linkKey(message.from, message.to);
    const count = (this.inflightByLink.get(key) ?? 1) - 1;
    if (count === 0) this.inflightByLink.delete(key);
    else this.inflightByLink.set(key, count);
  }

  private countDrop(from: NodeId, to: NodeId, type: string, reason: DropReason): void {
    this.counters.dropped++;
    this.counters.droppedByReason[reason]++;
    this.metrics.increment("message_delivery_failures_total", { node: from, peer: to, type, reason });
    this.emit("drop", from, to, type, reason);
  }

  private emit(kind: NetworkEvent["kind"], from: NodeId, to: NodeId, type: string, reason?: DropReason): void {
    const onEvent = this.options.onEvent;
    if (onEvent === undefined) return;
    onEvent({ kind, atMs: this.clock.nowMs(), from, to, type, ...(reason === undefined ? {} : { reason }) });
  }

  private node(id: NodeId): NodeState {
    let node = this.nodes.get(id);
    if (node === undefined) {
      node = { incarnation: 0, down: false, handler: null };
      this.nodes.set(id, node);
    }
    return node;
  }
}

/** The body's type, read defensively: `send` must not throw even on a malformed envelope. */
function bodyType(envelope: Envelope): string {
  const body = (envelope as { body?: { type?: unknown } } | null | undefined)?.body;
  return typeof body?.type === "string" ? body.type : "unknown";
}

/** The envelope as it would cross a socket, or null if it could not (a sender's bug, counted). */
function serialize(envelope: Envelope, validate: boolean): string | null {
  let json: string;
  try {
    json = JSON.stringify(envelope);
  } catch {
    return null;
  }
  if (validate && !EnvelopeSchema.safeParse(JSON.parse(json)).success) return null;
  return json;
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}\u0000${to}`;
}
