import type { StoreLimitsValue } from "./command.js";

/**
 * The store's limits. They are replicated state, not per-node settings: every replica must decide
 * every write the same way, so a store starts with `defaultStoreLimits` and only a `limits` entry
 * in the log changes them (a leader whose configuration differs proposes one). Snapshots carry
 * them.
 *
 * - `keysMax`: keys held at once (changed and not deleted); a write that would add one more is
 *   refused with `quota_exceeded` (`quota: "keys"`).
 * - `stateBytesMax`: bytes of replicated state, counted per key as its key's and state's UTF-8
 *   length plus `keyOverheadBytes`; a write that would grow the count past it is refused
 *   (`quota: "state_bytes"`). Deletes are always allowed, so a full store can be cleaned.
 * - `sessionsMax`: client sessions held; registering one more expires the least recently active.
 * - `sessionWindowSeqs`: answers a session keeps, for the seqs `[highestSeq - window + 1, highestSeq]`.
 * - `sessionIdleEntriesMax`: a session with no request for this many log entries expires.
 */
export type StoreLimits = StoreLimitsValue;

export const defaultStoreLimits: StoreLimits = Object.freeze({
  keysMax: 100_000,
  stateBytesMax: 32 * 1024 * 1024,
  sessionsMax: 10_000,
  sessionWindowSeqs: 64,
  sessionIdleEntriesMax: 1_000_000,
});

/** What one key costs besides its key and state names: about its framing in a snapshot. */
export const keyOverheadBytes = 16;

/** Bytes one key with `state` counts against `stateBytesMax`. */
export function keyBytes(key: string, state: string): number {
  return utf8Length(key) + utf8Length(state) + keyOverheadBytes;
}

/** The UTF-8 length of `text`, counted without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let position = 0; position < text.length; position++) {
    const unit = text.charCodeAt(position);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && position + 1 < text.length) {
      bytes += 4;
      position++;
    } else bytes += 3;
  }
  return bytes;
}

/** Why `limits` cannot be used, or undefined when every field is a positive safe integer. */
export function storeLimitsProblem(limits: StoreLimits): string | undefined {
  for (const name of ["keysMax", "stateBytesMax", "sessionsMax", "sessionWindowSeqs", "sessionIdleEntriesMax"] as const) {
    const value = limits[name];
    if (!(Number.isSafeInteger(value) && value >= 1)) return `${name} must be a positive integer, got ${String(value)}`;
  }
  return undefined;
}

export function sameStoreLimits(left: StoreLimits, right: StoreLimits): boolean {
  return (
    left.keysMax === right.keysMax &&
    left.stateBytesMax === right.stateBytesMax &&
    left.sessionsMax === right.sessionsMax &&
    left.sessionWindowSeqs === right.sessionWindowSeqs &&
    left.sessionIdleEntriesMax === right.sessionIdleEntriesMax
  );
}
