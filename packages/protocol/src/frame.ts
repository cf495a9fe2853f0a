import { encodeEnvelope } from "./envelope-codec.js";
import type { Envelope } from "./messages.js";
import { ProtocolError } from "./protocol-error.js";

/** Every frame starts with its payload's length as an unsigned 32-bit big-endian integer. */
export const frameLengthPrefixBytes = 4;

/** The largest payload (not counting the length prefix) a frame may carry unless configured otherwise. */
export const defaultFrameBytesMax = 4 * 1024 * 1024;

/** What a 4-byte length prefix can express. */
const frameBytesLimit = 0xffff_ffff;

export type FrameOptions = {
  /** The largest payload in bytes, not counting the 4-byte prefix. Default `defaultFrameBytesMax`. */
  frameBytesMax?: number;
};

export type EncodeFrameFailureReason = "oversized" | "empty_frame";

export type EncodeFrameResult =
  | { ok: true; value: Uint8Array }
  | { ok: false; reason: EncodeFrameFailureReason; detail: string };

/**
 * Prefixes `payload` with its length. A payload the receiving parser would refuse (larger than
 * `frameBytesMax`, or empty) is returned as a failure rather than sent, so the sender can drop
 * that one message instead of losing the connection.
 */
export function encodeFrame(payload: Uint8Array, options: FrameOptions = {}): EncodeFrameResult {
  const frameBytesMax = resolveFrameBytesMax(options.frameBytesMax);
  if (payload.byteLength === 0) {
    return { ok: false, reason: "empty_frame", detail: "a frame payload must not be empty" };
  }
  if (payload.byteLength > frameBytesMax) {
    return {
      ok: false,
      reason: "oversized",
      detail: `payload of ${payload.byteLength} bytes exceeds frameBytesMax ${frameBytesMax}`,
    };
  }
  const frame = new Uint8Array(frameLengthPrefixBytes + payload.byteLength);
  new DataView(frame.buffer).setUint32(0, payload.byteLength, false);
  frame.set(payload, frameLengthPrefixBytes);
  return { ok: true, value: frame };
}

/** `encodeFrame(encodeEnvelope(envelope))`. */
export function encodeEnvelopeFrame(envelope: Envelope, options: FrameOptions = {}): EncodeFrameResult {
  return encodeFrame(encodeEnvelope(envelope), options);
}

/**
 * Checks a configured limit once, up front: a limit that is not a positive integer that fits the
 * prefix is a configuration bug, and it is better to crash at startup than to misframe later.
 */
export function resolveFrameBytesMax(frameBytesMax: number | undefined): number {
  if (frameBytesMax === undefined) return defaultFrameBytesMax;
  if (!Number.isInteger(frameBytesMax) || frameBytesMax < 1 || frameBytesMax > frameBytesLimit) {
    throw new ProtocolError(
      "invalid_option",
      `frameBytesMax must be an integer from 1 to ${frameBytesLimit}, got ${String(frameBytesMax)}`,
    );
  }
  return frameBytesMax;
}
