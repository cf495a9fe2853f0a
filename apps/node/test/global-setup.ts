import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The integration tests run the BUILT `lockstep` command (dist/cli.js) as real processes, so the
 * node and everything it depends on are built once before any test file starts. turbo caches
 * the build, so this costs about a second when nothing changed.
 */
const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
const buildTimeoutMs = 300_000;

export default function setup(): void {
  execFileSync("pnpm", ["exec", "turbo", "run", "build", "--filter=node...", "--output-logs=errors-only"], {
    cwd: repositoryRoot,
    stdio: ["ignore", "inherit", "inherit"],
    timeout: buildTimeoutMs,
  });
}
