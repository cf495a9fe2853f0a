import type { ConfiguredMember, MembershipChange, MembershipChangeOutcome, MembershipControl } from "../membership/membership-control.js";

/**
 * A configuration kept in memory with the core's refusal rules in their simplest form, for HTTP
 * handler tests: one change at a time is not modelled, a scripted refusal can be queued instead.
 */
export class FakeMembership implements MembershipControl {
  readonly changes: MembershipChange[] = [];
  /** The next changes are answered with these outcomes instead of being applied. */
  readonly scripted: MembershipChangeOutcome[] = [];
  #index = 100;

  constructor(private configuration: ConfiguredMember[]) {}

  members(): ConfiguredMember[] {
    return this.configuration.map((member) => ({ ...member }));
  }

  changeMembership(change: MembershipChange): Promise<MembershipChangeOutcome> {
    this.changes.push(change);
    const scripted = this.scripted.shift();
    if (scripted !== undefined) return Promise.resolve(scripted);
    return Promise.resolve(this.#apply(change));
  }

  #apply(change: MembershipChange): MembershipChangeOutcome {
    const id = change.kind === "add_learner" ? change.member.id : change.id;
    const existing = this.configuration.find((member) => member.id === id);
    switch (change.kind) {
      case "add_learner":
        if (existing !== undefined) return { ok: false, reason: "already_member" };
        this.configuration = [...this.configuration, { ...change.member, voter: false }];
        break;
      case "promote":
        if (existing === undefined) return { ok: false, reason: "unknown_member" };
        if (existing.voter) return { ok: false, reason: "not_a_learner" };
        this.configuration = this.configuration.map((member) => (member.id === id ? { ...member, voter: true } : member));
        break;
      case "remove": {
        if (existing === undefined) return { ok: false, reason: "unknown_member" };
        const votersLeft = this.configuration.filter((member) => member.voter && member.id !== id).length;
        if (existing.voter && votersLeft === 0) return { ok: false, reason: "would_lose_quorum" };
        this.configuration = this.configuration.filter((member) => member.id !== id);
        break;
      }
    }
    return { ok: true, index: ++this.#index, members: this.members() };
  }
}
