import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureLocalCertificates } from "./local-certificates.js";

const root = mkdtempSync(join(tmpdir(), "lockstep-local-certs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("ensureLocalCertificates", () => {
  it("creates a CA and one verified certificate per node on first run, and nothing on the next", async () => {
    const first = await ensureLocalCertificates({ directory: root, nodeIds: ["n1", "n2", "n3"], hosts: ["127.0.0.1", "localhost"] });
    expect(first.created).toHaveLength(4);
    for (const id of ["n1", "n2", "n3"]) {
      const files = first.nodes[id]!;
      const verified = execFileSync("openssl", ["verify", "-CAfile", files.caFile, files.certFile], { encoding: "utf8" });
      expect(verified).toContain(": OK");
      expect(statSync(files.keyFile).mode & 0o777).toBe(0o600);
    }
    const certificate = readFileSync(first.nodes.n2!.certFile, "utf8");
    const second = await ensureLocalCertificates({ directory: root, nodeIds: ["n1", "n2", "n3"], hosts: ["127.0.0.1", "localhost"] });
    expect(second.created).toEqual([]);
    expect(readFileSync(second.nodes.n2!.certFile, "utf8")).toBe(certificate);
  });

  it("issues again a node certificate that was damaged", async () => {
    const { nodes } = await ensureLocalCertificates({ directory: root, nodeIds: ["n1"], hosts: ["127.0.0.1"] });
    writeFileSync(nodes.n1!.certFile, "not a certificate");
    const again = await ensureLocalCertificates({ directory: root, nodeIds: ["n1"], hosts: ["127.0.0.1"] });
    expect(again.created).toEqual([nodes.n1!.certFile]);
    expect(readFileSync(nodes.n1!.certFile, "utf8")).toContain("BEGIN CERTIFICATE");
  });
});
