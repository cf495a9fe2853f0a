import type { MetricLabels, MetricsSink, Transport } from "@lockstep/consensus";
import { protocolVersion } from "@lockstep/protocol";
import type { ConsensusEnvelope, Envelope, NodeId } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { MemoryNetwork } from "./memory-network.js";
import type { MemoryNetworkOptions } from "./memory-network.js";
import { createRandom, randomInt } from "./seeded-random.js";
import { VirtualClock } from "./virtual-clock.js";

interface Received {
  atMs: number;
  from: NodeId;
  to: NodeId;
  seq: number;
}

/** A network of named nodes, each recording what it receives; messages carry a sequence number in `term`. */
function harness(ids: NodeId[], options: Partial<MemoryNetworkOptions> = {}, seed = 1) {
  const clock = new VirtualClock();
  const network = new MemoryNetwork({ clock, random: createRandom(seed), ...options });
  const received: Received[] = [];
  const endpoints = new Map<NodeId, Transport>();
  for (const id of ids) {
    const endpoint = network.endpoint(id);
    endpoint.onMessage((envelope) => received.push({ atMs: clock.nowMs(), from: envelope.from, to: envelope.to, seq: envelope.body.term }));
    endpoints.set(id, endpoint);
  }
  let seq = 0;
  const send = (from: NodeId, to: NodeId, count = 1): void => {
    for (let i = 0; i < count; i++) endpoints.get(from)!.send(envelope(from, to, ++seq));
  };
  const between = (from: NodeId, to: NodeId) => received.filter((r) => r.from === from && r.to === to);
  return { clock, network, received, endpoints, send, between };
}

function envelope(from: NodeId, to: NodeId, term: number): Envelope {
  return { v: protocolVersion, cluster: "test", from, to, body: { type: "TimeoutNow", term } };
}

describe("MemoryNetwork delivery", () => {
  it("delivers on virtual time within the latency bounds", () => {
    const { clock, network, received, send } = harness(["a", "b"], { faults: { latencyMsMin: 3, latencyMsMax: 7 } });
    send("a", "b", 200);
    expect(received).toEqual([]);
    clock.advanceTo(2);
    expect(received).toEqual([]);
    clock.advanceTo(7);
    expect(received).toHaveLength(200);
    expect(new Set(received.map((r) => r.atMs)).size).toBeGreaterThan(1);
    expect(received.every((r) => r.atMs >= 3 && r.atMs <= 7)).toBe(true);
    expect(network.stats()).toMatchObject({ sent: 200, delivered: 200, dropped: 0 });
  });

  it("gives the receiver its own copy, immune to the sender's later changes and vice versa", () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, random: createRandom(1) });
    const got: ConsensusEnvelope[] = [];
    network.endpoint("b").onMessage((envelope) => got.push(envelope));
    const sent = envelope("a", "b", 5);
    network.endpoint("a").send(sent);
    (sent.body as { term: number }).term = 99;
    clock.advanceTo(100);
    expect(got[0]?.body).toEqual({ type: "TimeoutNow", term: 5 });
    (got[0]!.body as { term: number }).term = 7;
    expect(sent.body).toEqual({ type: "TimeoutNow", term: 99 });
  });

  it("uses a latency function when given one", () => {
    const { clock, received, send } = harness(["a", "b"], { latencyMs: (_random, from) => (from === "a" ? 40 : 1) });
    send("a", "b", 3);
    clock.advanceTo(39);
    expect(received).toHaveLength(0);
    clock.advanceTo(40);
    expect(received).toHaveLength(3);
  });

  it("drops what is not a consensus message from its own sender, and never throws", () => {
    const { clock, network, endpoints, received } = harness(["a", "b"]);
    const a = endpoints.get("a")!;
    a.send(envelope("c", "b", 1));
    a.send({ v: protocolVersion, cluster: "t", from: "a", to: "b", body: { type: "Goodbye", reason: "malformed", detail: "" } });
    expect(() => a.send(null as unknown as Envelope)).not.toThrow();
    const cyclic = envelope("a", "b", 2) as Envelope & { self?: unknown };
    cyclic.self = cyclic;
    expect(() => a.send(cyclic)).not.toThrow();
    clock.advanceTo(100);
    expect(received).toEqual([]);
    expect(network.stats().droppedByReason.invalid).toBe(4);
  });

  it("validates envelopes against the schema when asked", () => {
    const { clock, network, endpoints, received } = harness(["a", "b"], { validateEnvelopes: true });
    endpoints.get("a")!.send({ ...envelope("a", "b", 1), body: { type: "TimeoutNow", term: -1 } });
    endpoints.get("a")!.send(envelope("a", "b", 2));
    clock.advanceTo(100);
    expect(received.map((r) => r.seq)).toEqual([2]);
    expect(network.stats().droppedByReason.invalid).toBe(1);
  });
});

