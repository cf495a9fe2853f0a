/**
 * Three real nodes with everything a production cluster turns on: mutual TLS on the peer port,
 * HTTPS with the cluster CA on every client port, and bearer tokens required. They elect and
 * commit; one node's client-port certificate is renewed with SIGHUP (new HTTPS connections get
 * it, an open watch keeps streaming); one node's peer certificate is rotated without a restart
 * and new connections see the new certificate; the CA is rotated with both CAs trusted during the overlap; a token revoked
 * through one node is refused on every node once that node applied the revoke; a `read` token
 * that writes is refused. Every refusal is checked in the node's own counter.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCertificateAuthority, issuedByOneOf, signNodeCertificate, type IssuedKeyPair } from "@lockstep/certs";
import { LockstepClient } from "@lockstep/client";
import { ClusterStatusSchema, type ClusterStatus } from "@lockstep/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { HistoryWorkload } from "./support/history-workload.js";
import { metricSum, waitFor } from "./support/node-api.js";
import { fastTiming, type ProcessCluster } from "./support/process-cluster.js";
import { presentedPeerCertificate, secureMetricsText, secureRequest, type SecureAnswer } from "./support/secure-api.js";
import { prepareSecureCluster, waitForAdminToken } from "./support/secure-process-cluster.js";

const ids = ["n1", "n2", "n3"] as const;

let cluster: ProcessCluster;
/** The cluster CA: the client ports' certificates chain to it. */
let ca: string;
let adminToken: string;
let writeToken: string;
let readToken: string;

beforeAll(async () => {
  // Peer files are polled every 200 ms, so that "on change" is exercised as well as SIGHUP.
  const secure = await prepareSecureCluster({ cluster: "secure", config: { ...fastTiming, peerTlsReloadIntervalMs: 200 } });
  ({ cluster, ca, adminToken } = secure);
  cluster.startAll();
  await waitForAdminToken(secure, 30_000);
}, 40_000);

/** The write load of the test running now, stopped after it even when the test fails. */
let running: HistoryWorkload | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

afterAll(async () => {
  await cluster?.destroy();
});

function url(id: string, path: string): string {
  return `${cluster.node(id).clientUrl}${path}`;
}

function get(id: string, path: string, token?: string): Promise<SecureAnswer> {
  return secureRequest(url(id, path), { ca, ...(token === undefined ? {} : { token }) });
}

async function counter(id: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricSum(await secureMetricsText(cluster.node(id).clientUrl, ca), name, labels);
}

function refusals(id: string, reason: string): Promise<number> {
  return counter(id, "lockstep_client_refusals_total", { reason });
}

async function status(id: string): Promise<ClusterStatus> {
  const answer = await get(id, "/v1/cluster", adminToken);
  if (answer.status !== 200) throw new Error(`${id}: /v1/cluster answered ${answer.status}: ${answer.text}`);
  return ClusterStatusSchema.parse(answer.body);
}

function client(token: string, endpoints: readonly string[] = cluster.clientUrls): LockstepClient {
  return new LockstepClient({ endpoints, token, ca, retryDelayMs: 50, retryDelayMaxMs: 400, retryAttemptsMax: 10 });
}

