import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeEnvelope, type DecodeFailureReason } from "./envelope-codec.js";
import { FrameParser, type FrameParserEvent } from "./frame-parser.js";
import { protocolVersion, type Envelope } from "./messages.js";
import { envelopeArbitrary } from "./testing/arbitraries.js";
import { concatenateBytes, envelopeFrameOf, rawFrameOf } from "./testing/frame-bytes.js";
import { sampleAcknowledgmentEnvelope, sampleEnvelopes, sampleGoodbyeEnvelope, sampleProposalEnvelope } from "./testing/sample-envelopes.js";

const utf8 = new TextEncoder();
const mebibyte = 1024 * 1024;

/** Feeds `chunks` then ends the stream, returning every event in order. */
function parseChunks(chunks: readonly Uint8Array[], parser = new FrameParser()): FrameParserEvent[] {
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  return [...events, ...parser.end()];
}

/** Each event reduced to what a test compares: the envelope, or the failure reason. */
function outcomesOf(events: readonly FrameParserEvent[]): (Envelope | DecodeFailureReason)[] {
  return events.map((event) => (event.ok ? event.value : event.reason));
}

describe("FrameParser: splitting", () => {
  const stream = concatenateBytes(sampleEnvelopes.map(envelopeFrameOf));

  it("yields the same envelopes in order whatever byte offset the stream is split at", () => {
    for (let splitOffset = 0; splitOffset <= stream.byteLength; splitOffset += 1) {
      const events = parseChunks([stream.subarray(0, splitOffset), stream.subarray(splitOffset)]);
      expect(outcomesOf(events), `split at ${splitOffset}`).toStrictEqual(sampleEnvelopes);
    }
  });

  it("yields the same envelopes in order for any chunking, with bufferedBytes the bytes of the frame in progress", () => {
    fc.assert(
      fc.property(
        fc.array(envelopeArbitrary(), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (envelopes, cutSeeds) => {
          const frames = envelopes.map(envelopeFrameOf);
          const all = concatenateBytes(frames);
          const cuts = [...new Set(cutSeeds.map((seed) => seed % (all.byteLength + 1)))].sort((a, b) => a - b);
          const frameEnds = frames.reduce<number[]>((ends, frame) => [...ends, (ends.at(-1) ?? 0) + frame.byteLength], []);
          const parser = new FrameParser();
          const events: FrameParserEvent[] = [];
          let start = 0;
          for (const end of [...cuts, all.byteLength]) {
            events.push(...parser.push(all.subarray(start, end)));
            const frameStart = frameEnds.filter((frameEnd) => frameEnd <= end).at(-1) ?? 0;
            expect(parser.bufferedBytes).toBe(end - frameStart);
            start = end;
          }
          events.push(...parser.end());
          expect(outcomesOf(events)).toStrictEqual(envelopes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reassembles a 1 MiB frame fed one byte at a time without copying quadratically", () => {
    const envelope: Envelope = {
      ...sampleProposalEnvelope,
      body: { type: "SnapshotChunk", term: 1, snapshotIndex: 9, snapshotTerm: 1, offset: 0, data: "A".repeat(mebibyte), done: true },
    };
    const frame = envelopeFrameOf(envelope);
    const parser = new FrameParser();
    const events: FrameParserEvent[] = [];
    for (let offset = 0; offset < frame.byteLength; offset += 1) {
      events.push(...parser.push(frame.subarray(offset, offset + 1)));
      if (offset === frame.byteLength - 2) expect(parser.bufferedBytes).toBe(frame.byteLength - 1);
    }
    expect(outcomesOf(events)).toStrictEqual([envelope]);
    expect(parser.bufferedBytes).toBe(0);
  }, 10_000);
});

describe("FrameParser: limits", () => {
  it("fails as oversized from the 4 prefix bytes alone, before any payload arrives", () => {
    const parser = new FrameParser();
    const prefix = rawFrameOf(new Uint8Array(0), 100 * mebibyte);
    expect(parser.push(prefix.subarray(0, 2))).toStrictEqual([]);
    const events = parser.push(prefix.subarray(2));
    expect(outcomesOf(events)).toStrictEqual(["oversized"]);
    expect(parser.state).toBe("failed");
    expect(parser.bufferedBytes).toBe(0);
  });

  it("ignores everything after an oversized prefix, because the stream is out of sync", () => {
    const parser = new FrameParser();
    const stream = concatenateBytes([envelopeFrameOf(sampleProposalEnvelope), rawFrameOf(new Uint8Array(0), 100 * mebibyte), envelopeFrameOf(sampleGoodbyeEnvelope)]);
    expect(outcomesOf(parser.push(stream))).toStrictEqual([sampleProposalEnvelope, "oversized"]);
    expect(parser.push(envelopeFrameOf(sampleGoodbyeEnvelope))).toStrictEqual([]);
    expect(parser.bufferedBytes).toBe(0);
    expect(parser.end()).toStrictEqual([]);
  });

  it("accepts a payload of exactly frameBytesMax and refuses one byte more", () => {
    const frame = envelopeFrameOf(sampleAcknowledgmentEnvelope);
    const payloadBytes = frame.byteLength - 4;
    expect(outcomesOf(parseChunks([frame], new FrameParser({ frameBytesMax: payloadBytes })))).toStrictEqual([sampleAcknowledgmentEnvelope]);
    expect(outcomesOf(parseChunks([frame], new FrameParser({ frameBytesMax: payloadBytes - 1 })))).toStrictEqual(["oversized"]);
  });

  it("throws ProtocolError invalid_option for a limit the prefix cannot express", () => {
    for (const frameBytesMax of [0, -5, 0.5, 2 ** 32]) {
      expect(() => new FrameParser({ frameBytesMax })).toThrow(expect.objectContaining({ name: "ProtocolError", code: "invalid_option" }));
    }
  });
});

describe("FrameParser: bad frames and stream ends", () => {
  const badFrames: readonly [Uint8Array, DecodeFailureReason | Envelope][] = [
    [envelopeFrameOf(sampleProposalEnvelope), sampleProposalEnvelope],
    [rawFrameOf(utf8.encode("not json")), "not_json"],
    [envelopeFrameOf(sampleAcknowledgmentEnvelope), sampleAcknowledgmentEnvelope],
    [rawFrameOf(new Uint8Array(0)), "empty_frame"],
    [rawFrameOf(Uint8Array.of(0x7b, 0xff, 0x7d)), "not_utf8"],
    [rawFrameOf(encodeEnvelope({ ...sampleGoodbyeEnvelope, v: (protocolVersion + 1) as typeof protocolVersion })), "unsupported_version"],
    [rawFrameOf(utf8.encode(JSON.stringify({ ...sampleGoodbyeEnvelope, to: "" }))), "schema_invalid"],
    [envelopeFrameOf(sampleGoodbyeEnvelope), sampleGoodbyeEnvelope],
  ];
  const stream = concatenateBytes(badFrames.map(([frame]) => frame));
  const expected = badFrames.map(([, outcome]) => outcome);

  it("reports each bad frame at its position and carries on with the next frame", () => {
    for (let splitOffset = 0; splitOffset <= stream.byteLength; splitOffset += 1) {
      const parser = new FrameParser();
      const events = parseChunks([stream.subarray(0, splitOffset), stream.subarray(splitOffset)], parser);
      expect(outcomesOf(events), `split at ${splitOffset}`).toStrictEqual(expected);
    }
  });

  it("reports truncated when the stream ends inside a length prefix or a payload", () => {
    const frame = envelopeFrameOf(sampleProposalEnvelope);
    for (const cut of [1, 3, 4, 5, frame.byteLength - 1]) {
      const events = parseChunks([frame, frame.subarray(0, cut)]);
      expect(outcomesOf(events), `cut at ${cut}`).toStrictEqual([sampleProposalEnvelope, "truncated"]);
    }
    expect(parseChunks([frame])).toHaveLength(1);
    expect(parseChunks([])).toStrictEqual([]);
  });

  it("throws ProtocolError parser_ended when pushed to after end()", () => {
    const parser = new FrameParser();
    expect(parser.end()).toStrictEqual([]);
    expect(parser.end()).toStrictEqual([]);
    expect(parser.state).toBe("ended");
    expect(() => parser.push(Uint8Array.of(0))).toThrow(expect.objectContaining({ name: "ProtocolError", code: "parser_ended" }));
  });
});
