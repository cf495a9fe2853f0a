import { afterEach, describe, expect, it } from "vitest";
import { RawPeer, acknowledgment, frame, hello, signedFor, startCluster, startNode, waitFor, type TestNode } from "./loopback.js";
import { nodeTls } from "./test-certificates.js";

const running: TestNode[] = [];
const raws: RawPeer[] = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
});

async function twoNodes(): Promise<[TestNode, TestNode]> {
  const nodes = await startCluster(["n1", "n2"]);
  running.push(...nodes);
  await waitFor("connected", () => nodes.every((node) => node.transport.connectedPeers().length === 1));
  return nodes as [TestNode, TestNode];
}

describe("the Hello handshake", () => {
  it.each([
    { case: "a wrong cluster id", greeting: hello("n2", "n1", { cluster: "other-lab" }), reason: "cluster_mismatch" },
    { case: "a wrong definition hash", greeting: hello("n2", "n1", { definitionHash: "b".repeat(64) }), reason: "definition_mismatch" },
    { case: "an unknown node (with a certificate of the cluster CA for n7)", greeting: hello("n7", "n1"), reason: "unknown_node" },
    { case: "a consensus message before Hello", greeting: acknowledgment("n2", "n1", 1), reason: "malformed" },
  ])("refuses $case with a Goodbye, a metric and a close, and keeps serving the real peer", async ({ greeting, reason }) => {
    const [n1, n2] = await twoNodes();
    const material = await nodeTls(greeting.from);
    const raw = await RawPeer.connect(n1.transport.address().port, material);
    raws.push(raw);
    raw.write(frame(signedFor(raw.tlsSocket, greeting, { id: greeting.from, material })));
    await waitFor("the refused socket closed", () => raw.closed);
    expect(raw.envelopes.map((envelope) => envelope.body)).toEqual([{ type: "Goodbye", reason, detail: expect.stringContaining(reason) }]);
    expect(n1.metrics.get("peer_connections_refused_total", { reason })).toBe(1);

    n2.transport.send(acknowledgment("n2", "n1", 5));
    await waitFor("n1 still receives from n2", () => n1.received.length === 1);
  });

  it("answers an accepted Hello with its own, and delivers what follows", async () => {
    const n1 = await startNode("n1", { n2: { host: "127.0.0.1", port: 1 } });
    running.push(n1);
    const material = await nodeTls("n2");
    const raw = await RawPeer.connect(n1.transport.address().port, material);
    raws.push(raw);
    raw.write(frame(signedFor(raw.tlsSocket, hello("n2", "n1"), { id: "n2", material })));
    raw.write(frame(acknowledgment("n2", "n1", 9)));
    await waitFor("delivered", () => n1.received.length === 1);
    expect(raw.envelopes[0]).toEqual({ ...hello("n1", "n2"), auth: { alg: "ecdsa-p256-sha256", sig: expect.any(String) } });
    expect(n1.received[0]?.body).toEqual({ type: "Acknowledgment", term: 1, matchIndex: 9 });
    expect(raw.closed).toBe(false);
  });

  it("an outbound connection to a node of another cluster is refused by that node and never opens", async () => {
    const other = await startNode("n2", {}, { cluster: "other-lab" });
    running.push(other);
    const n1 = await startNode("n1", { n2: other.transport.address() });
    running.push(n1);
    await waitFor("n2 refused n1's Hello", () => other.metrics.get("peer_connections_refused_total", { reason: "cluster_mismatch" }) >= 1);
    expect(n1.transport.connectedPeers()).toEqual([]);
  });
});
