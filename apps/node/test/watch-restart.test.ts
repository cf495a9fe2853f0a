/**
 * A watch survives its node's restart (issue 12, point 5): a node is SIGKILLed and started again
 * from its data directory, and a watch reconnected to it with `from=R` gets every change after R
 * exactly once and in order: the ones it re-applied from its log at start, the ones it caught up
 * on from the leader, and the new ones. Below the node's snapshot the watch is answered
 * `compacted` with the oldest revision it can resume from.
 */
import { TransitionResponseSchema, type WatchEvent } from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { postTransition, waitFor } from "./support/node-api.js";
import { fastTiming, ProcessCluster } from "./support/process-cluster.js";
import { WatchSocket } from "./support/watch-socket.js";

const startTimeoutMs = 20_000;
/** Small, so the restarted node has a snapshot (at 30: the first 45 writes and the few other entries stay below 60) and a log after it. */
const snapshotEntriesThreshold = 30;
const lifecycle = ["Running", "Stopped", "Init"] as const;
const keys = ["wr-a", "wr-b", "wr-c"];

let cluster: ProcessCluster;
/** Every acknowledged write, in revision order. */
const acknowledged: WatchEvent[] = [];
const statesByKey = new Map<string, number>();

beforeAll(async () => {
  cluster = await ProcessCluster.prepare({ cluster: "watchrestart", config: { ...fastTiming, snapshotEntriesThreshold } });
  cluster.startAll();
  if ((await waitForAgreedLeader(cluster.clientUrls, startTimeoutMs)) === null) throw new Error(`no leader\n${cluster.logTail()}`);
}, startTimeoutMs + 5_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** One transition through `clientUrl` (a follower forwards it), recorded as the event a watch must show. */
async function write(clientUrl: string, index: number): Promise<void> {
  const key = keys[index % keys.length]!;
  const step = statesByKey.get(key) ?? 0;
  const answer = await postTransition(clientUrl, key, { to: lifecycle[step % lifecycle.length]! });
  if (answer.status !== 200) throw new Error(`write ${index} answered ${answer.status}: ${JSON.stringify(answer.body)}\n${cluster.logTail()}`);
  const committed = TransitionResponseSchema.parse(answer.body);
  statesByKey.set(key, step + 1);
  acknowledged.push({ type: "transition", revision: committed.revision, key: committed.key, from: committed.from, to: committed.to });
}

async function ready(clientUrl: string): Promise<true | undefined> {
  const response = await fetch(`${clientUrl}/readyz`, { signal: AbortSignal.timeout(1_000) }).catch(() => null);
  return response?.status === 200 ? true : undefined;
}

async function watchUntil(clientUrl: string, fromRevision: number, lastRevision: number): Promise<WatchEvent[]> {
  const watch = new WatchSocket(clientUrl, fromRevision);
  await watch.opened;
  await waitFor(`the watch from ${fromRevision} to reach revision ${lastRevision} (errors: ${watch.errors.join("; ")})`, () => ((watch.lastRevision ?? 0) >= lastRevision || watch.errors.length > 0 ? true : undefined), 10_000);
  await watch.close();
  expect(watch.errors).toEqual([]);
  return watch.events;
}

describe("a watch on a restarted node", () => {
  it("resumes from any revision after the node's snapshot, every change once and in order", async () => {
    const restarted = cluster.node("n3");
    const others = cluster.nodes.filter((node) => node !== restarted);
    // Enough entries for a snapshot on n3, and a log of acknowledged writes after it.
    for (let index = 0; index < 45; index++) await write(cluster.nodes[index % 3]!.clientUrl, index);
    await watchUntil(restarted.clientUrl, 1, acknowledged.at(-1)!.revision);
    // R: a revision the restarted node will only have in its log, not in what its snapshot covers.
    const resumeAfter = acknowledged.at(-10)!.revision;

    await cluster.kill(restarted.id, "SIGKILL");
    for (let index = 45; index < 50; index++) await write(others[index % 2]!.clientUrl, index);
    cluster.start(restarted.id);
    await waitFor(`${restarted.id} ready again`, () => ready(restarted.clientUrl), startTimeoutMs);

    // Written while it was down (caught up from the leader) and after (live): all must come too.
    for (let index = 50; index < 53; index++) await write(cluster.nodes[index % 3]!.clientUrl, index);
    const expected = acknowledged.filter((event) => event.revision > resumeAfter);
    const events = await watchUntil(restarted.clientUrl, resumeAfter + 1, acknowledged.at(-1)!.revision);
    expect(events).toEqual(expected);

    // Below what the node still holds: `compacted`, naming the oldest revision, which is within its snapshot window.
    const old = new WatchSocket(restarted.clientUrl, 1);
    await old.closed;
    expect(old.events).toEqual([]);
    expect(old.errors).toHaveLength(1);
    const oldest = Number(/the oldest revision to resume from is (\d+)/.exec(old.errors[0]!)?.[1]);
    expect(old.errors[0]).toMatch(/^compacted: /);
    expect(oldest).toBeGreaterThan(1);
    expect(oldest).toBeLessThanOrEqual(resumeAfter + 1);
    // From the oldest revision itself: everything from there, once and in order.
    const fromOldest = await watchUntil(restarted.clientUrl, oldest, acknowledged.at(-1)!.revision);
    expect(fromOldest.filter((event) => event.type === "transition")).toEqual(acknowledged.filter((event) => event.revision >= oldest));
  }, 60_000);
});
