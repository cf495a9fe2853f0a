import type {
  ApplyResult,
  DeleteResult,
  LimitsResult,
  MembersResult,
  NoopResult,
  RegisterSessionResult,
  TransitionResult,
  WriteResult,
} from "./apply-result.js";
import { assert } from "./assert.js";
import type { Command, WriteCommand } from "./command.js";
import { compareStrings } from "./compare-strings.js";
import { allowedTargets, parseDefinition, type Definition } from "./definition.js";
import { definitionHash } from "./definition-hash.js";
import { JoinTokenTable, type JoinTokenRecord } from "./join-token-table.js";
import { AnswerWindow } from "./answer-window.js";
import { answerFingerprint, SessionTable, type ClientSessionRecord, type SessionExpirations } from "./session-table.js";
import { TokenTable } from "./token-table.js";
import { decodeSnapshot, encodeSnapshot, SnapshotWriter, type RestoreFailure, type SessionSnapshot, type SnapshotContent } from "./snapshot.js";
import { defaultStoreLimits, keyBytes, storeLimitsProblem, utf8Length, type StoreLimits } from "./store-limits.js";

/** The session defaults under their first names (also in `defaultStoreLimits`). */
export const defaultSessionWindowSeqs = defaultStoreLimits.sessionWindowSeqs;
export const defaultSessionsMax = defaultStoreLimits.sessionsMax;

export interface StoreOptions {
  /** The member list before the first `members` entry; default empty. */
  readonly members?: readonly string[];
  /**
   * The limits before the first `limits` entry; default `defaultStoreLimits`. Every replica must
   * start with the same ones (a node in a cluster keeps the defaults and lets the log change them).
   */
  readonly limits?: Partial<StoreLimits>;
  /** Shorthands for `limits.sessionWindowSeqs` and `limits.sessionsMax`. */
  readonly sessionWindowSeqs?: number;
  readonly sessionsMax?: number;
}

/** One key's state and the revision (log index) of its last change; 0 if never changed. */
export interface MachineRecord {
  readonly state: string;
  readonly revision: number;
}

/** A key's record as the store holds it: changed in place by the next write of the key. */
interface HeldRecord {
  state: string;
  revision: number;
}

export interface MachineEntry extends MachineRecord {
  readonly key: string;
}

/** What a store holds against its limits, and what its sessions did since it was created or restored. */
export interface StoreUsage {
  readonly keys: number;
  readonly stateBytes: number;
  readonly sessions: number;
  readonly sessionsRegistered: number;
  readonly sessionExpirations: Readonly<SessionExpirations>;
}

export type RestoreResult = { ok: true; store: Store } | RestoreFailure;

const noopResult: NoopResult = Object.freeze({ ok: true, kind: "noop" });

/**
 * The replicated store: `key -> { state, revision }`, the member list, the limits and the client
 * sessions. `apply` is deterministic: replicas that apply the same entries in the same order hold
 * the same store and return the same results. It reads no clock and no randomness.
 */
export class Store {
  readonly definition: Definition;
  readonly definitionHash: string;
  readonly #allowedByState = new Map<string, readonly string[]>();
  /** The records are this store's own (every reader gets a copy), so a write updates its record in place. */
  readonly #machines = new Map<string, HeldRecord>();
  readonly #sessions: SessionTable;
  #limits: StoreLimits;
  #stateBytes = 0;
  readonly #tokens = new TokenTable();
  #members: readonly string[];
  readonly #joinTokens = new JoinTokenTable();
  #appliedIndex = 0;
  /**
   * Keys sorted by code unit, kept up to date on demand: keys added since are merged in (a sort
   * of the few new ones and one linear merge), not re-sorted with every other key, so a listing
   * page or a snapshot after a write that created a key costs O(keys), not O(keys log keys).
   */
  #sortedKeys: string[] | null = null;
  /** Keys created since `#sortedKeys` was last brought up to date, in creation order (a key deleted and created again may repeat). */
  #addedKeys: string[] = [];
  /** Whether a key was deleted since: the merge then drops keys no longer held. */
  #keysDeletedSinceSort = false;

