import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readClusterIdentity, writeClusterIdentity } from "./cluster-identity.js";
import { resolveIdentity, type ResolveIdentityInput } from "./resolve-identity.js";

const directories: string[] = [];
afterEach(() => {
  for (const created of directories.splice(0)) rmSync(created, { recursive: true, force: true });
});

function input(overrides: Partial<ResolveIdentityInput> = {}): ResolveIdentityInput {
  const dataDirectory = mkdtempSync(join(tmpdir(), "lockstep-resolve-"));
  directories.push(dataDirectory);
  return {
    dataDirectory,
    cluster: "prod",
    nodeId: "n1",
    members: [{ id: "n1", peerAddress: "10.0.0.1:7401" }, { id: "n2", peerAddress: "10.0.0.2:7401" }],
    dataDirectoryEmpty: true,
    joinRequested: false,
    ...overrides,
  };
}

describe("which cluster a data directory belongs to", () => {
  it("bootstraps an empty directory once: two founders agree on the uuid and it is stored", () => {
    const first = resolveIdentity(input());
    const second = resolveIdentity(input({ nodeId: "n2" }));
    expect(first).toMatchObject({ kind: "created", identity: { origin: "bootstrap", cluster: "prod", nodeId: "n1" } });
    if (first.kind !== "created" || second.kind !== "created") return;
    expect(second.identity.clusterUuid).toBe(first.identity.clusterUuid);
  });

  it("restarts a directory that belongs to the cluster as it is, and ignores --join", () => {
    const options = input({ joinRequested: true, dataDirectoryEmpty: false });
    writeClusterIdentity(options.dataDirectory, { format: 1, cluster: "prod", clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab", nodeId: "n1", origin: "join" });
    expect(resolveIdentity(options)).toMatchObject({ kind: "existing", identity: { clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab", origin: "join" } });
  });

  it("asks to join only for an empty directory with --join", () => {
    const options = input({ joinRequested: true });
    expect(resolveIdentity(options)).toEqual({ kind: "needs_join" });
    expect(readClusterIdentity(options.dataDirectory)).toEqual({ kind: "missing" });
  });

  it("adopts a directory with data from before identities existed", () => {
    expect(resolveIdentity(input({ dataDirectoryEmpty: false }))).toMatchObject({ kind: "created", identity: { origin: "adopted" } });
  });

  it("refuses a directory of another cluster or another node, naming both", () => {
    const options = input();
    writeClusterIdentity(options.dataDirectory, { format: 1, cluster: "staging", clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab", nodeId: "n1", origin: "bootstrap" });
    expect(resolveIdentity(options)).toMatchObject({ kind: "refused", message: expect.stringMatching(/belongs to cluster "staging".*not "prod"/) });
    writeClusterIdentity(options.dataDirectory, { format: 1, cluster: "prod", clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab", nodeId: "n7", origin: "bootstrap" });
    expect(resolveIdentity(options)).toMatchObject({ kind: "refused", message: expect.stringMatching(/belongs to node n7, not n1/) });
  });
});
