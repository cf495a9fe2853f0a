import type { SessionExpiredResult, SessionRefusal, WriteResult } from "./apply-result.js";
import { AnswerWindow } from "./answer-window.js";
import { assert } from "./assert.js";
import type { WriteCommand } from "./command.js";
import { commandFingerprint, sameWriteCommand } from "./command-fingerprint.js";

/**
 * One remembered answer and the command it answered. An answer applied here keeps the command
 * itself, so that no fingerprint string is built per write (only a snapshot, or a retry checked
 * against a restored answer, builds one); an answer restored from a snapshot keeps the
 * fingerprint the snapshot recorded.
 */
export type SessionAnswer =
  | { readonly command: WriteCommand; readonly result: WriteResult }
  | { readonly fingerprint: string; readonly result: WriteResult };

/** The fingerprint a snapshot records for `answer` (`commandFingerprint` of its command). */
export function answerFingerprint(answer: SessionAnswer): string {
  return "command" in answer ? commandFingerprint(answer.command) : answer.fingerprint;
}

/** Whether `answer` answered `command` (the same fingerprint). */
function answers(answer: SessionAnswer, command: WriteCommand): boolean {
  return "command" in answer ? sameWriteCommand(answer.command, command) : answer.fingerprint === commandFingerprint(command);
}

/** One client's session: the answers to its most recent seqs. */
export interface ClientSessionRecord {
  /** The log index of the last entry that registered or used this session. */
  lastActivityIndex: number;
  /** The highest seq evaluated; 0 before the first. */
  highestSeq: number;
  /** Answers by seq, for every evaluated seq in the window `[oldestSeq, highestSeq]`. */
  readonly answers: AnswerWindow;
}

export interface SessionTableLimits {
  readonly sessionWindowSeqs: number;
  readonly sessionsMax: number;
  readonly sessionIdleEntriesMax: number;
}

/** Why sessions ended, counted since the table was created (or restored). */
export interface SessionExpirations {
  /** Evicted to make room for a new session (`sessionsMax`). */
  capacity: number;
  /** Unused for more than `sessionIdleEntriesMax` entries. */
  idle: number;
}

/**
 * Client sessions (Raft thesis §6.3). A session exists only once a `register_session` entry
 * opened it (its id is that entry's index), so a request from a session the table does not hold
 * - never opened, or expired - is refused with `session_expired`: nothing is ever applied "as if
 * new" for a client the table forgot. Sessions expire deterministically, from log positions only:
 * after `sessionIdleEntriesMax` entries without a request, or, least recently active first, when
 * `sessionsMax` is reached and another registers. Tolerant of reordering: a client may have many
 * requests in flight, and each seq inside its window is evaluated once.
 */
/** A session in the table's activity order: a doubly linked list from least to most recently active. */
interface SessionLink {
  readonly clientId: string;
  readonly record: ClientSessionRecord;
  older: SessionLink | null;
  newer: SessionLink | null;
}

export class SessionTable {
  #limits: SessionTableLimits;
  // Looked up by id; ordered by activity in a linked list, so that moving a session to the
  // most recent end on every write is two pointer swaps (re-inserting it in the map, as before,
  // cost a delete and an insert per write). The least recently active session is `#oldest`:
  // eviction and idle expiry are O(1) each.
  readonly #sessions = new Map<string, SessionLink>();
  #oldest: SessionLink | null = null;
  #newest: SessionLink | null = null;
  readonly #expirations: SessionExpirations = { capacity: 0, idle: 0 };
  #registeredTotal = 0;

