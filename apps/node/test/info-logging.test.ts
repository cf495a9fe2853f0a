/**
 * The node's logger reads the current term on every line it writes (DESIGN.md §5). At the
 * default log level, `info`, the leader logs each configuration it puts in effect; that line once
 * read the leader's progress before the new member had any, and the leader crashed on
 * `lockstep member add` (and on every join). The other process tests log at `warn`, where the
 * line is never written: this one runs a node at `info` through the membership changes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { sleep } from "./support/node-api.js";
import { fastTiming, ProcessCluster } from "./support/process-cluster.js";

let cluster: ProcessCluster;

beforeAll(async () => {
  cluster = await ProcessCluster.prepare({ nodeCount: 1, cluster: "info-logs", config: { ...fastTiming, fsyncPolicy: "none", logLevel: "info" } });
  cluster.startAll();
  if ((await waitForAgreedLeader(cluster.clientUrls, 15_000)) === null) throw new Error(`no leader\n${cluster.logTail()}`);
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function send(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${cluster.nodes[0]!.clientUrl}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, json: await response.json() };
}

describe("a leader that logs at info", () => {
  it("adds and removes a learner, logging each configuration with its term, and keeps serving", async () => {
    const node = cluster.nodes[0]!;
    const added = await send("POST", "/v1/members", { id: "n2", peerAddress: "127.0.0.1:9", clientUrl: "http://127.0.0.1:9" });
    expect(added.status, JSON.stringify(added.json)).toBe(200);
    const removed = await send("DELETE", "/v1/members/n2");
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);
    await sleep(200);
    expect(node.process?.exitCode ?? null, cluster.logTail()).toBeNull();
    const status = await send("GET", "/v1/cluster");
    expect(status.status).toBe(200);
    expect((status.json as { leader: string }).leader).toBe("n1");
    const changes = node.log.filter((line) => line.includes('"msg":"configuration in effect"')).map((line) => JSON.parse(line) as { term: number; learners: string[] });
    expect(changes.map((change) => change.learners)).toEqual(expect.arrayContaining([["n2"], []]));
    expect(changes.every((change) => change.term >= 1)).toBe(true);
  }, 30_000);
});
