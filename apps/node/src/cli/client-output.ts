import type { DeleteResponse, LockstepError, MachineState, TransitionResponse, WatchEvent } from "@lockstep/client";
import type { StatusReport } from "./status-rows.js";

/** Renders rows as columns separated by two spaces, each as wide as its widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

function cell(value: number | null): string {
  return value === null ? "-" : String(value);
}

export function formatStatus(report: StatusReport): string {
  const heading = report.leader === null ? `no leader known (term ${report.term})` : `leader ${report.leader}, term ${report.term}`;
  const rows = report.members.map((member) => [
    member.isLeader ? `${member.id} *` : member.id,
    member.role,
    cell(member.term),
    cell(member.commitIndex),
    cell(member.appliedIndex),
    cell(member.lag),
    member.clientUrl,
  ]);
  return `${heading}\n\n${formatTable(["NODE", "ROLE", "TERM", "COMMIT", "APPLIED", "LAG", "CLIENT URL"], rows)}`;
}

export function formatMachine(state: MachineState): string {
  return `${state.key}: ${state.state} (revision ${state.revision})\n`;
}

export function formatTransition(response: TransitionResponse): string {
  return `${response.key}: ${response.from} -> ${response.to} (revision ${response.revision})\n`;
}

export function formatDelete(response: DeleteResponse): string {
  if (!response.deleted) return `${response.key}: nothing to delete (it is ${response.from}; revision ${response.revision})\n`;
  return `${response.key}: deleted (was ${response.from}; revision ${response.revision})\n`;
}

export function formatWatchEvent(event: WatchEvent): string {
  if (event.type === "delete") return `#${event.revision} ${event.key}: ${event.from} deleted\n`;
  return `#${event.revision} ${event.key}: ${event.from} -> ${event.to}\n`;
}

/** One JSON document per line, for `--json`. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** A failed call, for people: what went wrong and what it means for them. */
export function formatError(error: LockstepError): string {
  const { details } = error;
  let text: string;
  switch (error.code) {
    case "invalid_transition":
      // Built from the details when they are all there, so the wording does not depend on the server's message.
      if (details.from !== undefined && details.to !== undefined && details.allowed !== undefined) {
        const allowed = details.allowed.length === 0 ? "none" : details.allowed.join(", ");
        text = `refused (invalid_transition): cannot go from ${details.from} to ${details.to}; allowed from ${details.from}: ${allowed}`;
      } else {
        text = `refused (invalid_transition): ${error.message}`;
      }
      break;
    case "expect_failed":
      text = `refused (expect_failed): ${error.message}${details.actual === undefined ? "" : `; the current state is ${details.actual}`}`;
      break;
    case "unavailable":
      text = `cluster unavailable: ${error.message}`;
      break;
    default:
      text = `${error.code}: ${error.message}`;
  }
  if (error.outcomeUnknown) text += "\noutcome unknown: the transition may or may not have been applied; check with `lockstep get`";
  return `lockstep: ${text}\n`;
}

/** A failed call, for scripts (`--json`). */
export function errorJson(error: LockstepError): unknown {
  return {
    error: {
      code: error.code,
      message: error.message,
      status: error.status ?? null,
      outcomeUnknown: error.outcomeUnknown,
      ...error.details,
    },
  };
}
