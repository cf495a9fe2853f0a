import type { Command, Entry, Envelope, Member } from "@lockstep/protocol";
import type { HardState } from "../interfaces.js";
import type { CoreStatus } from "../raft-core.js";
import type { Ready } from "../ready.js";

/**
 * Compact, stable renderings of what the core produced, for golden scenario files: one line per
 * message and per Ready field, fields in a fixed order, nothing that varies between runs.
 */

export function renderMembers(members: readonly Member[]): string {
  const voters = members.filter((member) => member.voter).map((member) => member.id);
  const learners = members.filter((member) => !member.voter).map((member) => member.id);
  return learners.length === 0 ? `voters=${voters.join(",")}` : `voters=${voters.join(",")} learners=${learners.join(",")}`;
}

export function renderCommand(command: Command): string {
  switch (command.kind) {
    case "transition":
      return command.to === "Running" ? `transition(${command.key})` : `transition(${command.key}->${command.to})`;
    case "members":
      return `members(${renderMembers(command.members)})`;
    default:
      return command.kind;
  }
}

export function renderEntry(entry: Entry): string {
  return `${entry.index}/${entry.term} ${renderCommand(entry.command)}`;
}

function renderEntries(entries: readonly Entry[]): string {
  return `[${entries.map(renderEntry).join(", ")}]`;
}

function renderField(key: string, value: unknown): string {
  if (key === "entries" && Array.isArray(value)) return renderEntries(value as Entry[]);
  if (key === "commands" && Array.isArray(value)) return `[${(value as Command[]).map(renderCommand).join(", ")}]`;
  if (key === "members" && Array.isArray(value)) return `(${renderMembers(value as Member[])})`;
  if (key === "data" && typeof value === "string") return `<${value.length} chars>`;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** `from->to Type term=T field=value ...`, fields in the order the message carries them. */
export function renderMessage(envelope: Envelope): string {
  const { type, ...fields } = envelope.body;
  const rendered = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${renderField(key, value)}`);
  return [`${envelope.from}->${envelope.to}`, type, ...rendered].join(" ");
}

export function renderHardState(hardState: HardState): string {
  const recovering = hardState.recovering === true ? " recovering" : "";
  return `term=${hardState.term} votedFor=${hardState.votedFor ?? "-"} commitIndex=${hardState.commitIndex}${recovering}`;
}

/** A Ready of node `id`: a header line, then one indented line per non-empty field (ready.ts order). */
export function renderReady(id: string, ready: Ready): string[] {
  const lines = [`${id} ready mustSync=${ready.mustSync} commitIndex=${ready.commitIndex}`];
  if (ready.softState !== null) lines.push(`  softState role=${ready.softState.role} term=${ready.softState.term} leader=${ready.softState.leader ?? "-"}`);
  if (ready.hardState !== null) lines.push(`  hardState ${renderHardState(ready.hardState)}`);
  if (ready.snapshot !== null) lines.push(`  snapshot index=${ready.snapshot.meta.index} term=${ready.snapshot.meta.term} ${renderMembers(ready.snapshot.meta.members)}`);
  if (ready.entries.length > 0) lines.push(`  entries ${renderEntries(ready.entries)}`);
  if (ready.committedEntries.length > 0) lines.push(`  committed ${renderEntries(ready.committedEntries)}`);
  for (const envelope of ready.messages) lines.push(`  send ${renderMessage(envelope)}`);
  for (const envelope of ready.messagesAfterPersist) lines.push(`  send-after-persist ${renderMessage(envelope)}`);
  for (const read of ready.readStates) lines.push(`  readState context=${read.context} index=${read.index}`);
  for (const failure of ready.readFailures) lines.push(`  readFailure context=${failure.context} reason=${failure.reason}`);
  for (const dropped of ready.droppedMessages) lines.push(`  dropped from=${dropped.from} type=${dropped.type} reason=${dropped.reason} count=${dropped.count}`);
  return lines;
}

/** One line per node: what an operator's `status` would show. */
export function renderStatus(status: CoreStatus): string {
  const recovering = status.recovering ? " recovering" : "";
  return `${status.id} ${status.role} term=${status.term} leader=${status.leader ?? "-"} commit=${status.commitIndex} applied=${status.appliedIndex} last=${status.lastIndex} ${renderMembers(status.members)}${recovering}`;
}
