/**
 * Bytes that are not a lockstep peer, sent to a node's PEER port while the cluster takes writes:
 * garbage, an oversized length prefix and a Hello from another cluster. Each connection is closed
 * and counted; the cluster keeps committing and the three nodes still agree (issue 5, item 6).
 */
import { connect, type Socket } from "node:net";
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

/** Connects to `port`, writes `bytes`, and resolves what came back once the node closed the socket. */
async function sendAndAwaitClose(port: number, bytes: Buffer): Promise<{ closedByNode: boolean; received: Buffer }> {
  const socket: Socket = connect({ host: "127.0.0.1", port });
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
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

describe("a hostile peer on the peer port", () => {
  it("is refused and counted while the cluster keeps committing", async () => {
    const leader = (await waitForAgreedLeader(cluster.clientUrls, 10_000))!;
    const follower = cluster.nodes.find((node) => node.id !== leader)!.id;
    const load = new HistoryWorkload({ endpoints: cluster.clientUrls, keys: ["h-1", "h-2"], processCount: 2, operationsPerProcessMax: 20_000 });
    await waitFor("the load to get going", () => (load.acknowledgedCount >= 5 ? true : undefined), 10_000);

    for (const target of [leader, follower]) {
      const node = cluster.node(target);
      const before = await metricsText(node.clientUrl);
      const garbage = await sendAndAwaitClose(node.peerPort, lengthPrefixed(Buffer.from("{this is not JSON", "utf8")));
      const oversized = await sendAndAwaitClose(node.peerPort, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]));
      const wrongCluster = await sendAndAwaitClose(node.peerPort, foreignHello("n2", target));
      expect([garbage.closedByNode, oversized.closedByNode, wrongCluster.closedByNode], `${target} closes all three connections`).toEqual([true, true, true]);
      expect(wrongCluster.received.toString("utf8"), "the foreign Hello gets a Goodbye naming the reason").toContain("cluster_mismatch");

      const after = await metricsText(node.clientUrl);
      const invalid = (text: string, reason: string): number => metricSum(text, "lockstep_messages_invalid_total", { reason });
      expect(invalid(after, "not_json") - invalid(before, "not_json"), `${target}: garbage counted`).toBe(1);
      expect(invalid(after, "oversized") - invalid(before, "oversized"), `${target}: oversized prefix counted`).toBe(1);
      const refused = (text: string): number => metricSum(text, "lockstep_peer_connections_refused_total", { reason: "cluster_mismatch" });
      expect(refused(after) - refused(before), `${target}: foreign cluster refused`).toBe(1);
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
