import type { Member, SnapshotChunk } from "@lockstep/protocol";
import { decodeBase64 } from "./base64.js";
import type { Snapshot } from "./interfaces.js";

export type ChunkOutcome =
  | { kind: "partial"; offset: number }
  | { kind: "complete"; snapshot: Snapshot }
  | { kind: "refused"; expectedOffset: number; reason: string };

interface Assembly {
  index: number;
  term: number;
  parts: Uint8Array[];
  bytes: number;
}

/**
 * A follower's half of snapshot transfer: collects the chunks of one snapshot in order. A chunk
 * at offset 0 starts over; any other chunk must continue the snapshot being assembled at exactly
 * the next offset, otherwise it is refused with the offset we expect. The total size is bounded.
 */
export class SnapshotAssembler {
  private assembly: Assembly | null = null;

  constructor(private readonly snapshotBytesMax: number) {}

  /** `members`: the configuration the snapshot carries (the chunk's, else the follower's own). */
  accept(chunk: SnapshotChunk, members: readonly Member[]): ChunkOutcome {
    const decoded = decodeBase64(chunk.data);
    if (!decoded.ok) return this.refuse(chunk, `chunk is not base64: ${decoded.reason}`);
    if (chunk.offset === 0) {
      this.assembly = { index: chunk.snapshotIndex, term: chunk.snapshotTerm, parts: [], bytes: 0 };
    }
    const assembly = this.assembly;
    if (assembly === null || assembly.index !== chunk.snapshotIndex || assembly.term !== chunk.snapshotTerm) {
      return this.refuse(chunk, "chunk of a snapshot not being assembled");
    }
    if (chunk.offset !== assembly.bytes) return this.refuse(chunk, `offset ${chunk.offset}, expected ${assembly.bytes}`);
    if (assembly.bytes + decoded.bytes.length > this.snapshotBytesMax) {
      this.assembly = null;
      return { kind: "refused", expectedOffset: 0, reason: `snapshot larger than ${this.snapshotBytesMax} bytes` };
    }
    assembly.parts.push(decoded.bytes);
    assembly.bytes += decoded.bytes.length;
    if (!chunk.done) return { kind: "partial", offset: assembly.bytes };
    this.assembly = null;
    const data = new Uint8Array(assembly.bytes);
    let written = 0;
    for (const part of assembly.parts) {
      data.set(part, written);
      written += part.length;
    }
    return { kind: "complete", snapshot: { meta: { index: assembly.index, term: assembly.term, members: members.map((member) => ({ ...member })) }, data } };
  }

  reset(): void {
    this.assembly = null;
  }

  private refuse(chunk: SnapshotChunk, reason: string): ChunkOutcome {
    const assembly = this.assembly;
    const matches = assembly !== null && assembly.index === chunk.snapshotIndex && assembly.term === chunk.snapshotTerm;
    return { kind: "refused", expectedOffset: matches ? assembly.bytes : 0, reason };
  }
}
