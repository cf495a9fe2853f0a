import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchInitialAdminToken } from "../server/initial-admin-token.js";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";
import { runTokenCommand } from "./token-command.js";

let api: TestApi;
let directory: string;
let admin: string;
let stop: () => void;
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return silent; } };

beforeAll(async () => {
  api = await startTestApi({ authentication: "tokens" });
  directory = mkdtempSync(join(tmpdir(), "lockstep-token-cli-"));
  stop = watchInitialAdminToken({ node: api.node, file: join(directory, "admin"), logger: silent, proposal: { timeoutMs: 2_000, retryIntervalMs: 20 } });
  const deadline = Date.now() + 5_000;
  while (!api.node.localStore.tokens.bootstrapped && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  admin = readFileSync(join(directory, "admin"), "utf8").trim();
});

afterAll(async () => {
  stop();
  await api.stop();
  rmSync(directory, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTokenCommand(argv, { stdout: (text) => out.push(text), stderr: (text) => err.push(text), env: { LOCKSTEP_ENDPOINTS: api.baseUrl, ...env } });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("lockstep token", () => {
  it("creates, lists and revokes a token with the admin token from LOCKSTEP_TOKEN", async () => {
    const created = await run(["create", "ci", "--role", "read", "--prefix", "web/"], { LOCKSTEP_TOKEN: admin });
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^ci\.[A-Za-z0-9_-]{43}\n$/);
    const listed = await run(["list", "--token", admin]);
    expect(listed.stdout).toMatch(/^ci +read +web\/ +rev \d+$/m);
    expect((await run(["revoke", "ci", "--token", admin])).code).toBe(0);
    expect(api.node.localStore.tokens.get("ci")).toBeUndefined();
  });

  it("--ttl makes a token that expires, shown by list; a ttl without a unit is a usage error", async () => {
    const before = Date.now();
    expect((await run(["create", "brief", "--role", "read", "--ttl", "90m", "--token", admin])).code).toBe(0);
    const expiresAtMs = api.node.localStore.tokens.get("brief")?.expiresAtMs ?? 0;
    expect(expiresAtMs - before).toBeGreaterThanOrEqual(90 * 60_000);
    expect(expiresAtMs - before).toBeLessThan(90 * 60_000 + 10_000);
    expect((await run(["list", "--token", admin])).stdout).toMatch(new RegExp(`^brief +read .* expires ${new Date(expiresAtMs).toISOString()}$`, "m"));
    const wrong = await run(["create", "other", "--role", "read", "--ttl", "90", "--token", admin]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--ttl: .*give a number and a unit/);
  });

  it("is refused without a token (exit 1) and reports usage errors (exit 2)", async () => {
    const refused = await run(["list"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/unauthenticated/);
    expect((await run(["create", "x"])).code).toBe(2);
    expect((await run(["frob"])).code).toBe(2);
  });
});
