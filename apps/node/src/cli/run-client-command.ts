import { LockstepClient, LockstepError, type ClusterStatus, type LockstepClientOptions } from "@lockstep/client";
import { parseClientArgs, type ClientCommand } from "./client-args.js";
import { readConnectionMaterial } from "./connection-flags.js";
import { errorJson, formatDelete, formatError, formatJson, formatMachine, formatStatus, formatTransition, formatWatchEvent } from "./client-output.js";
import { buildStatusReport } from "./status-rows.js";

/** 0 ok, 1 the cluster refused (409) or could not be reached, 2 the command line was wrong. */
export const clientExitCodes = { ok: 0, failed: 1, usage: 2 } as const;

/** Where a client command reads and writes; tests pass their own. */
export interface ClientCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Ends a running `watch` (exit code 0). Default: the process's SIGINT (Ctrl-C). */
  readonly stopSignal?: AbortSignal;
  /** Extra client options (tests make retries fast with these). */
  readonly clientOptions?: Partial<LockstepClientOptions>;
}

function processIo(): ClientCommandIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  };
}

interface CommandContext {
  readonly client: LockstepClient;
  readonly io: ClientCommandIo;
  readonly json: boolean;
}

/**
 * Runs `lockstep status|get|transition|delete|watch`. `argv` starts with the subcommand. Resolves with the
 * exit code; never rejects for anything the cluster or the user did.
 */
export async function runClientCommand(argv: string[], io: ClientCommandIo = processIo()): Promise<number> {
  const parsed = parseClientArgs(argv, io.env);
  switch (parsed.kind) {
    case "help":
      io.stdout(parsed.text);
      return clientExitCodes.ok;
    case "usage_error":
      io.stderr(`lockstep: ${parsed.message}\n\n${parsed.help}`);
      return clientExitCodes.usage;
    case "run":
      break;
  }
  const material = readConnectionMaterial(parsed);
  if (!material.ok) {
    io.stderr(`lockstep: ${material.message}\n`);
    return clientExitCodes.usage;
  }
  const client = new LockstepClient({ ...io.clientOptions, endpoints: parsed.endpoints, ...material.material });
  const context: CommandContext = { client, io, json: parsed.json };
  try {
    return await runCommand(context, parsed.command);
  } catch (error) {
    if (!(error instanceof LockstepError)) throw error;
    reportError(context, error);
    return clientExitCodes.failed;
  }
}

function reportError(context: CommandContext, error: LockstepError): void {
  if (context.json) context.io.stdout(formatJson(errorJson(error)));
  else context.io.stderr(formatError(error));
}

function print(context: CommandContext, value: unknown, human: string): void {
  context.io.stdout(context.json ? formatJson(value) : human);
}

async function runCommand(context: CommandContext, command: ClientCommand): Promise<number> {
  const { client } = context;
  switch (command.name) {
    case "status":
      return runStatus(context);
    case "get": {
      const state = await client.get(command.key, command.stale ? { consistency: "stale" } : {});
      print(context, state, formatMachine(state));
      return clientExitCodes.ok;
    }
    case "transition": {
      const options = command.expect === undefined ? {} : { expect: command.expect };
      const response = await client.transition(command.key, command.to, options);
      print(context, response, formatTransition(response));
      return clientExitCodes.ok;
    }
    case "delete": {
      const response = await client.delete(command.key, command.expect === undefined ? {} : { expect: command.expect });
      print(context, response, formatDelete(response));
      return clientExitCodes.ok;
    }
    case "watch":
      return runWatch(context, command.from);
  }
}

/** Asks the cluster (leader first), then every member for its own view, all at once. */
async function runStatus(context: CommandContext): Promise<number> {
  const primary = await context.client.cluster();
  const views = await Promise.all(
    primary.members.map(async (member): Promise<[string, ClusterStatus | undefined]> => {
      if (member.id === primary.self) return [member.id, primary];
      try {
        return [member.id, await context.client.cluster({ endpoint: member.clientUrl })];
      } catch (error) {
        if (error instanceof LockstepError) return [member.id, undefined];
        throw error;
      }
    }),
  );
  const report = buildStatusReport(primary, new Map(views));
  print(context, report, formatStatus(report));
  return clientExitCodes.ok;
}

async function runWatch(context: CommandContext, from: number | undefined): Promise<number> {
  const { stopSignal, release } = watchStopSignal(context.io);
  try {
    const watch = context.client.watch({
      ...(from === undefined ? {} : { from }),
      onEvent: (event) => print(context, event, formatWatchEvent(event)),
    });
    const stop = (): void => watch.close();
    if (stopSignal.aborted) stop();
    stopSignal.addEventListener("abort", stop, { once: true });
    const error = await watch.stopped;
    stopSignal.removeEventListener("abort", stop);
    if (error === undefined) return clientExitCodes.ok;
    reportError(context, error);
    return clientExitCodes.failed;
  } finally {
    release();
  }
}

/** The caller's signal, or one that Ctrl-C aborts (the handler is removed when the watch ends). */
function watchStopSignal(io: ClientCommandIo): { stopSignal: AbortSignal; release: () => void } {
  if (io.stopSignal !== undefined) return { stopSignal: io.stopSignal, release: () => undefined };
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once("SIGINT", onInterrupt);
  return { stopSignal: controller.signal, release: () => process.off("SIGINT", onInterrupt) };
}
