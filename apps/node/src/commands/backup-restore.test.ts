import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { silentLogger } from "@lockstep/consensus";
import { lifecycleDefinition } from "@lockstep/state-machine";
import { afterAll, describe, expect, it } from "vitest";
import { ensureLocalCertificates } from "../certs/local-certificates.js";
import { freePorts } from "../cluster/free-ports.js";
import { loadConfig } from "../config/load-config.js";
import { readClusterIdentity } from "../membership/cluster-identity.js";
import { startNodeProcess, type NodeProcess } from "../node-process.js";
import { runRecoverCommand } from "./recover.js";
import { runSnapshotCommand, type CommandIo } from "./snapshot.js";

const root = mkdtempSync(join(tmpdir(), "lockstep-backup-"));
const running: NodeProcess[] = [];
afterAll(async () => {
  for (const node of running) await node.stop().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

/** The node options of a one-member cluster on free loopback ports. */
async function nodeArgs(cluster: string, dataDirectory: string): Promise<string[]> {
  const [peerPort, clientPort] = await freePorts("127.0.0.1", 2);
  // The peer port is always mutual TLS, even for a one-member cluster.
  const certificates = await ensureLocalCertificates({ directory: join(root, "certs"), nodeIds: ["n1"], hosts: ["127.0.0.1"] });
  const certsDirectory = dirname(certificates.nodes.n1!.certFile);
  const members = [{ id: "n1", peerAddress: `127.0.0.1:${peerPort}`, clientUrl: `http://127.0.0.1:${clientPort}` }];
  return ["--node-id", "n1", "--cluster", cluster, "--members", JSON.stringify(members), "--data-directory", dataDirectory, "--fsync-policy", "none", "--tick-ms", "10", "--certs-directory", certsDirectory];
}

async function start(argv: string[]): Promise<{ node: NodeProcess; url: string }> {
  const loaded = loadConfig({ argv, environment: {}, workingDirectory: root });
  if (!loaded.ok) throw new Error(loaded.message);
  const node = await startNodeProcess({ config: loaded.config, definition: lifecycleDefinition, logger: silentLogger });
  running.push(node);
  const url = `http://127.0.0.1:${node.clientAddress.port}`;
  for (let attempt = 0; attempt < 200 && node.node.status().role !== "leader"; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
  return { node, url };
}

async function transition(url: string, key: string, to: string): Promise<number> {
  const response = await fetch(`${url}/v1/machines/${key}/transition`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ to }) });
  return response.status;
}

async function states(url: string): Promise<unknown> {
  const response = await fetch(`${url}/v1/machines`);
  return ((await response.json()) as { machines: unknown }).machines;
}

function io(): CommandIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (text) => out.push(text), stderr: (text) => err.push(text), env: {}, workingDirectory: root };
}

describe("backup and disaster recovery", () => {
  it("saves a checksummed backup from a running node and restores it as a new cluster with a new uuid", async () => {
    const originalDirectory = join(root, "original");
    const original = await start(await nodeArgs("prod", originalDirectory));
    for (const [key, to] of [["web-1", "Running"], ["web-2", "Running"], ["web-1", "Stopped"]] as const) expect(await transition(original.url, key, to)).toBe(200);
    const backupFile = join(root, "prod.backup");
    const save = io();
    expect(await runSnapshotCommand(["save", backupFile, "--endpoints", original.url], save), save.err.join("")).toBe(0);
    expect(save.out.join("")).toMatch(/saved a backup of cluster prod \(uuid [0-9a-f-]{36}\) at revision \d+/);
    const originalStates = await states(original.url);
    await original.node.stop();

    // A damaged copy is refused whole; nothing is written.
    const damagedFile = join(root, "damaged.backup");
    const damaged = readFileSync(backupFile);
    damaged[damaged.length - 100] = damaged[damaged.length - 100]! ^ 0x20;
    writeFileSync(damagedFile, damaged);
    const restoredDirectory = join(root, "restored");
    const refused = io();
    expect(await runSnapshotCommand(["restore", damagedFile, ...(await nodeArgs("prod2", restoredDirectory))], refused)).toBe(1);
    expect(refused.err.join("")).toMatch(/checksum_mismatch/);

    const restoreArgs = await nodeArgs("prod2", restoredDirectory);
    const restore = io();
    expect(await runSnapshotCommand(["restore", backupFile, ...restoreArgs], restore), restore.err.join("")).toBe(0);
    const identity = readClusterIdentity(restoredDirectory);
    const originalIdentity = readClusterIdentity(originalDirectory);
    expect(identity).toMatchObject({ kind: "ok", identity: { cluster: "prod2", origin: "restore" } });
    if (identity.kind !== "ok" || originalIdentity.kind !== "ok") return;
    expect(identity.identity.clusterUuid).not.toBe(originalIdentity.identity.clusterUuid);
    // A directory that holds a log is never overwritten.
    const again = io();
    expect(await runSnapshotCommand(["restore", backupFile, ...restoreArgs], again)).toBe(1);
    expect(again.err.join("")).toMatch(/already holds a log/);

    const restored = await start(restoreArgs);
    expect(await states(restored.url)).toEqual(originalStates);
    expect(await transition(restored.url, "web-2", "Stopped")).toBe(200);
    await restored.node.stop();
  }, 30_000);

  it("recovers a surviving node as a one-member cluster with its whole log, keeping the old directory", async () => {
    const directory = join(root, "survivor");
    const args = await nodeArgs("prod3", directory);
    const survivor = await start(args);
    for (const [key, to] of [["db", "Running"], ["cache", "Running"], ["db", "Stopped"]] as const) expect(await transition(survivor.url, key, to)).toBe(200);
    const before = await states(survivor.url);
    const uuidBefore = readClusterIdentity(directory);
    await survivor.node.stop();

    const withoutFlag = io();
    expect(await runRecoverCommand(args, withoutFlag)).toBe(2);
    expect(withoutFlag.err.join("")).toMatch(/--force-new-cluster is required/);

    const recover = io();
    expect(await runRecoverCommand(["--force-new-cluster", ...args], recover, Date.UTC(2026, 0, 2)), recover.err.join("")).toBe(0);
    expect(recover.out.join("")).toMatch(/recovered n1 as a one-member cluster prod3 \(new uuid/);
    expect(readdirSync(root)).toContain("survivor.before-recover-2026-01-02T00-00-00-000Z");
    const uuidAfter = readClusterIdentity(directory);
    expect(uuidAfter).toMatchObject({ kind: "ok", identity: { origin: "recover" } });
    if (uuidAfter.kind !== "ok" || uuidBefore.kind !== "ok") return;
    expect(uuidAfter.identity.clusterUuid).not.toBe(uuidBefore.identity.clusterUuid);

    const recovered = await start(args);
    expect(await states(recovered.url)).toEqual(before);
    expect(await transition(recovered.url, "cache", "Stopped")).toBe(200);
    await recovered.node.stop();
  }, 30_000);
});
