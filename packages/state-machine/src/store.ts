import type { ApplyResult, MembersResult, NoopResult, TransitionResult } from "./apply-result.js";
import { assert } from "./assert.js";
import type { Command, TransitionCommand } from "./command.js";
import { compareStrings } from "./compare-strings.js";
import { allowedTargets, parseDefinition, type Definition } from "./definition.js";
import { definitionHash } from "./definition-hash.js";
import { JoinTokenTable, type JoinTokenRecord } from "./join-token-table.js";
import { SessionTable } from "./session-table.js";
import { TokenTable } from "./token-table.js";
import { decodeSnapshot, encodeSnapshot, type RestoreFailure, type SnapshotContent } from "./snapshot.js";

export const defaultSessionWindowSeqs = 64;
export const defaultSessionsMax = 10_000;

export interface StoreOptions {
  /** The member list before the first `members` entry; default empty. */
  readonly members?: readonly string[];
  /** How many seqs below its highest a client session remembers answers for; default 1024. */
  readonly sessionWindowSeqs?: number;
  /** How many client sessions are kept; the least recently active is evicted; default 10 000. */
  readonly sessionsMax?: number;
}

/** One key's state and the revision (log index) of its last change; 0 if never changed. */
export interface MachineRecord {
  readonly state: string;
  readonly revision: number;
}

export interface MachineEntry extends MachineRecord {
  readonly key: string;
}

export type RestoreResult = { ok: true; store: Store } | RestoreFailure;

const noopResult: NoopResult = Object.freeze({ ok: true, kind: "noop" });

/**
 * The replicated store: `key -> { state, revision }`, the member list and the client sessions.
 * `apply` is deterministic: replicas that apply the same entries in the same order hold the same
 * store and return the same results. It reads no clock and no randomness.
 */
