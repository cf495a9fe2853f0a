import { decodeEnvelope, type DecodeResult } from "./envelope-codec.js";
import { frameLengthPrefixBytes, resolveFrameBytesMax, type FrameOptions } from "./frame.js";
import type { Envelope } from "./messages.js";
import { ProtocolError } from "./protocol-error.js";

/** One per frame, in stream order: the envelope, or why that frame (or the stream) failed. */
export type FrameParserEvent = DecodeResult<Envelope>;

/**
 * `awaiting_length` and `awaiting_payload` are the working states. `failed` is entered on an
 * oversized length prefix, after which the stream can no longer be trusted to be in sync.
 * `ended` is entered by `end()`.
 */
export type FrameParserState = "awaiting_length" | "awaiting_payload" | "failed" | "ended";

export type FrameParserOptions = FrameOptions;

/**
 * Turns a byte stream cut into arbitrary chunks back into envelopes. A pure state machine: it
 * does no I/O, and every `push` returns, in order, one event per frame that the chunk completed.
 *
 * The length prefix is checked before any payload is buffered, so a peer cannot make this node
 * hold more than `frameBytesMax` bytes. A frame whose payload is bad (not UTF-8, not JSON, wrong
 * version, schema) yields a failure event and parsing continues, because the prefix kept the
 * stream in sync. An oversized prefix yields an `oversized` failure and moves the parser to
 * `failed`: what follows cannot be framed, so later input is ignored and the caller should close
 * the connection.
 *
 * The parser keeps references to pushed chunks until their frame is complete (copying each byte
 * at most once, when a frame spans chunks), so a caller must not reuse a chunk's memory after
 * pushing it.
 */
export class FrameParser {
  readonly frameBytesMax: number;
  #state: FrameParserState = "awaiting_length";
  readonly #lengthPrefix = new Uint8Array(frameLengthPrefixBytes);
  #lengthPrefixBytesFilled = 0;
  #payloadBytesExpected = 0;
  #payloadBytesFilled = 0;
  #payloadChunks: Uint8Array[] = [];

  constructor(options: FrameParserOptions = {}) {
    this.frameBytesMax = resolveFrameBytesMax(options.frameBytesMax);
  }

  get state(): FrameParserState {
    return this.#state;
  }

  /**
   * Bytes of the unfinished frame received so far, its length prefix included: every byte pushed
   * minus the bytes of the frames already reported. What a transport counts for backpressure.
   */
  get bufferedBytes(): number {
    if (this.#state === "awaiting_payload") return frameLengthPrefixBytes + this.#payloadBytesFilled;
    return this.#lengthPrefixBytesFilled;
  }

  /** Feeds the next chunk of the stream. Returns `[]` once the parser has `failed`; throws after `end()`. */
  push(chunk: Uint8Array): FrameParserEvent[] {
    if (this.#state === "ended") {
      throw new ProtocolError("parser_ended", "FrameParser.push() called after end()");
    }
    const events: FrameParserEvent[] = [];
    let offset = 0;
    // Every pass consumes at least one byte, so this loop runs at most `chunk.byteLength` times.
    while (offset < chunk.byteLength) {
      switch (this.#state) {
        case "awaiting_length":
          offset = this.#readLengthPrefix(chunk, offset, events);
          break;
        case "awaiting_payload":
          offset = this.#readPayload(chunk, offset, events);
          break;
        case "failed":
          return events;
      }
    }
    return events;
  }

  /** The stream is over. Reports `truncated` if it stopped inside a frame. Later calls return `[]`. */
  end(): FrameParserEvent[] {
    const bytesFilledDetail =
      this.#state === "awaiting_length" && this.#lengthPrefixBytesFilled > 0
        ? `${this.#lengthPrefixBytesFilled} of ${frameLengthPrefixBytes} length-prefix bytes`
        : this.#state === "awaiting_payload"
          ? `${this.#payloadBytesFilled} of ${this.#payloadBytesExpected} payload bytes`
          : undefined;
    this.#state = "ended";
    this.#resetFrame();
    if (bytesFilledDetail === undefined) return [];
    return [{ ok: false, reason: "truncated", detail: `stream ended after ${bytesFilledDetail}` }];
  }

  #readLengthPrefix(chunk: Uint8Array, offset: number, events: FrameParserEvent[]): number {
    const bytesTaken = Math.min(frameLengthPrefixBytes - this.#lengthPrefixBytesFilled, chunk.byteLength - offset);
    this.#lengthPrefix.set(chunk.subarray(offset, offset + bytesTaken), this.#lengthPrefixBytesFilled);
    this.#lengthPrefixBytesFilled += bytesTaken;
    if (this.#lengthPrefixBytesFilled < frameLengthPrefixBytes) return offset + bytesTaken;

    const [byte0 = 0, byte1 = 0, byte2 = 0, byte3 = 0] = this.#lengthPrefix;
    const payloadBytes = ((byte0 << 24) | (byte1 << 16) | (byte2 << 8) | byte3) >>> 0;
    this.#lengthPrefixBytesFilled = 0;
    if (payloadBytes > this.frameBytesMax) {
      events.push({
        ok: false,
        reason: "oversized",
        detail: `length prefix announces ${payloadBytes} bytes; frameBytesMax is ${this.frameBytesMax}`,
      });
      this.#state = "failed";
      this.#resetFrame();
    } else if (payloadBytes === 0) {
      events.push({ ok: false, reason: "empty_frame", detail: "length prefix announces an empty payload" });
    } else {
      this.#payloadBytesExpected = payloadBytes;
      this.#state = "awaiting_payload";
    }
    return offset + bytesTaken;
  }

  #readPayload(chunk: Uint8Array, offset: number, events: FrameParserEvent[]): number {
    const bytesTaken = Math.min(this.#payloadBytesExpected - this.#payloadBytesFilled, chunk.byteLength - offset);
    const piece = chunk.subarray(offset, offset + bytesTaken);
    this.#payloadBytesFilled += bytesTaken;
    if (this.#payloadBytesFilled < this.#payloadBytesExpected) {
      this.#payloadChunks.push(piece);
      return offset + bytesTaken;
    }
    // The common case, a whole frame inside one chunk, decodes the chunk's own memory without a copy.
    let payload = piece;
    if (this.#payloadChunks.length > 0) {
      this.#payloadChunks.push(piece);
      payload = concatenate(this.#payloadChunks, this.#payloadBytesExpected);
    }
    this.#resetFrame();
    this.#state = "awaiting_length";
    events.push(decodeEnvelope(payload));
    return offset + bytesTaken;
  }

  #resetFrame(): void {
    this.#lengthPrefixBytesFilled = 0;
    this.#payloadBytesExpected = 0;
    this.#payloadBytesFilled = 0;
    this.#payloadChunks = [];
  }
}

function concatenate(pieces: readonly Uint8Array[], totalBytes: number): Uint8Array {
  const joined = new Uint8Array(totalBytes);
  let offset = 0;
  for (const piece of pieces) {
    joined.set(piece, offset);
    offset += piece.byteLength;
  }
  return joined;
}
