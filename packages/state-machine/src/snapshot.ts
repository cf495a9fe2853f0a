import { z } from "zod";
import type { WriteResult } from "./apply-result.js";
import { crc32, crc32Hex } from "./crc32.js";
import type { Definition } from "./definition.js";
import { definitionHash } from "./definition-hash.js";
import { tokenTableProblem, type TokenTableSnapshot } from "./token-table.js";
import { joinTokensMax, type JoinTokenRecord } from "./join-token-table.js";
import { storeLimitsProblem, type StoreLimits } from "./store-limits.js";

// Layout: `{"crc32":"<8 hex>","body":<body JSON>}`. The whole snapshot is one JSON document a
// person can read, and the checksum covers the body's exact bytes, so verifying it needs no
// re-serialisation. Bump `snapshotFormat` when the body's shape changes.
const snapshotFormat = 2;
const prefixBefore = '{"crc32":"';
const prefixAfter = '","body":';
const checksumChars = 8;
const bodyStartByte = prefixBefore.length + checksumChars + prefixAfter.length;
const closingBrace = 0x7d;

/** A client session as a snapshot records it; `answers` sorted by seq. */
export interface SessionSnapshot {
  readonly clientId: string;
  readonly lastActivityIndex: number;
  readonly highestSeq: number;
  readonly answers: readonly (readonly [seq: number, fingerprint: string, result: WriteResult])[];
}

/** Everything a store holds, as plain data. `machines` sorted by key, `sessions` least recently active first. */
export interface SnapshotContent {
  readonly definitionHash: string;
  readonly appliedIndex: number;
  readonly limits: StoreLimits;
  readonly members: readonly string[];
  readonly machines: readonly (readonly [key: string, state: string, revision: number])[];
  readonly sessions: readonly SessionSnapshot[];
  /** Present once the cluster has had a client token. */
  readonly tokens?: TokenTableSnapshot | undefined;
  /** Join tokens, sorted by id (hashes only; DESIGN.md §9). */
  readonly joinTokens: readonly JoinTokenRecord[];
}

export interface RestoreFailure {
  readonly ok: false;
  readonly reason: "checksum_mismatch" | "malformed" | "definition_mismatch";
  readonly detail: string;
}

export type DecodeSnapshotResult = { ok: true; content: SnapshotContent } | RestoreFailure;

export function encodeSnapshot(content: SnapshotContent): Uint8Array {
  return encodeSnapshotBody(JSON.stringify({ format: snapshotFormat, ...content }));
}

/**
 * The same bytes as `encodeSnapshot`, written in pieces: `start` writes the fields before
 * `machines`, `appendMachines` one run of consecutive `[key, state, revision]` entries at a time
 * (each piece is encoded and checksummed as it comes, so a store of a million keys never needs
 * one long step), `appendSessions` the sessions likewise, `finish` the fields after them and the
 * checksummed frame.
 */
export class SnapshotWriter {
  private readonly encoder = new TextEncoder();
  private readonly pieces: Uint8Array[] = [];
  private crc = 0;
  private bodyBytes = 0;
  private machinesWritten = 0;
  private sessionsOpened = false;
  private sessionsWritten = 0;

  constructor(rest: Pick<SnapshotContent, "definitionHash" | "appliedIndex" | "limits" | "members">) {
    const { definitionHash, appliedIndex, limits, members } = rest;
    const head = JSON.stringify({ format: snapshotFormat, definitionHash, appliedIndex, limits, members });
    this.write(`${head.slice(0, -1)},"machines":[`);
  }

  appendMachines(run: readonly (readonly [key: string, state: string, revision: number])[]): void {
    if (run.length === 0) return;
    const json = JSON.stringify(run).slice(1, -1);
    this.write(this.machinesWritten === 0 ? json : `,${json}`);
    this.machinesWritten += run.length;
  }

  /** One run of sessions, after every machine: in runs too, since each carries its remembered answers. */
  appendSessions(run: readonly SessionSnapshot[]): void {
    if (!this.sessionsOpened) {
      this.write('],"sessions":[');
      this.sessionsOpened = true;
    }
    if (run.length === 0) return;
    const json = JSON.stringify(run).slice(1, -1);
    this.write(this.sessionsWritten === 0 ? json : `,${json}`);
    this.sessionsWritten += run.length;
  }

