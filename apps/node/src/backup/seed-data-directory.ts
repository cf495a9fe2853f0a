import type { MemberInfo } from "@lockstep/protocol";
import type { Store } from "@lockstep/state-machine";
import { FileStorage } from "@lockstep/storage";
import { writeClusterIdentity, type ClusterIdentity } from "../membership/cluster-identity.js";

/** Why a data directory could not be seeded; I/O failures are thrown as the storage's errors. */
export class SeedError extends Error {
  override readonly name = "SeedError";
  constructor(
    readonly code: "not_empty",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Writes a data directory that starts a cluster from `store`: a snapshot holding the store with
 * its member list replaced by `members` (appended as one more applied entry, so the snapshot's
 * index is the store's applied index + 1), a hard state at term 1 with that index committed, and
 * the identity file. The directory must be empty (or missing, with its parent present): seeding
 * never overwrites a node's data.
 */
export async function seedDataDirectory(options: { directory: string; store: Store; members: readonly MemberInfo[]; identity: ClusterIdentity }): Promise<{ index: number }> {
  const { directory, store, members, identity } = options;
  const storage = await FileStorage.open({ directory, fsyncPolicy: "always" });
  try {
    const status = storage.status();
    if (status.lastIndex !== 0 || status.snapshotIndex !== 0) {
      throw new SeedError("not_empty", `${directory} already holds a log (last index ${status.lastIndex}); seed only an empty data directory`);
    }
    const index = store.appliedIndex + 1;
    const memberIds = members.map((member) => member.id);
    store.apply(index, { kind: "members", members: memberIds });
    const configuration = members.map((member) => ({ id: member.id, peerAddress: member.peerAddress, clientUrl: member.clientUrl, voter: member.voter }));
    await storage.saveSnapshot({ meta: { index, term: 1, members: configuration }, data: store.snapshot() });
    await storage.persist({ hardState: { term: 1, votedFor: null, commitIndex: index }, entries: [] });
    writeClusterIdentity(directory, identity);
    return { index };
  } finally {
    await storage.close();
  }
}
