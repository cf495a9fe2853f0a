import type { ClusterStatus } from "@lockstep/protocol";
import type { ApiContext } from "./api-context.js";

type MemberStatus = ClusterStatus["members"][number];

/**
 * `GET /v1/cluster`: what this node knows. Roles of other members are known only for the
 * leader (it is the leader) and, on the leader, for the followers it tracks; the rest are
 * `unknown`, and the dashboard asks each member itself. `voter` is false for a learner; on the
 * leader, a learner's `lag` shows how far it still has to catch up, and `recovering` which members
 * said they may have lost data (demoted to learner until caught up: protocol-aware repair).
 */
export function clusterStatus(context: ApiContext): ClusterStatus {
  const status = context.node.status();
  const progress = new Map(status.progress.map((entry) => [entry.id, entry.matchIndex]));
  const recovering = new Map(status.progress.map((entry) => [entry.id, entry.recovering]));
  const isLeader = status.role === "leader";
  // The configuration this node applied; a node that just joined and knows none yet shows itself.
  const configured = context.membership.members();
  const known = configured.length > 0 ? configured : context.members.map((member) => ({ ...member, voter: false }));
  const members = known.map((member): MemberStatus => {
    // The leader's own log reaches at least its commit index; its status does not report more.
    const ownIndex = member.id === status.id ? status.commitIndex : null;
    const matchIndex = isLeader ? (progress.get(member.id) ?? ownIndex) : null;
    return {
      id: member.id,
      peerAddress: member.peerAddress,
      clientUrl: member.clientUrl,
      role: roleOf(member.id, status.id, status.role, status.leader, isLeader && progress.has(member.id)),
      voter: member.voter,
      matchIndex: matchIndex,
      lag: matchIndex === null ? null : Math.max(0, status.commitIndex - matchIndex),
      recovering: isLeader ? (recovering.get(member.id) ?? false) : null,
    };
  });
  return {
    self: status.id,
    leader: status.leader,
    term: status.term,
    commitIndex: status.commitIndex,
    appliedIndex: status.appliedIndex,
    recovering: status.recovering,
    members,
  };
}

function roleOf(id: string, selfId: string, selfRole: string, leader: string | null, trackedFollower: boolean): MemberStatus["role"] {
  if (id === selfId) return selfRole === "precandidate" ? "candidate" : (selfRole as MemberStatus["role"]);
  if (id === leader) return "leader";
  return trackedFollower ? "follower" : "unknown";
}