  finish(after: Pick<SnapshotContent, "tokens" | "joinTokens">): Uint8Array {
    // The fields after `sessions`, in the order `encodeSnapshot` writes them (`joinTokens` is always there).
    this.appendSessions([]);
    this.write(`],${JSON.stringify(after).slice(1)}`);
    const before = this.encoder.encode(`${prefixBefore}${this.crc.toString(16).padStart(checksumChars, "0")}${prefixAfter}`);
    const bytes = new Uint8Array(before.length + this.bodyBytes + 1);
    bytes.set(before, 0);
    let offset = before.length;
    for (const piece of this.pieces) {
      bytes.set(piece, offset);
      offset += piece.length;
    }
    bytes[bytes.length - 1] = closingBrace;
    return bytes;
  }

  private write(text: string): void {
    const piece = this.encoder.encode(text);
    this.pieces.push(piece);
    this.crc = crc32(piece, this.crc);
    this.bodyBytes += piece.length;
  }
}

function encodeSnapshotBody(bodyJson: string): Uint8Array {
  const body = new TextEncoder().encode(bodyJson);
  const before = new TextEncoder().encode(`${prefixBefore}${crc32Hex(body)}${prefixAfter}`);
  const bytes = new Uint8Array(before.length + body.length + 1);
  bytes.set(before, 0);
  bytes.set(body, before.length);
  bytes[bytes.length - 1] = closingBrace;
  return bytes;
}

const CountSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const PositiveSchema = CountSchema.min(1);

const WriteResultSchema = z.union([
  z.strictObject({ ok: z.literal(true), kind: z.literal("transition"), key: z.string(), from: z.string(), to: z.string(), revision: PositiveSchema }),
  z.strictObject({ ok: z.literal(true), kind: z.literal("delete"), key: z.string(), from: z.string(), deleted: z.boolean(), revision: PositiveSchema }),
  z.strictObject({
    ok: z.literal(false),
    code: z.literal("quota_exceeded"),
    key: z.string(),
    quota: z.enum(["keys", "state_bytes"]),
    limit: PositiveSchema,
    used: CountSchema,
  }),
  z.strictObject({ ok: z.literal(false), code: z.literal("invalid_transition"), key: z.string(), from: z.string(), to: z.string(), allowed: z.array(z.string()) }),
  z.strictObject({ ok: z.literal(false), code: z.literal("expect_failed"), key: z.string(), expected: z.string(), actual: z.string() }),
]);

const BodySchema = z.strictObject({
  format: z.literal(snapshotFormat),
  definitionHash: z.string().regex(/^[0-9a-f]{64}$/),
  appliedIndex: CountSchema,
  limits: z.strictObject({
    keysMax: PositiveSchema,
    stateBytesMax: PositiveSchema,
    sessionsMax: PositiveSchema,
    sessionWindowSeqs: PositiveSchema,
    sessionIdleEntriesMax: PositiveSchema,
  }),
  members: z.array(z.string()),
  machines: z.array(z.tuple([z.string(), z.string(), PositiveSchema])),
  sessions: z.array(
    z.strictObject({
      clientId: z.string().regex(/^[1-9][0-9]{0,15}$/),
      lastActivityIndex: PositiveSchema,
      highestSeq: CountSchema,
      answers: z.array(z.tuple([PositiveSchema, z.string(), WriteResultSchema])),
    }),
  ),
  tokens: z
    .strictObject({
      bootstrapped: z.boolean(),
      // The sixth element, a token's expiry in wall-clock ms, is absent for tokens that never expire.
      tokens: z.array(z.tuple([z.string().min(1), z.string().regex(/^[0-9a-f]{64}$/), z.enum(["read", "write", "admin"]), z.array(z.string().min(1)), PositiveSchema, PositiveSchema.optional()])),
    })
    .optional(),
  // Snapshots taken before join tokens existed have none.
  joinTokens: z
    .array(
      z.strictObject({
        tokenId: z.string().regex(/^[a-z0-9]{6}$/),
        secretSha256: z.string().regex(/^[0-9a-f]{64}$/),
        createdAtMs: CountSchema,
        expiresAtMs: CountSchema,
        usedBy: z.string().nullable(),
      }),
    )
    .max(joinTokensMax)
    .default([]),
});

/**
 * Reads `encodeSnapshot` bytes for `definition`. Never throws: damaged bytes give
 * `checksum_mismatch`, bytes that verify but do not describe a consistent store give `malformed`,
 * and a store kept under another definition gives `definition_mismatch`.
 */