  constructor(definition: Definition, options: StoreOptions = {}) {
    const parsed = parseDefinition(definition);
    assert(parsed.ok, `invalid definition: ${parsed.ok ? "" : parsed.errors.join("; ")}`);
    this.definition = definition;
    this.definitionHash = definitionHash(definition);
    // Sorted, frozen target lists: shared by every rejection, identical on every replica whatever
    // order the definition file listed its transitions in.
    for (const state of definition.states) {
      this.#allowedByState.set(state, Object.freeze(allowedTargets(definition, state)));
    }
    this.#members = Object.freeze([...(options.members ?? [])]);
    const limits: StoreLimits = Object.freeze({
      ...defaultStoreLimits,
      ...(options.sessionWindowSeqs === undefined ? {} : { sessionWindowSeqs: options.sessionWindowSeqs }),
      ...(options.sessionsMax === undefined ? {} : { sessionsMax: options.sessionsMax }),
      ...options.limits,
    });
    const problem = storeLimitsProblem(limits);
    assert(problem === undefined, `store limits: ${problem ?? ""}`);
    this.#limits = limits;
    this.#sessions = new SessionTable(limits);
  }

  /** The log index of the last applied entry (whatever its result); 0 before the first. */
  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  get members(): readonly string[] {
    return this.#members;
  }

  get limits(): StoreLimits {
    return this.#limits;
  }

  get sessionWindowSeqs(): number {
    return this.#limits.sessionWindowSeqs;
  }

  get sessionsMax(): number {
    return this.#limits.sessionsMax;
  }

  /** The cluster's join tokens (hashes only), for the node that checks a join before proposing it. */
  joinToken(tokenId: string): JoinTokenRecord | undefined {
    return this.#joinTokens.get(tokenId);
  }

  /** How many client sessions are held. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** How many keys are held (changed and not deleted; the others are in the initial state at revision 0). */
  get keyCount(): number {
    return this.#machines.size;
  }

  /** Bytes of replicated state counted against `stateBytesMax`. */
  get stateBytes(): number {
    return this.#stateBytes;
  }

