import { afterEach, describe, expect, it } from "vitest";
import { RawPeer, acknowledgment, frame, freePorts, hello, loopback, signedFor, startCluster, startNode, waitFor, type TestNode } from "./loopback.js";
import { nodeTls } from "./test-certificates.js";

const running: TestNode[] = [];
const raws: RawPeer[] = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
});

function lengthPrefixed(payload: Uint8Array, announcedBytes = payload.byteLength): Uint8Array {
  const bytes = new Uint8Array(4 + payload.byteLength);
  new DataView(bytes.buffer).setUint32(0, announcedBytes, false);
  bytes.set(payload, 4);
  return bytes;
}

const encoder = new TextEncoder();

/**
 * n1 and n2 are a healthy pair; n3 is in n1's address book but played by a raw socket that holds
 * n3's real certificate: a member that misbehaves (a bug, or a stolen key) after authenticating.
 */
async function setup(): Promise<{ n1: TestNode; n2: TestNode; impostor: RawPeer }> {
  const [port1, port2, port3] = (await freePorts(3)) as [number, number, number];
  const book = { n1: { host: loopback, port: port1 }, n2: { host: loopback, port: port2 }, n3: { host: loopback, port: port3 } };
  const n1 = await startNode("n1", book, { frameBytesMax: 64 * 1024, listen: book.n1 });
  const n2 = await startNode("n2", book, { frameBytesMax: 64 * 1024, listen: book.n2 });
  running.push(n1, n2);
  await waitFor("n1 and n2 connected", () => n1.transport.connectedPeers().includes("n2"));
  const impostor = await RawPeer.connect(n1.transport.address().port, await nodeTls("n3"));
  raws.push(impostor);
  return { n1, n2, impostor };
}

describe("invalid frames on an inbound connection", () => {
  it.each([
    { case: "garbage bytes", bytes: () => encoder.encode("GET / HTTP/1.1\r\n\r\n"), reason: "oversized" },
    { case: "an oversized length prefix", bytes: () => lengthPrefixed(new Uint8Array(8), 0x7fff_ffff), reason: "oversized" },
    { case: "a frame that is not JSON", bytes: () => lengthPrefixed(encoder.encode("{not json")), reason: "not_json" },
    {
      case: "a schema-invalid frame",
      bytes: () => lengthPrefixed(encoder.encode(JSON.stringify({ v: 1, cluster: "lab", from: "n2", to: "n1", body: { type: "Vote" } }))),
      reason: "schema_invalid",
    },
  ])("$case before the handshake: counted, refused, closed; n2 keeps working", async ({ bytes, reason }) => {
    const { n1, n2, impostor } = await setup();
    impostor.write(bytes());
    await waitFor("impostor disconnected", () => impostor.closed);
    expect(n1.metrics.get("messages_invalid_total", { reason, peer: "unknown" })).toBe(1);
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "malformed" })).toBe(1);
    n2.transport.send(acknowledgment("n2", "n1", 1));
    await waitFor("n2's message delivered", () => n1.received.length === 1);
  });

  it.each([
    { case: "a schema-invalid frame", bytes: () => lengthPrefixed(encoder.encode('{"v":1}')), reason: "schema_invalid" },
    { case: "an oversized length prefix", bytes: () => lengthPrefixed(new Uint8Array(1), 64 * 1024 + 1), reason: "oversized" },
    { case: "a message claiming another sender", bytes: () => frame(acknowledgment("n2", "n1", 1)), reason: "sender_mismatch" },
    { case: "a message for another node", bytes: () => frame(acknowledgment("n3", "n2", 1)), reason: "wrong_recipient" },
  ])("$case after a valid handshake: counted under the peer, closed; n2 keeps working", async ({ bytes, reason }) => {
    const { n1, n2, impostor } = await setup();
    impostor.write(frame(signedFor(impostor.tlsSocket, hello("n3", "n1"), { id: "n3", material: await nodeTls("n3") })));
    await waitFor("handshake answered", () => impostor.envelopes.length === 1);
    impostor.write(bytes());
    await waitFor("impostor disconnected", () => impostor.closed);
    expect(n1.metrics.get("messages_invalid_total", { reason, peer: "n3" })).toBe(1);
    expect(n1.received).toEqual([]);
    n2.transport.send(acknowledgment("n2", "n1", 1));
    await waitFor("n2's message delivered", () => n1.received.length === 1);
  });

  it("closes a connection that completes TLS but sends no Hello within handshakeTimeoutMs", async () => {
    const nodes = await startCluster(["n1"], { handshakeTimeoutMs: 100 });
    running.push(...nodes);
    const silent = await RawPeer.connect(nodes[0]!.transport.address().port, await nodeTls("n2"));
    raws.push(silent);
    await waitFor("silent socket closed", () => silent.closed, 2000);
    expect(nodes[0]!.metrics.get("peer_connections_refused_total", { reason: "handshake_timeout" })).toBe(1);
  });
});
