import type { Command, Entry } from "@lockstep/protocol";

/**
 * Makes an entry immutable, all the way down, and returns it. A storage keeps (and hands back) the
 * frozen object itself instead of a copy: nobody, the caller included, can change what it stored,
 * and a mutation is a `TypeError` at the line that tries (ES modules are strict) instead of a
 * silent divergence. This runs for every entry stored: freezing is about a third of the cost of a
 * hand-written deep copy, and nothing new is allocated, so no second copy of the in-memory log has
 * to survive the young generation (copies were 8.6 % of an in-process cluster's CPU plus most of
 * its scavenges).
 */
export function freezeEntry(entry: Entry): Entry {
  freezeCommand(entry.command);
  return Object.freeze(entry);
}

function freezeCommand(command: Command): void {
  switch (command.kind) {
    case "transition":
    case "delete":
      if (command.session !== undefined) Object.freeze(command.session);
      Object.freeze(command);
      return;
    case "noop":
    case "register_session":
    case "token_revoke":
    case "join_token_create":
    case "join_token_use":
    case "join_token_revoke":
      // Flat records of strings and numbers.
      Object.freeze(command);
      return;
    case "members":
      for (const member of command.members) Object.freeze(member);
      Object.freeze(command.members);
      Object.freeze(command);
      return;
    case "limits":
      Object.freeze(command.limits);
      Object.freeze(command);
      return;
    case "token_create":
      Object.freeze(command.prefixes);
      Object.freeze(command);
      return;
    default: {
      // A new command kind must say here what it holds; until it does, the build fails.
      const unhandled: never = command;
      throw new Error(`freezeEntry: unknown command ${JSON.stringify(unhandled)}`);
    }
  }
}
