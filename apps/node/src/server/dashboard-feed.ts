import type { MachineState } from "@lockstep/protocol";
import type { DashboardCounters } from "../counting-metrics-sink.js";
import type { ApiContext } from "./api-context.js";
import type { BufferBudget } from "./buffer-budget.js";
import { clusterStatus } from "./cluster-status.js";
import type { WatchSocket } from "./watch-hub.js";

export interface DashboardFeedOptions {
  intervalMs: number;
  clientsMax: number;
  /** A client whose socket holds more than this many unsent bytes skips snapshots until it drains. */
  bufferedBytesMax: number;
  /** Keys listed per snapshot; the rest are counted, not sent. */
  keysMax?: number;
  /** The node-wide budget of buffered bytes shared with the watches. */
  budget?: BufferBudget;
}

/** What the dashboard page receives every `intervalMs`. */
export interface DashboardSnapshot {
  type: "snapshot";
  atMs: number;
  cluster: ReturnType<typeof clusterStatus>;
  revision: number;
  machines: MachineState[];
  machineCount: number;
  counters: DashboardCounters;
}

/**
 * Pushes a status-and-states snapshot to each dashboard socket at a fixed interval. Snapshots
 * replace each other, so a slow page simply skips some: nothing queues up.
 */
export class DashboardFeed {
  private readonly sockets = new Set<WatchSocket>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly context: ApiContext,
    private readonly options: DashboardFeedOptions,
  ) {}

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
    }
  }

  close(): void {
    for (const socket of this.sockets) socket.close(1000, "node shutting down");
    this.sockets.clear();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  snapshot(): DashboardSnapshot {
    const store = this.context.node.localStore;
    const keys = store.keys();
    const keysMax = this.options.keysMax ?? 500;
    const machines = keys.slice(0, keysMax).map((key) => ({ key, ...store.get(key) }));
    return {
      type: "snapshot",
      atMs: Date.now(),
      cluster: clusterStatus(this.context),
      revision: store.appliedIndex,
      machines,
      machineCount: keys.length,
      counters: { ...this.context.counters() },
    };
  }

  private broadcast(): void {
    if (this.sockets.size === 0) return;
    const text = JSON.stringify(this.snapshot());
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
