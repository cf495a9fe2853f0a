import type { AppliedEvent } from "@lockstep/consensus";
import type { WatchError, WatchEvent } from "@lockstep/protocol";
import type { BufferBudget } from "./buffer-budget.js";
import { WatchHistory } from "./watch-history.js";

/** The part of a WebSocket the hub uses; `ws` sockets satisfy it, and tests pass fakes. */
export interface WatchSocket {
  readonly bufferedAmount: number;
  /** `ws` calls back with null or undefined on success, an Error on failure. */
  send(data: string, callback: (error?: Error | null) => void): void;
  close(code: number, reason: string): void;
  /** Drops the connection without flushing what is buffered (`ws` has it). */
  terminate?(): void;
}

export interface WatchHubOptions {
  /** Applied transitions kept for resuming watches. */
  historyEventsMax: number;
  /** A watch's unsent bytes beyond which the hub waits for the socket to drain before sending more. */
  bufferedBytesMax: number;
  /** Watches open at once; more are refused with `overloaded`. */
  clientsMax: number;
  /**
   * The store's applied index when the hub starts listening: the history is complete after it. A
   * node passes 0 and feeds the hub from its first applied entry, then calls `startAfter`.
   */
  appliedIndex: number;
  /** Events sent in one turn of the event loop, so a long replay does not starve the rest of the node. */
  sendBatchEventsMax?: number;
  /** The node-wide budget of buffered bytes shared with the dashboard feeds. */
  budget?: BufferBudget;
}

interface Watcher {
  socket: WatchSocket;
  /** The sequence (in the history) of the next event this watcher gets. */
  cursor: number;
  /** Waiting for its socket to drain, or for the next turn. */
  paused: boolean;
  closed: boolean;
}

/** WebSocket close codes: 1000 normal, 1008 policy (bad request), 1011 server condition, 1013 try again later. */
const closeNormal = 1000;
const closePolicy = 1008;
const closeTryAgainLater = 1013;

/**
 * Streams applied transitions to watchers, each event once and in revision order, resumable
 * from a revision kept in a bounded history. Memory stays bounded whatever the consumers do:
 * the history is a fixed ring, a watcher's socket is fed only while its buffer is below
 * `bufferedBytesMax`, and a watcher that falls a whole history behind is disconnected with
 * `overloaded` (it may reconnect from the revision it last saw).
 */
export class WatchHub {
  private readonly history: WatchHistory;
  private readonly watchers = new Set<Watcher>();
  private readonly sendBatchEventsMax: number;
  private lastAppliedIndex: number;

  constructor(private readonly options: WatchHubOptions) {
    this.history = new WatchHistory(options.historyEventsMax, options.appliedIndex + 1);
    this.lastAppliedIndex = options.appliedIndex;
    this.sendBatchEventsMax = options.sendBatchEventsMax ?? 1024;
  }

  get clientCount(): number {
    return this.watchers.size;
  }

  get oldestRevision(): number {
    return this.history.oldestRevision;
  }

  /** Feed every applied entry here, in order (ConsensusNode.onApplied). */
  onApplied(event: AppliedEvent): void {
    if (event.index !== this.lastAppliedIndex + 1) this.onGap(event.index);
    this.lastAppliedIndex = event.index;
    const watchEvent = watchEventOf(event);
    if (watchEvent === undefined) return;
    this.history.append(watchEvent);
    this.disconnectLagging();
    for (const watcher of this.watchers) this.pump(watcher);
  }

  /**
   * The store's applied index once the node has started. Entries up to it that never reached
   * `onApplied` came in the snapshot the store was restored from: the history starts after them.
   */
  startAfter(appliedIndex: number): void {
    if (appliedIndex < this.lastAppliedIndex) throw new Error(`watch hub: the store's applied index ${appliedIndex} is below the last entry the hub heard of (${this.lastAppliedIndex})`);
    if (appliedIndex > this.lastAppliedIndex) this.onGap(appliedIndex + 1);
    this.lastAppliedIndex = appliedIndex;
  }

  /**
   * Starts a watch from `fromRevision` (inclusive), or from the next event when undefined.
   * A revision the history no longer holds gets a `compacted` error naming the oldest one it does.
   */
  subscribe(socket: WatchSocket, fromRevision: number | undefined): void {
    if (this.watchers.size >= this.options.clientsMax) {
      this.refuse(socket, { type: "error", code: "overloaded", message: `too many watches open (watchClientsMax ${this.options.clientsMax})` }, closeTryAgainLater);
      return;
    }
    // Revision 0 holds no transition (log indexes start at 1), so `from=0` means from the start.
    if (fromRevision !== undefined && Math.max(fromRevision, 1) < this.history.oldestRevision) {
      this.refuse(socket, compacted(fromRevision, this.history.oldestRevision), closePolicy);
      return;
    }
    const cursor = fromRevision === undefined ? this.history.nextSequence : this.history.sequenceFor(fromRevision);
    const watcher: Watcher = { socket, cursor, paused: false, closed: false };
    this.watchers.add(watcher);
    this.options.budget?.add(socket);
    this.pump(watcher);
  }

