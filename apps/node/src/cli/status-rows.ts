import type { ClusterStatus } from "@lockstep/client";

/** One line of `lockstep status`: a member as it sees itself, with its lag as the leader sees it. */
export interface StatusRow {
  readonly id: string;
  readonly isLeader: boolean;
  readonly reachable: boolean;
  readonly role: string;
  readonly term: number | null;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly lag: number | null;
  readonly clientUrl: string;
}

export interface StatusReport {
  readonly leader: string | null;
  readonly term: number;
  readonly members: readonly StatusRow[];
}

/**
 * Builds the report from the view of the node that answered first (`primary`) and each member's
 * own view (`ownViews`, undefined for a member that did not answer). Lag is known only on the leader.
 */
export function buildStatusReport(primary: ClusterStatus, ownViews: ReadonlyMap<string, ClusterStatus | undefined>): StatusReport {
  const leaderView = primary.leader === null ? undefined : primary.leader === primary.self ? primary : ownViews.get(primary.leader);
  const members = primary.members.map((member): StatusRow => {
    const own = ownViews.get(member.id);
    const ownEntry = own?.members.find((candidate) => candidate.id === member.id);
    return {
      id: member.id,
      isLeader: member.id === primary.leader,
      reachable: own !== undefined,
      role: own === undefined ? "unreachable" : (ownEntry?.role ?? "unknown"),
      term: own?.term ?? null,
      commitIndex: own?.commitIndex ?? null,
      appliedIndex: own?.appliedIndex ?? null,
      lag: leaderView?.members.find((candidate) => candidate.id === member.id)?.lag ?? null,
      clientUrl: member.clientUrl,
    };
  });
  return { leader: primary.leader, term: primary.term, members };
}
