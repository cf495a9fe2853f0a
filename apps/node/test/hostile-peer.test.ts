/**
 * Strangers on a node's PEER port while the cluster takes writes: plaintext garbage and an
 * oversized length prefix (no TLS at all), TLS without a certificate, with a certificate of
 * another CA, with an expired one, and a member's real certificate used to say Hello from
 * another cluster. Each connection is closed and counted; the cluster keeps committing and the
 * three nodes still agree.
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { createCertificateAuthority, signNodeCertificate } from "@lockstep/certs";
import { encodeEnvelopeFrame, protocolVersion } from "@lockstep/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { HistoryWorkload } from "./support/history-workload.js";
import { fetchClusterStatus, metricSum, metricsText, waitFor, waitForConvergence } from "./support/node-api.js";
import { fastTiming, ProcessCluster } from "./support/process-cluster.js";

const startTimeoutMs = 20_000;
let cluster: ProcessCluster;

beforeAll(async () => {
  cluster = await ProcessCluster.prepare({ cluster: "hostile", config: fastTiming });
  cluster.startAll();
  if ((await waitForAgreedLeader(cluster.clientUrls, startTimeoutMs)) === null) throw new Error(`no leader\n${cluster.logTail()}`);
}, startTimeoutMs + 5_000);

afterAll(async () => {
  await cluster?.destroy();
});

type Credentials = { cert: string; key: string };

/**
 * Connects to `port` (plain TCP, or TLS presenting `credentials` or no certificate), writes
 * `bytes`, and resolves what came back once the node closed the socket.
 */
async function sendAndAwaitClose(port: number, bytes: Buffer, tls?: Credentials | "no-certificate"): Promise<{ closedByNode: boolean; received: Buffer }> {
  const socket: Socket =
    tls === undefined
      ? connect({ host: "127.0.0.1", port })
      : connectTls({ host: "127.0.0.1", port, rejectUnauthorized: false, ...(tls === "no-certificate" ? {} : tls) });
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once(tls === undefined ? "connect" : "secureConnect", () => resolve());
    socket.once("error", reject);
  });
  socket.write(bytes);
  const closedByNode = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5_000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.destroy();
  return { closedByNode, received: Buffer.concat(chunks) };
}

function lengthPrefixed(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(payload.byteLength);
  return Buffer.concat([prefix, payload]);
}

function foreignHello(from: string, to: string): Buffer {
  const encoded = encodeEnvelopeFrame({
    v: protocolVersion,
    cluster: "someone-else",
    from,
    to,
    body: { type: "Hello", nodeId: from, cluster: "someone-else", protocolVersion, definitionHash: "0".repeat(64) },
  });
  if (!encoded.ok) throw new Error("could not encode the test Hello");
  return Buffer.from(encoded.value);
}

async function strangerCertificates(): Promise<{ otherCa: Credentials; expired: Credentials; stolen: Credentials }> {
  const caCertPem = readFileSync(cluster.caFiles.certFile, "utf8");
  const caKeyPem = readFileSync(cluster.caFiles.keyFile, "utf8");
  const foreign = await createCertificateAuthority();
  const otherCa = await signNodeCertificate({ caCertPem: foreign.certPem, caKeyPem: foreign.keyPem, nodeId: "n2", hosts: [] });
  const expired = await signNodeCertificate({ caCertPem, caKeyPem, nodeId: "n2", hosts: [], validFrom: new Date(Date.now() - 3 * 86_400_000), validityDays: 1 });
  const stolen = { cert: readFileSync(`${cluster.certsDirectory("n2")}/node.crt`, "utf8"), key: readFileSync(`${cluster.certsDirectory("n2")}/node.key`, "utf8") };
  return { otherCa: { cert: otherCa.certPem, key: otherCa.keyPem! }, expired: { cert: expired.certPem, key: expired.keyPem! }, stolen };
}

describe("a hostile peer on the peer port", () => {
  it("is refused and counted while the cluster keeps committing", async () => {
    const leader = (await waitForAgreedLeader(cluster.clientUrls, 10_000))!;
    const follower = cluster.nodes.find((node) => node.id !== leader)!.id;
    const load = new HistoryWorkload({ endpoints: cluster.clientUrls, keys: ["h-1", "h-2"], processCount: 2, operationsPerProcessMax: 20_000 });
    await waitFor("the load to get going", () => (load.acknowledgedCount >= 5 ? true : undefined), 10_000);

    const certificates = await strangerCertificates();
    for (const target of [leader, follower]) {
      const node = cluster.node(target);
      const before = await metricsText(node.clientUrl);
      const attempts = {
        garbage: await sendAndAwaitClose(node.peerPort, lengthPrefixed(Buffer.from("{this is not JSON", "utf8"))),
        oversized: await sendAndAwaitClose(node.peerPort, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4])),
        noCertificate: await sendAndAwaitClose(node.peerPort, foreignHello("n2", target), "no-certificate"),
        otherCa: await sendAndAwaitClose(node.peerPort, foreignHello("n2", target), certificates.otherCa),
        expired: await sendAndAwaitClose(node.peerPort, foreignHello("n2", target), certificates.expired),
        wrongCluster: await sendAndAwaitClose(node.peerPort, foreignHello("n2", target), target === "n2" ? certificates.otherCa : certificates.stolen),
      };
      for (const [name, attempt] of Object.entries(attempts)) expect(attempt.closedByNode, `${target} closes the ${name} connection`).toBe(true);
      expect(attempts.otherCa.received.toString("utf8"), "a TLS stranger is told why").toContain("certificate_untrusted");

      const after = await metricsText(node.clientUrl);
      const refused = (text: string, reason: string): number => metricSum(text, "lockstep_peer_connections_refused_total", { reason });
      const delta = (reason: string): number => refused(after, reason) - refused(before, reason);
      expect(delta("tls_failed"), `${target}: plaintext refused`).toBe(2);
      expect(delta("no_certificate"), `${target}: no certificate refused`).toBe(1);
      expect(delta("certificate_expired"), `${target}: expired certificate refused`).toBe(1);
      if (target === "n2") {
        expect(delta("certificate_untrusted"), `${target}: other CAs refused`).toBe(2);
      } else {
        expect(delta("certificate_untrusted"), `${target}: other CA refused`).toBe(1);
        expect(attempts.wrongCluster.received.toString("utf8"), "a member's key cannot join another cluster").toContain("cluster_mismatch");
        expect(delta("cluster_mismatch"), `${target}: foreign cluster refused`).toBe(1);
      }
      expect(metricSum(after, "lockstep_peers_connected"), `${target} keeps its real peers`).toBe(2);
    }

    const acknowledgedDuringAttack = load.acknowledgedCount;
    await waitFor("writes to keep committing", () => (load.acknowledgedCount >= acknowledgedDuringAttack + 5 ? true : undefined), 10_000);
    const result = await load.stop();
    expect(result.unexpectedErrors).toEqual([]);
    const statuses = await Promise.all(cluster.clientUrls.map(fetchClusterStatus));
    expect(statuses.every((status) => status !== null && status.leader !== null)).toBe(true);
    await waitForConvergence(cluster.clientUrls, 10_000);
  }, 60_000);
});
