import type { Command, Entry } from "@lockstep/protocol";

/**
 * Makes an entry immutable, all the way down, and returns it: the check behind the storages'
 * `freezeEntries` option. Storages keep the entry objects they are given (entries are immutable
 * by contract); with the option on, code that changes an entry after handing it over fails with a
 * `TypeError` at the line that tries (ES modules are strict) instead of changing the log in memory
 * under the log on disk. Tests and the simulator turn it on; production does not, because frozen
 * objects are slower to use (an in-process cluster lost about 10 % of its rate), and copying
 * every entry, as the storages did before, cost more still.
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