/** Replaces a file the way an operator's tooling should: write aside, then rename. */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.new`, text, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

async function waitForReload(id: string, okBefore: number): Promise<void> {
  await waitFor(`${id} reloaded its peer TLS files`, async () => ((await counter(id, "lockstep_peer_tls_reloads_total", { result: "ok" })) > okBefore ? true : undefined), 15_000);
}

describe("a secure three-node cluster: peer mTLS, HTTPS with the cluster CA, tokens required", () => {
  it("elects and commits over HTTPS; without a token every node answers 401, counted", async () => {
    const leader = await waitFor("one agreed leader", async () => {
      const leaders = new Set((await Promise.all(ids.map(status))).map((view) => view.leader));
      const [only] = leaders;
      return leaders.size === 1 && typeof only === "string" ? only : undefined;
    }, 20_000);
    expect(ids).toContain(leader);

    // Plain HTTP is not served at all on an HTTPS port.
    await expect(fetch(url("n1", "/livez").replace("https:", "http:"), { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    for (const id of ids) {
      const before = await refusals(id, "unauthenticated");
      const answer = await get(id, "/v1/machines/web-1");
      expect(answer.status, id).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: "unauthenticated" } });
      expect(await refusals(id, "unauthenticated"), id).toBe(before + 1);
    }

    const admin = client(adminToken);
    writeToken = (await admin.createToken({ name: "app", role: "write", prefixes: [] })).token;
    readToken = (await admin.createToken({ name: "viewer", role: "read", prefixes: [] })).token;
    const written = await client(writeToken).transition("web-1", "Running");
    expect(written).toMatchObject({ key: "web-1", from: "Init", to: "Running" });
    for (const id of ids) {
      await waitFor(`${id} shows web-1 Running`, async () => {
        const answer = await get(id, "/v1/machines/web-1?consistency=stale", readToken);
        return answer.status === 200 && (answer.body as { state?: string }).state === "Running" ? true : undefined;
      }, 10_000);
    }
  }, 90_000);

  it("a read token that writes gets 403 on every node, counted; it still reads", async () => {
    for (const id of ids) {
      const before = await refusals(id, "forbidden_role");
      const answer = await secureRequest(url(id, "/v1/machines/web-2/transition"), { ca, method: "POST", token: readToken, body: { to: "Running" } });
      expect(answer.status, id).toBe(403);
      expect(answer.body).toMatchObject({ error: { code: "forbidden", message: expect.stringMatching(/role read; this needs write/) } });
      expect(await refusals(id, "forbidden_role"), id).toBe(before + 1);
      expect((await get(id, "/v1/machines/web-2", readToken)).status, id).toBe(200);
    }
    expect((await get("n1", "/v1/machines/web-2", adminToken)).body).toMatchObject({ state: "Init" });
  }, 30_000);

  it("renews one node's client-port certificate with SIGHUP: new HTTPS connections get the new serial, a watch open across it keeps streaming", async () => {
    const pid = cluster.node("n3").process?.pid;
    const clientPort = Number(new URL(cluster.node("n3").clientUrl).port);
    const oldSerial = (await presentedPeerCertificate(clientPort)).serialNumber;
    const events: string[] = [];
    const watch = new WebSocket(`${cluster.node("n3").clientUrl.replace(/^https/, "wss")}/v1/watch`, { ca, headers: { Authorization: `Bearer ${readToken}` } });
    watch.on("message", (data: Buffer) => events.push(data.toString("utf8")));
    await new Promise((resolve, reject) => watch.once("open", resolve).once("error", reject));

    const caKey = readFileSync(cluster.caFiles.keyFile, "utf8");
    const issued = await signNodeCertificate({ caCertPem: ca, caKeyPem: caKey, nodeId: "n3", hosts: ["127.0.0.1", "localhost"] });
    const okBefore = await counter("n3", "lockstep_client_tls_reloads_total", { result: "ok" });
    replaceFile(join(cluster.root, "client-tls", "n3.key"), issued.keyPem!);
    replaceFile(join(cluster.root, "client-tls", "n3.crt"), issued.certPem);
    process.kill(pid!, "SIGHUP");
    await waitFor("n3 reloaded its client-port files", async () => ((await counter("n3", "lockstep_client_tls_reloads_total", { result: "ok" })) > okBefore ? true : undefined), 15_000);

    const newSerial = new X509Certificate(issued.certPem).serialNumber;
    expect(newSerial).not.toBe(oldSerial);
    expect((await presentedPeerCertificate(clientPort)).serialNumber).toBe(newSerial);
    expect(await counter("n3", "lockstep_client_certificate_expiry_timestamp_seconds")).toBe(Math.floor(Date.parse(new X509Certificate(issued.certPem).validTo) / 1000));
    await client(writeToken).transition("client-tls-1", "Running");
    await waitFor("the watch opened before the renewal sees the write", () => (events.some((text) => text.includes('"client-tls-1"')) ? true : undefined), 10_000);
    expect(watch.readyState).toBe(WebSocket.OPEN);
    expect(cluster.node("n3").process?.pid, "n3 was not restarted").toBe(pid);
    watch.close();
  }, 60_000);

  it("rotates one node's peer certificate without a restart: new connections present the new serial while writes commit", async () => {
    const load = (running = new HistoryWorkload({ endpoints: cluster.clientUrls, keys: ["rot-1", "rot-2"], processCount: 2, operationsPerProcessMax: 50_000, clientOptions: { token: writeToken, ca } }));
    const progress = async (what: string): Promise<void> => {
      const before = load.acknowledgedCount;
      await waitFor(`writes commit ${what}`, () => (load.acknowledgedCount >= before + 5 ? true : undefined), 20_000);
    };
    await progress("before the rotation");
    const pid = cluster.node("n2").process?.pid;
    const oldSerial = (await presentedPeerCertificate(cluster.node("n2").peerPort)).serialNumber;

    const caKey = readFileSync(cluster.caFiles.keyFile, "utf8");
    const issued = await signNodeCertificate({ caCertPem: ca, caKeyPem: caKey, nodeId: "n2", hosts: ["127.0.0.1", "localhost"] });
    const newSerial = new X509Certificate(issued.certPem).serialNumber;
    expect(newSerial).not.toBe(oldSerial);
    const directory = cluster.certsDirectory("n2");
    const okBefore = await counter("n2", "lockstep_peer_tls_reloads_total", { result: "ok" });
    replaceFile(join(directory, "node.key"), issued.keyPem!);
    replaceFile(join(directory, "node.crt"), issued.certPem);
    process.kill(pid!, "SIGHUP");
    await waitForReload("n2", okBefore);

    await waitFor("n2's peer port presents the new certificate", async () => ((await presentedPeerCertificate(cluster.node("n2").peerPort)).serialNumber === newSerial ? true : undefined), 10_000);
    await progress("after n2's new certificate");
    expect(cluster.node("n2").process?.pid, "n2 was not restarted").toBe(pid);
    const result = await load.stop();
    running = undefined;
    expect(result.unexpectedErrors).toEqual([]);
    for (const id of ids) await waitFor(`${id} has both peers`, async () => ((await counter(id, "lockstep_peers_connected")) === 2 ? true : undefined), 15_000);
  }, 90_000);

  it("rotates to a new CA, both trusted during the overlap, while writes commit", async () => {
    const load = (running = new HistoryWorkload({ endpoints: cluster.clientUrls, keys: ["ca-1", "ca-2"], processCount: 2, operationsPerProcessMax: 50_000, clientOptions: { token: writeToken, ca } }));
    const progress = async (what: string): Promise<void> => {
      const before = load.acknowledgedCount;
      await waitFor(`writes commit ${what}`, () => (load.acknowledgedCount >= before + 5 ? true : undefined), 20_000);
    };
    const pids = ids.map((id) => cluster.node(id).process?.pid);
    const newCa: IssuedKeyPair = await createCertificateAuthority();
    const oldCaCertificate = new X509Certificate(ca);
    const newCaCertificate = new X509Certificate(newCa.certPem);

    // 1. Every node trusts the old and the new CA (picked up because the file changed).
    for (const id of ids) {
      const okBefore = await counter(id, "lockstep_peer_tls_reloads_total", { result: "ok" });
      replaceFile(join(cluster.certsDirectory(id), "ca.crt"), `${ca}${newCa.certPem}`);
      await waitForReload(id, okBefore);
    }
    // 2. One node at a time moves to a certificate of the new CA; mid-way the cluster mixes both.
    for (const id of ids) {
      const issued = await signNodeCertificate({ caCertPem: newCa.certPem, caKeyPem: newCa.keyPem, nodeId: id, hosts: ["127.0.0.1"] });
      // Counted before the files change: the 200 ms poll may reload them before the SIGHUP does.
      const okBefore = await counter(id, "lockstep_peer_tls_reloads_total", { result: "ok" });
      replaceFile(join(cluster.certsDirectory(id), "node.key"), issued.keyPem!);
      replaceFile(join(cluster.certsDirectory(id), "node.crt"), issued.certPem);
      process.kill(cluster.node(id).process!.pid!, "SIGHUP");
      await waitForReload(id, okBefore);
      await progress(`after ${id} moved to the new CA`);
      if (id === "n1") {
        // The overlap: n1 on the new CA, n2 and n3 still on the old, and they keep talking.
        expect(issuedByOneOf(await presentedPeerCertificate(cluster.node("n1").peerPort), [newCaCertificate])).toBe(true);
        expect(issuedByOneOf(await presentedPeerCertificate(cluster.node("n3").peerPort), [oldCaCertificate])).toBe(true);
        for (const peer of ids) await waitFor(`${peer} has both peers in the overlap`, async () => ((await counter(peer, "lockstep_peers_connected")) === 2 ? true : undefined), 15_000);
      }
    }
    // 3. The old CA is dropped everywhere.
    for (const id of ids) {
      const okBefore = await counter(id, "lockstep_peer_tls_reloads_total", { result: "ok" });
      replaceFile(join(cluster.certsDirectory(id), "ca.crt"), newCa.certPem);
      await waitForReload(id, okBefore);
    }
    await progress("with only the new CA");
    for (const id of ids) expect(issuedByOneOf(await presentedPeerCertificate(cluster.node(id).peerPort), [newCaCertificate]), id).toBe(true);
    expect(ids.map((id) => cluster.node(id).process?.pid), "no node was restarted").toEqual(pids);
    const result = await load.stop();
    running = undefined;
    expect(result.unexpectedErrors).toEqual([]);
    for (const id of ids) await waitFor(`${id} has both peers`, async () => ((await counter(id, "lockstep_peers_connected")) === 2 ? true : undefined), 15_000);
  }, 150_000);

  it("a follower forwards what only the leader decides to it over HTTPS (a join token asked of a follower)", async () => {
    const leader = (await status("n1")).leader!;
    const follower = ids.find((id) => id !== leader)!;
    const answer = await secureRequest(url(follower, "/v1/join-tokens"), { ca, method: "POST", token: adminToken, body: {} });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ token: expect.any(String) });
  }, 30_000);

  it("a token revoked through one node is refused with 401 on every node once applied there; the admin token still works", async () => {
    const temporary = (await client(adminToken).createToken({ name: "temporary", role: "write", prefixes: [] })).token;
    for (const id of ids) {
      await waitFor(`${id} accepts the new token`, async () => ((await get(id, "/v1/machines/web-1?consistency=stale", temporary)).status === 200 ? true : undefined), 10_000);
    }
    // Through n3 alone, whoever leads: a follower forwards the revoke to the leader.
    const revoked = await secureRequest(url("n3", "/v1/tokens/temporary"), { ca, method: "DELETE", token: adminToken });
    expect(revoked.status, `${revoked.text}\n${cluster.logTail()}`).toBe(200);
    const revision = (revoked.body as { revision: number }).revision;
    for (const id of ids) {
      await waitFor(`${id} applied the revoke`, async () => ((await status(id)).appliedIndex >= revision ? true : undefined), 10_000);
      const before = await refusals(id, "invalid_token");
      const refused = await get(id, "/v1/machines/web-1", temporary);
      expect(refused.status, id).toBe(401);
      expect(refused.body).toMatchObject({ error: { code: "unauthenticated", message: expect.stringMatching(/unknown or revoked/) } });
      const write = await secureRequest(url(id, "/v1/machines/web-1/transition"), { ca, method: "POST", token: temporary, body: { to: "Stopped" } });
      expect(write.status, id).toBe(401);
      expect(await refusals(id, "invalid_token"), id).toBe(before + 2);
      expect((await get(id, "/v1/machines/web-1", adminToken)).status, `${id}: the admin token still works`).toBe(200);
    }
    expect((await get("n1", "/v1/machines/web-1", adminToken)).body, "the revoked token's write did not happen").toMatchObject({ state: "Running" });
  }, 60_000);
});
