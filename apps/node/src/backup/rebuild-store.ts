import { storeCommand, type PersistedState } from "@lockstep/consensus";
import { Store, type Definition } from "@lockstep/state-machine";

export type RebuildResult = { ok: true; store: Store; appliedEntries: number } | { ok: false; message: string };

/**
 * The store a surviving node's data directory holds, with EVERY entry of its log applied, as
 * etcd's `--force-new-cluster` does: the survivor's log is the best record left of what was
 * committed. Entries it had not yet learned were committed may not have been; applying them is
 * the price of recovering from the loss of a majority (docs/operations.md says so).
 */
export function rebuildStore(definition: Definition, persisted: PersistedState): RebuildResult {
  let store = new Store(definition);
  if (persisted.snapshot !== null) {
    const restored = Store.restore(definition, persisted.snapshot.data);
    if (!restored.ok) return { ok: false, message: `the snapshot at index ${persisted.snapshot.meta.index} cannot be read: ${restored.reason}: ${restored.detail}` };
    store = restored.store;
  }
  let appliedEntries = 0;
  for (const entry of persisted.entries) {
    if (entry.index <= store.appliedIndex) continue;
    store.apply(entry.index, storeCommand(entry.command));
    appliedEntries++;
  }
  return { ok: true, store, appliedEntries };
}