  constructor(limits: SessionTableLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get limits(): SessionTableLimits {
    return this.#limits;
  }

  get expirations(): Readonly<SessionExpirations> {
    return this.#expirations;
  }

  get registeredTotal(): number {
    return this.#registeredTotal;
  }

  /** The lowest seq whose answer `record` still knows, given its highest seq. */
  oldestSeq(record: ClientSessionRecord): number {
    return Math.max(1, record.highestSeq - this.#limits.sessionWindowSeqs + 1);
  }

  /** Opens the session `String(index)`, expiring the least recently active one if the table is full. */
  register(index: number): string {
    const clientId = String(index);
    assert(!this.#sessions.has(clientId), `session ${clientId} registered twice`);
    while (this.#sessions.size >= this.#limits.sessionsMax) this.#expireOldest("capacity");
    this.#append(clientId, { lastActivityIndex: index, highestSeq: 0, answers: new AnswerWindow(this.#limits.sessionWindowSeqs) });
    this.#registeredTotal++;
    return clientId;
  }

  /** Expires every session idle for more than `sessionIdleEntriesMax` entries before `index`. */
  expireIdle(index: number): void {
    while (this.#oldest !== null && index - this.#oldest.record.lastActivityIndex > this.#limits.sessionIdleEntriesMax) {
      this.#expireOldest("idle");
    }
  }

  /**
   * Marks the session active at `index` and looks `seq` up. Returns the first answer for a seq
   * already evaluated with the same command, a refusal (`request_id_reused` for the same seq with
   * another command, `session_expired` for an unknown session or a seq below the window), or
   * `undefined` when the command is new: the caller then evaluates it and calls `remember`.
   */
  begin(index: number, clientId: string, seq: number, command: WriteCommand): WriteResult | SessionRefusal | undefined {
    // Hot path: build the message only when the check fails.
    if (!(Number.isSafeInteger(seq) && seq >= 1)) assert(false, `session seq must be a positive integer, got ${seq}`);
    const link = this.#sessions.get(clientId);
    if (link === undefined) return expired(clientId, seq, "unknown_session", null);
    this.#touch(link);
    const record = link.record;
    record.lastActivityIndex = index;
    const stored = record.answers.get(seq);
    if (stored !== undefined) {
      return answers(stored, command) ? stored.result : { ok: false, code: "request_id_reused", clientId, seq };
    }
    const oldestSeq = this.oldestSeq(record);
    if (seq < oldestSeq) return expired(clientId, seq, "seq_below_window", oldestSeq);
    return undefined;
  }

  /** Stores the answer for a seq that `begin` reported as new, and slides the window. */
  remember(clientId: string, seq: number, answer: SessionAnswer): void {
    const link = this.#sessions.get(clientId);
    if (link === undefined) return assert(false, `remember without begin for session ${clientId}`);
    const record = link.record;
    // The window slides first: the answers it leaves out free their slots for this one.
    if (seq > record.highestSeq) {
      const previousOldestSeq = this.oldestSeq(record);
      record.highestSeq = seq;
      record.answers.forgetRange(previousOldestSeq, this.oldestSeq(record));
    }
    record.answers.set(seq, answer);
  }

  /** Applies new limits: a smaller table expires its least recently active sessions, a smaller window forgets old answers. */
  setLimits(limits: SessionTableLimits, index: number): void {
    this.#limits = limits;
    while (this.#sessions.size > limits.sessionsMax) this.#expireOldest("capacity");
    for (const { record } of this.#sessions.values()) {
      record.answers.forgetBelow(this.oldestSeq(record));
      record.answers.setWindowSeqs(limits.sessionWindowSeqs);
    }
    this.expireIdle(index);
  }

  /** Sessions from least to most recently active. */
  *sessions(): IterableIterator<[string, ClientSessionRecord]> {
    for (let link = this.#oldest; link !== null; link = link.newer) yield [link.clientId, link.record];
  }

  /** Re-creates a session from a snapshot; sessions must come least recently active first. */
  restoreSession(clientId: string, record: ClientSessionRecord): void {
    assert(!this.#sessions.has(clientId), `duplicate session ${clientId}`);
    assert(this.#sessions.size < this.#limits.sessionsMax, "more sessions than sessionsMax");
    this.#append(clientId, record);
  }

  /** Adds a session as the most recently active one. */
  #append(clientId: string, record: ClientSessionRecord): void {
    const link: SessionLink = { clientId, record, older: this.#newest, newer: null };
    if (this.#newest === null) this.#oldest = link;
    else this.#newest.newer = link;
    this.#newest = link;
    this.#sessions.set(clientId, link);
  }

  /** Moves a session to the most recently active end. */
  #touch(link: SessionLink): void {
    if (link === this.#newest) return;
    // Not the newest, so `newer` is set; unlink, then append.
    const newer = link.newer!;
    newer.older = link.older;
    if (link.older === null) this.#oldest = newer;
    else link.older.newer = newer;
    link.older = this.#newest;
    link.newer = null;
    this.#newest!.newer = link;
    this.#newest = link;
  }

  #expireOldest(reason: keyof SessionExpirations): void {
    const oldest = this.#oldest;
    assert(oldest !== null, "expiring a session from an empty table");
    this.#oldest = oldest.newer;
    if (this.#oldest === null) this.#newest = null;
    else this.#oldest.older = null;
    this.#sessions.delete(oldest.clientId);
    this.#expirations[reason]++;
  }

  /** Checks the table's invariants; for tests and the simulator. */
  assertInvariants(appliedIndex: number): void {
    assert(this.#sessions.size <= this.#limits.sessionsMax, "more sessions than sessionsMax");
    let previousActivityIndex = 0;
    let linked = 0;
    let older: SessionLink | null = null;
    for (let link = this.#oldest; link !== null; link = link.newer) {
      const { clientId, record } = link;
      assert(link.older === older && this.#sessions.get(clientId) === link, `session ${clientId} is linked out of place`);
      older = link;
      linked++;
      assert(record.lastActivityIndex > previousActivityIndex, `session ${clientId} is out of activity order`);
      assert(record.lastActivityIndex <= appliedIndex, `session ${clientId} is active after the applied index`);
      assert(Number(clientId) <= record.lastActivityIndex, `session ${clientId} is active before it was registered`);
      assert(appliedIndex - record.lastActivityIndex <= this.#limits.sessionIdleEntriesMax, `session ${clientId} outlived sessionIdleEntriesMax`);
      previousActivityIndex = record.lastActivityIndex;
      assert(record.answers.size <= this.#limits.sessionWindowSeqs, `session ${clientId} holds more answers than the window`);
      const oldestSeq = this.oldestSeq(record);
      for (const seq of record.answers.keys()) {
        assert(seq >= oldestSeq && seq <= record.highestSeq, `session ${clientId} holds an answer outside its window`);
      }
    }
    assert(older === this.#newest && linked === this.#sessions.size, "the activity list does not hold every session once");
  }
}

function expired(clientId: string, seq: number, reason: SessionExpiredResult["reason"], oldestSeq: number | null): SessionExpiredResult {
  return { ok: false, code: "session_expired", clientId, seq, reason, oldestSeq };
}
