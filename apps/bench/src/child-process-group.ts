import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";

/** How long a stopped process may take to exit after SIGTERM before it gets SIGKILL. */
export const stopWaitMs = 10_000;

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** Set once the process exits; a process that exits during a measurement invalidates it. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
}

/** Every server process still running, killed when the bench exits however it exits (an error, Ctrl-C). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
}

/**
 * The server processes of one benchmarked cluster. Their stdout and stderr go to a log file per
 * process (named in errors), not to the terminal, so that the bench's own progress stays readable.
 */
export class ChildProcessGroup {
  readonly children: Child[] = [];

  spawn(name: string, command: string, args: readonly string[], options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string }): Child {
    const logDescriptor = openSync(options.logFile, "a");
    try {
      const child = spawn(command, args, { stdio: ["ignore", logDescriptor, logDescriptor], env: options.env ?? process.env, cwd: options.cwd });
      if (child.pid === undefined) throw new Error(`${name}: could not start ${command} (see ${options.logFile})`);
      const entry: Child = { name, process: child, pid: child.pid, exit: null };
      installExitHook();
      running.add(child);
      child.once("exit", (code, signal) => {
        entry.exit = { code, signal };
        running.delete(child);
      });
      this.children.push(entry);
      return entry;
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(logDescriptor);
    }
  }

  get pids(): number[] {
    return this.children.map((child) => child.pid);
  }

  /** Names of the processes that have exited, with how; empty while all run. */
  exited(): string[] {
    return this.children.filter((child) => child.exit !== null).map((child) => `${child.name} (${child.exit?.signal ?? `code ${child.exit?.code}`})`);
  }

  /** SIGTERM to every running process, SIGKILL to any still running after `stopWaitMs`; resolves once all exited. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exit !== null) return;
        const exited = new Promise<void>((resolve) => child.process.once("exit", () => resolve()));
        child.process.kill("SIGTERM");
        const timer = setTimeout(() => child.process.kill("SIGKILL"), stopWaitMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
