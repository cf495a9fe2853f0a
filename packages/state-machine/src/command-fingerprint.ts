import type { WriteCommand } from "./command.js";

/**
 * Identifies the command a request id answered: a retry must be this same command. The string is
 * part of the snapshot format (each session answer records it), so it never changes shape.
 */
export function commandFingerprint(command: WriteCommand): string {
  return JSON.stringify([command.kind, command.key, command.kind === "transition" ? command.to : null, command.expect ?? null]);
}

/**
 * Whether two write commands have the same fingerprint, compared field by field without building
 * either string: the store checks this for every write it applies. JSON of strings is one-to-one,
 * so equal fields and equal fingerprints are the same thing.
 */
export function sameWriteCommand(left: WriteCommand, right: WriteCommand): boolean {
  return (
    left.kind === right.kind &&
    left.key === right.key &&
    (left.kind === "transition" ? left.to : null) === (right.kind === "transition" ? right.to : null) &&
    (left.expect ?? null) === (right.expect ?? null)
  );
}
