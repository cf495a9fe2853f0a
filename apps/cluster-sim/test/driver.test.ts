// The driver over the memory network: what a client of one ConsensusNode would notice.
import { ConsensusNode, type DriverConfig } from "@lockstep/consensus";
import type { NodeId } from "@lockstep/protocol";
import { defaultStoreLimits, lifecycleDefinition, type StoreLimits } from "@lockstep/state-machine";
import { MemoryStorage } from "@lockstep/storage";
import { createRandom, fork, MemoryNetwork, VirtualClock } from "@lockstep/transport-memory";
import { describe, expect, it } from "vitest";

async function cluster(size: number, seed = 1, config: Partial<DriverConfig> = {}, storeLimits?: StoreLimits) {
  const random = createRandom(seed);
  const clock = new VirtualClock();
  const network = new MemoryNetwork({ clock, random: fork(random) });
  const ids: NodeId[] = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const storages = new Map(ids.map((id) => [id, new MemoryStorage({ freezeEntries: true })]));
  const nodes = new Map<NodeId, ConsensusNode>();
  const start = async (id: NodeId) => {
    network.restart(id);
    const node = await ConsensusNode.start({
      id,
      cluster: "test",
      members: ids,
      definition: lifecycleDefinition,
      transport: network.endpoint(id),
      storage: storages.get(id)!,
      clock,
      random: fork(random),
      config: { tickMs: 10, consensusTimeoutMs: 2_000, snapshotEntriesThreshold: 50, ...config },
      ...(storeLimits === undefined ? {} : { storeLimits }),
    });
    nodes.set(id, node);
    return node;
  };
  for (const id of ids) await start(id);
  /** Runs virtual time until `done` holds or `ms` pass, settling promises between events. */
  const run = async (ms: number, done: () => boolean = () => false) => {
    const deadline = clock.nowMs() + ms;
    while (clock.nowMs() < deadline && !done()) {
      if (!clock.runNext()) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (const node of nodes.values()) node.assertInvariants();
    }
  };
  const leader = () => [...nodes.values()].find((node) => node.status().role === "leader");
  /** Resolves a promise by running virtual time until it settles. */
  const settle = async <T>(promise: Promise<T>, ms = 5_000): Promise<T> => {
    let result: { value: T } | null = null;
    void promise.then((value) => (result = { value }));
    await run(ms, () => result !== null);
    if (result === null) throw new Error("promise did not settle in virtual time");
    return (result as { value: T }).value;
  };
  return { clock, network, nodes, storages, run, leader, settle, start, ids };
}

