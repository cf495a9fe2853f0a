import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publicKeyOf } from "@lockstep/transport-tcp";
import { afterEach, describe, expect, it } from "vitest";
import { runKeygenCommand } from "./keygen.js";

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runKeygenCommand(argv, { stdout: (text) => out.push(text), stderr: (text) => err.push(text) });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("lockstep keygen", () => {
  it("writes a private key readable only by its owner and prints the matching public key", () => {
    const directory = mkdtempSync(join(tmpdir(), "lockstep-keygen-"));
    directories.push(directory);
    const path = join(directory, "n1.pem");
    const result = run(["--out", path]);
    expect(result.code).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const publicKey = /publicKey: (\S+)/.exec(result.stdout)?.[1];
    expect(publicKey).toBe(publicKeyOf(readFileSync(path, "utf8")));
  });

  it("never overwrites an existing key, and requires --out", () => {
    const directory = mkdtempSync(join(tmpdir(), "lockstep-keygen-"));
    directories.push(directory);
    const path = join(directory, "n1.pem");
    expect(run(["--out", path]).code).toBe(0);
    const before = readFileSync(path, "utf8");
    const again = run(["--out", path]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("cannot write");
    expect(readFileSync(path, "utf8")).toBe(before);
    expect(run([]).code).toBe(2);
  });
});
