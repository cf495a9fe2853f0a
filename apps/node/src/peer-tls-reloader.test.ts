import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger, type MetricsSink } from "@lockstep/consensus";
import type { PeerTlsMaterial } from "@lockstep/transport-tcp";
import { afterAll, describe, expect, it } from "vitest";
import { PeerTlsReloader, readPeerTlsMaterial } from "./peer-tls-reloader.js";

const directory = mkdtempSync(join(tmpdir(), "lockstep-reloader-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const files = { caFile: join(directory, "ca.crt"), certFile: join(directory, "node.crt"), keyFile: join(directory, "node.key") };

function write(material: PeerTlsMaterial): void {
  writeFileSync(files.caFile, material.caPem);
  writeFileSync(files.certFile, material.certPem);
  writeFileSync(files.keyFile, material.keyPem);
}

function setup() {
  const counts = new Map<string, number>();
  const metrics: MetricsSink = {
    increment: (_name, labels) => void counts.set(labels?.result ?? "", (counts.get(labels?.result ?? "") ?? 0) + 1),
    observe: () => undefined,
    set: () => undefined,
  };
  const applied: PeerTlsMaterial[] = [];
  const transport = {
    reloadTls(material: PeerTlsMaterial) {
      // Stands in for the transport's validation: "bad" material is refused as a whole.
      if (material.certPem.includes("bad")) throw new Error("peer TLS: the node key does not belong to the node certificate");
      applied.push(material);
      return { expiresAtSeconds: 2_000_000_000, authorities: 1, connectionsClosed: 0 };
    },
  };
  const initial = { caPem: "ca-1", certPem: "cert-1", keyPem: "key-1" };
  write(initial);
  const reloader = new PeerTlsReloader({ files, transport, metrics, logger: silentLogger, intervalMs: 0, initial });
  return { reloader, applied, counts };
}

describe("PeerTlsReloader", () => {
  it("applies changed files, ignores unchanged ones, and counts each outcome", async () => {
    const { reloader, applied, counts } = setup();
    expect(await reloader.reload()).toBe("unchanged");
    write({ caPem: "ca-1\nca-2", certPem: "cert-2", keyPem: "key-2" });
    expect(await reloader.reload()).toBe("reloaded");
    expect(applied).toEqual([{ caPem: "ca-1\nca-2", certPem: "cert-2", keyPem: "key-2" }]);
    expect(counts.get("ok")).toBe(1);
    expect(await reloader.reload()).toBe("unchanged");
  });

  it("refuses unusable files, keeps the material in use, and applies the next good change", async () => {
    const { reloader, applied, counts } = setup();
    write({ caPem: "ca-1", certPem: "bad-cert", keyPem: "key-1" });
    expect(await reloader.reload()).toBe("failed");
    expect(applied).toEqual([]);
    expect(counts.get("failed")).toBe(1);
    write({ caPem: "ca-1", certPem: "cert-3", keyPem: "key-3" });
    expect(await reloader.reload()).toBe("reloaded");
    expect(applied).toHaveLength(1);
  });

  it("reports a missing file by name, with how to make certificates", async () => {
    await expect(readPeerTlsMaterial({ ...files, keyFile: join(directory, "missing.key") })).rejects.toMatchObject({
      code: "read_failed",
      message: expect.stringContaining("cannot read the peer key"),
    });
  });
});
