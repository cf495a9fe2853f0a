/**
 * Helpers for tests over real loopback sockets: a recording metrics sink, transports on port 0,
 * raw sockets that speak (or deliberately mangle) the wire format, and polling with a deadline.
 */
import { connect as connectPlain, type Socket } from "node:net";
import { connect as connectTls, createServer as createTlsServer, type TLSSocket } from "node:tls";
import type { MetricLabels, MetricsSink } from "@lockstep/consensus";
import {
  FrameParser,
  encodeEnvelopeFrame,
  protocolVersion,
  type ConsensusEnvelope,
  type Envelope,
  type NodeId,
} from "@lockstep/protocol";
import { canonicalJson } from "../src/canonical-json.js";
import { createPrivateKey } from "node:crypto";
import { helloSignatureAlgorithm, signHelloBytes, type PeerTlsMaterial } from "../src/peer-tls.js";
import { TcpTransport } from "../src/tcp-transport.js";
import type { PeerAddress, TcpTransportOptions } from "../src/tcp-transport-options.js";
import { nodeTls } from "./test-certificates.js";

export const cluster = "lab";
export const definitionHash = "a".repeat(64);
export const loopback = "127.0.0.1";

/** Counts every report by metric name and exact label set, so tests can assert on what an operator would scrape. */
export class RecordingMetrics implements MetricsSink {
  readonly values = new Map<string, number>();

  increment(name: string, labels: MetricLabels = {}, by = 1): void {
    const key = metricKey(name, labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  observe(name: string, labels: MetricLabels): void {
    this.increment(name, labels);
  }

  set(name: string, labels: MetricLabels, value: number): void {
    this.values.set(metricKey(name, labels), value);
  }

  get(name: string, labels: MetricLabels = {}): number {
    return this.values.get(metricKey(name, labels)) ?? 0;
  }

  /** Sum over every series of `name` whose labels include `labels`. */
  sum(name: string, labels: MetricLabels = {}): number {
    let total = 0;
    for (const [key, value] of this.values) {
      const [keyName, keyLabels] = JSON.parse(key) as [string, Record<string, string>];
      if (keyName !== name) continue;
      if (Object.entries(labels).every(([label, labelValue]) => keyLabels[label] === labelValue)) total += value;
    }
    return total;
  }
}

function metricKey(name: string, labels: MetricLabels): string {
  return JSON.stringify([name, Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))]);
}

export type TestNode = {
  id: NodeId;
  transport: TcpTransport;
  metrics: RecordingMetrics;
  received: ConsensusEnvelope[];
};

/** Fast timings so reconnects and timeouts happen within a test's patience. */
export const fastTimings = {
  reconnectDelayMinMs: 10,
  reconnectDelayMaxMs: 100,
  connectTimeoutMs: 1000,
  heartbeatIntervalMs: 100,
  idleTimeoutMs: 1000,
} satisfies Partial<TcpTransportOptions>;

export async function startNode(
  id: NodeId,
  peers: Record<NodeId, PeerAddress>,
  overrides: Partial<TcpTransportOptions> = {},
): Promise<TestNode> {
  const metrics = new RecordingMetrics();
  const transport = await TcpTransport.start({
    nodeId: id,
    cluster,
    definitionHash,
    listen: { host: loopback, port: 0 },
    peers,
    metrics,
    tls: await nodeTls(id),
    ...fastTimings,
    ...overrides,
  });
  const received: ConsensusEnvelope[] = [];
  transport.onMessage((envelope) => received.push(envelope));
  return { id, transport, metrics, received };
}

/**
 * Reserves free ports by binding and releasing them, so a cluster's address book can be written
 * before its nodes start (each node dials the others at start).
 */
export async function freePorts(count: number): Promise<number[]> {
  const { createServer } = await import("node:net");
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<typeof server>((resolve) => server.listen(0, loopback, () => resolve(server)));
    }),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export async function startCluster(ids: NodeId[], overrides: Partial<TcpTransportOptions> = {}): Promise<TestNode[]> {
  const ports = await freePorts(ids.length);
  const book: Record<NodeId, PeerAddress> = Object.fromEntries(ids.map((id, index) => [id, { host: loopback, port: ports[index]! }]));
  return Promise.all(ids.map((id) => startNode(id, book, { ...overrides, listen: book[id]! })));
}

