import type { Envelope } from "./messages.js";
import { entriesPerMessageMax, protocolVersion } from "./messages.js";
import { identifierLengthMax, keyLengthMax, stateNameLengthMax } from "./ids.js";

/**
 * The messages of every commit (Proposal, Acknowledgment, Commit) checked by hand, for speed:
 * at one client each is decoded once per commit by a process that slept since the last one, and
 * zod's `safeParse` then cost 34 µs of a Proposal's 54 µs decode (its schema graph is cold in the
 * caches). The schema in messages.ts stays the one definition of a valid envelope: this returns
 * an envelope only when the schema would accept the input and give the same value (a new object,
 * fields in the schema's order), and `null` whenever it is not sure: another message type,
 * another command kind, an unknown field (the schema would strip it), or any value out of range.
 * The caller then asks the schema. `hot-envelope.test.ts` checks the agreement on generated and
 * mutated envelopes.
 */
export function decodeHotEnvelope(json: unknown): Envelope | null {
  if (!isRecord(json)) return null;
  const { v, cluster, from, to, body, auth } = json;
  if (v !== protocolVersion || !isIdentifier(cluster) || !isIdentifier(from) || !isIdentifier(to) || !isRecord(body)) return null;
  if (ownKeyCount(json) !== 5 + (auth === undefined ? 0 : 1)) return null;
  const message = hotBody(body);
  if (message === null) return null;
  if (auth === undefined) return { v: protocolVersion, cluster, from, to, body: message };
  if (!isRecord(auth) || ownKeyCount(auth) !== 2) return null;
  const { alg, sig } = auth;
  if ((alg !== "ed25519" && alg !== "ecdsa-p256-sha256") || typeof sig !== "string" || sig.length > 128) return null;
  return { v: protocolVersion, cluster, from, to, body: message, auth: { alg, sig } };
}

type HotBody = Envelope["body"];

function hotBody(body: Record<string, unknown>): HotBody | null {
  switch (body.type) {
    case "Proposal":
      return proposal(body);
    case "Acknowledgment":
      return acknowledgment(body);
    case "Commit": {
      const { term, commitIndex } = body;
      if (!isCount(term) || !isCount(commitIndex) || ownKeyCount(body) !== 3) return null;
      return { type: "Commit", term, commitIndex };
    }
    default:
      return null;
  }
}

function proposal(body: Record<string, unknown>): HotBody | null {
  const { term, prevIndex, prevTerm, entries, commitIndex, context, epoch } = body;
  if (!isCount(term) || !isCount(prevIndex) || !isCount(prevTerm) || !isCount(commitIndex) || !Array.isArray(entries) || entries.length > entriesPerMessageMax) return null;
  if ((context !== undefined && !isCount(context)) || (epoch !== undefined && !isPositive(epoch))) return null;
  if (ownKeyCount(body) !== 6 + (context === undefined ? 0 : 1) + (epoch === undefined ? 0 : 1)) return null;
  const checked: Entry[] = new Array<Entry>(entries.length);
  for (let position = 0; position < entries.length; position++) {
    const entry = hotEntry(entries[position]);
    if (entry === null) return null;
    checked[position] = entry;
  }
  const message: Extract<HotBody, { type: "Proposal" }> = { type: "Proposal", term, prevIndex, prevTerm, entries: checked, commitIndex };
  if (context !== undefined) message.context = context;
  if (epoch !== undefined) message.epoch = epoch;
  return message;
}

function acknowledgment(body: Record<string, unknown>): HotBody | null {
  const { term, matchIndex, context, recovering, epoch, incarnation } = body;
  if (!isCount(term) || !isCount(matchIndex)) return null;
  if (context !== undefined && !isCount(context)) return null;
  if (recovering !== undefined && typeof recovering !== "boolean") return null;
  if (epoch !== undefined && !isPositive(epoch)) return null;
  if (incarnation !== undefined && !(isPositive(incarnation) && incarnation <= 0xffff_ffff)) return null;
  const optionalCount = (context === undefined ? 0 : 1) + (recovering === undefined ? 0 : 1) + (epoch === undefined ? 0 : 1) + (incarnation === undefined ? 0 : 1);
  if (ownKeyCount(body) !== 3 + optionalCount) return null;
  const message: Extract<HotBody, { type: "Acknowledgment" }> = { type: "Acknowledgment", term, matchIndex };
  if (context !== undefined) message.context = context;
  if (recovering !== undefined) message.recovering = recovering;
  if (epoch !== undefined) message.epoch = epoch;
  if (incarnation !== undefined) message.incarnation = incarnation;
  return message;
}

