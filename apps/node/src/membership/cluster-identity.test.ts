import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bootstrapClusterUuid, clusterIdentityFileName, newClusterUuid, readClusterIdentity, writeClusterIdentity, type ClusterIdentity } from "./cluster-identity.js";

const directories: string[] = [];
function directory(): string {
  const created = mkdtempSync(join(tmpdir(), "lockstep-identity-"));
  directories.push(created);
  return created;
}
afterEach(() => {
  for (const created of directories.splice(0)) rmSync(created, { recursive: true, force: true });
});

describe("cluster identity file", () => {
  it("is missing in a fresh directory, and reads back what was written (no temporary file left)", () => {
    const dir = directory();
    expect(readClusterIdentity(dir)).toEqual({ kind: "missing" });
    const identity: ClusterIdentity = { format: 1, cluster: "prod", clusterUuid: newClusterUuid(), nodeId: "n2", origin: "join" };
    writeClusterIdentity(dir, identity);
    expect(readClusterIdentity(dir)).toEqual({ kind: "ok", identity });
    expect(readdirSync(dir)).toEqual([clusterIdentityFileName]);
  });

  it("reports a damaged or foreign file instead of guessing", () => {
    const dir = directory();
    writeFileSync(join(dir, clusterIdentityFileName), "{ torn");
    expect(readClusterIdentity(dir)).toMatchObject({ kind: "invalid", message: expect.stringMatching(/not valid JSON/) });
    writeFileSync(join(dir, clusterIdentityFileName), JSON.stringify({ format: 1, cluster: "prod", clusterUuid: "nope", nodeId: "n1", origin: "join" }));
    expect(readClusterIdentity(dir)).toMatchObject({ kind: "invalid", message: expect.stringMatching(/clusterUuid/) });
  });
});

describe("bootstrap cluster uuid", () => {
  const founders = ["n1", "n2", "n3"].map((id, index) => ({ id, peerAddress: `10.0.0.${index + 1}:7401` }));
  const base = { cluster: "prod", members: founders, bootstrapToken: "" };

  it("is the same for every founding member whatever order they list each other in", () => {
    const uuid = bootstrapClusterUuid(base);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(bootstrapClusterUuid({ ...base, members: [...founders].reverse() })).toBe(uuid);
  });

  it("differs for another name, another member list or another bootstrap token", () => {
    const uuid = bootstrapClusterUuid(base);
    expect(bootstrapClusterUuid({ ...base, cluster: "staging" })).not.toBe(uuid);
    expect(bootstrapClusterUuid({ ...base, members: founders.slice(0, 2) })).not.toBe(uuid);
    // Members may dial each other at different addresses (NAT, proxies): the uuid depends on ids only.
    expect(bootstrapClusterUuid({ ...base, members: founders.map((member) => ({ ...member, peerAddress: member.peerAddress.replace("7401", "7501") })) })).toBe(uuid);
    expect(bootstrapClusterUuid({ ...base, bootstrapToken: "x7" })).not.toBe(uuid);
    expect(newClusterUuid()).not.toBe(newClusterUuid());
  });
});
