import { afterEach, describe, expect, it } from "vitest";
import { TcpTransportError } from "../src/tcp-transport-error.js";
import { TcpTransport } from "../src/tcp-transport.js";
import { acknowledgment, cluster, definitionHash, heartbeat, loopback, startCluster, startNode, waitFor, type TestNode } from "./loopback.js";
import { nodeTls } from "./test-certificates.js";

const running: TestNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
});

async function cluster3(): Promise<TestNode[]> {
  const nodes = await startCluster(["n1", "n2", "n3"]);
  running.push(...nodes);
  await waitFor("every node connected to both peers", () => nodes.every((node) => node.transport.connectedPeers().length === 2));
  return nodes;
}

describe("TcpTransport over loopback", () => {
  it("delivers envelopes between three nodes in every direction, in order per pair", async () => {
    const nodes = await cluster3();
    for (const sender of nodes) {
      for (const receiver of nodes) {
        if (sender === receiver) continue;
        for (let term = 1; term <= 50; term++) sender.transport.send(heartbeat(sender.id, receiver.id, term));
      }
    }
    await waitFor("100 messages at each node", () => nodes.every((node) => node.received.length === 100));
    for (const receiver of nodes) {
      for (const sender of nodes) {
        if (sender === receiver) continue;
        const terms = receiver.received.filter((envelope) => envelope.from === sender.id).map((envelope) => envelope.body.term);
        expect(terms).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
      }
      expect(receiver.received.every((envelope) => envelope.to === receiver.id && envelope.cluster === cluster)).toBe(true);
    }
    const [n1, n2] = nodes as [TestNode, TestNode, TestNode];
    expect(n1.metrics.get("messages_sent_total", { type: "Proposal", peer: "n2" })).toBe(50);
    expect(n2.metrics.get("messages_received_total", { type: "Proposal", peer: "n1" })).toBe(50);
    expect(n1.metrics.get("peers_connected")).toBe(2);
  });

  it("writes what send queued at the turn's end, or at once on flush(), in one batch either way", async () => {
    const [n1, n2] = (await cluster3()) as [TestNode, TestNode, TestNode];
    const sent = (): number => n1.metrics.get("messages_sent_total", { type: "Proposal", peer: "n2" });
    n1.transport.send(heartbeat("n1", "n2", 1));
    n1.transport.send(heartbeat("n1", "n2", 2));
    // Queued, not yet written: the transport writes once per event-loop turn.
    expect(sent()).toBe(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(sent()).toBe(2);
    n1.transport.send(heartbeat("n1", "n2", 3));
    n1.transport.flush();
    // Written in the same turn: the consensus node flushes before its log write.
    expect(sent()).toBe(3);
    // A flush with nothing queued writes nothing, and the turn that follows finds nothing left.
    n1.transport.flush();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(sent()).toBe(3);
    await waitFor("n2 received the three heartbeats in order", () => n2.received.filter((envelope) => envelope.from === "n1").length === 3);
    expect(n2.received.filter((envelope) => envelope.from === "n1").map((envelope) => envelope.body.term)).toEqual([1, 2, 3]);
  });

  it("reconnects after a peer restarts on the same port, and delivery resumes", async () => {
    const [n1, n2] = await startCluster(["n1", "n2"]);
    running.push(n1!, n2!);
    await waitFor("n1 connected to n2", () => n1!.transport.connectedPeers().includes("n2"));
    const n2Address = n2!.transport.address();
    await n2!.transport.close();
    await waitFor("n1 noticed n2 is gone", () => !n1!.transport.connectedPeers().includes("n2"));
    expect(n1!.metrics.get("peers_connected")).toBe(0);

    const restarted = await startNode("n2", { n1: n1!.transport.address() }, { listen: n2Address });
    running.push(restarted);
    await waitFor("n1 reconnected to the restarted n2", () => n1!.transport.connectedPeers().includes("n2"));
    n1!.transport.send(acknowledgment("n1", "n2", 42));
    restarted.transport.send(acknowledgment("n2", "n1", 43));
    await waitFor("both directions delivered", () => restarted.received.length === 1 && n1!.received.length === 1);
    expect(restarted.received[0]?.body).toEqual({ type: "Acknowledgment", term: 1, matchIndex: 42 });
    expect(n1!.received[0]?.body).toEqual({ type: "Acknowledgment", term: 1, matchIndex: 43 });
  });

  it("keeps an idle connection alive with heartbeats", async () => {
    // Idle for three idle timeouts with nothing sent: only the heartbeats keep the connections up.
    const nodes = await startCluster(["n1", "n2"], { heartbeatIntervalMs: 50, idleTimeoutMs: 400 });
    running.push(...nodes);
    await waitFor("connected", () => nodes.every((node) => node.transport.connectedPeers().length === 1));
    await new Promise((resolve) => setTimeout(resolve, 1200));
    for (const node of nodes) {
      expect(node.metrics.sum("peer_connections_refused_total")).toBe(0);
      expect(node.transport.connectedPeers()).toHaveLength(1);
    }
  });

  it("counts sends to unknown peers and oversized messages as delivery failures, without throwing", async () => {
    const [n1, n2] = await startCluster(["n1", "n2"], { frameBytesMax: 1024, sendQueueBytesMax: 4096 });
    running.push(n1!, n2!);
    n1!.transport.send(heartbeat("n1", "n9", 1));
    const huge = heartbeat("n1", "n2", 1);
    if (huge.body.type === "Proposal") {
      huge.body.entries = Array.from({ length: 40 }, (_, index) => ({ index: index + 1, term: 1, command: { kind: "noop" as const } }));
    }
    n1!.transport.send(huge);
    expect(n1!.metrics.get("message_delivery_failures_total", { type: "Proposal", peer: "n9", reason: "unknown_peer" })).toBe(1);
    expect(n1!.metrics.get("message_delivery_failures_total", { type: "Proposal", peer: "n2", reason: "oversized" })).toBe(1);
  });

  it("refuses to start on a port in use, with listen_failed", async () => {
    const [n1] = await startCluster(["n1"]);
    running.push(n1!);
    const start = TcpTransport.start({ nodeId: "n2", cluster, definitionHash, listen: { host: loopback, port: n1!.transport.address().port }, peers: {}, tls: await nodeTls("n2") });
    await expect(start).rejects.toMatchObject({ name: "TcpTransportError", code: "listen_failed" });
    await expect(start).rejects.toBeInstanceOf(TcpTransportError);
  });

  it("close() resolves with every socket closed and refuses later sends", async () => {
    const nodes = await cluster3();
    const [n1] = nodes;
    await Promise.all(running.splice(0).map((node) => node.transport.close()));
    n1!.transport.send(heartbeat("n1", "n2", 1));
    expect(n1!.metrics.get("message_delivery_failures_total", { type: "Proposal", peer: "n2", reason: "transport_closed" })).toBe(1);
    expect(n1!.metrics.get("peers_connected")).toBe(0);
    expect(() => n1!.transport.address()).toThrow(expect.objectContaining({ code: "already_closed" }));
  });
});