type Entry = Extract<HotBody, { type: "Proposal" }>["entries"][number];
type Command = Entry["command"];

function hotEntry(value: unknown): Entry | null {
  if (!isRecord(value)) return null;
  const { index, term, command } = value;
  if (!isPositive(index) || !isCount(term) || !isRecord(command) || ownKeyCount(value) !== 3) return null;
  const checked = hotCommand(command);
  return checked === null ? null : { index, term, command: checked };
}

/** The commands of ordinary writes; the rare kinds (members, limits, tokens) are left to the schema. */
function hotCommand(command: Record<string, unknown>): Command | null {
  switch (command.kind) {
    case "transition": {
      const { key, to, expect, session } = command;
      if (!isKey(key) || !isStateName(to) || (expect !== undefined && !isStateName(expect))) return null;
      if (ownKeyCount(command) !== 3 + (expect === undefined ? 0 : 1) + (session === undefined ? 0 : 1)) return null;
      if (session === undefined) return expect === undefined ? { kind: "transition", key, to } : { kind: "transition", key, to, expect };
      const checkedSession = hotSession(session);
      if (checkedSession === null) return null;
      return expect === undefined ? { kind: "transition", key, to, session: checkedSession } : { kind: "transition", key, to, expect, session: checkedSession };
    }
    case "delete": {
      const { key, expect, session } = command;
      if (!isKey(key) || (expect !== undefined && !isStateName(expect))) return null;
      if (ownKeyCount(command) !== 2 + (expect === undefined ? 0 : 1) + (session === undefined ? 0 : 1)) return null;
      if (session === undefined) return expect === undefined ? { kind: "delete", key } : { kind: "delete", key, expect };
      const checkedSession = hotSession(session);
      if (checkedSession === null) return null;
      return expect === undefined ? { kind: "delete", key, session: checkedSession } : { kind: "delete", key, expect, session: checkedSession };
    }
    case "register_session": {
      const { nonce } = command;
      if (typeof nonce !== "string" || nonce.length < 1 || nonce.length > identifierLengthMax || !noncePattern.test(nonce) || ownKeyCount(command) !== 2) return null;
      return { kind: "register_session", nonce };
    }
    case "noop":
      return ownKeyCount(command) === 1 ? { kind: "noop" } : null;
    default:
      return null;
  }
}

function hotSession(session: unknown): { clientId: string; seq: number } | null {
  if (!isRecord(session)) return null;
  const { clientId, seq } = session;
  if (typeof clientId !== "string" || clientId.length < 1 || clientId.length > identifierLengthMax || !clientIdPattern.test(clientId)) return null;
  if (!isPositive(seq) || ownKeyCount(session) !== 2) return null;
  return { clientId, seq };
}

// The patterns of ids.ts and commands.ts, the same expressions.
const identifierPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const keyPattern = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;
const stateNamePattern = /^[A-Za-z][A-Za-z0-9_-]*$/;
const clientIdPattern = /^[A-Za-z0-9_-]+$/;
const noncePattern = /^[A-Za-z0-9_.-]+$/;

function isIdentifier(value: unknown): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= identifierLengthMax && identifierPattern.test(value);
}

function isKey(value: unknown): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= keyLengthMax && keyPattern.test(value);
}

function isStateName(value: unknown): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= stateNameLengthMax && stateNamePattern.test(value);
}

/** A term, an index, a read context: a safe integer >= 0. */
function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** An entry's index, a seq, an epoch: a safe integer >= 1. */
function isPositive(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}

/** A plain object as `JSON.parse` makes them (no arrays). */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Own enumerable keys, without building the array `Object.keys` would. */
function ownKeyCount(value: Record<string, unknown>): number {
  let count = 0;
  for (const key in value) if (Object.hasOwn(value, key)) count++;
  return count;
}
