/**
 * The peer port takes node keys of both types lockstep issues: ECDSA P-256 (the default) and
 * Ed25519. Each signs its session-bound Hello with the algorithm of its own key, a cluster may mix
 * them (a rolling move from one to the other), and a Hello whose `alg` is not its certificate's
 * is refused (no signature is checked under an algorithm its key was not made for).
 */
import { createPrivateKey } from "node:crypto";
import { createCertificateAuthority } from "@lockstep/certs";
import { afterEach, describe, expect, it } from "vitest";
import { signHelloBytes } from "../src/peer-tls.js";
import { canonicalJson } from "../src/canonical-json.js";
import { RawPeer, acknowledgment, frame, freePorts, hello, startNode, waitFor, type TestNode } from "./loopback.js";
import { issueNodeTls, testCa } from "./test-certificates.js";

const running: TestNode[] = [];
const raws: RawPeer[] = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
});

describe("node keys of either type on the peer port", () => {
  it.each([
    { case: "an ECDSA P-256 node and an Ed25519 node under an ECDSA CA", caKeyType: "ecdsa-p256" as const },
    { case: "the same under an Ed25519 CA", caKeyType: "ed25519" as const },
  ])("$case handshake both ways and exchange messages", async ({ caKeyType }) => {
    const ca = await createCertificateAuthority({ keyType: caKeyType });
    const [p1, p2] = await freePorts(2);
    const book = { n1: { host: "127.0.0.1", port: p1! }, n2: { host: "127.0.0.1", port: p2! } };
    const n1 = await startNode("n1", book, { listen: book.n1, tls: await issueNodeTls("n1", { ca, keyType: "ecdsa-p256" }) });
    const n2 = await startNode("n2", book, { listen: book.n2, tls: await issueNodeTls("n2", { ca, keyType: "ed25519" }) });
    running.push(n1, n2);
    await waitFor("both connected", () => n1.transport.connectedPeers().length === 1 && n2.transport.connectedPeers().length === 1);
    n1.transport.send(acknowledgment("n1", "n2", 3));
    n2.transport.send(acknowledgment("n2", "n1", 4));
    await waitFor("both received", () => n1.received.length === 1 && n2.received.length === 1);
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "auth_failed" })).toBe(0);
    expect(n2.metrics.get("peer_connections_refused_total", { reason: "auth_failed" })).toBe(0);
  });

  it("refuses a Hello signed correctly by an ECDSA key but labelled ed25519 (auth_failed)", async () => {
    await testCa();
    const [port] = await freePorts(1);
    const n1 = await startNode("n1", { n2: { host: "127.0.0.1", port: 9 } }, { listen: { host: "127.0.0.1", port: port! } });
    running.push(n1);
    const material = await issueNodeTls("n2");
    const raw = await RawPeer.connect(n1.transport.address().port, material);
    raws.push(raw);
    const { auth: _none, ...unsigned } = hello("n2", "n1");
    const sig = signHelloBytes(raw.tlsSocket, createPrivateKey(material.keyPem), Buffer.from(canonicalJson(unsigned), "utf8"));
    raw.write(frame({ ...unsigned, auth: { alg: "ed25519", sig } }));
    await waitFor("refused", () => raw.closed);
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "auth_failed" })).toBe(1);
    expect(n1.received).toEqual([]);
  });
});
