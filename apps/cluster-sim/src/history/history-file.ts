import { readFileSync, writeFileSync } from "node:fs";
import { HistoryEventSchema } from "./history-event.js";
import type { HistoryEvent } from "./history-event.js";

/** A longer line is not a history event: refuse it rather than parse megabytes. */
export const historyLineCharactersMax = 8_192;

export type HistoryFileErrorCode = "read_failed" | "write_failed";

export class HistoryFileError extends Error {
  override readonly name = "HistoryFileError";
  constructor(
    readonly code: HistoryFileErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type ParseHistoryResult = { ok: true; events: HistoryEvent[] } | { ok: false; line: number; reason: string };

/** Writes the events as JSON lines (DESIGN.md §8), one event per line. */
export function writeHistory(path: string, events: readonly HistoryEvent[]): void {
  const text = events.map((event) => JSON.stringify(event)).join("\n") + (events.length > 0 ? "\n" : "");
  try {
    writeFileSync(path, text, "utf8");
  } catch (error) {
    throw new HistoryFileError("write_failed", path, `cannot write history ${path}: ${describe(error)}`, { cause: error });
  }
}

/** Reads a JSON-lines history. A bad line is a returned failure naming its line number (1-based); I/O errors throw. */
export function readHistory(path: string): ParseHistoryResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new HistoryFileError("read_failed", path, `cannot read history ${path}: ${describe(error)}`, { cause: error });
  }
  return parseHistory(text);
}

/** Parses JSON lines; blank lines are skipped. Never throws. */
export function parseHistory(text: string): ParseHistoryResult {
  const events: HistoryEvent[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "") continue;
    const lineNumber = i + 1;
    if (line.length > historyLineCharactersMax) return { ok: false, line: lineNumber, reason: `line longer than ${historyLineCharactersMax} characters` };
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      return { ok: false, line: lineNumber, reason: `not JSON: ${describe(error)}` };
    }
    const parsed = HistoryEventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? "event" : issue.path.map(String).join(".");
      return { ok: false, line: lineNumber, reason: `${where}: ${issue?.message ?? "invalid"}` };
    }
    const { expect, ...rest } = parsed.data;
    events.push(expect === undefined ? rest : { ...rest, expect });
  }
  return { ok: true, events };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
