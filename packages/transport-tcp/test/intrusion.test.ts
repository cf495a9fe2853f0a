/**
 * Attempts to get into a node through its peer port, each of which must be refused, counted in
 * `peer_connections_refused_total{reason}` and leave the node serving its real peers. (A tampered
 * record is in fault-proxy.test.ts, a forged `from` after the Hello in invalid-frames.test.ts.)
 */
import { connect as connectTls } from "node:tls";
import { createCertificateAuthority } from "@lockstep/certs";
import { afterEach, describe, expect, it } from "vitest";
import { RawPeer, acknowledgment, fakePeer, frame, hello, signedFor, sleep, startCluster, startNode, waitFor, type TestNode } from "./loopback.js";
import { clientTls, issueNodeTls, nodeTls, testCa } from "./test-certificates.js";

const running: TestNode[] = [];
const raws: RawPeer[] = [];
const servers: { close(callback: () => void): void }[] = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await Promise.all(running.splice(0).map((node) => node.transport.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

const otherCa = await createCertificateAuthority();

async function healthyPair(overrides = {}): Promise<[TestNode, TestNode]> {
  const nodes = await startCluster(["n1", "n2"], overrides);
  running.push(...nodes);
  await waitFor("connected", () => nodes.every((node) => node.transport.connectedPeers().length === 1));
  return nodes as [TestNode, TestNode];
}

async function stillServes(n1: TestNode, n2: TestNode): Promise<void> {
  const before = n1.received.length;
  n2.transport.send(acknowledgment("n2", "n1", 42));
  await waitFor("n1 still receives from n2", () => n1.received.length === before + 1);
}

describe("the accepting side refuses", () => {
  it.each([
    { case: "a peer without a certificate", material: () => Promise.resolve("no-certificate" as const), reason: "no_certificate" },
    { case: "a certificate from another CA", material: () => issueNodeTls("n2", { ca: otherCa }), reason: "certificate_untrusted" },
    {
      case: "an expired certificate of the cluster CA",
      material: () => issueNodeTls("n2", { validFrom: new Date(Date.now() - 3 * 86_400_000), validityDays: 1 }),
      reason: "certificate_expired",
    },
    { case: "a client certificate of the cluster CA (not a node's)", material: () => clientTls("ops"), reason: "certificate_identity" },
  ])("$case: a Goodbye, a count, a close; the real peer keeps working", async ({ material, reason }) => {
    const [n1, n2] = await healthyPair();
    const credentials = await material();
    const raw = await RawPeer.connect(n1.transport.address().port, credentials);
    raws.push(raw);
    // Whatever it says, nothing is read before the certificate is accepted.
    raw.write(typeof credentials === "string" ? frame(hello("n2", "n1")) : frame(signedFor(raw.tlsSocket, hello("n2", "n1"), { id: "n2", material: credentials })));
    await waitFor("the stranger is disconnected", () => raw.closed);
    expect(n1.metrics.get("peer_connections_refused_total", { reason })).toBe(1);
    expect(raw.envelopes.map((envelope) => envelope.body)).toEqual([{ type: "Goodbye", reason: "auth_failed", detail: expect.stringContaining(reason) }]);
    expect(n1.received).toEqual([]);
    await stillServes(n1, n2);
  });

  it("a certificate of one member with a Hello claiming to be another", async () => {
    const [n1, n2] = await healthyPair();
    const n3 = await issueNodeTls("n3");
    const raw = await RawPeer.connect(n1.transport.address().port, n3);
    raws.push(raw);
    raw.write(frame(signedFor(raw.tlsSocket, hello("n2", "n1"), { id: "n3", material: n3 })));
    raw.write(frame(acknowledgment("n2", "n1", 7)));
    await waitFor("closed", () => raw.closed);
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "certificate_identity" })).toBe(1);
    expect(n1.received).toEqual([]);
    await stillServes(n1, n2);
  });

  it("a replayed handshake: n2's own certificate, but a Hello recorded from another TLS session", async () => {
    const [n1, n2] = await healthyPair();
    const material = await nodeTls("n2");
    const recorded = await RawPeer.connect(n1.transport.address().port, material);
    raws.push(recorded);
    const capturedHello = frame(signedFor(recorded.tlsSocket, hello("n2", "n1"), { id: "n2", material }));
    recorded.destroy();

    const replaying = await RawPeer.connect(n1.transport.address().port, material);
    raws.push(replaying);
    replaying.write(capturedHello);
    replaying.write(frame(acknowledgment("n2", "n1", 7)));
    await waitFor("replay refused", () => replaying.closed);
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "auth_failed" })).toBe(1);
    expect(replaying.envelopes[0]?.body).toMatchObject({ type: "Goodbye", reason: "auth_failed", detail: expect.stringContaining("not signed for this TLS session") });
    expect(n1.received).toEqual([]);
    await stillServes(n1, n2);
  });

  it("an unsigned Hello over a valid TLS session", async () => {
    const [n1] = await healthyPair();
    const raw = await RawPeer.connect(n1.transport.address().port, await nodeTls("n2"));
    raws.push(raw);
    raw.write(frame(hello("n2", "n1")));
    await waitFor("refused", () => raw.closed);
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "auth_failed" })).toBe(1);
  });

  it("plaintext TCP (no TLS at all)", async () => {
    const [n1, n2] = await healthyPair();
    const raw = await RawPeer.connectPlain(n1.transport.address().port);
    raws.push(raw);
    raw.write(frame(hello("n2", "n1")));
    await waitFor("refused", () => raw.closed);
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "tls_failed" })).toBe(1);
    await stillServes(n1, n2);
  });

  it("TLS 1.2 (with a valid certificate): only TLS 1.3 is spoken", async () => {
    const [n1, n2] = await healthyPair();
    const material = await nodeTls("n2");
    const outcome = await new Promise<string>((resolve) => {
      const socket = connectTls({ host: "127.0.0.1", port: n1.transport.address().port, rejectUnauthorized: false, maxVersion: "TLSv1.2", cert: material.certPem, key: material.keyPem });
      socket.once("secureConnect", () => resolve(`connected with ${socket.getProtocol() ?? "?"}`));
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(outcome).toMatch(/^ERR_SSL/);
    await waitFor("counted", () => n1.metrics.get("peer_connections_refused_total", { reason: "tls_failed" }) === 1);
    await stillServes(n1, n2);
  });

  it("a TCP connection that never starts TLS: closed at handshakeTimeoutMs", async () => {
    const [n1] = await healthyPair({ handshakeTimeoutMs: 150 });
    const raw = await RawPeer.connectPlain(n1.transport.address().port);
    raws.push(raw);
    await sleep(50);
    expect(raw.closed).toBe(false);
    await waitFor("closed by the deadline", () => raw.closed, 2000);
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "handshake_timeout" })).toBe(1);
  });

  it("more than handshakeBytesMax bytes before the Hello (a huge first frame)", async () => {
    const [n1, n2] = await healthyPair({ handshakeBytesMax: 1024 });
    const raw = await RawPeer.connect(n1.transport.address().port, await nodeTls("n2"));
    raws.push(raw);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(60_000);
    raw.write(Buffer.concat([prefix, Buffer.alloc(2000, 0x20)]));
    await waitFor("refused", () => raw.closed);
    expect(n1.metrics.get("peer_connections_refused_total", { reason: "handshake_too_large" })).toBe(1);
    await stillServes(n1, n2);
  });

  it("more than connectionsPerSourceMax connections from one address: the extra ones are dropped before TLS", async () => {
    const [n1, n2] = await healthyPair({ connectionsPerSourceMax: 3, handshakeTimeoutMs: 60_000 });
    // n2's own connection from 127.0.0.1 counts: two more fit, the third and fourth do not.
    const strangers = await Promise.all(Array.from({ length: 4 }, () => RawPeer.connectPlain(n1.transport.address().port)));
    raws.push(...strangers);
    await waitFor("two refused", () => n1.metrics.get("peer_connections_refused_total", { reason: "too_many_from_source" }) === 2);
    await waitFor("the refused ones are closed", () => strangers.filter((stranger) => stranger.closed).length === 2);
    await stillServes(n1, n2);
    for (const stranger of strangers) stranger.destroy();
    await sleep(50);
    const later = await RawPeer.connect(n1.transport.address().port, await nodeTls("n2"));
    raws.push(later);
    await sleep(50);
    expect(later.closed).toBe(false);
  });
});

