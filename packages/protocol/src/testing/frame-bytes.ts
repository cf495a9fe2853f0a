/** Byte-building helpers for framing tests. Not exported from `index.ts`; import by relative path. */
import { encodeEnvelopeFrame } from "../frame.js";
import type { Envelope } from "../messages.js";

/** The frame for `envelope` under the default limit; a test bug if it does not fit. */
export function envelopeFrameOf(envelope: Envelope): Uint8Array {
  const framed = encodeEnvelopeFrame(envelope);
  if (!framed.ok) throw new Error(`sample envelope does not frame: ${framed.detail}`);
  return framed.value;
}

/** A frame with any payload, including ones `encodeFrame` would refuse (empty, or lying about its length). */
export function rawFrameOf(payload: Uint8Array, announcedBytes = payload.byteLength): Uint8Array {
  const frame = new Uint8Array(4 + payload.byteLength);
  new DataView(frame.buffer).setUint32(0, announcedBytes, false);
  frame.set(payload, 4);
  return frame;
}

export function concatenateBytes(parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}
