import type { Command } from "@lockstep/protocol";
import type { Command as StoreCommand } from "@lockstep/state-machine";

/**
 * The command as the state machine applies it. A configuration entry carries members with their
 * roles and addresses, which are consensus's business; the store keeps only the member ids.
 */
export function storeCommand(command: Command): StoreCommand {
  return command.kind === "members" ? { kind: "members", members: command.members.map((member) => member.id) } : command;
}