describe("the dialing side refuses", () => {
  it.each([
    { case: "a node answering with another member's certificate", material: () => nodeTls("n3"), reason: "certificate_identity" },
    { case: "a node answering with a certificate of another CA", material: () => issueNodeTls("n2", { ca: otherCa }), reason: "certificate_untrusted" },
    {
      case: "a node answering with an expired certificate",
      material: () => issueNodeTls("n2", { validFrom: new Date(Date.now() - 3 * 86_400_000), validityDays: 1 }),
      reason: "certificate_expired",
    },
  ])("$case: counted, never open, nothing sent", async ({ material, reason }) => {
    const received: Buffer[] = [];
    const impostor = await fakePeer("n2", await material(), (socket, answerHello) => {
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      answerHello("n1");
    });
    servers.push(impostor.server);
    const n1 = await startNode("n1", { n2: { host: "127.0.0.1", port: impostor.port } });
    running.push(n1);
    n1.transport.send(acknowledgment("n1", "n2", 3));
    await waitFor("refused", () => n1.metrics.get("peer_connections_refused_total", { reason }) >= 1);
    expect(n1.transport.connectedPeers()).toEqual([]);
    // Only n1's Goodbye ever reached the impostor: no Hello, no message.
    const text = Buffer.concat(received).toString("latin1");
    expect(text).not.toContain("Acknowledgment");
    expect(text).not.toContain('"Hello"');
  });

  it("a Hello replayed by a node that holds the right certificate but not this session", async () => {
    const material = await nodeTls("n2");
    let firstHello: Uint8Array | undefined;
    const impostor = await fakePeer("n2", material, (socket) => {
      // Answer every dial with the Hello signed for the first session; drop that first session
      // so that n1 dials again and is offered the recording.
      const first = firstHello === undefined;
      firstHello ??= frame(signedFor(socket, hello("n2", "n1"), { id: "n2", material }));
      socket.write(firstHello);
      if (first) setTimeout(() => socket.destroy(), 50);
    });
    servers.push(impostor.server);
    const n1 = await startNode("n1", { n2: { host: "127.0.0.1", port: impostor.port } }, { reconnectDelay: () => 20 });
    running.push(n1);
    await waitFor("the replayed Hello refused", () => n1.metrics.get("peer_connections_refused_total", { reason: "auth_failed" }) >= 1);
    expect(n1.transport.connectedPeers()).toEqual([]);
  });
});

