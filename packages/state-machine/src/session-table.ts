import type { SessionExpiredResult, TransitionResult } from "./apply-result.js";
import { assert } from "./assert.js";

/** One client's session: the answers to its most recent seqs. */
export interface ClientSessionRecord {
  /** The log index of the last entry that carried this client's session. */
  lastActivityIndex: number;
  /** The highest seq applied; 0 before the first. */
  highestSeq: number;
  /** Answers by seq, for every applied seq in the window `[oldestSeq, highestSeq]`. */
  readonly results: Map<number, TransitionResult>;
}

export interface SessionTableOptions {
  readonly sessionWindowSeqs: number;
  readonly sessionsMax: number;
}

/**
 * Client sessions (Raft thesis §6.3), tolerant of reordering: a client may have many requests in
 * flight, and they may reach the log out of seq order. Each client keeps the answers of the seqs
 * in a window of `sessionWindowSeqs` below its highest seq; a seq inside the window that has no
 * answer yet is new and applies. At most `sessionsMax` clients are kept; the one whose last
 * activity is oldest is evicted first. Every decision depends only on the log, so every replica
 * keeps the same table.
 */
export class SessionTable {
  readonly sessionWindowSeqs: number;
  readonly sessionsMax: number;
  // Map iteration order is insertion order; a client is re-inserted on every activity, so the
  // first entry is always the least recently active one, and eviction is O(1).
  readonly #clients = new Map<string, ClientSessionRecord>();

  constructor(options: SessionTableOptions) {
    assert(Number.isSafeInteger(options.sessionWindowSeqs) && options.sessionWindowSeqs >= 1, "sessionWindowSeqs must be a positive integer");
    assert(Number.isSafeInteger(options.sessionsMax) && options.sessionsMax >= 1, "sessionsMax must be a positive integer");
    this.sessionWindowSeqs = options.sessionWindowSeqs;
    this.sessionsMax = options.sessionsMax;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** The lowest seq whose answer `record` still knows, given its highest seq. */
  oldestSeq(record: ClientSessionRecord): number {
    return Math.max(1, record.highestSeq - this.sessionWindowSeqs + 1);
  }

  /**
   * Marks `clientId` active at `index` and looks `seq` up. Returns the first answer for a seq
   * already applied, a `session_expired` rejection for a seq below the window, or `undefined`
   * when the command is new: the caller then applies it and calls `remember`.
   */
  begin(index: number, clientId: string, seq: number): TransitionResult | SessionExpiredResult | undefined {
    // Hot path: build the message only when the check fails.
    if (!(Number.isSafeInteger(seq) && seq >= 1)) assert(false, `session seq must be a positive integer, got ${seq}`);
    const record = this.#touch(index, clientId);
    const stored = record.results.get(seq);
    if (stored !== undefined) return stored;
    const oldestSeq = this.oldestSeq(record);
    if (seq < oldestSeq) return { ok: false, code: "session_expired", clientId, seq, oldestSeq };
    return undefined;
  }

  /** Stores the answer for a seq that `begin` reported as new, and slides the window. */
  remember(clientId: string, seq: number, result: TransitionResult): void {
    const record = this.#clients.get(clientId);
    if (record === undefined) return assert(false, `remember without begin for client ${clientId}`);
    record.results.set(seq, result);
    if (seq <= record.highestSeq) return;
    const previousOldestSeq = this.oldestSeq(record);
    record.highestSeq = seq;
    this.#forgetBelow(record, previousOldestSeq, this.oldestSeq(record));
  }

  /** Clients from least to most recently active. */
  clients(): IterableIterator<[string, ClientSessionRecord]> {
    return this.#clients.entries();
  }

  /** Re-creates a client from a snapshot; clients must come least recently active first. */
  restoreClient(clientId: string, record: ClientSessionRecord): void {
    assert(!this.#clients.has(clientId), `duplicate client ${clientId}`);
    assert(this.#clients.size < this.sessionsMax, "more clients than sessionsMax");
    this.#clients.set(clientId, record);
  }

  #touch(index: number, clientId: string): ClientSessionRecord {
    const existing = this.#clients.get(clientId);
    if (existing !== undefined) {
      this.#clients.delete(clientId);
      existing.lastActivityIndex = index;
      this.#clients.set(clientId, existing);
      return existing;
    }
    if (this.#clients.size >= this.sessionsMax) {
      const leastRecent = this.#clients.keys().next();
      assert(leastRecent.done !== true, "sessionsMax reached with no client");
      this.#clients.delete(leastRecent.value);
    }
    const created: ClientSessionRecord = { lastActivityIndex: index, highestSeq: 0, results: new Map() };
    this.#clients.set(clientId, created);
    return created;
  }

  /**
   * Drops answers for seqs in `[previousOldestSeq, oldestSeq)`. A client may jump far ahead, so
   * the loop walks whichever is shorter: the seq range or the answers held (at most the window).
   */
  #forgetBelow(record: ClientSessionRecord, previousOldestSeq: number, oldestSeq: number): void {
    if (oldestSeq <= previousOldestSeq) return;
    if (oldestSeq - previousOldestSeq <= record.results.size) {
      for (let seq = previousOldestSeq; seq < oldestSeq; seq++) record.results.delete(seq);
      return;
    }
    for (const seq of record.results.keys()) if (seq < oldestSeq) record.results.delete(seq);
  }

  /** Checks the table's invariants; for tests and the simulator. */
  assertInvariants(appliedIndex: number): void {
    assert(this.#clients.size <= this.sessionsMax, "more clients than sessionsMax");
    let previousActivityIndex = 0;
    for (const [clientId, record] of this.#clients) {
      assert(record.lastActivityIndex > previousActivityIndex, `client ${clientId} is out of activity order`);
      assert(record.lastActivityIndex <= appliedIndex, `client ${clientId} is active after the applied index`);
      previousActivityIndex = record.lastActivityIndex;
      assert(record.results.size <= this.sessionWindowSeqs, `client ${clientId} holds more answers than the window`);
      const oldestSeq = this.oldestSeq(record);
      for (const seq of record.results.keys()) {
        assert(seq >= oldestSeq && seq <= record.highestSeq, `client ${clientId} holds an answer outside its window`);
      }
    }
  }
}
