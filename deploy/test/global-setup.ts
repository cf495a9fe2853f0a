import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The container test runs the node from the folder `pnpm --filter node deploy` cuts, as the
 * image's build stage does, so the node and its workspace packages are built first (turbo caches
 * the build: about a second when nothing changed).
 */
const repositoryRoot = fileURLToPath(new URL("../../", import.meta.url));
const buildTimeoutMs = 300_000;

export default function setup(): void {
  execFileSync("pnpm", ["exec", "turbo", "run", "build", "--filter=node...", "--output-logs=errors-only"], {
    cwd: repositoryRoot,
    stdio: ["ignore", "inherit", "inherit"],
    timeout: buildTimeoutMs,
  });
}