export function decodeSnapshot(definition: Definition, bytes: Uint8Array): DecodeSnapshotResult {
  const framed = unframe(bytes);
  if (!framed.ok) return framed;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(framed.body));
  } catch (error) {
    return malformed(`body is not UTF-8 JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = BodySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return malformed(`body does not match the snapshot schema: ${issue === undefined ? "" : `${issue.path.join(".")}: ${issue.message}`}`);
  }
  const { format: _format, ...content } = parsed.data;
  const expectedHash = definitionHash(definition);
  if (content.definitionHash !== expectedHash) {
    return { ok: false, reason: "definition_mismatch", detail: `snapshot definition ${content.definitionHash}, ours ${expectedHash}` };
  }
  const problem =
    storeLimitsProblem(content.limits) ??
    machinesProblem(definition, content) ??
    sessionsProblem(content) ??
    (content.tokens === undefined ? undefined : tokenTableProblem(content.tokens, content.appliedIndex));
  if (problem !== undefined) return malformed(problem);
  return { ok: true, content };
}

function unframe(bytes: Uint8Array): { ok: true; body: Uint8Array } | RestoreFailure {
  if (!(bytes instanceof Uint8Array) || bytes.length < bodyStartByte + 1) return malformed("too short to be a snapshot");
  const header = String.fromCharCode(...bytes.subarray(0, bodyStartByte));
  const checksum = header.slice(prefixBefore.length, prefixBefore.length + checksumChars);
  const framedCorrectly =
    header.startsWith(prefixBefore) && header.endsWith(prefixAfter) && /^[0-9a-f]{8}$/.test(checksum) && bytes[bytes.length - 1] === closingBrace;
  if (!framedCorrectly) return malformed("not a snapshot: the checksum header or the closing brace is missing");
  const body = bytes.subarray(bodyStartByte, bytes.length - 1);
  const actual = crc32Hex(body);
  if (actual !== checksum) return { ok: false, reason: "checksum_mismatch", detail: `recorded crc32 ${checksum}, computed ${actual}` };
  return { ok: true, body };
}

function malformed(detail: string): RestoreFailure {
  return { ok: false, reason: "malformed", detail };
}

function machinesProblem(definition: Definition, content: SnapshotContent): string | undefined {
  const states = new Set(definition.states);
  let previousKey: string | undefined;
  for (const [key, state, revision] of content.machines) {
    if (previousKey !== undefined && !(previousKey < key)) return `machines are not sorted by key at "${key}"`;
    if (!states.has(state)) return `machine "${key}" is in unknown state "${state}"`;
    if (revision > content.appliedIndex) return `machine "${key}" has revision ${revision} beyond appliedIndex ${content.appliedIndex}`;
    previousKey = key;
  }
  return undefined;
}

function sessionsProblem(content: SnapshotContent): string | undefined {
  const { sessionsMax, sessionWindowSeqs, sessionIdleEntriesMax } = content.limits;
  if (content.sessions.length > sessionsMax) return `${content.sessions.length} sessions exceed sessionsMax ${sessionsMax}`;
  const clientIds = new Set<string>();
  let previousActivityIndex = 0;
  for (const session of content.sessions) {
    const where = `session "${session.clientId}"`;
    if (clientIds.has(session.clientId)) return `${where} appears twice`;
    clientIds.add(session.clientId);
    if (session.lastActivityIndex <= previousActivityIndex) return `${where} is out of activity order`;
    if (session.lastActivityIndex > content.appliedIndex) return `${where} is active beyond appliedIndex`;
    if (Number(session.clientId) > session.lastActivityIndex) return `${where} is active before it was registered`;
    if (content.appliedIndex - session.lastActivityIndex > sessionIdleEntriesMax) return `${where} outlived sessionIdleEntriesMax`;
    previousActivityIndex = session.lastActivityIndex;
    const problem = sessionResultsProblem(session, sessionWindowSeqs);
    if (problem !== undefined) return `${where}: ${problem}`;
  }
  return undefined;
}

function sessionResultsProblem(session: SessionSnapshot, sessionWindowSeqs: number): string | undefined {
  const oldestSeq = Math.max(1, session.highestSeq - sessionWindowSeqs + 1);
  let previousSeq = 0;
  for (const [seq, , result] of session.answers) {
    if (seq <= previousSeq) return `results are not sorted by seq at ${seq}`;
    if (seq < oldestSeq || seq > session.highestSeq) return `seq ${seq} is outside the window [${oldestSeq}, ${session.highestSeq}]`;
    if (result.ok && result.revision > session.lastActivityIndex) return `seq ${seq} has revision ${result.revision} after the session's last activity`;
    previousSeq = seq;
  }
  if (session.highestSeq > 0 && previousSeq !== session.highestSeq) return `no result for its highest seq ${session.highestSeq}`;
  return undefined;
}