export function heartbeat(from: NodeId, to: NodeId, term: number): Envelope {
  return { v: protocolVersion, cluster, from, to, body: { type: "Proposal", term, prevIndex: 0, prevTerm: 0, entries: [], commitIndex: 0 } };
}

export function acknowledgment(from: NodeId, to: NodeId, matchIndex: number): Envelope {
  return { v: protocolVersion, cluster, from, to, body: { type: "Acknowledgment", term: 1, matchIndex } };
}

export function hello(from: NodeId, to: NodeId, overrides: { cluster?: string; definitionHash?: string } = {}): Envelope {
  const helloCluster = overrides.cluster ?? cluster;
  return {
    v: protocolVersion,
    cluster: helloCluster,
    from,
    to,
    body: { type: "Hello", nodeId: from, cluster: helloCluster, protocolVersion, definitionHash: overrides.definitionHash ?? definitionHash },
  };
}

export function frame(envelope: Envelope): Uint8Array {
  const encoded = encodeEnvelopeFrame(envelope);
  if (!encoded.ok) throw new Error(encoded.detail);
  return encoded.value;
}

/**
 * A hand-driven peer connection: write raw bytes, read back decoded envelopes, see when it
 * closes. Over TLS with the given material (a certificate, or none), or plain TCP.
 */
export class RawPeer {
  readonly envelopes: Envelope[] = [];
  closed = false;
  private readonly parser = new FrameParser();

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const event of this.parser.push(chunk)) if (event.ok) this.envelopes.push(event.value);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => (this.closed = true));
  }

  /** TLS 1.3 to `port`, presenting `material`'s certificate (or none); the node's certificate is not checked. */
  static connect(port: number, material: PeerTlsMaterial | { caPem: string } | "no-certificate"): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const credentials = material === "no-certificate" || !("certPem" in material) ? {} : { cert: material.certPem, key: material.keyPem };
      const socket = connectTls({ host: loopback, port, rejectUnauthorized: false, minVersion: "TLSv1.3", ...credentials }, () => resolve(new RawPeer(socket)));
      socket.once("error", reject);
    });
  }

  static connectPlain(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connectPlain({ host: loopback, port }, () => resolve(new RawPeer(socket)));
      socket.once("error", reject);
    });
  }

  get tlsSocket(): TLSSocket {
    return this.socket as TLSSocket;
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** `envelope` (a Hello) signed with `material`'s key for the TLS session of `socket`, as a real node would. */
export function signedFor(socket: TLSSocket, envelope: Envelope, signer: { id: NodeId; material: PeerTlsMaterial }): Envelope {
  const { auth: _ignored, ...unsigned } = envelope;
  const key = createPrivateKey(signer.material.keyPem);
  const sig = signHelloBytes(socket, key, Buffer.from(canonicalJson(unsigned), "utf8"));
  return { ...unsigned, auth: { alg: helloSignatureAlgorithm(key)!, sig } };
}

/** Polls `condition` until it holds; fails with `description` after `timeoutMs`. */
export async function waitFor(description: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A fake peer on loopback: a TLS 1.3 server with `id`'s certificate that asks for the dialer's
 * certificate (and trusts any: it is the node under test that must check). `onConnection` gets
 * each socket once TLS is done; `answerHello` sends the fake's signed Hello on it.
 */
export async function fakePeer(
  id: NodeId,
  material: PeerTlsMaterial,
  onConnection: (socket: TLSSocket, answerHello: (to: NodeId) => void) => void,
): Promise<{ server: FakePeerServer; port: number }> {
  const sockets = new Set<TLSSocket>();
  const tlsServer = createTlsServer({ cert: material.certPem, key: material.keyPem, requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.3" }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    onConnection(socket, (to) => socket.write(frame(signedFor(socket, hello(id, to), { id, material }))));
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, loopback, resolve));
  const server: FakePeerServer = {
    close(callback) {
      for (const socket of sockets) socket.destroy();
      tlsServer.close(() => callback());
    },
  };
  return { server, port: (tlsServer.address() as { port: number }).port };
}

/** Closing it also destroys the connections it accepted, so a test's cleanup never waits on them. */
export type FakePeerServer = { close(callback: () => void): void };
