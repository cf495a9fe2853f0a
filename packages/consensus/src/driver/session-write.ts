import type { ClientSession, DeleteCommand, TransitionCommand } from "@lockstep/protocol";

/** What a client asked to write, before it has a session. */
export type WriteRequest =
  | { readonly kind: "transition"; readonly key: string; readonly to: string; readonly expect: string | undefined }
  | { readonly kind: "delete"; readonly key: string; readonly expect: string | undefined };

/**
 * The command of a write with its session, built field by field: this runs for every write a
 * node is asked for, and the two object spreads it replaced (one for `expect`, one to add the
 * session) cost about 5 % of the in-process bench's CPU.
 */
export function sessionWrite(request: WriteRequest, session: ClientSession): (TransitionCommand | DeleteCommand) & { session: ClientSession } {
  if (request.kind === "transition") {
    const command: TransitionCommand & { session: ClientSession } = { kind: "transition", key: request.key, to: request.to, session };
    if (request.expect !== undefined) command.expect = request.expect;
    return command;
  }
  const command: DeleteCommand & { session: ClientSession } = { kind: "delete", key: request.key, session };
  if (request.expect !== undefined) command.expect = request.expect;
  return command;
}
