import { bootstrapClusterUuid, readClusterIdentity, writeClusterIdentity, type ClusterIdentity } from "./cluster-identity.js";

export type ResolvedIdentity =
  | { kind: "existing"; identity: ClusterIdentity }
  | { kind: "created"; identity: ClusterIdentity }
  | { kind: "needs_join" }
  | { kind: "refused"; message: string };

export interface ResolveIdentityInput {
  dataDirectory: string;
  cluster: string;
  nodeId: string;
  /** The founding members from the configuration (used only to bootstrap). */
  members: ReadonlyArray<{ id: string; peerAddress: string }>;
  /** Whether the directory holds no log entry and no snapshot. */
  dataDirectoryEmpty: boolean;
  /** `--join` or `--join-dns` was given. */
  joinRequested: boolean;
}

/**
 * Decides which cluster a data directory belongs to, once per start (DESIGN.md §9):
 * - a directory with an identity file restarts as what it is (and `--join` is ignored), after
 *   checking that the file names this cluster and this node;
 * - an empty directory with `--join` must ask the cluster (`needs_join`);
 * - an empty directory without `--join` bootstraps the configured founding members, all of which
 *   compute the same cluster uuid;
 * - a directory with data but no identity file (written before identities existed) adopts the
 *   bootstrap uuid its founders compute.
 */
export function resolveIdentity(input: ResolveIdentityInput): ResolvedIdentity {
  const read = readClusterIdentity(input.dataDirectory);
  if (read.kind === "invalid") return { kind: "refused", message: read.message };
  if (read.kind === "ok") {
    const { identity } = read;
    if (identity.cluster !== input.cluster) {
      return { kind: "refused", message: `data directory ${input.dataDirectory} belongs to cluster "${identity.cluster}" (uuid ${identity.clusterUuid}), not "${input.cluster}"` };
    }
    if (identity.nodeId !== input.nodeId) {
      return { kind: "refused", message: `data directory ${input.dataDirectory} belongs to node ${identity.nodeId}, not ${input.nodeId}` };
    }
    return { kind: "existing", identity };
  }
  if (input.dataDirectoryEmpty && input.joinRequested) return { kind: "needs_join" };
  const identity: ClusterIdentity = {
    format: 1,
    cluster: input.cluster,
    clusterUuid: bootstrapClusterUuid({ cluster: input.cluster, members: input.members, bootstrapToken: "" }),
    nodeId: input.nodeId,
    origin: input.dataDirectoryEmpty ? "bootstrap" : "adopted",
  };
  writeClusterIdentity(input.dataDirectory, identity);
  return { kind: "created", identity };
}