describe("ConsensusNode over the memory network", () => {
  it("elects a leader and commits a transition on every node", async () => {
    const c = await cluster(3);
    await c.run(3_000, () => c.leader() !== undefined);
    const leader = c.leader()!;
    const outcome = await c.settle(leader.transition({ key: "web-1", to: "Running" }));
    expect(outcome).toMatchObject({ ok: true, kind: "transition", key: "web-1", from: "Init", to: "Running" });
    await c.run(500, () => [...c.nodes.values()].every((node) => node.localStore.get("web-1").state === "Running"));
    for (const node of c.nodes.values()) expect(node.localStore.get("web-1").state).toBe("Running");
  });

  it("rejects an invalid transition with the allowed targets, from any node", async () => {
    const c = await cluster(3);
    await c.run(3_000, () => c.leader() !== undefined);
    const follower = [...c.nodes.values()].find((node) => node.status().role !== "leader")!;
    const outcome = await c.settle(follower.transition({ key: "db", to: "Stopped" }));
    expect(outcome).toMatchObject({ ok: false, code: "invalid_transition", from: "Init", to: "Stopped", allowed: ["Running"] });
  });

  it("forwards a follower's write to the leader and answers it on the follower", async () => {
    const c = await cluster(3);
    await c.run(3_000, () => c.leader() !== undefined);
    const follower = [...c.nodes.values()].find((node) => node.status().role === "follower")!;
    const outcome = await c.settle(follower.transition({ key: "k", to: "Running" }));
    expect(outcome.ok).toBe(true);
    expect(follower.localStore.get("k").state).toBe("Running");
  });

  it("applies a retried request at most once and answers it with the first answer", async () => {
    const c = await cluster(3);
    await c.run(3_000, () => c.leader() !== undefined);
    const leader = c.leader()!;
    const registered = await c.settle(leader.registerSession());
    if (!registered.ok) throw new Error(`registration failed: ${registered.code}`);
    const session = { clientId: registered.clientId, seq: 1 };
    const first = await c.settle(leader.transition({ key: "k", to: "Running", session }));
    const second = await c.settle(leader.transition({ key: "k", to: "Running", session }));
    expect(first).toMatchObject({ ok: true, from: "Init", to: "Running" });
    // Applied again, it would have been invalid (Running -> Running); the session answers with the first result.
    expect(second).toEqual(first);
  });

  it("serves a linearizable read that reflects a write acknowledged before it, on a follower", async () => {
    const c = await cluster(3);
    await c.run(3_000, () => c.leader() !== undefined);
    const leader = c.leader()!;
    await c.settle(leader.transition({ key: "k", to: "Running" }));
    const follower = [...c.nodes.values()].find((node) => node.status().role === "follower")!;
    const read = await c.settle(follower.read("k"));
    expect(read).toMatchObject({ ok: true, state: "Running" });
  });

  it("fails a write with no_quorum or timeout when a majority is unreachable, and never applies it alone", async () => {
    const c = await cluster(3);
    await c.run(3_000, () => c.leader() !== undefined);
    const leader = c.leader()!;
    c.network.isolate(leader.status().id);
    const outcome = await c.settle(leader.transition({ key: "k", to: "Running" }), 10_000);
    expect(outcome.ok).toBe(false);
    expect(["timeout", "no_quorum"]).toContain((outcome as { code: string }).code);
    c.network.heal();
    await c.run(3_000, () => c.leader() !== undefined && c.leader()!.status().id !== leader.status().id);
    // The old leader's uncommitted entry must not survive unless a new leader committed it;
    // either way all nodes agree once the cluster has healed.
    await c.run(3_000);
    const states = new Set([...c.nodes.values()].map((node) => node.localStore.get("k").state));
    expect(states.size).toBe(1);
  });

  it("elects a new leader after the leader crashes, and the restarted node catches up by snapshot", async () => {
    const c = await cluster(3, 7);
    await c.run(3_000, () => c.leader() !== undefined);
    const old = c.leader()!;
    const oldId = old.status().id;
    old.halt();
    c.nodes.delete(oldId);
    c.network.crash(oldId);
    await c.run(5_000, () => c.leader() !== undefined);
    const leader = c.leader()!;
    expect(leader.status().id).not.toBe(oldId);
    // Enough writes to pass the snapshot threshold, so the old leader must catch up by snapshot.
    for (let i = 0; i < 120; i++) {
      const key = `k${i % 5}`;
      const to = leader.localStore.get(key).state === "Init" ? "Running" : leader.localStore.get(key).state === "Running" ? "Stopped" : "Init";
      const outcome = await c.settle(leader.transition({ key, to }));
      expect(outcome.ok).toBe(true);
    }
    const restarted = await c.start(oldId);
    await c.run(5_000, () => restarted.status().appliedIndex >= leader.status().appliedIndex);
    expect(restarted.localStore.entries()).toEqual(leader.localStore.entries());
  });

  it("answers overloaded beyond pendingRequestsMax, and never applies what it called overloaded", async () => {
    const c = await cluster(3, 13, { pendingRequestsMax: 1 });
    await c.run(3_000, () => c.leader() !== undefined);
    const leader = c.leader()!;
    const registered = await c.settle(leader.registerSession());
    if (!registered.ok) throw new Error(`registration failed: ${registered.code}`);
    const first = leader.transition({ key: "kept", to: "Running", session: { clientId: registered.clientId, seq: 1 } });
    const second = await leader.transition({ key: "refused", to: "Running", session: { clientId: registered.clientId, seq: 2 } });
    expect(second).toEqual({ ok: false, code: "overloaded" });
    expect((await c.settle(first)).ok).toBe(true);
    await c.run(1_000);
    for (const node of c.nodes.values()) expect(node.localStore.get("refused").state).toBe("Init");
  });

  it("hands leadership to a follower when the leader stops on purpose (Raft thesis §3.10)", async () => {
    const c = await cluster(3, 11);
    await c.run(3_000, () => c.leader() !== undefined);
    const old = c.leader()!;
    const oldId = old.status().id;
    const oldTerm = old.status().term;
    await c.settle(old.transition({ key: "k", to: "Running" }));
    const stoppedAtMs = c.clock.nowMs();
    await c.settle(old.stop(500));
    c.nodes.delete(oldId);
    const successor = c.leader();
    // A successor is already in place when stop() returns: no election timeout was waited out.
    expect(successor).toBeDefined();
    expect(successor!.status().id).not.toBe(oldId);
    expect(successor!.status().term).toBe(oldTerm + 1);
    expect(c.clock.nowMs() - stoppedAtMs).toBeLessThan(100);
    // The acknowledged write survives the hand-off: the successor applies it once its no-op commits.
    await c.run(1_000, () => successor!.localStore.get("k").state === "Running");
    expect(successor!.localStore.get("k").state).toBe("Running");
  });

  it("halts and reports a storage failure instead of acknowledging what it could not persist", async () => {
    const random = createRandom(3);
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, random: fork(random) });
    const storage = new MemoryStorage({ freezeEntries: true });
    const failing = Object.assign(Object.create(storage) as MemoryStorage, {
      persist: () => Promise.reject(new Error("disk full")),
    });
    const fatal: unknown[] = [];
    const node = await ConsensusNode.start({
      id: "solo",
      cluster: "test",
      members: ["solo"],
      definition: lifecycleDefinition,
      transport: network.endpoint("solo"),
      storage: failing,
      clock,
      random: fork(random),
      config: { tickMs: 10 },
      onFatal: (error) => fatal.push(error),
    });
    const outcome = node.transition({ key: "k", to: "Running" });
    for (let i = 0; i < 1_000 && fatal.length === 0; i++) {
      clock.runNext();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(fatal).toHaveLength(1);
    expect(node.status().stopped).toBe(true);
    expect(await outcome).toEqual({ ok: false, code: "shutting_down" });
    expect(node.localStore.get("k").state).toBe("Init");
  });

  it("refuses writes over the quota with quota_exceeded identically on every replica, and a delete frees room", async () => {
    const limits: StoreLimits = { ...defaultStoreLimits, keysMax: 5 };
    const c = await cluster(3, 21, {}, limits);
    await c.run(3_000, () => c.leader() !== undefined && c.leader()!.localStore.limits.keysMax === 5);
    const leader = c.leader()!;
    const codes: string[] = [];
    for (let write = 0; write < 20; write++) {
      const outcome = await c.settle(leader.transition({ key: `random-${(write * 7919) % 1000}`, to: "Running" }));
      codes.push(outcome.ok ? "ok" : outcome.code);
    }
    expect(codes.filter((code) => code === "ok")).toHaveLength(5);
    expect(codes.filter((code) => code === "quota_exceeded")).toHaveLength(15);
    await c.run(1_000, () => [...c.nodes.values()].every((node) => node.status().appliedIndex === leader.status().appliedIndex));
    const snapshots = [...c.nodes.values()].map((node) => Buffer.from(node.localStore.snapshot()).toString());
    expect(new Set(snapshots).size).toBe(1);
    for (const node of c.nodes.values()) expect(node.localStore.keyCount).toBe(5);
    // A full store still takes deletes, and the room they free takes new keys.
    const deleted = await c.settle(leader.delete({ key: leader.localStore.keys()[0]! }));
    expect(deleted).toMatchObject({ ok: true, kind: "delete", deleted: true, from: "Running" });
    expect(await c.settle(leader.transition({ key: "after-delete", to: "Running" }))).toMatchObject({ ok: true });
    expect(await c.settle(leader.transition({ key: "one-too-many", to: "Running" }))).toMatchObject({ ok: false, code: "quota_exceeded", quota: "keys" });
  });

  it("summary() agrees with status() after every event, and its member ids follow a membership change", async () => {
    const c = await cluster(3, 5);
    const agree = (): boolean => {
      for (const node of c.nodes.values()) {
        const status = node.status();
        const { id, role, term, leader, commitIndex, appliedIndex, members } = node.summary();
        expect({ id, role, term, leader, commitIndex, appliedIndex, members: [...members] }).toEqual({
          id: status.id,
          role: status.role,
          term: status.term,
          leader: status.leader,
          commitIndex: status.commitIndex,
          appliedIndex: status.appliedIndex,
          members: status.members,
        });
      }
      return false;
    };
    await c.run(3_000, () => agree() || c.leader() !== undefined);
    const leader = c.leader()!;
    // A new leader changes the configuration only once it has committed an entry of its own term.
    expect(await c.settle(leader.transition({ key: "web-1", to: "Running" }))).toMatchObject({ ok: true });
    const added = await c.settle(leader.changeMembership({ kind: "add_learner", member: { id: "n4", peerAddress: "", clientUrl: "" } }));
    expect(added).toMatchObject({ ok: true });
    await c.run(500, agree);
    for (const node of c.nodes.values()) expect(node.summary().members).toEqual(["n1", "n2", "n3", "n4"]);
  });

  it("answers the leader's own removal once it has handed over: the operator may retire the machine then, and the rest elect without it", async () => {
    const c = await cluster(4, 5);
    await c.run(3_000, () => c.leader() !== undefined);
    const leader = c.leader()!;
    const leaderId = leader.status().id;
    expect(await c.settle(leader.transition({ key: "web-1", to: "Running" }))).toMatchObject({ ok: true });
    const removed = await c.settle(leader.changeMembership({ kind: "remove", id: leaderId }));
    expect(removed).toMatchObject({ ok: true });
    // Answered after the hand-over, not at the commit: the remaining voters know the removal.
    expect(leader.status().role).not.toBe("leader");
    leader.halt();
    c.network.crash(leaderId);
    // One of the three that remain goes down too: two of three still elect and commit.
    const [down] = c.ids.filter((id) => id !== leaderId);
    c.nodes.get(down!)!.halt();
    c.network.crash(down!);
    const rest = [...c.nodes.values()].filter((node) => node !== leader && node.status().id !== down);
    await c.run(5_000, () => rest.some((node) => node.status().role === "leader"));
    const next = rest.find((node) => node.status().role === "leader")!;
    expect(await c.settle(next.transition({ key: "web-1", to: "Stopped" }))).toMatchObject({ ok: true });
    expect(next.members().filter((member) => member.voter).map((member) => member.id)).not.toContain(leaderId);
  });

  // Seed 3104638: the removal was answered at its commit, the removed machine retired, and the
  // leader crashed before any follower learned of the commit (it rides the next Proposal or
  // heartbeat): every live node still counted the removed voter, and with one more on an empty
  // disk no one could be elected.
  it("answers a follower's removal once most of the remaining voters know it committed: the operator may retire that machine then", async () => {
    const c = await cluster(4, 9);
    await c.run(3_000, () => c.leader() !== undefined);
    const leader = c.leader()!;
    const leaderId = leader.status().id;
    expect(await c.settle(leader.transition({ key: "web-1", to: "Running" }))).toMatchObject({ ok: true });
    const [removedId, ...others] = c.ids.filter((id) => id !== leaderId);
    let knewAtAnswer = -1;
    const answered = leader.changeMembership({ kind: "remove", id: removedId! }).then((outcome) => {
      if (outcome.ok) knewAtAnswer = [leader, ...others.map((id) => c.nodes.get(id)!)].filter((node) => node.status().commitIndex >= outcome.index).length;
      return outcome;
    });
    expect(await c.settle(answered)).toMatchObject({ ok: true });
    // Of the three voters left, the leader and at least one other knew at the answer.
    expect(knewAtAnswer).toBeGreaterThanOrEqual(2);
    // The operator retires the removed machine and the leader crashes: the two others elect.
    for (const id of [removedId!, leaderId]) {
      c.nodes.get(id)!.halt();
      c.network.crash(id);
    }
    const rest = others.map((id) => c.nodes.get(id)!);
    await c.run(5_000, () => rest.some((node) => node.status().role === "leader"));
    const next = rest.find((node) => node.status().role === "leader")!;
    expect(await c.settle(next.transition({ key: "web-1", to: "Stopped" }))).toMatchObject({ ok: true });
  });

  it("applies the limits a leader is configured with on every replica, through the log", async () => {
    const limits: StoreLimits = { ...defaultStoreLimits, keysMax: 7, sessionsMax: 3 };
    const c = await cluster(3, 22, {}, limits);
    await c.run(5_000, () => [...c.nodes.values()].every((node) => node.localStore.limits.keysMax === 7));
    for (const node of c.nodes.values()) expect(node.localStore.limits).toEqual(limits);
  });
});

