/**
 * Three real nodes with mutual TLS on the peer port: they elect and commit; then the cluster's
 * CA is rotated without a restart while clients keep writing. Every node first trusts the old
 * and the new CA (ca.crt becomes a bundle, picked up on change), each node then gets a
 * certificate of the new CA (SIGHUP), and finally the old CA is dropped. The cluster keeps
 * committing throughout and every peer port ends up presenting a certificate of the new CA.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:tls";
import { createCertificateAuthority, issuedByOneOf, signNodeCertificate, type IssuedKeyPair } from "@lockstep/certs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { HistoryWorkload } from "./support/history-workload.js";
import { metricSum, metricsText, postTransition, waitFor, waitForConvergence } from "./support/node-api.js";
import { fastTiming, ProcessCluster } from "./support/process-cluster.js";

let cluster: ProcessCluster;
const ids = ["n1", "n2", "n3"];

beforeAll(async () => {
  // Files are polled every 200 ms here, so that the "on change" path is exercised as well as SIGHUP.
  cluster = await ProcessCluster.prepare({ cluster: "tls", config: { ...fastTiming, peerTlsReloadIntervalMs: 200 } });
  cluster.startAll();
}, 10_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** Replaces a file the way an operator's tooling should: write aside, then rename. */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.new`, text, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

/** The certificate a node's peer port presents to a new connection. */
function presentedCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const certificate = socket.getPeerX509Certificate();
      socket.destroy();
      if (certificate === undefined) reject(new Error("no certificate presented"));
      else resolve(certificate);
    });
    socket.on("error", reject);
  });
}

async function reloads(id: string, result: "ok" | "failed"): Promise<number> {
  return metricSum(await metricsText(cluster.node(id).clientUrl), "lockstep_peer_tls_reloads_total", { result });
}

async function waitForReload(id: string, reloadsBefore: number): Promise<void> {
  await waitFor(`${id} reloaded its peer TLS files`, async () => ((await reloads(id, "ok")) > reloadsBefore ? true : undefined), 10_000);
}

describe("mutual TLS between three real nodes", () => {
  it("elects and commits with every peer connection authenticated", async () => {
    const leader = await waitForAgreedLeader(cluster.clientUrls, 20_000);
    expect(leader, cluster.logTail()).not.toBeNull();
    const answer = await postTransition(cluster.node("n2").clientUrl, "tls-key", { to: "Running" });
    expect(answer.status).toBe(200);
    await waitForConvergence(cluster.clientUrls, 10_000);
    for (const id of ids) {
      // A peer link comes up when its first message needs it: on a loaded machine the last one can trail the commit.
      await waitFor(`${id} has both peers`, async () => (metricSum(await metricsText(cluster.node(id).clientUrl), "lockstep_peers_connected") === 2 ? true : undefined), 10_000);
      const text = await metricsText(cluster.node(id).clientUrl);
      expect(metricSum(text, "lockstep_peer_connections_refused_total")).toBe(0);
      expect(metricSum(text, "lockstep_peer_certificate_expiry_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000);
    }
  }, 40_000);

  it("rotates the CA and every node's certificate without a restart while the cluster keeps committing", async () => {
    const load = new HistoryWorkload({ endpoints: cluster.clientUrls, keys: ["r-1", "r-2"], processCount: 2, operationsPerProcessMax: 50_000 });
    const progress = async (what: string): Promise<void> => {
      const before = load.acknowledgedCount;
      await waitFor(`writes commit ${what}`, () => (load.acknowledgedCount >= before + 5 ? true : undefined), 15_000);
    };
    await progress("before the rotation");
    const pids = ids.map((id) => cluster.node(id).process?.pid);

    const oldCaPem = readFileSync(cluster.caFiles.certFile, "utf8");
    const newCa: IssuedKeyPair = await createCertificateAuthority();
    const bundle = `${oldCaPem}${newCa.certPem}`;

    // 1. Every node trusts both CAs: picked up because the file changed.
    for (const id of ids) {
      const before = await reloads(id, "ok");
      replaceFile(join(cluster.certsDirectory(id), "ca.crt"), bundle);
      await waitForReload(id, before);
    }
    await progress("with the CA bundle");

    // 2. Each node in turn gets a certificate of the new CA, applied on SIGHUP.
    for (const id of ids) {
      const issued = await signNodeCertificate({ caCertPem: newCa.certPem, caKeyPem: newCa.keyPem, nodeId: id, hosts: ["127.0.0.1"] });
      const directory = cluster.certsDirectory(id);
      // Counted before the files change: the 200 ms poll may reload them before the SIGHUP does.
      const before = await reloads(id, "ok");
      // Key first, certificate second: in between, the pair does not match and a poll refuses it.
      replaceFile(join(directory, "node.key"), issued.keyPem!);
      replaceFile(join(directory, "node.crt"), issued.certPem);
      process.kill(cluster.node(id).process!.pid!, "SIGHUP");
      await waitForReload(id, before);
      await progress(`after ${id}'s new certificate`);
    }

    // 3. The old CA is dropped everywhere; connections still on old certificates are replaced.
    for (const id of ids) {
      const before = await reloads(id, "ok");
      replaceFile(join(cluster.certsDirectory(id), "ca.crt"), newCa.certPem);
      await waitForReload(id, before);
    }
    await progress("with only the new CA");

    const newCaCertificate = new X509Certificate(newCa.certPem);
    for (const id of ids) {
      const presented = await presentedCertificate(cluster.node(id).peerPort);
      expect(issuedByOneOf(presented, [newCaCertificate]), `${id} presents a certificate of the new CA`).toBe(true);
    }
    expect(ids.map((id) => cluster.node(id).process?.pid), "no node was restarted").toEqual(pids);
    const result = await load.stop();
    expect(result.unexpectedErrors).toEqual([]);
    await waitForConvergence(cluster.clientUrls, 10_000);
    for (const id of ids) expect(metricSum(await metricsText(cluster.node(id).clientUrl), "lockstep_peers_connected"), `${id} connected`).toBe(2);
  }, 120_000);

  it("refuses an unusable reload (a key of another certificate), keeps serving with the old material, and counts it", async () => {
    const directory = cluster.certsDirectory("n3");
    const failedBefore = await reloads("n3", "failed");
    const goodKey = readFileSync(join(directory, "node.key"), "utf8");
    replaceFile(join(directory, "node.key"), readFileSync(join(cluster.certsDirectory("n1"), "node.key"), "utf8"));
    process.kill(cluster.node("n3").process!.pid!, "SIGHUP");
    await waitFor("the reload refused", async () => ((await reloads("n3", "failed")) > failedBefore ? true : undefined), 10_000);
    expect(cluster.node("n3").log.join("\n")).toContain("peer TLS reload refused");
    const answer = await postTransition(cluster.node("n3").clientUrl, "after-bad-reload", { to: "Running" });
    expect(answer.status).toBe(200);
    replaceFile(join(directory, "node.key"), goodKey);
  }, 30_000);
});
