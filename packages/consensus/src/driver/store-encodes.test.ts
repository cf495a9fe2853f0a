import { lifecycleDefinition, Store } from "@lockstep/state-machine";
import { describe, expect, it } from "vitest";
import { ArrayStorage, CapturingTransport, ManualClock, settle } from "../testing/driver-harness.js";
import { seededRandom } from "../testing/seeded-random.js";
import { ConsensusNode } from "./consensus-node.js";

/**
 * The node's `schedule`, held on demand: while `held` is on, the steps it is given wait in `steps`
 * until the test runs them, so the test can act between two steps of an encoding.
 */
class HeldSchedule {
  held = false;
  readonly steps: (() => void)[] = [];

  readonly schedule = (callback: () => void): void => {
    if (this.held) this.steps.push(callback);
    else setImmediate(callback);
  };

  runOne(): void {
    this.steps.shift()!();
  }

  /** Stops holding and runs what was held, in order. */
  release(): void {
    this.held = false;
    for (const step of this.steps.splice(0)) step();
  }
}

/** A one-member cluster `n1`, already leader, whose scheduled steps the test can hold. */
async function singleNode(seed: number): Promise<{ node: ConsensusNode; clock: ManualClock; held: HeldSchedule }> {
  const clock = new ManualClock();
  const held = new HeldSchedule();
  const node = await ConsensusNode.start({
    id: "n1",
    cluster: "test",
    members: ["n1"],
    definition: lifecycleDefinition,
    transport: new CapturingTransport(),
    storage: new ArrayStorage(),
    clock,
    random: seededRandom(seed),
    schedule: held.schedule,
    config: { tickMs: 10, consensusTimeoutMs: 5_000, snapshotEntriesThreshold: 1_000_000 },
  });
  await clock.advance(500);
  expect(node.summary().role).toBe("leader");
  return { node, clock, held };
}

/** Writes `count` keys `k-0`... in rounds of 5,000 requests in flight. */
async function writeKeys(parts: { node: ConsensusNode; clock: ManualClock }, count: number): Promise<void> {
  for (let start = 0; start < count; start += 5_000) {
    const outcomes: Promise<unknown>[] = [];
    for (let position = start; position < Math.min(count, start + 5_000); position++) outcomes.push(parts.node.transition({ key: `k-${position}`, to: "Running" }));
    await parts.clock.advance(10);
    for (const outcome of await Promise.all(outcomes)) expect(outcome).toMatchObject({ ok: true });
  }
}

/** Lets the node's own promise chains run while its scheduled steps stay held. */
async function turns(): Promise<void> {
  await settle();
}

describe("a backup's store encoding (encodeStore) runs in steps between Readys", () => {
  it("encodes a large store in several steps, ticks and new writes served between them, nothing applied until it is done", async () => {
    const parts = await singleNode(3);
    const { node, clock, held } = parts;
    // 45,000 keys: three runs of machines at 20,000 keys a step, then the sessions.
    await writeKeys(parts, 45_000);
    // Whatever the writes left to apply (the node's own bookkeeping entries) is applied first.
    await clock.advance(100);
    const indexBefore = node.localStore.appliedIndex;
    const expected = node.localStore.snapshot();

    held.held = true;
    const encoding = node.encodeStore();
    let encoded = false;
    void encoding.then(() => (encoded = true));
    await turns();
    let steps = 0;
    const during: Promise<unknown>[] = [];
    while (!encoded) {
      steps++;
      // Between two steps: time passes (ticks run) and a client writes; the write waits.
      during.push(node.transition({ key: `during-${steps}`, to: "Running" }));
      await clock.advance(10);
      expect(node.localStore.appliedIndex).toBe(indexBefore);
      // Held steps include the write's batch flush; run them in order, as the event loop would.
      held.runOne();
      await turns();
    }
    held.release();
    const outcome = await encoding;
    expect(steps).toBeGreaterThanOrEqual(3);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.index).toBe(indexBefore);
    expect(outcome.members.map((member) => member.id)).toEqual(["n1"]);
    expect(outcome.definitionHash).toBe(node.localStore.definitionHash);
    // The same bytes as the one-step encoding at the same index: nothing half-applied.
    expect(Buffer.from(outcome.data).equals(Buffer.from(expected))).toBe(true);
    const restored = Store.restore(lifecycleDefinition, outcome.data);
    expect(restored.ok).toBe(true);
    if (restored.ok) expect(restored.store.get("during-1").state).toBe("Init");
    // The writes that waited are applied once the encoding is done.
    await clock.advance(10);
    for (const write of await Promise.all(during)) expect(write).toMatchObject({ ok: true });
    expect(node.localStore.get("during-1").state).toBe("Running");
  });

  it("requests that wait together share one encoding; more than the bound are refused overloaded", async () => {
    const parts = await singleNode(4);
    const { node, held } = parts;
    await writeKeys(parts, 25_000);
    held.held = true;
    const first = node.encodeStore();
    await turns();
    // The first encoding has begun; these wait for the next one, which they share.
    const waiting = Array.from({ length: 16 }, () => node.encodeStore());
    const refused = await node.encodeStore();
    expect(refused).toEqual({ ok: false, code: "overloaded" });
    let steps = 0;
    while (held.steps.length > 0) {
      steps++;
      held.runOne();
      await turns();
    }
    held.release();
    const answers = await Promise.all([first, ...waiting]);
    for (const answer of answers) expect(answer.ok).toBe(true);
    // Two encodings of two steps or more each (25,000 keys), not seventeen.
    expect(steps).toBeLessThan(8);
    const shared = answers.slice(1).map((answer) => (answer.ok ? answer.data : null));
    for (const data of shared) expect(data).toBe(shared[0]);
  });

  it("a node that halts mid-encoding answers the request shutting_down; a stopping one refuses new ones", async () => {
    const parts = await singleNode(5);
    const { node, held } = parts;
    await writeKeys(parts, 25_000);
    held.held = true;
    const encoding = node.encodeStore();
    await turns();
    expect(held.steps.length).toBe(1);
    node.halt();
    expect(await encoding).toEqual({ ok: false, code: "shutting_down" });
    held.runOne();
    await turns();
    expect(await node.encodeStore()).toEqual({ ok: false, code: "shutting_down" });
  });
});
