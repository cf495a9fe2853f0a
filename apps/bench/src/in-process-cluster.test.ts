import { describe, expect, it } from "vitest";
import { InProcessLoadClient, startInProcessCluster } from "./in-process-cluster.js";
import { runPhase } from "./load-generator.js";

describe("in-process cluster over the direct network", () => {
  it("elects a leader, commits every client's transitions, and every node applies the same log", async () => {
    const cluster = await startInProcessCluster(3, 5_000);
    try {
      const clients = Array.from({ length: 8 }, (_, index) => new InProcessLoadClient(cluster.leader, "t", index));
      const result = await runPhase({ clients, durationMs: 300 });
      expect(result.failed).toBe(0);
      expect(result.committed).toBeGreaterThan(100);
      // Followers learn the commit index from the next Proposal or heartbeat: give them a tick.
      await new Promise((resolve) => setTimeout(resolve, 3 * cluster.tickMs));
      const leaderStatus = cluster.leader.status();
      for (const node of cluster.nodes) {
        expect(node.status().appliedIndex).toBe(leaderStatus.appliedIndex);
        expect(node.localStore.get("bench-t-0")).toEqual(cluster.leader.localStore.get("bench-t-0"));
      }
      expect(cluster.network.dropped).toBe(0);
    } finally {
      await cluster.stop();
    }
  });
});
