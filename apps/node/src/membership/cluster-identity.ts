import { createHash, randomUUID } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ClusterIdSchema, NodeIdSchema } from "@lockstep/protocol";
import { z } from "zod";

/**
 * The file in a data directory that says which cluster, and which member of it, the directory
 * belongs to. Written once, when the directory is bootstrapped, joined, restored or recovered;
 * read on every start.
 */
export const clusterIdentityFileName = "CLUSTER";

const ClusterIdentitySchema = z.strictObject({
  format: z.literal(1),
  cluster: ClusterIdSchema,
  /** Distinguishes two clusters bootstrapped with the same name: peers compare it on every handshake. */
  clusterUuid: z.uuid(),
  nodeId: NodeIdSchema,
  /** How this directory came to belong to the cluster, for operators reading the file. */
  origin: z.enum(["bootstrap", "join", "restore", "recover", "adopted"]),
});
export type ClusterIdentity = z.infer<typeof ClusterIdentitySchema>;

export type ReadIdentityResult = { kind: "missing" } | { kind: "ok"; identity: ClusterIdentity } | { kind: "invalid"; message: string };

/** Reads the identity file of `directory`; never throws. */
export function readClusterIdentity(directory: string): ReadIdentityResult {
  const path = join(directory, clusterIdentityFileName);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    return { kind: "invalid", message: `cannot read ${path}: ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "invalid", message: `${path} is not valid JSON (damaged?); restore it or rejoin the node with an empty data directory` };
  }
  const parsed = ClusterIdentitySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { kind: "invalid", message: `${path}: ${issue.path.join(".") || "file"}: ${issue.message}` };
  }
  return { kind: "ok", identity: parsed.data };
}

/** Writes the identity file durably (temporary file, fsync, rename, fsync of the directory). */
export function writeClusterIdentity(directory: string, identity: ClusterIdentity): void {
  const path = join(directory, clusterIdentityFileName);
  const temporary = `${path}.tmp`;
  const descriptor = openSync(temporary, "w");
  try {
    writeSync(descriptor, `${JSON.stringify(identity, null, 2)}\n`);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  renameSync(temporary, path);
  const directoryDescriptor = openSync(directory, "r");
  try {
    fsyncSync(directoryDescriptor);
  } finally {
    closeSync(directoryDescriptor);
  }
}

/** A new random cluster uuid: for a restored or recovered cluster, which must not merge with the old one. */
export function newClusterUuid(): string {
  return randomUUID();
}

/**
 * The uuid of a cluster bootstrapped from a static member list: every founding member computes
 * the same one without talking to the others (etcd's `--initial-cluster-token` model). A
 * different `bootstrapToken`, cluster name or member id list gives another cluster.
 */
export function bootstrapClusterUuid(input: { cluster: string; members: ReadonlyArray<{ id: string; peerAddress: string }>; bootstrapToken: string }): string {
  // Ids only: members may see each other at different addresses (NAT, proxies), and must agree.
  const founders = input.members.map((member) => member.id).sort();
  const material = JSON.stringify([input.cluster, founders, input.bootstrapToken]);
  const hex = createHash("sha256").update(material, "utf8").digest("hex");
  // RFC 9562 version 8 (custom) with the RFC variant bits, so it parses as a uuid everywhere.
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
