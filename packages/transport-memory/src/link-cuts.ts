import type { NodeId } from "@lockstep/protocol";

/**
 * Which directed links are cut. Cuts accumulate (a partition, then an isolation, are both in
 * force) until `heal()` removes them all, as in etcd-io/raft's test network.
 */
export class LinkCuts {
  private readonly cut = new Set<string>();
  private readonly isolated = new Set<NodeId>();

  canReach(from: NodeId, to: NodeId): boolean {
    if (this.isolated.size > 0 && (this.isolated.has(from) || this.isolated.has(to)) && from !== to) return false;
    return this.cut.size === 0 || !this.cut.has(linkKey(from, to));
  }

  /** No message crosses between the two groups, in either direction. */
  partition(groupA: readonly NodeId[], groupB: readonly NodeId[]): void {
    const inA = new Set(groupA);
    const overlap = groupB.filter((id) => inA.has(id));
    if (overlap.length > 0) throw new Error(`partition: ${overlap.join(", ")} on both sides`);
    for (const a of groupA) {
      for (const b of groupB) {
        this.cut.add(linkKey(a, b));
        this.cut.add(linkKey(b, a));
      }
    }
  }

  /** Messages from `from` to `to` are dropped; the other direction still works. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(linkKey(from, to));
  }

  /** The node can neither send to nor hear from any other node (it still reaches itself). */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /**
   * The two sides cannot talk to each other, but `bridgeNode` talks to both: the shape in which a
   * node can win votes from both sides, or relay a leader's authority, while they are split.
   */
  bridge(sideA: readonly NodeId[], sideB: readonly NodeId[], bridgeNode: NodeId): void {
    if (sideA.includes(bridgeNode) || sideB.includes(bridgeNode)) {
      throw new Error(`bridge: bridge node ${bridgeNode} must be on neither side`);
    }
    this.partition(sideA, sideB);
  }

  heal(): void {
    this.cut.clear();
    this.isolated.clear();
  }

  /** Human-readable list of what is cut, for reports. */
  describe(): string[] {
    return [...[...this.isolated].map((id) => `isolated ${id}`), ...[...this.cut].map((key) => key.replace("\u0000", " -x-> "))];
  }
}

// NodeIds cannot contain NUL, so the key is unambiguous.
function linkKey(from: NodeId, to: NodeId): string {
  return `${from}\u0000${to}`;
}
