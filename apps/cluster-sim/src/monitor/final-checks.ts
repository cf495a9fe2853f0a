import type { SimCluster } from "../sim-cluster.js";
import type { SafetyMonitor } from "./safety-monitor.js";

/**
 * Checks run once the liveness phase is over and every write has settled:
 * - log matching (Raft §5.3): if two durable logs hold an entry with the same index and term,
 *   the logs are identical up to it;
 * - leader completeness (§5.4): the final leader's log holds every entry any node applied;
 * - convergence: every live member's store is the same, byte for byte (a removed machine that
 *   still runs stopped receiving the log at its removal).
 */
export function checkFinalLogs(cluster: SimCluster, monitor: SafetyMonitor): void {
  const logs = [...cluster.members.values()].map((member) => ({ id: member.id, storage: member.storage }));
  for (let a = 0; a < logs.length; a++) {
    for (let b = a + 1; b < logs.length; b++) {
      const left = logs[a];
      const right = logs[b];
      if (left === undefined || right === undefined) continue;
      checkLogMatching(left, right, monitor);
    }
  }
  const leader = cluster.memberNodes().find((node) => node.status().role === "leader");
  if (leader !== undefined) {
    const member = cluster.members.get(leader.status().id);
    if (member !== undefined) {
      for (const [index, entry] of monitor.committedEntries) {
        const term = member.storage.durableTermAt(index);
        if (term === null) {
          if (index > member.storage.durableSnapshotIndex()) {
            monitor.report("leader_completeness", `final leader ${member.id} lacks committed index ${index}`);
          }
        } else if (term !== entry.term) {
          monitor.report("leader_completeness", `final leader ${member.id} has term ${term} at committed index ${index}, committed was term ${entry.term}`);
        }
      }
    }
  }
  const snapshots = cluster.memberNodes().map((node) => ({ id: node.status().id, bytes: JSON.stringify([...node.localStore.entries()]) }));
  const reference = snapshots[0];
  for (const snapshot of snapshots.slice(1)) {
    if (reference !== undefined && snapshot.bytes !== reference.bytes) {
      monitor.report("convergence", `store of ${snapshot.id} differs from store of ${reference.id}`);
    }
  }
}

type LogView = { id: string; storage: { durableEntries(): Array<{ index: number; term: number }>; durableTermAt(index: number): number | null } };

function checkLogMatching(left: LogView, right: LogView, monitor: SafetyMonitor): void {
  const rightEntries = right.storage.durableEntries();
  // Walk down from the highest index both hold with the same term; below it, all must match.
  let matchedFrom: number | null = null;
  for (let i = rightEntries.length - 1; i >= 0; i--) {
    const entry = rightEntries[i];
    if (entry === undefined) continue;
    if (left.storage.durableTermAt(entry.index) === entry.term) {
      matchedFrom = i;
      break;
    }
  }
  if (matchedFrom === null) return;
  for (let i = matchedFrom; i >= 0; i--) {
    const entry = rightEntries[i];
    if (entry === undefined) continue;
    const leftTerm = left.storage.durableTermAt(entry.index);
    if (leftTerm !== null && leftTerm !== entry.term) {
      monitor.report("log_matching", `${left.id} and ${right.id} agree at a later index but differ at index ${entry.index} (terms ${leftTerm} and ${entry.term})`);
      return;
    }
  }
}