describe("MemoryNetwork faults", () => {
  it("loses messages with the loss probability", () => {
    const { clock, network, send, received } = harness(["a", "b"], { faults: { lossProbability: 0.3 }, inflightPerLinkMax: 5_000 });
    send("a", "b", 2_000);
    clock.advanceTo(1_000);
    expect(received.length).toBeGreaterThan(1_200);
    expect(received.length).toBeLessThan(1_600);
    expect(network.stats().droppedByReason.lost).toBe(2_000 - received.length);
  });

  it("duplicates messages with the duplication probability", () => {
    const { clock, network, send, received } = harness(["a", "b"], { faults: { duplicateProbability: 0.5 }, inflightPerLinkMax: 5_000 });
    send("a", "b", 1_000);
    clock.advanceTo(1_000);
    const copies = received.length - 1_000;
    expect(copies).toBeGreaterThan(400);
    expect(copies).toBeLessThan(600);
    expect(network.stats().duplicated).toBe(copies);
    expect(new Set(received.map((r) => r.seq)).size).toBe(1_000);
  });

  it("keeps send order on a fixed-latency link, and breaks it when reordering is on", () => {
    const inversions = (reorderProbability: number): number => {
      const { clock, send, received } = harness(["a", "b"], { faults: { latencyMsMin: 5, latencyMsMax: 5, reorderProbability } });
      for (let i = 0; i < 100; i++) {
        send("a", "b");
        clock.advanceBy(1);
      }
      clock.advanceBy(1_000);
      expect(received).toHaveLength(100);
      return received.filter((r, i) => i > 0 && r.seq < received[i - 1]!.seq).length;
    };
    expect(inversions(0)).toBe(0);
    expect(inversions(0.5)).toBeGreaterThan(10);
  });

  it("applies a link's own faults only to that link", () => {
    const { clock, network, send, between } = harness(["a", "b", "c"]);
    network.setLinkFaults("a", "b", { lossProbability: 1 });
    send("a", "b", 10);
    send("b", "a", 10);
    send("a", "c", 10);
    clock.advanceTo(100);
    expect(between("a", "b")).toHaveLength(0);
    expect(between("b", "a")).toHaveLength(10);
    expect(between("a", "c")).toHaveLength(10);
    network.clearLinkFaults();
    send("a", "b", 10);
    clock.advanceTo(200);
    expect(between("a", "b")).toHaveLength(10);
  });

  it("rejects fault settings that describe no network", () => {
    const { network } = harness(["a"]);
    expect(() => network.setFaults({ lossProbability: 1.5 })).toThrow(/lossProbability/);
    expect(() => network.setFaults({ latencyMsMin: 10, latencyMsMax: 2 })).toThrow(/exceeds/);
  });

  it("drops beyond the in-flight bound of a link, and counts it", () => {
    const { clock, network, send, between } = harness(["a", "b", "c"], { inflightPerLinkMax: 5 });
    send("a", "b", 8);
    send("a", "c", 3);
    expect(network.inflightCount()).toBe(8);
    clock.advanceTo(100);
    expect(between("a", "b")).toHaveLength(5);
    expect(between("a", "c")).toHaveLength(3);
    expect(network.stats().droppedByReason.overflow).toBe(3);
    send("a", "b", 5);
    clock.advanceTo(200);
    expect(between("a", "b")).toHaveLength(10);
  });

  it("reports sends, deliveries and drops to the metrics sink", () => {
    const counts = new Map<string, number>();
    const metrics: MetricsSink = {
      increment: (name: string, labels?: MetricLabels) => {
        const key = `${name}:${labels?.["reason"] ?? ""}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      },
      observe: () => undefined,
      set: () => undefined,
    };
    const { clock, network, send } = harness(["a", "b"], { metrics });
    send("a", "b", 3);
    network.isolate("b");
    send("a", "b", 2);
    clock.advanceTo(100);
    expect(counts.get("messages_sent_total:")).toBe(5);
    expect(counts.get("message_delivery_failures_total:partitioned")).toBe(5);
    expect(counts.get("messages_received_total:")).toBeUndefined();
  });
});

describe("MemoryNetwork partitions", () => {
  const everyLink = (ids: NodeId[]): [NodeId, NodeId][] => ids.flatMap((from) => ids.filter((to) => to !== from).map((to): [NodeId, NodeId] => [from, to]));

  /** Which directed links carry a message right now, as "from>to". */
  function reachable(ids: NodeId[], configure: (network: MemoryNetwork) => void): string[] {
    const { clock, network, send, between } = harness(ids);
    configure(network);
    for (const [from, to] of everyLink(ids)) send(from, to);
    clock.advanceBy(100);
    return everyLink(ids)
      .filter(([from, to]) => between(from, to).length === 1)
      .map(([from, to]) => `${from}>${to}`);
  }

  it("partition cuts both directions between the groups only", () => {
    expect(reachable(["a", "b", "c"], (network) => network.partition(["a"], ["b", "c"]))).toEqual(["b>c", "c>b"]);
  });

  it("cutOneWay cuts one direction only", () => {
    expect(reachable(["a", "b"], (network) => network.cutOneWay("a", "b"))).toEqual(["b>a"]);
  });

  it("isolate cuts a node from everyone", () => {
    expect(reachable(["a", "b", "c"], (network) => network.isolate("b"))).toEqual(["a>c", "c>a"]);
  });

  it("bridge leaves the bridge node talking to both sides that cannot talk to each other", () => {
    expect(reachable(["a", "b", "x"], (network) => network.bridge(["a"], ["b"], "x"))).toEqual(["a>x", "b>x", "x>a", "x>b"]);
    expect(() => reachable(["a", "b"], (network) => network.bridge(["a"], ["b"], "a"))).toThrow(/neither side/);
  });

  it("heal removes every cut", () => {
    const all = reachable(["a", "b", "c"], () => undefined);
    expect(all).toHaveLength(6);
    expect(
      reachable(["a", "b", "c"], (network) => {
        network.partition(["a"], ["b"]);
        network.cutOneWay("c", "b");
        network.isolate("c");
        network.heal();
      }),
    ).toEqual(all);
  });

  it("drops a message already in flight when a partition forms before it arrives", () => {
    const { clock, network, send, received } = harness(["a", "b"], { faults: { latencyMsMin: 10, latencyMsMax: 10 } });
    send("a", "b", 4);
    clock.advanceTo(5);
    network.partition(["a"], ["b"]);
    clock.advanceTo(20);
    expect(received).toEqual([]);
    expect(network.stats().droppedByReason.partitioned).toBe(4);
  });
});

describe("MemoryNetwork crash and restart", () => {
  it("drops everything in flight to and from a crashed node and stops delivering to it", () => {
    const { clock, network, send, between, endpoints } = harness(["a", "b", "c"], { faults: { latencyMsMin: 10, latencyMsMax: 10 } });
    send("a", "b", 3);
    send("b", "c", 3);
    send("a", "c", 3);
    network.crash("b");
    expect(network.inflightCount()).toBe(3);
    endpoints.get("b")!.send(envelope("b", "c", 100));
    send("a", "b", 2);
    clock.advanceTo(50);
    expect(between("a", "b")).toHaveLength(0);
    expect(between("b", "c")).toHaveLength(0);
    expect(between("a", "c")).toHaveLength(3);
    expect(network.stats().droppedByReason.crashed).toBe(9);
  });

  it("delivers to the handler registered after restart, never to the old one, and ignores old endpoints", () => {
    const { clock, network, send, between, endpoints, received } = harness(["a", "b"]);
    const oldB = endpoints.get("b")!;
    network.crash("b");
    network.restart("b");
    send("a", "b");
    clock.advanceBy(100);
    expect(between("a", "b")).toHaveLength(0);
    expect(network.stats().droppedByReason.no_handler).toBe(1);

    const fresh: number[] = [];
    const newB = network.endpoint("b");
    newB.onMessage((incoming) => fresh.push(incoming.body.term));
    oldB.onMessage(() => fresh.push(-1));
    oldB.send(envelope("b", "a", 500));
    send("a", "b");
    clock.advanceBy(100);
    expect(fresh).toEqual([2]);
    expect(received.filter((r) => r.seq === 500)).toEqual([]);
    newB.send(envelope("b", "a", 501));
    clock.advanceBy(100);
    expect(between("b", "a").map((r) => r.seq)).toEqual([501]);
  });

  it("stops delivering to a closed endpoint", () => {
    const { clock, network, send, endpoints, received } = harness(["a", "b"]);
    void endpoints.get("b")!.close();
    send("a", "b");
    endpoints.get("b")!.send(envelope("b", "a", 9));
    clock.advanceBy(100);
    expect(received).toEqual([]);
    expect(network.stats().droppedByReason).toMatchObject({ no_handler: 1, closed: 1 });
  });
});

describe("MemoryNetwork determinism", () => {
  /** A random workload with every fault on; returns the trace of deliveries and drops. */
  function run(seed: number): string[] {
    const ids = ["n1", "n2", "n3", "n4", "n5"];
    const trace: string[] = [];
    const clock = new VirtualClock();
    const network = new MemoryNetwork({
      clock,
      random: createRandom(seed),
      faults: { latencyMsMin: 1, latencyMsMax: 20, lossProbability: 0.1, duplicateProbability: 0.1, reorderProbability: 0.2 },
      onEvent: (event) => {
        if (event.kind === "drop") trace.push(`${event.atMs} drop ${event.from}>${event.to} ${event.reason}`);
      },
    });
    for (const id of ids) {
      network.endpoint(id).onMessage((incoming) => trace.push(`${clock.nowMs()} ${incoming.from}>${incoming.to} #${incoming.body.term}`));
    }
    const workload = createRandom(seed + 1_000);
    for (let step = 1; step <= 2_000; step++) {
      const from = ids[randomInt(workload, 0, ids.length)]!;
      const to = ids[randomInt(workload, 0, ids.length)]!;
      network.endpoint(from).send(envelope(from, to, step));
      if (step % 97 === 0) network.partition(ids.slice(0, 2), ids.slice(2));
      if (step % 131 === 0) network.heal();
      clock.advanceBy(randomInt(workload, 0, 3));
    }
    clock.advanceBy(1_000);
    return trace;
  }

  it("gives the same trace for the same seed, bit for bit, and a different one for another seed", () => {
    const first = run(42);
    expect(first.length).toBeGreaterThan(2_000);
    expect(run(42)).toEqual(first);
    expect(run(43)).not.toEqual(first);
  });
});