export class Store {
  readonly definition: Definition;
  readonly definitionHash: string;
  readonly #allowedByState = new Map<string, readonly string[]>();
  readonly #machines = new Map<string, MachineRecord>();
  readonly #sessions: SessionTable;
  readonly #tokens = new TokenTable();
  #members: readonly string[];
  readonly #joinTokens = new JoinTokenTable();
  #appliedIndex = 0;

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
    this.#sessions = new SessionTable({
      sessionWindowSeqs: options.sessionWindowSeqs ?? defaultSessionWindowSeqs,
      sessionsMax: options.sessionsMax ?? defaultSessionsMax,
    });
  }

  /** The log index of the last applied entry (whatever its result); 0 before the first. */
  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  get members(): readonly string[] {
    return this.#members;
  }

  get sessionWindowSeqs(): number {
    return this.#sessions.sessionWindowSeqs;
  }

  get sessionsMax(): number {
    return this.#sessions.sessionsMax;
  }

  /** The cluster's join tokens (hashes only), for the node that checks a join before proposing it. */
  joinToken(tokenId: string): JoinTokenRecord | undefined {
    return this.#joinTokens.get(tokenId);
  }

  /** How many client sessions are held. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** How many keys were ever changed (the others are in the initial state at revision 0). */
  get keyCount(): number {
    return this.#machines.size;
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

  /** Every key ever changed, sorted by UTF-16 code units. */
  keys(): string[] {
    return [...this.#machines.keys()].sort(compareStrings);
  }

  /** Every key ever changed with its state, sorted by key. */
  entries(): MachineEntry[] {
    return this.keys().map((key) => {
      const record = this.#machines.get(key)!;
      return { key, state: record.state, revision: record.revision };
    });
  }

  /**
   * Applies the committed entry at log `index` (strictly greater than the last one applied).
   * A retried transition (same clientId and seq) is not applied again: it returns its first
   * result, recognisable for an ok transition by `revision < index`.
   */
  apply(index: number, command: Command): ApplyResult {
    // Checked before the message is built: this runs for every entry applied.
    if (!(Number.isSafeInteger(index) && index > this.#appliedIndex)) assert(false, `apply index ${index} after ${this.#appliedIndex}`);
    this.#appliedIndex = index;
    switch (command.kind) {
      case "transition":
        return this.#applySessionTransition(index, command);
      case "noop":
        return noopResult;
      case "members":
        return this.#applyMembers(command.members);
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

  #applySessionTransition(index: number, command: TransitionCommand): ApplyResult {
    const session = command.session;
    if (session === undefined) return this.#applyTransition(index, command);
    const known = this.#sessions.begin(index, session.clientId, session.seq);
    if (known !== undefined) return known;
    const result = this.#applyTransition(index, command);
    this.#sessions.remember(session.clientId, session.seq, result);
    return result;
  }

  // The expect check comes first: a compare-and-set that lost the race reports what the key is
  // now, which tells the client more than "invalid from a state you did not expect".
  #applyTransition(index: number, command: TransitionCommand): TransitionResult {
    const { key, to } = command;
    const current = this.#machines.get(key);
    const from = current === undefined ? this.definition.initial : current.state;
    if (command.expect !== undefined && command.expect !== from) {
      return { ok: false, code: "expect_failed", key, expected: command.expect, actual: from };
    }
    const allowed = this.#allowedByState.get(from)!;
    if (!allowed.includes(to)) return { ok: false, code: "invalid_transition", key, from, to, allowed };
    this.#machines.set(key, { state: to, revision: index });
    return { ok: true, kind: "transition", key, from, to, revision: index };
  }

  /** Checks every invariant of the store; for tests and the simulator (STYLE.md §6). */
  assertInvariants(): void {
    for (const [key, record] of this.#machines) {
      assert(this.#allowedByState.has(record.state), `key ${key} is in unknown state ${record.state}`);
      assert(record.revision >= 1 && record.revision <= this.#appliedIndex, `key ${key} has revision ${record.revision} beyond ${this.#appliedIndex}`);
    }
    this.#sessions.assertInvariants(this.#appliedIndex);
    this.#tokens.assertInvariants(this.#appliedIndex);
  }

  /** The whole store as checksummed UTF-8 JSON; `Store.restore` reads it back. */
  snapshot(): Uint8Array {
    return encodeSnapshot(this.#snapshotContent());
  }

  #snapshotContent(): SnapshotContent {
    const sessions: SnapshotContent["sessions"][number][] = [];
    for (const [clientId, record] of this.#sessions.clients()) {
      const results = [...record.results].sort((left, right) => left[0] - right[0]);
      sessions.push({ clientId, lastActivityIndex: record.lastActivityIndex, highestSeq: record.highestSeq, results });
    }
    return {
      definitionHash: this.definitionHash,
      appliedIndex: this.#appliedIndex,
      sessionWindowSeqs: this.#sessions.sessionWindowSeqs,
      sessionsMax: this.#sessions.sessionsMax,
      members: this.#members,
      machines: this.entries().map((entry) => [entry.key, entry.state, entry.revision] as const),
      sessions,
      // Absent until the first token: a store without tokens snapshots exactly as before.
      ...(this.#tokens.bootstrapped ? { tokens: this.#tokens.snapshot() } : {}),
      joinTokens: this.#joinTokens.records(),
    };
  }

  /**
   * Rebuilds a store from `snapshot()` bytes, with the session limits the snapshot records (every
   * replica must use the same ones). Never throws on bad bytes.
   */
  static restore(definition: Definition, bytes: Uint8Array): RestoreResult {
    const decoded = decodeSnapshot(definition, bytes);
    if (!decoded.ok) return decoded;
    const { content } = decoded;
    const store = new Store(definition, {
      members: content.members,
      sessionWindowSeqs: content.sessionWindowSeqs,
      sessionsMax: content.sessionsMax,
    });
    store.#appliedIndex = content.appliedIndex;
    for (const [key, state, revision] of content.machines) store.#machines.set(key, { state, revision });
    if (content.tokens !== undefined) store.#tokens.restore(content.tokens);
    store.#joinTokens.restore(content.joinTokens);
    for (const session of content.sessions) {
      store.#sessions.restoreClient(session.clientId, {
        lastActivityIndex: session.lastActivityIndex,
        highestSeq: session.highestSeq,
        results: new Map(session.results),
      });
    }
    return { ok: true, store };
  }
}
