import type { AppliedEvent } from "@lockstep/consensus";
import type { MachineState } from "@lockstep/protocol";
import type { DashboardCounters } from "../counting-metrics-sink.js";
import type { ApiContext } from "./api-context.js";
import type { BufferBudget } from "./buffer-budget.js";
import { clusterStatus } from "./cluster-status.js";
import type { WatchSocket } from "./watch-hub.js";

export interface DashboardFeedOptions {
  intervalMs: number;
  clientsMax: number;
  /** A client whose socket holds more than this many unsent bytes skips updates until it drains. */
  bufferedBytesMax: number;
  /** Keys per page of the state table. Default 200. */
  pageKeysMax?: number;
  /** Changed keys sent in one update; more are counted (`changedOmitted`), and the page reloads its page. Default 500. */
  changedKeysMax?: number;
  /** How often the charts get a point. Default 1000 ms. */
  sampleIntervalMs?: number;
  /** Points kept for the charts. Default 300 (five minutes at one a second). */
  samplesMax?: number;
  /** Leader changes kept. Default 20. */
  leaderChangesMax?: number;
  /** The node-wide budget of buffered bytes shared with the watches. */
  budget?: BufferBudget;
}

/** One point of the dashboard's charts. */
export interface DashboardSample {
  atMs: number;
  /** Transitions applied per second on this node since the previous sample. */
  commitsPerSecond: number;
  /** Commit latency (arrival to answer) of the requests this node answered since the previous sample; null without any. */
  commitP50Ms: number | null;
  commitP99Ms: number | null;
  /** How far each member's log is behind the commit index, as this node knows it (only the leader knows). */
  lags: Record<string, number | null>;
}

export interface LeaderChange {
  atMs: number;
  term: number;
  leader: string | null;
}

interface FeedHeader {
  atMs: number;
  cluster: ReturnType<typeof clusterStatus>;
  revision: number;
  machineCount: number;
  counters: DashboardCounters;
  leaderChanges: LeaderChange[];
}

/** Sent once, when a dashboard connects: the first page of keys and the charts' history. */
export interface DashboardSnapshot extends FeedHeader {
  type: "snapshot";
  page: DashboardPage;
  samples: DashboardSample[];
}

/** Sent every `intervalMs`: what changed since the previous update, never every key. */
export interface DashboardUpdate extends FeedHeader {
  type: "update";
  changed: MachineState[];
  changedOmitted: number;
  samples: DashboardSample[];
}

export interface DashboardPage {
  index: number;
  pageCount: number;
  pageKeysMax: number;
  machines: MachineState[];
}

/**
 * The dashboard's WebSocket feed. A page gets one snapshot (the first page of keys, five minutes
 * of chart points, recent leader changes), then every `intervalMs` an update with the status, the
 * counters, the new chart points and the keys applied since the last update, so an idle or large
 * store costs nothing per update: the keys are sorted only when a page of them is asked for
 * (`{ "type": "page", "index": N }` from the page). A slow page skips updates; nothing queues up.
 */
export class DashboardFeed {
  private readonly sockets = new Set<WatchSocket>();
  private timer: NodeJS.Timeout | null = null;
  private readonly sampler: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly changed = new Map<string, MachineState>();
  private changedOmitted = 0;
  private readonly sampleHistory: DashboardSample[] = [];
  private samplesSent = 0;
  private readonly leaderHistory: LeaderChange[] = [];
  private lastLeader: string | null | undefined = undefined;
  private lastSample = { atMs: Date.now(), transitionsOk: 0 };
  private readonly pageKeysMax: number;
  private readonly changedKeysMax: number;
  private readonly samplesMax: number;
  private readonly leaderChangesMax: number;

  constructor(
    private readonly context: ApiContext,
    private readonly options: DashboardFeedOptions,
  ) {
    this.pageKeysMax = options.pageKeysMax ?? 200;
    this.changedKeysMax = options.changedKeysMax ?? 500;
    this.samplesMax = options.samplesMax ?? 300;
    this.leaderChangesMax = options.leaderChangesMax ?? 20;
    this.lastSample.transitionsOk = context.counters().transitionsOk;
    this.unsubscribe = context.node.onApplied((event) => this.onApplied(event));
    this.sampler = setInterval(() => this.sample(), options.sampleIntervalMs ?? 1000);
    this.sampler.unref();
    this.noteLeader();
  }

  add(socket: WatchSocket): void {
    if (this.sockets.size >= this.options.clientsMax) {
      socket.send(JSON.stringify({ type: "error", code: "overloaded", message: `too many dashboards open (dashboardClientsMax ${this.options.clientsMax})` }), () =>
        socket.close(1013, "overloaded"),
      );
      return;
    }
    this.sockets.add(socket);
    this.options.budget?.add(socket);
    this.sendTo(socket, JSON.stringify(this.snapshot()));
    this.timer ??= setInterval(() => this.broadcast(), this.options.intervalMs);
  }

  remove(socket: WatchSocket): void {
    this.sockets.delete(socket);
    this.options.budget?.remove(socket);
    if (this.sockets.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
      this.changed.clear();
      this.changedOmitted = 0;
    }
  }

