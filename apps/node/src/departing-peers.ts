import type { NodeId } from "@lockstep/protocol";

/** A peer address as the transport takes it. */
export interface PeerAddress {
  host: string;
  port: number;
}

/**
 * The peers the transport keeps: the members of the configuration in effect, plus members that
 * left it within the last `graceMs`. A leader that removed itself (or another member) leads on
 * until most of the remaining voters have answered a heartbeat round opened after the commit
 * (consensus README, "Removing the leader"); a follower that applied the removal and hung up on
 * the removed leader at once never answered those rounds, so the removal was never known to be
 * known and its answer timed out. Bounded: at most one entry per member that left, each dropped
 * when its grace ends (its timer does not keep the process alive).
 */
export class DepartingPeers {
  private readonly departing = new Map<NodeId, { address: PeerAddress; timer: ReturnType<typeof setTimeout> }>();
  private current = new Map<NodeId, PeerAddress>();

  constructor(
    private readonly graceMs: number,
    private readonly apply: (peers: Record<NodeId, PeerAddress>) => void,
  ) {}

  /** The members now (this node excluded); members that were there before and are not now depart. */
  follow(members: ReadonlyMap<NodeId, PeerAddress>): void {
    for (const [id, address] of this.current) {
      if (members.has(id) || this.departing.has(id)) continue;
      const timer = setTimeout(() => {
        this.departing.delete(id);
        this.push();
      }, this.graceMs);
      timer.unref();
      this.departing.set(id, { address, timer });
    }
    for (const id of members.keys()) {
      const back = this.departing.get(id);
      if (back === undefined) continue;
      clearTimeout(back.timer);
      this.departing.delete(id);
    }
    this.current = new Map(members);
    this.push();
  }

  /** Ends every grace at once (the process is stopping). */
  clear(): void {
    for (const { timer } of this.departing.values()) clearTimeout(timer);
    this.departing.clear();
  }

  private push(): void {
    const peers: Record<NodeId, PeerAddress> = {};
    for (const [id, { address }] of this.departing) peers[id] = address;
    for (const [id, address] of this.current) peers[id] = address;
    this.apply(peers);
  }
}
