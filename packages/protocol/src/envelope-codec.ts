import type { z } from "zod";
import { decodeHotEnvelope } from "./hot-envelope.js";
import { EnvelopeSchema, protocolVersion, type Envelope } from "./messages.js";

/**
 * Every way a frame can fail to become an envelope. The first four come from `decodeEnvelope`;
 * the last three from the frame parser. Exported as a list so metrics can pre-create one
 * counter per reason.
 */
export const decodeFailureReasons = [
  "not_utf8",
  "not_json",
  "unsupported_version",
  "schema_invalid",
  "oversized",
  "empty_frame",
  "truncated",
] as const;
export type DecodeFailureReason = (typeof decodeFailureReasons)[number];

/** Decoding never throws: bad input from a peer is an expected outcome that the caller counts and drops. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: DecodeFailureReason; detail: string };

/** Details go into logs; a hostile peer must not be able to make them megabytes long. */
export const decodeDetailLengthMax = 256;

// One instance each, reused: creating a TextDecoder per message would cost more than the decode.
// `fatal: true` makes invalid UTF-8 an error instead of silently becoming U+FFFD.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** The envelope as UTF-8 JSON: the payload of one frame. */
export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return utf8Encoder.encode(JSON.stringify(envelope));
}

/**
 * Bytes to a validated envelope: one UTF-8 decode, one `JSON.parse`, one check (by hand for
 * the messages of every commit, `hot-envelope.ts`; by the schema otherwise), because this runs
 * for every message a node receives. Fields the schema does not know are dropped.
 */
export function decodeEnvelope(bytes: Uint8Array): DecodeResult<Envelope> {
  let text: string;
  try {
    text = utf8Decoder.decode(bytes);
  } catch {
    return failure("not_utf8", `payload of ${bytes.byteLength} bytes is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return failure("not_json", error instanceof Error ? error.message : "payload is not JSON");
  }
  // The version is checked before the schema so that a peer on another version gets a reason the
  // caller can act on (answer with `Goodbye` version_mismatch), not a schema error about some field.
  // An object without `v` is not an envelope of any version, so the schema reports it.
  if (isObject(json) && "v" in json && json.v !== protocolVersion) {
    return failure("unsupported_version", `v is ${describeValue(json.v)}; this build speaks ${protocolVersion}`);
  }
  // The messages of every commit are checked by hand first; anything it is unsure of goes to the schema.
  const hot = decodeHotEnvelope(json);
  if (hot !== null) return { ok: true, value: hot };
  const parsed = EnvelopeSchema.safeParse(json);
  if (!parsed.success) return failure("schema_invalid", describeFirstIssue(parsed.error.issues));
  return { ok: true, value: parsed.data };
}

function failure(reason: DecodeFailureReason, detail: string): DecodeResult<never> {
  return { ok: false, reason, detail: truncateDetail(detail) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  return truncateDetail(JSON.stringify(value) ?? String(value), 32);
}

/** Names the first failing field as a path (`body.entries[3].term`) so a log line says what was wrong. */
function describeFirstIssue(issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues[0];
  if (issue === undefined) return "schema rejected the envelope";
  return `${formatPath(issue.path)}: ${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let formatted = "";
  for (const segment of path) {
    if (typeof segment === "number") formatted += `[${segment}]`;
    else formatted += formatted === "" ? String(segment) : `.${String(segment)}`;
  }
  return formatted === "" ? "(envelope)" : formatted;
}

function truncateDetail(detail: string, lengthMax = decodeDetailLengthMax): string {
  return detail.length <= lengthMax ? detail : `${detail.slice(0, lengthMax - 1)}…`;
}