  /** A message from a page: `{ "type": "page", "index": N }` asks for one page of keys. */
  onMessage(socket: WatchSocket, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null || (message as { type?: unknown }).type !== "page") return;
    const index = Number((message as { index?: unknown }).index);
    if (!Number.isSafeInteger(index) || index < 0) return;
    this.sendTo(socket, JSON.stringify({ type: "page", page: this.page(index) }));
  }

  close(): void {
    for (const socket of this.sockets) socket.close(1000, "node shutting down");
    this.sockets.clear();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    clearInterval(this.sampler);
    this.unsubscribe();
  }

  snapshot(): DashboardSnapshot {
    return { type: "snapshot", ...this.header(), page: this.page(0), samples: [...this.sampleHistory] };
  }

  /** The charts' points (for `GET /v1/dashboard-samples`: a page shows the leader's follower lags). */
  samples(): { self: string; samples: DashboardSample[]; leaderChanges: LeaderChange[] } {
    return { self: this.context.selfId, samples: [...this.sampleHistory], leaderChanges: [...this.leaderHistory] };
  }

  /**
   * One page of keys in key order, read from the store's own sorted index (which merges in the
   * keys created since it was last read): no copy of every key per page, and a key deleted and
   * another created since the last page never leaves the page stale.
   */
  page(index: number): DashboardPage {
    const store = this.context.node.localStore;
    const pageCount = Math.max(1, Math.ceil(store.keyCount / this.pageKeysMax));
    const clamped = Math.min(index, pageCount - 1);
    const machines = store.pageAt(clamped * this.pageKeysMax, this.pageKeysMax);
    return { index: clamped, pageCount, pageKeysMax: this.pageKeysMax, machines };
  }

  private header(): FeedHeader {
    const store = this.context.node.localStore;
    return {
      atMs: Date.now(),
      cluster: clusterStatus(this.context),
      revision: store.appliedIndex,
      machineCount: store.keyCount,
      counters: { ...this.context.counters() },
      leaderChanges: [...this.leaderHistory],
    };
  }

  private onApplied(event: AppliedEvent): void {
    if (this.sockets.size === 0 || event.command.kind !== "transition" || !event.result.ok) return;
    const key = event.command.key;
    if (!this.changed.has(key) && this.changed.size >= this.changedKeysMax) {
      this.changedOmitted += 1;
      return;
    }
    // Deleted and re-set so that the map stays in order of the latest change.
    this.changed.delete(key);
    this.changed.set(key, { key, ...this.context.node.localStore.get(key) });
  }

  private sample(): void {
    this.noteLeader();
    const now = Date.now();
    const transitionsOk = this.context.counters().transitionsOk;
    const elapsedSeconds = Math.max(0.001, (now - this.lastSample.atMs) / 1000);
    const latencies = (this.context.commitLatenciesMs?.() ?? []).sort((a, b) => a - b);
    const lags: Record<string, number | null> = {};
    for (const member of clusterStatus(this.context).members) lags[member.id] = member.lag;
    this.sampleHistory.push({
      atMs: now,
      commitsPerSecond: Math.max(0, transitionsOk - this.lastSample.transitionsOk) / elapsedSeconds,
      commitP50Ms: percentile(latencies, 0.5),
      commitP99Ms: percentile(latencies, 0.99),
      lags,
    });
    this.lastSample = { atMs: now, transitionsOk };
    if (this.sampleHistory.length > this.samplesMax) {
      this.sampleHistory.shift();
      this.samplesSent = Math.max(0, this.samplesSent - 1);
    }
  }

  private noteLeader(): void {
    const status = this.context.node.status();
    if (status.leader === this.lastLeader) return;
    this.lastLeader = status.leader;
    this.leaderHistory.push({ atMs: Date.now(), term: status.term, leader: status.leader });
    if (this.leaderHistory.length > this.leaderChangesMax) this.leaderHistory.shift();
  }

  private broadcast(): void {
    if (this.sockets.size === 0) return;
    const update: DashboardUpdate = {
      type: "update",
      ...this.header(),
      changed: [...this.changed.values()],
      changedOmitted: this.changedOmitted,
      samples: this.sampleHistory.slice(this.samplesSent),
    };
    this.changed.clear();
    this.changedOmitted = 0;
    this.samplesSent = this.sampleHistory.length;
    const text = JSON.stringify(update);
    for (const socket of this.sockets) this.sendTo(socket, text);
  }

  private sendTo(socket: WatchSocket, text: string): void {
    if (this.options.budget?.shouldCut(socket, "dashboard") === true) {
      this.remove(socket);
      if (socket.terminate === undefined) socket.close(1013, "overloaded");
      else socket.terminate();
      return;
    }
    if (socket.bufferedAmount > this.options.bufferedBytesMax) return;
    socket.send(text, (error) => {
      if (error instanceof Error) this.remove(socket);
    });
  }
}

/** The `fraction` quantile of sorted values (nearest rank), or null for none. */
function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}
