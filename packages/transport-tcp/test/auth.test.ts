import { afterEach, describe, expect, it } from "vitest";
import { generateAuthKeyPair, MessageAuth } from "../src/message-auth.js";
import { RawPeer, acknowledgment, frame, freePorts, hello, loopback, startNode, waitFor, type TestNode } from "./loopback.js";

const running: TestNode[] = [];
const raws: RawPeer[] = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
});

const keys = { n1: generateAuthKeyPair(), n2: generateAuthKeyPair() };
function authFor(self: "n1" | "n2", peerKeyOverride?: string): MessageAuth {
  const peer = self === "n1" ? "n2" : "n1";
  return MessageAuth.fromKeys({ privateKeyPem: keys[self].privateKeyPem, peerPublicKeys: { [peer]: peerKeyOverride ?? keys[peer].publicKey } });
}

async function pair(n2PublicKeyAtN1?: string): Promise<[TestNode, TestNode]> {
  const [p1, p2] = await freePorts(2);
  const book = { n1: { host: loopback, port: p1! }, n2: { host: loopback, port: p2! } };
  const n1 = await startNode("n1", book, { listen: book.n1, auth: authFor("n1", n2PublicKeyAtN1) });
  const n2 = await startNode("n2", book, { listen: book.n2, auth: authFor("n2") });
  running.push(n1, n2);
  return [n1, n2];
}

describe("signed peer messages", () => {
  it("delivers signed messages between peers that know each other's keys", async () => {
    const [n1, n2] = await pair();
    await waitFor("connected", () => n1.transport.connectedPeers().length === 1 && n2.transport.connectedPeers().length === 1);
    n1.transport.send(acknowledgment("n1", "n2", 7));
    await waitFor("delivered", () => n2.received.length === 1);
    expect(n2.received[0]?.body).toEqual({ type: "Acknowledgment", term: 1, matchIndex: 7 });
  });

  it("refuses a peer whose Hello is signed by another key than the one configured", async () => {
    const [n1] = await pair(generateAuthKeyPair().publicKey);
    await waitFor("n1 refused n2", () => n1.metrics.get("peer_connections_refused_total", { reason: "auth_failed" }) >= 1);
    expect(n1.transport.connectedPeers()).toEqual([]);
  });

  it("closes a connection that sends an unsigned frame after a valid signed Hello", async () => {
    const [p1] = await freePorts(1);
    const n1 = await startNode("n1", { n2: { host: loopback, port: 1 } }, { listen: { host: loopback, port: p1! }, auth: authFor("n1") });
    running.push(n1);
    const raw = await RawPeer.connect(p1!);
    raws.push(raw);
    raw.write(frame(authFor("n2").sign(hello("n2", "n1"))));
    raw.write(frame(acknowledgment("n2", "n1", 9)));
    await waitFor("closed", () => raw.closed);
    expect(n1.received).toEqual([]);
    expect(n1.metrics.get("messages_invalid_total", { reason: "auth_failed", peer: "n2" })).toBe(1);
  });
});
