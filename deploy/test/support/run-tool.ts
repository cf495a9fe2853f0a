import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface ToolRun {
  status: number | null;
  output: string;
}

/**
 * Runs one of Debian's tools (promtool, systemd-analyze) and returns its exit status and output.
 * A missing tool fails the calling test with the command that installs it: never a skip.
 */
export function runTool(path: string, args: readonly string[], installHint: string, cwd?: string): ToolRun {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${installHint} (tooling/scripts/setup.sh installs it)`);
  const run = spawnSync(path, args, { cwd, encoding: "utf8", timeout: 60_000 });
  if (run.error !== undefined) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
