import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyTypeOf } from "@lockstep/certs";
import { afterEach, describe, expect, it } from "vitest";
import { runCertsCommand } from "./certs.js";

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function scratch(): string {
  const directory = mkdtempSync(join(tmpdir(), "lockstep-certs-cli-"));
  directories.push(directory);
  return directory;
}

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCertsCommand(argv, { stdout: (text) => out.push(text), stderr: (text) => err.push(text) });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

function opensslVerify(caFile: string, certFile: string): string {
  return execFileSync("openssl", ["verify", "-CAfile", caFile, certFile], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

describe("lockstep certs", () => {
  it("create-ca, create-node and create-client make files openssl verifies, with keys of mode 600", async () => {
    const root = scratch();
    const certs = join(root, "certs");
    const caKey = join(root, "ca.key");
    expect((await run(["create-ca", "--certs-dir", certs, "--ca-key", caKey])).code).toBe(0);
    const node = await run(["create-node", "n1", "--certs-dir", certs, "--ca-key", caKey, "--host", "localhost,127.0.0.1", "--host", "node1.internal"]);
    expect(node.code, node.stderr).toBe(0);
    expect(node.stdout).toContain("node n1");
    expect((await run(["create-client", "ops", "--certs-dir", certs, "--ca-key", caKey])).code).toBe(0);

    for (const key of [caKey, join(certs, "node.key"), join(certs, "client.ops.key")]) expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(opensslVerify(join(certs, "ca.crt"), join(certs, "node.crt"))).toContain(": OK");
    expect(opensslVerify(join(certs, "ca.crt"), join(certs, "client.ops.crt"))).toContain(": OK");
    const san = new X509Certificate(readFileSync(join(certs, "node.crt"))).subjectAltName;
    expect(san).toBe("URI:lockstep://node/n1, DNS:localhost, IP Address:127.0.0.1, DNS:node1.internal");

    const listed = await run(["list", "--certs-dir", certs]);
    expect(listed.stdout).toMatch(/^ca\.crt: CA;/m);
    expect(listed.stdout).toMatch(/^node\.crt: node n1;.*hosts localhost 127\.0\.0\.1 node1\.internal$/m);
    expect(listed.stdout).toMatch(/^client\.ops\.crt: client ops;/m);
  });

  it("--key-type: ECDSA P-256 by default, Ed25519 when asked, and a clear usage error for anything else", async () => {
    const root = scratch();
    const certs = join(root, "certs");
    const caKey = join(root, "ca.key");
    expect((await run(["create-ca", "--certs-dir", certs, "--ca-key", caKey])).code).toBe(0);
    expect((await run(["create-node", "n1", "--certs-dir", certs, "--ca-key", caKey, "--host", "127.0.0.1"])).code).toBe(0);
    expect((await run(["create-client", "ed", "--certs-dir", certs, "--ca-key", caKey, "--key-type", "ed25519"])).code).toBe(0);
    expect(keyTypeOf(createPrivateKey(readFileSync(caKey, "utf8")))).toBe("ecdsa-p256");
    expect(keyTypeOf(createPrivateKey(readFileSync(join(certs, "node.key"), "utf8")))).toBe("ecdsa-p256");
    expect(keyTypeOf(createPrivateKey(readFileSync(join(certs, "client.ed.key"), "utf8")))).toBe("ed25519");
    // An Ed25519 leaf under the ECDSA CA is signed with ECDSA, and openssl accepts the chain.
    expect(opensslVerify(join(certs, "ca.crt"), join(certs, "client.ed.crt"))).toContain(": OK");
    expect((await run(["list", "--certs-dir", certs])).stdout).toMatch(/^client\.ed\.crt: client ed; key ed25519;/m);

    const edCerts = join(root, "ed-certs");
    const edKey = join(root, "ed-ca.key");
    expect((await run(["create-ca", "--certs-dir", edCerts, "--ca-key", edKey, "--key-type", "ed25519"])).code).toBe(0);
    expect((await run(["create-node", "n2", "--certs-dir", edCerts, "--ca-key", edKey, "--host", "127.0.0.1", "--key-type", "ed25519"])).code).toBe(0);
    expect(keyTypeOf(createPrivateKey(readFileSync(join(edCerts, "node.key"), "utf8")))).toBe("ed25519");
    expect(opensslVerify(join(edCerts, "ca.crt"), join(edCerts, "node.crt"))).toContain(": OK");

    const wrong = await run(["create-node", "n3", "--certs-dir", certs, "--ca-key", caKey, "--host", "127.0.0.1", "--key-type", "rsa"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--key-type: expected ecdsa-p256 or ed25519, got "rsa"');
  });

  it("refuses to overwrite an existing key or certificate without --overwrite, and leaves it untouched", async () => {
    const root = scratch();
    const certs = join(root, "certs");
    const caKey = join(root, "ca.key");
    await run(["create-ca", "--certs-dir", certs, "--ca-key", caKey]);
    await run(["create-node", "n1", "--certs-dir", certs, "--ca-key", caKey, "--host", "127.0.0.1"]);
    const before = readFileSync(join(certs, "node.key"), "utf8");
    const again = await run(["create-node", "n1", "--certs-dir", certs, "--ca-key", caKey, "--host", "127.0.0.1"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exist");
    expect(readFileSync(join(certs, "node.key"), "utf8")).toBe(before);
    expect((await run(["create-ca", "--certs-dir", certs, "--ca-key", caKey])).code).toBe(1);

    const replaced = await run(["create-node", "n1", "--certs-dir", certs, "--ca-key", caKey, "--host", "127.0.0.1", "--overwrite"]);
    expect(replaced.code).toBe(0);
    expect(readFileSync(join(certs, "node.key"), "utf8")).not.toBe(before);
  });

  it("takes lifetimes with units and refuses one without", async () => {
    const root = scratch();
    const certs = join(root, "certs");
    const caKey = join(root, "ca.key");
    await run(["create-ca", "--certs-dir", certs, "--ca-key", caKey, "--lifetime", "30d"]);
    await run(["create-node", "n1", "--certs-dir", certs, "--ca-key", caKey, "--host", "127.0.0.1", "--lifetime", "48h"]);
    const node = new X509Certificate(readFileSync(join(certs, "node.crt")));
    const lifetimeHours = (Date.parse(node.validTo) - Date.parse(node.validFrom)) / 3_600_000;
    expect(lifetimeHours).toBeCloseTo(48, 0);
    const bare = await run(["create-client", "ops", "--certs-dir", certs, "--ca-key", caKey, "--lifetime", "365"]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("give a number and a unit");
    const tooLong = await run(["create-client", "ops", "--certs-dir", certs, "--ca-key", caKey, "--lifetime", "31d"]);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain("outlive its CA");
  });

  it("create-ca --rotate keeps the old CA in ca.crt, so certificates of both CAs verify against the bundle", async () => {
    const root = scratch();
    const certs = join(root, "certs");
    await run(["create-ca", "--certs-dir", certs, "--ca-key", join(root, "old-ca.key")]);
    await run(["create-node", "n1", "--certs-dir", certs, "--ca-key", join(root, "old-ca.key"), "--host", "127.0.0.1"]);
    writeFileSync(join(root, "old-node.crt"), readFileSync(join(certs, "node.crt")));
    const rotated = await run(["create-ca", "--rotate", "--certs-dir", certs, "--ca-key", join(root, "new-ca.key")]);
    expect(rotated.code, rotated.stderr).toBe(0);
    await run(["create-node", "n1", "--certs-dir", certs, "--ca-key", join(root, "new-ca.key"), "--host", "127.0.0.1", "--overwrite"]);
    expect(readFileSync(join(certs, "ca.crt"), "utf8").match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(opensslVerify(join(certs, "ca.crt"), join(root, "old-node.crt"))).toContain(": OK");
    expect(opensslVerify(join(certs, "ca.crt"), join(certs, "node.crt"))).toContain(": OK");
    expect((await run(["create-ca", "--rotate", "--certs-dir", certs, "--ca-key", join(root, "new-ca.key")])).code).toBe(1);
  });

  it.each([
    { case: "no --certs-dir", argv: ["create-ca", "--ca-key", "x"], message: "--certs-dir" },
    { case: "create-node without --host", argv: ["create-node", "n1", "--certs-dir", "d", "--ca-key", "k"], message: "--host" },
    { case: "create-node without an id", argv: ["create-node", "--certs-dir", "d", "--ca-key", "k"], message: "member id" },
    { case: "an unknown command", argv: ["create-everything", "--certs-dir", "d"], message: "unknown command" },
  ])("exits 2 with a message on $case", async ({ argv, message }) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
