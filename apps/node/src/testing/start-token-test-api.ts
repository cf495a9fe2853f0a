import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { watchInitialAdminToken } from "../server/initial-admin-token.js";
import { startTestApi, type TestApi, type TestApiOptions } from "./start-test-api.js";

/** A test API that requires tokens, with the initial admin token it bootstrapped. */
export interface TokenTestApi {
  api: TestApi;
  adminToken: string;
  /** The file the initial admin token was written to (mode 0600). */
  tokenFile: string;
  /** Stops the bootstrap watcher and the API, and removes the token's directory. */
  stop(): Promise<void>;
}

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return silent; } };
const bootstrapWaitMs = 5_000;

/**
 * Starts `startTestApi` with `authentication: "tokens"` and bootstraps the initial admin token
 * through the log, as a node does on its first start; waits (at most 5 s) until it is applied.
 */
export async function startTokenTestApi(options: Omit<TestApiOptions, "authentication"> = {}): Promise<TokenTestApi> {
  const api = await startTestApi({ ...options, authentication: "tokens" });
  const directory = mkdtempSync(join(tmpdir(), "lockstep-token-api-"));
  const file = join(directory, "initial-admin-token");
  const stopBootstrap = watchInitialAdminToken({ node: api.node, file, logger: silent, proposal: { timeoutMs: 2_000, retryIntervalMs: 20 } });
  const deadline = Date.now() + bootstrapWaitMs;
  while (!api.node.localStore.tokens.bootstrapped && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const adminToken = readFileSync(file, "utf8").trim();
  return {
    api,
    adminToken,
    tokenFile: file,
    async stop() {
      stopBootstrap();
      await api.stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
