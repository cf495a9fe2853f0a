import { pino, type Logger as PinoLogger, type LevelWithSilent } from "pino";

export interface CreateLoggerOptions {
  nodeId: string;
  level: LevelWithSilent;
  /** Read on every line, so that each line carries the term at the time it was written. */
  currentTerm: () => number;
  /** Default: stdout. */
  destination?: NodeJS.WritableStream;
}

/**
 * JSON lines with `nodeId` and `term` on every one of them (DESIGN.md §5). Child loggers
 * inherit both, so the libraries' lines carry them too.
 */
export function createLogger(options: CreateLoggerOptions): PinoLogger {
  return pino(
    {
      level: options.level,
      base: { nodeId: options.nodeId, pid: process.pid },
      mixin: () => ({ term: options.currentTerm() }),
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stdout,
  );
}
