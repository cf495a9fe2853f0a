import type { Member, NodeId } from "@lockstep/protocol";
import { configurationMembersMax } from "@lockstep/protocol";

/** One change of the configuration, as an operator asks for it (DESIGN.md §9). */
export type MembershipChange =
  | { kind: "add_learner"; member: { id: NodeId; peerAddress: string; clientUrl: string } }
  | { kind: "promote"; id: NodeId }
  | { kind: "remove"; id: NodeId };

/**
 * Every change the core makes: the operator's, plus `demote` (a voter that may have lost data it
 * acknowledged goes back to learner until it has caught up; protocol-aware recovery).
 */
export type ConfigurationChange = MembershipChange | { kind: "demote"; id: NodeId };

/** Why a membership change was not proposed. Expected outcomes, returned as values. */
export type MembershipChangeRefusal =
  | "not_leader"
  | "no_leader"
  | "change_in_progress"
  | "would_lose_quorum"
  | "unknown_member"
  | "already_member"
  | "not_a_learner"
  | "learner_not_caught_up";

export type ChangeOutcome = { ok: true; members: Member[] } | { ok: false; reason: MembershipChangeRefusal };

/**
 * A cluster configuration: who is a member, who votes. Immutable; `apply` returns the next one.
 * Members are kept sorted by id, so that equal configurations print and compare the same.
 */
export class Configuration {
  readonly members: readonly Member[];
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  private readonly byId: ReadonlyMap<NodeId, Member>;

  constructor(members: readonly Member[]) {
    const sorted = [...members].sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
    this.members = Object.freeze(sorted.map((member) => Object.freeze({ ...member })));
    this.byId = new Map(this.members.map((member) => [member.id, member]));
    if (this.byId.size !== this.members.length) throw new Error("configuration: duplicate member ids");
    this.voters = Object.freeze(this.members.filter((member) => member.voter).map((member) => member.id));
    this.learners = Object.freeze(this.members.filter((member) => !member.voter).map((member) => member.id));
  }

  static empty = new Configuration([]);

  /** A bootstrap list: bare ids are voters without known addresses. */
  static fromBootstrap(members: ReadonlyArray<NodeId | Member>): Configuration {
    return new Configuration(members.map((member) => (typeof member === "string" ? { id: member, peerAddress: "", clientUrl: "", voter: true } : member)));
  }

  get isEmpty(): boolean {
    return this.members.length === 0;
  }

  isMember(id: NodeId): boolean {
    return this.byId.has(id);
  }

  isVoter(id: NodeId): boolean {
    return this.byId.get(id)?.voter === true;
  }

  member(id: NodeId): Member | undefined {
    return this.byId.get(id);
  }

  /** The configuration after `change`, or why the change cannot apply to this one. */
  apply(change: ConfigurationChange): ChangeOutcome {
    switch (change.kind) {
      case "add_learner": {
        if (this.byId.has(change.member.id)) return { ok: false, reason: "already_member" };
        if (this.members.length >= configurationMembersMax) return { ok: false, reason: "would_lose_quorum" };
        const { id, peerAddress, clientUrl } = change.member;
        return { ok: true, members: [...this.members, { id, peerAddress, clientUrl, voter: false }] };
      }
      case "promote": {
        const member = this.byId.get(change.id);
        if (member === undefined) return { ok: false, reason: "unknown_member" };
        if (member.voter) return { ok: false, reason: "not_a_learner" };
        return { ok: true, members: this.members.map((other) => (other.id === change.id ? { ...other, voter: true } : other)) };
      }
      case "demote": {
        const member = this.byId.get(change.id);
        if (member === undefined) return { ok: false, reason: "unknown_member" };
        if (!member.voter) return { ok: false, reason: "not_a_learner" };
        return { ok: true, members: this.members.map((other) => (other.id === change.id ? { ...other, voter: false } : other)) };
      }
      case "remove": {
        if (!this.byId.has(change.id)) return { ok: false, reason: "unknown_member" };
        const members = this.members.filter((other) => other.id !== change.id);
        if (!members.some((other) => other.voter)) return { ok: false, reason: "would_lose_quorum" };
        return { ok: true, members };
      }
    }
  }

  /** Whether two configurations hold the same members with the same roles and addresses. */
  equals(other: Configuration): boolean {
    if (other.members.length !== this.members.length) return false;
    return this.members.every((member, position) => {
      const theirs = other.members[position];
      return theirs !== undefined && theirs.id === member.id && theirs.voter === member.voter && theirs.peerAddress === member.peerAddress && theirs.clientUrl === member.clientUrl;
    });
  }

  /** The plain member list (copies), for snapshots, log entries and callers. */
  toMembers(): Member[] {
    return this.members.map((member) => ({ ...member }));
  }
}

/**
 * Single-server changes (Raft thesis §4.1, §4.3): two configurations one change apart share a
 * majority, so at most one change may be uncommitted at a time and two configurations can never
 * decide independently. True when `next` differs from `current` in at most one voter.
 */
export function isSingleServerChange(current: Configuration, next: Configuration): boolean {
  const before = new Set(current.voters);
  const after = new Set(next.voters);
  let differences = 0;
  for (const id of before) if (!after.has(id)) differences++;
  for (const id of after) if (!before.has(id)) differences++;
  return differences <= 1;
}
