import type { ConsensusNode } from "@lockstep/consensus";
import { loadConfig } from "../config/load-config.js";
import { createLogger } from "../create-logger.js";
import { loadDefinition } from "../load-definition.js";
import { startNodeProcess, type NodeProcess } from "../node-process.js";
import { powerCutJournalOption } from "../testing/power-cut-journal-option.js";
import { startHelp } from "./start-help.js";

/** Exit codes: 0 clean stop, 1 the node could not start or failed, 2 invalid configuration. */
export const exitCodes = { ok: 0, failed: 1, invalidConfig: 2 } as const;

/**
 * `lockstep start [--config FILE] [--option value ...]`: runs one node until SIGTERM or SIGINT.
 * Resolves with the exit code once the node has stopped.
 */
export async function runStartCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(startHelp());
    return exitCodes.ok;
  }
  const loaded = loadConfig({ argv, environment: process.env, workingDirectory: process.cwd() });
  if (!loaded.ok) {
    process.stderr.write(`${loaded.message}\n`);
    return exitCodes.invalidConfig;
  }
  for (const warning of loaded.warnings) process.stderr.write(`${warning}\n`);
  const { config } = loaded;
  const definition = loadDefinition(config.definitionFile);
  if (!definition.ok) {
    process.stderr.write(`${definition.message}\n`);
    return exitCodes.invalidConfig;
  }
  const powerCut = powerCutJournalOption(process.env, config);
  if (!powerCut.ok) {
    process.stderr.write(`lockstep: ${powerCut.message}\n`);
    return exitCodes.invalidConfig;
  }
  let node: ConsensusNode | null = null;
  // Read on every line: summary() copies nothing, where status() copies the configuration and,
  // on a leader, every member's progress.
  const logger = createLogger({ nodeId: config.nodeId, level: config.logLevel, currentTerm: () => node?.summary().term ?? 0 });

  if (powerCut.journalPath !== null) logger.warn({ journal: powerCut.journalPath }, "TEST ONLY: storage runs on a power-cut journal (LOCKSTEP_TEST_POWER_CUT_JOURNAL); never use this in production");
  let running: NodeProcess;
  let onFatal: (error: unknown) => void = () => undefined;
  const fatal = new Promise<unknown>((resolve) => (onFatal = resolve));
  try {
    running = await startNodeProcess({
      config,
      definition: definition.definition,
      logger,
      ...(powerCut.fileSystem === undefined ? {} : { fileSystem: powerCut.fileSystem }),
      onNodeStarted: (started) => (node = started),
      onFatal: (error) => onFatal(error),
    });
  } catch (error) {
    logger.fatal({ err: error }, "node failed to start");
    process.stderr.write(`lockstep: cannot start node ${config.nodeId}: ${describeStartError(error)}\n`);
    return exitCodes.failed;
  }
  return Promise.race([waitForStopSignal(running, logger), exitOnFatal(running, logger, fatal)]);
}

/**
 * A node whose storage failed has stopped taking part in consensus; keeping the process up would
 * leave a zombie that answers health checks. Exit with 1 so a supervisor restarts it from disk.
 */
async function exitOnFatal(running: NodeProcess, logger: ReturnType<typeof createLogger>, fatal: Promise<unknown>): Promise<number> {
  const error = await fatal;
  logger.fatal({ err: error }, "storage or state machine failed: exiting so the node restarts from its data directory");
  process.stderr.write(`lockstep: node stopped on a fatal error: ${describeStartError(error)}\n`);
  await running.stop().catch(() => undefined);
  return exitCodes.failed;
}

function waitForStopSignal(running: NodeProcess, logger: ReturnType<typeof createLogger>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal while stopping means "now": the WAL already holds everything acknowledged.
        logger.warn({ signal }, "second signal: exiting at once");
        resolve(exitCodes.failed);
        return;
      }
      stopping = true;
      logger.info({ signal }, "stopping");
      running.stop().then(
        () => {
          logger.info({}, "stopped");
          resolve(exitCodes.ok);
        },
        (error: unknown) => {
          logger.error({ err: error }, "stop failed");
          resolve(exitCodes.failed);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    // SIGHUP re-reads the peer and client-port certificates (as etcd and CockroachDB do): rotation needs no restart.
    process.on("SIGHUP", () => {
      logger.info({}, "SIGHUP: reloading peer and client-port TLS material");
      void running.reloadPeerTls();
      void running.reloadClientTls();
    });
  });
}

function describeStartError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = "code" in error && typeof error.code === "string" ? ` [${error.name} ${error.code}]` : "";
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : "";
  return `${error.message}${code}${cause}`;
}