describe("ConsensusNode.proposeCommand (join tokens through the log)", () => {
  const hash = "c".repeat(64);

  it("answers the leader with the state machine's result once applied; every replica spends the token alike", async () => {
    const c = await cluster(3, 7);
    await c.run(3_000, () => c.leader() !== undefined);
    const leader = c.leader()!;
    const created = await c.settle(leader.proposeCommand({ kind: "join_token_create", tokenId: "abc123", secretSha256: hash, createdAtMs: 1, expiresAtMs: 1_000_000 }));
    expect(created).toMatchObject({ ok: true, result: { ok: true, kind: "join_token", action: "create" } });
    const used = await c.settle(leader.proposeCommand({ kind: "join_token_use", tokenId: "abc123", secretSha256: hash, nodeId: "n4", atMs: 5 }));
    expect(used).toMatchObject({ ok: true, result: { ok: true, action: "use" } });
    const again = await c.settle(leader.proposeCommand({ kind: "join_token_use", tokenId: "abc123", secretSha256: hash, nodeId: "n5", atMs: 6 }));
    expect(again).toMatchObject({ ok: true, result: { ok: false, code: "join_token_refused", reason: "used" } });
    await c.run(500, () => [...c.nodes.values()].every((node) => node.localStore.joinToken("abc123")?.usedBy === "n4"));
    for (const node of c.nodes.values()) expect(node.localStore.joinToken("abc123")?.usedBy).toBe("n4");
  });

  it("refuses on a follower with not_leader and the leader's id", async () => {
    const c = await cluster(3, 8);
    await c.run(3_000, () => c.leader() !== undefined);
    const leaderId = c.leader()!.status().id;
    await c.run(1_000, () => [...c.nodes.values()].every((node) => node.status().leader === leaderId));
    const follower = [...c.nodes.values()].find((node) => node.status().role === "follower")!;
    const outcome = await follower.proposeCommand({ kind: "join_token_revoke", tokenId: "abc123" });
    expect(outcome).toEqual({ ok: false, code: "not_leader", leader: leaderId });
  });

  it("times out (outcome unknown) when the leader is cut off from its followers", async () => {
    const c = await cluster(3, 9, { consensusTimeoutMs: 500 });
    await c.run(3_000, () => c.leader() !== undefined);
    const leader = c.leader()!;
    c.network.isolate(leader.status().id);
    const outcome = await c.settle(leader.proposeCommand({ kind: "join_token_revoke", tokenId: "abc123" }), 3_000);
    expect(outcome.ok).toBe(false);
    expect(["timeout", "shutting_down", "no_quorum"]).toContain(outcome.ok ? "" : outcome.code);
  });
});
