import type { Command, Entry } from "@lockstep/protocol";

/** The JSON framing of an entry around its command: `{"index":…,"term":…,"command":{…}}`. */
const entryOverheadBytes = 48;
/** A session's framing around its client id: `"session":{"clientId":"…","seq":…}`. */
const sessionOverheadBytes = 48;

/**
 * A cheap estimate of an entry's encoded size, used only to bound a Proposal's batch. It walks the
 * command's few string fields instead of serializing it: exact sizes are the transport's business
 * (`frameBytesMax`); this only has to keep a batch in the right order of magnitude.
 */
export function estimateEntryBytes(entry: Entry): number {
  return entryOverheadBytes + estimateCommandBytes(entry.command);
}

export function estimateCommandBytes(command: Command): number {
  switch (command.kind) {
    case "noop":
      return 16;
    case "members":
      return 24 + command.members.reduce((total, member) => total + 48 + member.id.length + member.peerAddress.length + member.clientUrl.length, 0);
    case "join_token_create":
    case "join_token_use":
    case "join_token_revoke":
      return 200;
    case "transition":
    case "delete": {
      let bytes = 40 + command.key.length + (command.kind === "transition" ? command.to.length : 0);
      if (command.expect !== undefined) bytes += 12 + command.expect.length;
      if (command.session !== undefined) bytes += sessionOverheadBytes + command.session.clientId.length;
      return bytes;
    }
    case "register_session":
      return 40 + command.nonce.length;
    case "limits":
      return 160;
    case "token_create":
      return 200 + command.name.length + command.prefixes.reduce((total, prefix) => total + prefix.length + 3, 0);
    case "token_revoke":
      return 60 + command.name.length;
  }
}
