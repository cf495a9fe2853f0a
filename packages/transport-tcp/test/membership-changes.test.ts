import { afterEach, describe, expect, it } from "vitest";
import { acknowledgment, freePorts, loopback, startNode, waitFor, type TestNode } from "./loopback.js";

const running: TestNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
});

async function node(id: string, peers: Record<string, { host: string; port: number }>, overrides: Parameters<typeof startNode>[2] = {}): Promise<TestNode> {
  const started = await startNode(id, peers, overrides);
  running.push(started);
  return started;
}

describe("cluster uuid in the Hello (DESIGN.md §9)", () => {
  it("refuses a peer of a cluster with the same name but another uuid, and accepts the same uuid", async () => {
    const [portA, portB, portC] = await freePorts(3);
    const book = { n1: { host: loopback, port: portA! }, n2: { host: loopback, port: portB! }, n3: { host: loopback, port: portC! } };
    const n1 = await node("n1", book, { listen: book.n1, clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab" });
    const stranger = await node("n2", book, { listen: book.n2, clusterUuid: "0b7e4d1c-1111-4c2a-9f00-0123456789ab" });
    const sibling = await node("n3", book, { listen: book.n3, clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab" });
    await waitFor("n1 refused the other cluster's n2", () => n1.metrics.get("peer_connections_refused_total", { reason: "cluster_mismatch" }) >= 1);
    await waitFor("n1 and n3 connected", () => n1.transport.connectedPeers().includes("n3") && sibling.transport.connectedPeers().includes("n1"));
    expect(n1.transport.connectedPeers()).not.toContain("n2");
    expect(stranger.transport.connectedPeers()).not.toContain("n1");
  });
});

describe("setPeers follows the configuration", () => {
  it("dials a member that joined, and hangs up on (and refuses) a member that left", async () => {
    const [port1, port2, port3] = await freePorts(3);
    const a1 = { host: loopback, port: port1! };
    const a2 = { host: loopback, port: port2! };
    const a3 = { host: loopback, port: port3! };
    const n1 = await node("n1", { n2: a2 }, { listen: a1 });
    const n2 = await node("n2", { n1: a1 }, { listen: a2 });
    await waitFor("n1 and n2 connected", () => n1.transport.connectedPeers().length === 1 && n2.transport.connectedPeers().length === 1);

    // n3 joins: it knows both; they learn of it from the configuration.
    const n3 = await node("n3", { n1: a1, n2: a2 }, { listen: a3 });
    n1.transport.setPeers({ n1: a1, n2: a2, n3: a3 });
    n2.transport.setPeers({ n1: a1, n2: a2, n3: a3 });
    await waitFor("everyone connected to everyone", () => [n1, n2, n3].every((each) => each.transport.connectedPeers().length === 2));
    n1.transport.send(acknowledgment("n1", "n3", 4));
    await waitFor("n3 receives from n1", () => n3.received.some((envelope) => envelope.from === "n1"));

    // n2 is removed.
    n1.transport.setPeers({ n1: a1, n3: a3 });
    n3.transport.setPeers({ n1: a1, n3: a3 });
    await waitFor("n1 no longer dials n2", () => !n1.transport.connectedPeers().includes("n2"));
    const before = n1.received.length;
    n2.transport.send(acknowledgment("n2", "n1", 7));
    await waitFor("n2's redial is refused as unknown", () => n1.metrics.get("peer_connections_refused_total", { reason: "unknown_node" }) >= 1);
    expect(n1.received.slice(before).filter((envelope) => envelope.from === "n2")).toEqual([]);
  });
});