  usage(): StoreUsage {
    return {
      keys: this.#machines.size,
      stateBytes: this.#stateBytes,
      sessions: this.#sessions.size,
      sessionsRegistered: this.#sessions.registeredTotal,
      sessionExpirations: { ...this.#sessions.expirations },
    };
  }

  /** The replicated client tokens (read-only use: change them only through `apply`). */
  get tokens(): Pick<TokenTable, "get" | "list" | "size" | "bootstrapped"> {
    return this.#tokens;
  }

  get(key: string): MachineRecord {
    const record = this.#machines.get(key);
    if (record === undefined) return { state: this.definition.initial, revision: 0 };
    return { state: record.state, revision: record.revision };
  }

  /** Every key held, sorted by UTF-16 code units. */
  keys(): string[] {
    return [...this.#sorted()];
  }

  /** Every key held with its state, sorted by key. */
  entries(): MachineEntry[] {
    return this.page(undefined, Number.MAX_SAFE_INTEGER).entries;
  }

  /**
   * Up to `limit` keys after `after` (exclusive; from the first key when undefined), sorted by
   * key, and whether more follow.
   */
  page(after: string | undefined, limit: number): { entries: MachineEntry[]; more: boolean } {
    const sorted = this.#sorted();
    let start = 0;
    if (after !== undefined) {
      let high = sorted.length;
      while (start < high) {
        const middle = (start + high) >>> 1;
        if (compareStrings(sorted[middle]!, after) <= 0) start = middle + 1;
        else high = middle;
      }
    }
    const end = Math.min(sorted.length, start + limit);
    const entries: MachineEntry[] = [];
    for (let position = start; position < end; position++) {
      const key = sorted[position]!;
      const record = this.#machines.get(key)!;
      entries.push({ key, state: record.state, revision: record.revision });
    }
    return { entries, more: end < sorted.length };
  }

  /** Up to `limit` keys from position `offset` of the key order (a page by number, as the dashboard shows them). */
  pageAt(offset: number, limit: number): MachineEntry[] {
    const sorted = this.#sorted();
    const entries: MachineEntry[] = [];
    const end = Math.min(sorted.length, offset + limit);
    for (let position = Math.max(0, offset); position < end; position++) {
      const key = sorted[position]!;
      const record = this.#machines.get(key)!;
      entries.push({ key, state: record.state, revision: record.revision });
    }
    return entries;
  }

  #sorted(): readonly string[] {
    if (this.#sortedKeys === null) {
      this.#sortedKeys = [...this.#machines.keys()].sort(compareStrings);
    } else if (this.#addedKeys.length > 0 || this.#keysDeletedSinceSort) {
      this.#sortedKeys = mergeSortedKeys(this.#sortedKeys, this.#addedKeys.sort(compareStrings), this.#keysDeletedSinceSort ? this.#machines : null);
    }
    this.#addedKeys = [];
    this.#keysDeletedSinceSort = false;
    return this.#sortedKeys;
  }

  /** A key was created: it joins the sorted index at the next read of it. */
  #noteKeyAdded(key: string): void {
    if (this.#sortedKeys === null) return;
    this.#addedKeys.push(key);
    // Bounded: past as many pending keys as sorted ones (and a floor), one full sort is as cheap as the merge.
    if (this.#addedKeys.length > Math.max(this.#sortedKeys.length, addedKeysFloorMax)) {
      this.#sortedKeys = null;
      this.#addedKeys = [];
      this.#keysDeletedSinceSort = false;
    }
  }

  /**
   * Applies the committed entry at log `index` (strictly greater than the last one applied).
   * A retried write (same session and seq, same command) is not applied again: it returns its
   * first result, recognisable for an ok write by `revision < index`.
   */
  apply(index: number, command: Command): ApplyResult {
    // Checked before the message is built: this runs for every entry applied.
    if (!(Number.isSafeInteger(index) && index > this.#appliedIndex)) assert(false, `apply index ${index} after ${this.#appliedIndex}`);
    this.#appliedIndex = index;
    this.#sessions.expireIdle(index);
    switch (command.kind) {
      case "transition":
      case "delete":
        return this.#applyWrite(index, command);
      case "register_session":
        return this.#applyRegisterSession(index, command.nonce);
      case "noop":
        return noopResult;
      case "members":
        return this.#applyMembers(command.members);
      case "limits":
        return this.#applyLimits(index, command.limits);
      case "token_create":
        return this.#tokens.create(index, command);
      case "token_revoke":
        return this.#tokens.revoke(index, command);
      case "join_token_create":
        return this.#joinTokens.create(command);
      case "join_token_use":
        return this.#joinTokens.use(command);
      case "join_token_revoke":
        return this.#joinTokens.revoke(command);
      default:
        command satisfies never;
        throw new Error(`state-machine invariant violated: unknown command kind ${String((command as { kind: unknown }).kind)}`);
    }
  }

  #applyMembers(members: readonly string[]): MembersResult {
    this.#members = Object.freeze([...members]);
    return { ok: true, kind: "members", members: this.#members };
  }

  #applyRegisterSession(index: number, nonce: string): RegisterSessionResult {
    return { ok: true, kind: "register_session", clientId: this.#sessions.register(index), nonce };
  }

  #applyLimits(index: number, limits: StoreLimits): LimitsResult {
    // Validated at the boundary (protocol's schema); an invalid value here would corrupt the store.
    const problem = storeLimitsProblem(limits);
    assert(problem === undefined, `limits entry ${index}: ${problem ?? ""}`);
    this.#limits = Object.freeze({ ...limits });
    this.#sessions.setLimits(this.#limits, index);
    return { ok: true, kind: "limits", limits: this.#limits };
  }

  #applyWrite(index: number, command: WriteCommand): ApplyResult {
    const session = command.session;
    if (session === undefined) return this.#evaluate(index, command);
    const known = this.#sessions.begin(index, session.clientId, session.seq, command);
    if (known !== undefined) return known;
    const result = this.#evaluate(index, command);
    this.#sessions.remember(session.clientId, session.seq, { command, result });
    return result;
  }

  #evaluate(index: number, command: WriteCommand): WriteResult {
    return command.kind === "transition" ? this.#applyTransition(index, command.key, command.to, command.expect) : this.#applyDelete(index, command.key, command.expect);
  }

  // The expect check comes first: a compare-and-set that lost the race reports what the key is
  // now, which tells the client more than "invalid from a state you did not expect". The quota
  // comes last: a write that could never apply is refused for that reason, not for room.
  #applyTransition(index: number, key: string, to: string, expect: string | undefined): TransitionResult {
    const current = this.#machines.get(key);
    const from = current === undefined ? this.definition.initial : current.state;
    if (expect !== undefined && expect !== from) {
      return { ok: false, code: "expect_failed", key, expected: expect, actual: from };
    }
    const allowed = this.#allowedByState.get(from)!;
    if (!allowed.includes(to)) return { ok: false, code: "invalid_transition", key, from, to, allowed };
    if (current === undefined && this.#machines.size >= this.#limits.keysMax) {
      return { ok: false, code: "quota_exceeded", key, quota: "keys", limit: this.#limits.keysMax, used: this.#machines.size };
    }
    // keyBytes is the key's bytes plus the state's (and a constant): a key that exists changes by
    // its state's bytes only, so its name is not measured again on every write.
    const bytesAfter = current === undefined ? this.#stateBytes + keyBytes(key, to) : this.#stateBytes - utf8Length(from) + utf8Length(to);
    if (bytesAfter > this.#stateBytes && bytesAfter > this.#limits.stateBytesMax) {
      return { ok: false, code: "quota_exceeded", key, quota: "state_bytes", limit: this.#limits.stateBytesMax, used: this.#stateBytes };
    }
    if (current === undefined) this.#noteKeyAdded(key);
    this.#stateBytes = bytesAfter;
    if (current === undefined) this.#machines.set(key, { state: to, revision: index });
    else {
      current.state = to;
      current.revision = index;
    }
    return { ok: true, kind: "transition", key, from, to, revision: index };
  }

  #applyDelete(index: number, key: string, expect: string | undefined): DeleteResult {
    const current = this.#machines.get(key);
    const from = current === undefined ? this.definition.initial : current.state;
    if (expect !== undefined && expect !== from) {
      return { ok: false, code: "expect_failed", key, expected: expect, actual: from };
    }
    if (current === undefined) return { ok: true, kind: "delete", key, from, deleted: false, revision: index };
    this.#machines.delete(key);
    if (this.#sortedKeys !== null) this.#keysDeletedSinceSort = true;
    this.#stateBytes -= keyBytes(key, from);
    return { ok: true, kind: "delete", key, from, deleted: true, revision: index };
  }

  /** Checks every invariant of the store; for tests and the simulator (STYLE.md §6). */
  assertInvariants(): void {
    let stateBytes = 0;
    for (const [key, record] of this.#machines) {
      assert(this.#allowedByState.has(record.state), `key ${key} is in unknown state ${record.state}`);
      assert(record.revision >= 1 && record.revision <= this.#appliedIndex, `key ${key} has revision ${record.revision} beyond ${this.#appliedIndex}`);
      stateBytes += keyBytes(key, record.state);
    }
    assert(stateBytes === this.#stateBytes, `stateBytes ${this.#stateBytes} but the keys add up to ${stateBytes}`);
    if (this.#sortedKeys !== null && this.#addedKeys.length === 0 && !this.#keysDeletedSinceSort) {
      assert(this.#sortedKeys.length === this.#machines.size, "the sorted key cache is stale");
    }
    this.#sessions.assertInvariants(this.#appliedIndex);
    this.#tokens.assertInvariants(this.#appliedIndex);
  }

  /** The whole store as checksummed UTF-8 JSON; `Store.restore` reads it back. */
  snapshot(): Uint8Array {
    return encodeSnapshot(this.#snapshotContent());
  }

  /**
   * The same bytes as `snapshot()`, built `keysPerStep` keys at a time: the generator yields
   * after each run of keys so that its caller can let other work happen in between (a node keeps
   * answering heartbeats while a million keys are encoded). The store must not change until the
   * generator returns; it checks that it did not.
   */
  *snapshotSteps(keysPerStep: number): Generator<void, Uint8Array, void> {
    assert(Number.isSafeInteger(keysPerStep) && keysPerStep >= 1, `keysPerStep must be a positive integer, got ${keysPerStep}`);
    const appliedIndex = this.#appliedIndex;
    const keys = this.#sorted();
    const writer = new SnapshotWriter({ definitionHash: this.definitionHash, appliedIndex, limits: this.#limits, members: this.#members });
    for (let start = 0; start < keys.length; start += keysPerStep) {
      assert(this.#appliedIndex === appliedIndex && keys.length === this.#machines.size, "the store changed while its snapshot was being built");
      const run: (readonly [string, string, number])[] = [];
      const end = Math.min(keys.length, start + keysPerStep);
      for (let position = start; position < end; position++) {
        const key = keys[position]!;
        const record = this.#machines.get(key)!;
        run.push([key, record.state, record.revision]);
      }
      writer.appendMachines(run);
      yield;
    }
    // Sessions in runs too, about `keysPerStep` remembered answers a step: each session keeps up to
    // `sessionWindowSeqs` of them, and a few thousand sessions encoded in one step held a leader's
    // event loop for about a second, long enough for its followers to elect another.
    let sessions: SessionSnapshot[] = [];
    let answersInRun = 0;
    for (const [clientId, record] of this.#sessions.sessions()) {
      sessions.push(sessionSnapshot(clientId, record));
      answersInRun += 1 + record.answers.size;
      if (answersInRun < keysPerStep) continue;
      writer.appendSessions(sessions);
      sessions = [];
      answersInRun = 0;
      yield;
      assert(this.#appliedIndex === appliedIndex, "the store changed while its snapshot was being built");
    }
    writer.appendSessions(sessions);
    assert(this.#appliedIndex === appliedIndex, "the store changed while its snapshot was being built");
    return writer.finish(this.#snapshotTail());
  }

  /** What a snapshot holds, all at once (`snapshotSteps` encodes the same in runs). */
  #snapshotContent(): SnapshotContent {
    const sessions: SessionSnapshot[] = [];
    for (const [clientId, record] of this.#sessions.sessions()) sessions.push(sessionSnapshot(clientId, record));
    return {
      definitionHash: this.definitionHash,
      appliedIndex: this.#appliedIndex,
      limits: this.#limits,
      members: this.#members,
      machines: this.#sorted().map((key) => {
        const record = this.#machines.get(key)!;
        return [key, record.state, record.revision] as const;
      }),
      sessions,
      ...this.#snapshotTail(),
    };
  }

  /** The fields a snapshot holds after `sessions`, in the order it writes them. */
  #snapshotTail(): Pick<SnapshotContent, "tokens" | "joinTokens"> {
    return {
      // Absent until the first token: a store without tokens snapshots exactly as before.
      ...(this.#tokens.bootstrapped ? { tokens: this.#tokens.snapshot() } : {}),
      joinTokens: this.#joinTokens.records(),
    };
  }

  /**
   * Rebuilds a store from `snapshot()` bytes, with the limits the snapshot records (every replica
   * uses the same ones). Never throws on bad bytes.
   */
  static restore(definition: Definition, bytes: Uint8Array): RestoreResult {
    const decoded = decodeSnapshot(definition, bytes);
    if (!decoded.ok) return decoded;
    const { content } = decoded;
    const store = new Store(definition, { members: content.members, limits: content.limits });
    store.#appliedIndex = content.appliedIndex;
    let sorted = true;
    let previous: string | undefined;
    for (const [key, state, revision] of content.machines) {
      store.#machines.set(key, { state, revision });
      store.#stateBytes += keyBytes(key, state);
      if (previous !== undefined && compareStrings(previous, key) >= 0) sorted = false;
      previous = key;
    }
    // A snapshot lists its keys sorted (`snapshot()` writes them so): that order is the index, no sort needed.
    if (sorted) store.#sortedKeys = content.machines.map(([key]) => key);
    if (content.tokens !== undefined) store.#tokens.restore(content.tokens);
    store.#joinTokens.restore(content.joinTokens);
    for (const session of content.sessions) {
      store.#sessions.restoreSession(session.clientId, {
        lastActivityIndex: session.lastActivityIndex,
        highestSeq: session.highestSeq,
        answers: AnswerWindow.of(
          content.limits.sessionWindowSeqs,
          session.answers.map(([seq, fingerprint, result]) => [seq, { fingerprint, result }]),
        ),
      });
    }
    return { ok: true, store };
  }
}

/** Keys created between two reads of the sorted index that are always merged in, however small the store. */
/** One session as a snapshot records it: its answers sorted by seq, each with its command's fingerprint. */
function sessionSnapshot(clientId: string, record: ClientSessionRecord): SessionSnapshot {
  const answers = [...record.answers].sort((left, right) => left[0] - right[0]).map(([seq, answer]) => [seq, answerFingerprint(answer), answer.result] as const);
  return { clientId, lastActivityIndex: record.lastActivityIndex, highestSeq: record.highestSeq, answers };
}

const addedKeysFloorMax = 1024;

/**
 * Merges `added` (sorted, possibly with repeats and keys already in `sorted`) into `sorted`, in
 * one pass; with `held`, keys it no longer has are dropped. Every key appears once.
 */
function mergeSortedKeys(sorted: readonly string[], added: readonly string[], held: ReadonlyMap<string, unknown> | null): string[] {
  const merged: string[] = [];
  let left = 0;
  let right = 0;
  while (left < sorted.length || right < added.length) {
    const fromLeft = right >= added.length || (left < sorted.length && compareStrings(sorted[left]!, added[right]!) <= 0);
    const key = fromLeft ? sorted[left++]! : added[right++]!;
    if (merged.length > 0 && merged[merged.length - 1] === key) continue;
    if (held !== null && !held.has(key)) continue;
    merged.push(key);
  }
  return merged;
}
