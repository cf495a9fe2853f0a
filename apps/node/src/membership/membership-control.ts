import type { NodeId } from "@lockstep/protocol";

/** A member of the cluster's configuration (the consensus core's `Member`). */
export interface ConfiguredMember {
  id: NodeId;
  peerAddress: string;
  clientUrl: string;
  voter: boolean;
}

/** One configuration change through the log (DESIGN.md §9). */
export type MembershipChange =
  | { kind: "add_learner"; member: { id: NodeId; peerAddress: string; clientUrl: string } }
  | { kind: "promote"; id: NodeId }
  | { kind: "remove"; id: NodeId };

export type MembershipChangeRefusal = "not_leader" | "no_leader" | "change_in_progress" | "would_lose_quorum" | "unknown_member" | "already_member" | "not_a_learner" | "learner_not_caught_up";

export type MembershipChangeOutcome =
  | { ok: true; index: number; members: ConfiguredMember[] }
  | { ok: false; reason: MembershipChangeRefusal | "timeout"; leader?: NodeId };

/** What the HTTP API needs of the consensus node's membership; `ConsensusNode` provides it. */
export interface MembershipControl {
  members(): ConfiguredMember[];
  changeMembership(change: MembershipChange): Promise<MembershipChangeOutcome>;
}