describe("TLS material", () => {
  it("a node refuses to start with a certificate that names another member, or a key of another certificate", async () => {
    const n2 = await nodeTls("n2");
    const n1 = await nodeTls("n1");
    await expect(startNode("n1", {}, { tls: n2 })).rejects.toMatchObject({ code: "invalid_tls", message: expect.stringContaining("names node n2, not n1") });
    await expect(startNode("n1", {}, { tls: { ...n1, keyPem: n2.keyPem } })).rejects.toMatchObject({ code: "invalid_tls", message: expect.stringContaining("does not belong") });
    await expect(startNode("n1", {}, { tls: { ...n1, caPem: otherCa.certPem } })).rejects.toMatchObject({ code: "invalid_tls", message: expect.stringContaining("not issued by a CA") });
  });

  it("rotation without restart: a bundle of old and new CA, then new certificates, then the old CA dropped", async () => {
    const [n1, n2] = await healthyPair();
    const oldCa = await testCa();
    const newCa = await createCertificateAuthority();
    const bundle = `${oldCa.certPem}${newCa.certPem}`;
    // 1. Both trust both CAs; nothing is closed.
    for (const node of [n1, n2]) {
      const material = await nodeTls(node.id);
      expect(node.transport.reloadTls({ ...material, caPem: bundle }).connectionsClosed).toBe(0);
    }
    // 2. n1 moves to a certificate of the new CA; n2 (still old) accepts its new connections.
    n1.transport.reloadTls(await issueNodeTls("n1", { ca: newCa, caPem: bundle }));
    const n1Certificate = (await issueNodeTls("n1", { ca: newCa, caPem: bundle })).certPem;
    expect(n1Certificate).toContain("BEGIN CERTIFICATE");
    await stillServes(n1, n2);
    // 3. n2 drops the old CA while still presenting an old certificate itself would be a mistake;
    //    n1 dropping it closes its connections to n2 (old certificate) as certificate_revoked.
    const n1NewOnly = await issueNodeTls("n1", { ca: newCa });
    const summary = n1.transport.reloadTls(n1NewOnly);
    expect(summary.connectionsClosed).toBeGreaterThanOrEqual(1);
    expect(n1.metrics.sum("peer_connections_refused_total", { reason: "certificate_revoked" })).toBeGreaterThanOrEqual(1);
    // 4. n2 gets its new certificate (bundle still has both): the pair reconnects and delivers.
    n2.transport.reloadTls(await issueNodeTls("n2", { ca: newCa, caPem: bundle }));
    await waitFor("both reconnected", () => n1.transport.connectedPeers().length === 1 && n2.transport.connectedPeers().length === 1, 5000);
    await stillServes(n1, n2);
  });

  it("a reload with unusable material throws invalid_tls and keeps the old material", async () => {
    const [n1, n2] = await healthyPair();
    const n2Material = await nodeTls("n2");
    expect(() => n1.transport.reloadTls(n2Material)).toThrow(expect.objectContaining({ code: "invalid_tls" }));
    expect(n1.metrics.get("peer_certificate_expiry_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000);
    await stillServes(n1, n2);
  });
});
