import type { NodeId } from "@lockstep/protocol";
import { crashOnlyDiskFaults } from "@lockstep/storage";
import type { DiskFaults } from "@lockstep/storage";
import { createRandom, fork, MemoryNetwork, VirtualClock } from "@lockstep/transport-memory";
import { describe, expect, it } from "vitest";
import { SafetyMonitor } from "./monitor/safety-monitor.js";
import { SimCluster } from "./sim-cluster.js";

/** A power cut loses every write not yet synced: what a node wrote but did not sync is gone. */
const losesUnsynced: DiskFaults = { ...crashOnlyDiskFaults, fsyncDelayMsMin: 2, fsyncDelayMsMax: 4, crashWriteKeptProbability: 0, crashWriteTornProbability: 0, crashSizeWithoutDataProbability: 0 };

function setup(diskFaults: DiskFaults = losesUnsynced) {
  const random = createRandom(7);
  const clock = new VirtualClock();
  const network = new MemoryNetwork({ clock, random: fork(random), faults: { latencyMsMin: 1, latencyMsMax: 2, reorderDelayMsMax: 0 } });
  const monitor = new SafetyMonitor(() => clock.nowMs());
  const ids: NodeId[] = ["n1", "n2", "n3"];
  const cluster = new SimCluster({
    clock,
    network,
    random: fork(random),
    monitor,
    cluster: "sim",
    ids,
    driverConfig: { tickMs: 10, electionTimeoutTicks: 10, heartbeatTicks: 2 },
    clockRateOf: () => 1,
    diskFaults,
  });
  /** Runs virtual time for `ms`, letting every promise an event started settle before the next. */
  const run = async (ms: number): Promise<void> => {
    const until = clock.nowMs() + ms;
    while ((clock.nextDueMs() ?? Number.POSITIVE_INFINITY) <= until && clock.runNext()) await new Promise<void>((resolve) => setImmediate(resolve));
    clock.advanceTo(until);
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const drive = async (work: Promise<void>): Promise<void> => {
    let settled = false;
    void work.finally(() => (settled = true));
    // One event at a time: a start resolves before the fsync of its first write does.
    for (let events = 0; !settled && events < 100_000; events++) {
      clock.runNext();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await work;
  };
  const durableRecovering = (id: NodeId): boolean => cluster.members.get(id)?.storage.durableHardState().recovering === true;
  /** The commit index the running nodes know: what a replaced disk must catch up to before it votes. */
  const clusterCommitIndex = (): number => Math.max(0, ...cluster.liveNodes().map((node) => node.status().commitIndex));
  return { clock, network, monitor, cluster, run, drive, durableRecovering, clusterCommitIndex };
}

describe("SimCluster: a replaced disk", () => {
  it("keeps the possible loss of a disk replaced while the node was starting (the start dies with the machine)", async () => {
    const { network, monitor, cluster, run, drive, durableRecovering, clusterCommitIndex } = setup();
    await drive(cluster.startAll());
    await run(1_000);
    cluster.crash("n3");
    // The node starts again (a supervisor), and while its storage recovers the machine is
    // powered off and its disk replaced, as the fault schedule does.
    void cluster.start("n3");
    await run(1);
    cluster.crash("n3");
    cluster.wipe("n3", clusterCommitIndex());
    await run(1_000);
    // Cut off from every leader, nothing can clear the recovery: the node must have recorded it.
    network.isolate("n3");
    await drive(cluster.start("n3"));
    await run(500);
    expect(cluster.node("n3")).not.toBeNull();
    expect(durableRecovering("n3")).toBe(true);
    expect(monitor.violations).toEqual([]);
  });

  it("ends a start that a power cut killed, so the nodes started after it still start", async () => {
    const { cluster, run, drive } = setup();
    const all = cluster.startAll();
    await run(1);
    // n1's storage is recovering: the power cut kills that process, whose calls never settle.
    cluster.crash("n1");
    await drive(all);
    expect(cluster.node("n1")).toBeNull();
    expect(cluster.node("n2")).not.toBeNull();
    expect(cluster.node("n3")).not.toBeNull();
    await drive(cluster.start("n1"));
    expect(cluster.node("n1")).not.toBeNull();
  });

  it("keeps the possible loss through a power cut before the first start on the new disk synced anything", async () => {
    const { network, monitor, cluster, run, drive, durableRecovering, clusterCommitIndex } = setup();
    await drive(cluster.startAll());
    await run(1_000);
    cluster.crash("n3");
    cluster.wipe("n3", clusterCommitIndex());
    network.isolate("n3");
    await drive(cluster.start("n3"));
    // Its first write (the record of the loss) is still waiting for its fsync: the power cut loses it.
    expect(durableRecovering("n3")).toBe(false);
    cluster.crash("n3");
    await drive(cluster.start("n3"));
    await run(500);
    expect(durableRecovering("n3")).toBe(true);
    expect(monitor.violations).toEqual([]);
  });
});

describe("SimCluster: the liveness phase", () => {
  // Seeds 305870 and 513396 (5 nodes): the disk that replaced a refused one kept the seed's
  // faults; a power cut in the middle of its next write and a bit flip made storage refuse it
  // again, and with that voter down for good no election could gather every voter's answer.
  it("gives a disk replaced after the storage faults stopped none of them: its node stays up", async () => {
    // Every fsync fails and every write with a hard state loses power: no node could run long.
    const { cluster, run, drive } = setup({ ...losesUnsynced, fsyncErrorProbability: 1, powerCutDuringWriteProbability: 1 });
    await drive(cluster.stopStorageFaults());
    cluster.wipe("n3", 0);
    await drive(cluster.startAll());
    await run(2_000);
    for (const id of ["n1", "n2", "n3"]) expect(cluster.node(id)).not.toBeNull();
    const replaced = cluster.members.get("n3")?.storage.stats();
    expect(replaced).toMatchObject({ ioExits: 0, powerCutsDuringWrites: 0 });
    expect(cluster.liveNodes().some((node) => node.status().role === "leader")).toBe(true);
  });
});
