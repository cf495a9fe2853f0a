import { createHash } from "node:crypto";
import { ClusterIdSchema, IndexSchema, MemberInfoSchema, membersMax, NodeIdSchema } from "@lockstep/protocol";
import { z } from "zod";

/**
 * A backup of a running cluster's replicated state (`lockstep snapshot save`), the input of
 * `lockstep snapshot restore`. Layout:
 *
 *     lockstep-backup 1\n
 *     <header JSON>\n
 *     <header.dataBytes bytes: the state machine's snapshot>
 *     \nsha256 <64 hex>\n
 *
 * The SHA-256 covers every byte before the trailer, so a truncated, damaged or edited file is
 * refused as a whole.
 */
const magicLine = "lockstep-backup 1\n";
const trailerPrefix = "\nsha256 ";
const trailerBytes = trailerPrefix.length + 64 + 1;
/** A header is a few hundred bytes plus the definition; anything larger is not ours. */
const headerBytesMax = 256 * 1024;

export const BackupHeaderSchema = z.strictObject({
  cluster: ClusterIdSchema,
  clusterUuid: z.uuid(),
  /** The store's applied index when the backup was taken (a linearizable point). */
  index: IndexSchema,
  members: z.array(MemberInfoSchema).max(membersMax),
  /** The node that served the backup. */
  takenBy: NodeIdSchema,
  takenAtMs: z.number().int().nonnegative(),
  definitionHash: z.string().regex(/^[0-9a-f]{64}$/),
  definition: z.unknown(),
  dataBytes: z.number().int().nonnegative(),
});
export type BackupHeader = z.infer<typeof BackupHeaderSchema>;

export type DecodeBackupResult = { ok: true; header: BackupHeader; data: Uint8Array } | { ok: false; reason: "not_a_backup" | "checksum_mismatch" | "malformed"; detail: string };

export function encodeBackup(header: Omit<BackupHeader, "dataBytes">, data: Uint8Array): Uint8Array {
  const headerText = JSON.stringify({ ...header, dataBytes: data.byteLength });
  const body = Buffer.concat([Buffer.from(`${magicLine}${headerText}\n`, "utf8"), data]);
  const digest = createHash("sha256").update(body).digest("hex");
  return Buffer.concat([body, Buffer.from(`${trailerPrefix}${digest}\n`, "utf8")]);
}

/** Reads `encodeBackup` bytes; never throws. The checksum is verified before anything is parsed. */
export function decodeBackup(bytes: Uint8Array): DecodeBackupResult {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < magicLine.length + trailerBytes || buffer.subarray(0, magicLine.length).toString("utf8") !== magicLine) {
    return { ok: false, reason: "not_a_backup", detail: `the file does not start with "${magicLine.trim()}"` };
  }
  const trailer = buffer.subarray(buffer.length - trailerBytes).toString("utf8");
  const recorded = trailer.startsWith(trailerPrefix) && trailer.endsWith("\n") ? trailer.slice(trailerPrefix.length, -1) : "";
  if (!/^[0-9a-f]{64}$/.test(recorded)) return { ok: false, reason: "malformed", detail: "the sha256 trailer is missing (a truncated file?)" };
  const body = buffer.subarray(0, buffer.length - trailerBytes);
  const actual = createHash("sha256").update(body).digest("hex");
  if (actual !== recorded) return { ok: false, reason: "checksum_mismatch", detail: `recorded sha256 ${recorded}, computed ${actual}` };
  const headerEnd = body.indexOf(0x0a, magicLine.length);
  if (headerEnd === -1 || headerEnd - magicLine.length > headerBytesMax) return { ok: false, reason: "malformed", detail: "no header line" };
  let json: unknown;
  try {
    json = JSON.parse(body.subarray(magicLine.length, headerEnd).toString("utf8"));
  } catch (error) {
    return { ok: false, reason: "malformed", detail: `the header is not JSON: ${(error as Error).message}` };
  }
  const parsed = BackupHeaderSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: "malformed", detail: `header ${issue.path.join(".")}: ${issue.message}` };
  }
  const data = body.subarray(headerEnd + 1);
  if (data.length !== parsed.data.dataBytes) return { ok: false, reason: "malformed", detail: `the header announces ${parsed.data.dataBytes} data bytes, the file holds ${data.length}` };
  return { ok: true, header: parsed.data, data: new Uint8Array(data) };
}
