#!/usr/bin/env node
// `pnpm bench [options]`: runs the built bench (apps/bench/dist/main.js) with the options given,
// after `turbo run build` has built every package. `pnpm bench --help` lists the options.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const entry = join(root, "apps", "bench", "dist", "main.js");
if (!existsSync(entry)) {
  console.error(`bench: ${entry} is missing; run \`pnpm build\` first (\`pnpm bench\` does)`);
  process.exit(1);
}
// pnpm may pass a literal `--` before the options; the bench ignores it.
const run = spawnSync(process.execPath, [entry, ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
process.exit(run.status ?? 1);
