/**
 * Three real nodes with peer message authentication on (Ed25519, `authPrivateKeyFile` and each
 * member's `publicKey`): they elect, replicate and agree; a node whose key does not match its
 * configured public key refuses to start.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { encodeEnvelopeFrame } from "@lockstep/protocol";
import { definitionHash, lifecycleDefinition } from "@lockstep/state-machine";
import { generateAuthKeyPair } from "@lockstep/transport-tcp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { metricSum, metricsText, postTransition, waitFor, waitForConvergence } from "./support/node-api.js";
import { fastTiming, ProcessCluster } from "./support/process-cluster.js";

const keysDirectory = mkdtempSync(join(tmpdir(), "lockstep-keys-"));
const ids = ["n1", "n2", "n3"];
const keys = Object.fromEntries(ids.map((id) => [id, generateAuthKeyPair()]));
for (const id of ids) writeFileSync(join(keysDirectory, `${id}.pem`), keys[id]!.privateKeyPem, { mode: 0o600 });
let cluster: ProcessCluster;

beforeAll(async () => {
  cluster = await ProcessCluster.prepare({
    cluster: "signed",
    config: fastTiming,
    memberFields: Object.fromEntries(ids.map((id) => [id, { publicKey: keys[id]!.publicKey }])),
    nodeConfig: Object.fromEntries(ids.map((id) => [id, { authPrivateKeyFile: join(keysDirectory, `${id}.pem`) }])),
  });
  cluster.startAll();
}, 10_000);

afterAll(async () => {
  await cluster?.destroy();
  rmSync(keysDirectory, { recursive: true, force: true });
});

describe("peer message authentication", () => {
  it("a cluster with signed messages elects a leader, commits and converges, refusing nothing", async () => {
    const leader = await waitForAgreedLeader(cluster.clientUrls, 20_000);
    expect(leader, cluster.logTail()).not.toBeNull();
    const answer = await postTransition(cluster.node("n2").clientUrl, "signed-key", { to: "Running" });
    expect(answer.status).toBe(200);
    const states = await waitForConvergence(cluster.clientUrls, 10_000);
    expect(states.machines.find((machine) => machine.key === "signed-key")?.state).toBe("Running");
    for (const url of cluster.clientUrls) {
      const text = await metricsText(url);
      expect(metricSum(text, "lockstep_peer_connections_refused_total", { reason: "auth_failed" })).toBe(0);
      expect(metricSum(text, "lockstep_messages_invalid_total", { reason: "auth_failed" })).toBe(0);
    }
  }, 40_000);

  it("refuses an unsigned Hello from a real member id on the peer port", async () => {
    const n1 = cluster.node("n1");
    const hello = encodeEnvelopeFrame({
      v: 1,
      cluster: "signed",
      from: "n2",
      to: "n1",
      body: { type: "Hello", nodeId: "n2", cluster: "signed", protocolVersion: 1, definitionHash: definitionHash(lifecycleDefinition) },
    });
    if (!hello.ok) throw new Error(hello.detail);
    const socket = connect(n1.peerPort, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.on("connect", () => socket.write(hello.value));
    await waitFor("n1 refused the unsigned Hello", async () => {
      const text = await metricsText(n1.clientUrl);
      return metricSum(text, "lockstep_peer_connections_refused_total", { reason: "auth_failed" }) >= 1 ? true : undefined;
    }, 10_000);
    socket.destroy();
  }, 20_000);

  it("a node whose private key does not match its configured publicKey refuses to start", async () => {
    const other = generateAuthKeyPair();
    const wrongKeyFile = join(keysDirectory, "wrong.pem");
    writeFileSync(wrongKeyFile, other.privateKeyPem, { mode: 0o600 });
    const solo = await ProcessCluster.prepare({
      nodeCount: 1,
      cluster: "wrong-key",
      config: fastTiming,
      memberFields: { n1: { publicKey: keys.n1!.publicKey } },
      nodeConfig: { n1: { authPrivateKeyFile: wrongKeyFile } },
    });
    try {
      solo.start("n1");
      await waitFor("the node exits", () => (solo.node("n1").process === null ? true : undefined), 10_000);
      const log = solo.node("n1").log.join("\n");
      expect(log).toContain("does not match member n1's publicKey");
      expect(log).toContain("process exited: code 1");
    } finally {
      await solo.destroy();
    }
  }, 20_000);
});