  /** The socket closed (or errored): forget its watcher. */
  unsubscribe(socket: WatchSocket): void {
    for (const watcher of this.watchers) {
      if (watcher.socket !== socket) continue;
      watcher.closed = true;
      this.watchers.delete(watcher);
    }
    this.options.budget?.remove(socket);
  }

  /** Closes every watch (node shutdown). */
  close(): void {
    for (const watcher of this.watchers) this.end(watcher, closeNormal, "node shutting down");
  }

  private pump(watcher: Watcher): void {
    if (watcher.paused || watcher.closed) return;
    let sent = 0;
    while (watcher.cursor < this.history.nextSequence) {
      if (watcher.socket.bufferedAmount >= this.options.bufferedBytesMax) {
        // The send callback of what is buffered resumes this watcher once it drains.
        watcher.paused = true;
        return;
      }
      if (this.options.budget?.shouldCut(watcher.socket, "watch") === true) {
        // The node's buffer budget is spent and this watch is behind: drop it, unflushed, rather
        // than hold more. Its client resumes from the last revision it saw.
        this.cut(watcher);
        return;
      }
      if (sent >= this.sendBatchEventsMax) {
        watcher.paused = true;
        setImmediate(() => this.resume(watcher));
        return;
      }
      const event = this.history.at(watcher.cursor)!;
      watcher.cursor++;
      sent++;
      watcher.socket.send(JSON.stringify(event), (error) => {
        if (error instanceof Error) this.unsubscribe(watcher.socket);
        else if (watcher.paused && watcher.socket.bufferedAmount < this.options.bufferedBytesMax) this.resume(watcher);
      });
    }
  }

  private resume(watcher: Watcher): void {
    watcher.paused = false;
    this.pump(watcher);
  }

  /** A watcher whose next event was evicted can no longer be served in order: it is too slow. */
  private disconnectLagging(): void {
    const first = this.history.firstSequence;
    for (const watcher of this.watchers) {
      if (watcher.cursor >= first) continue;
      const error: WatchError = {
        type: "error",
        code: "overloaded",
        message: `this watch fell more than ${this.options.historyEventsMax} events behind (watchHistoryEventsMax); reconnect to resume`,
        oldestRevision: this.history.oldestRevision,
      };
      this.sendAndEnd(watcher, error, closeTryAgainLater);
    }
  }

  /** Entries were skipped (a snapshot from the leader replaced the store): every watch has a hole. */
  private onGap(index: number): void {
    this.history.reset(index);
    for (const watcher of this.watchers) this.sendAndEnd(watcher, compacted(null, index), closePolicy);
  }

  private refuse(socket: WatchSocket, error: WatchError, code: number): void {
    socket.send(JSON.stringify(error), () => socket.close(code, error.code));
  }

  private sendAndEnd(watcher: Watcher, error: WatchError, code: number): void {
    watcher.closed = true;
    this.watchers.delete(watcher);
    this.options.budget?.remove(watcher.socket);
    watcher.socket.send(JSON.stringify(error), () => watcher.socket.close(code, error.code));
  }

  private cut(watcher: Watcher): void {
    watcher.closed = true;
    this.watchers.delete(watcher);
    if (watcher.socket.terminate === undefined) watcher.socket.close(closeTryAgainLater, "overloaded");
    else watcher.socket.terminate();
  }

  private end(watcher: Watcher, code: number, reason: string): void {
    watcher.closed = true;
    this.watchers.delete(watcher);
    this.options.budget?.remove(watcher.socket);
    watcher.socket.close(code, reason);
  }
}

/**
 * The watch event an applied entry makes, if any. A retried request (same session) is answered
 * from the session table without being applied again: its result carries the first revision,
 * and it is not a new event. A delete of a key that held nothing changes nothing.
 */
export function watchEventOf(event: AppliedEvent): WatchEvent | undefined {
  const result = event.result;
  if (!result.ok) return undefined;
  if (result.kind === "transition" && result.revision === event.index) {
    return { type: "transition", revision: result.revision, key: result.key, from: result.from, to: result.to };
  }
  if (result.kind === "delete" && result.deleted && result.revision === event.index) {
    return { type: "delete", revision: result.revision, key: result.key, from: result.from };
  }
  return undefined;
}

function compacted(fromRevision: number | null, oldestRevision: number): WatchError {
  const asked = fromRevision === null ? "this watch's position" : `revision ${fromRevision}`;
  return {
    type: "error",
    code: "compacted",
    message: `${asked} is no longer in the watch history; the oldest revision to resume from is ${oldestRevision} (read the current states first)`,
    oldestRevision,
  };
}
