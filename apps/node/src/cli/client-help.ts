import { connectionFlagsHelp } from "./connection-flags.js";

export type ClientCommandName = "status" | "get" | "transition" | "delete" | "watch";

const commonHelp = `
Options:
  --endpoints URL[,URL...]  nodes to talk to (default $LOCKSTEP_ENDPOINTS, else
                            http://127.0.0.1:8401,http://127.0.0.1:8402,http://127.0.0.1:8403)
${connectionFlagsHelp}  --json                    machine-readable output: one JSON document per line on stdout
                            (errors too, as {"error":{...}})
  -h, --help                show this help

Exit codes: 0 ok, 1 refused by the cluster (409) or cluster unavailable, 2 usage error.
`;

const usageByCommand: Record<ClientCommandName, string> = {
  status: `Usage: lockstep status [options]

Shows every member: its role, commit and applied index, its lag behind the leader (* marks the
leader). Each member is asked for its own view; one that does not answer shows as unreachable.
`,
  get: `Usage: lockstep get [KEY] [--stale] [options]

Reads KEY's state (default key: "default"). Linearizable unless --stale, which answers from the
asked node's local state.
`,
  transition: `Usage: lockstep transition [KEY] STATE [--expect STATE] [options]

Moves KEY (default "default") to STATE. With --expect, only if KEY is in that state now.
An invalid transition is refused with the states KEY may move to (exit code 1). If the cluster
cannot confirm the outcome, the transition may or may not have been applied: check with get.
`,
  delete: `Usage: lockstep delete KEY [--expect STATE] [options]

Deletes KEY: it is back in the initial state at revision 0, and no longer counts against the
cluster's quota (keysMax, stateBytesMax). Allowed also when the cluster is full. With --expect,
only if KEY is in that state now.
`,
  watch: `Usage: lockstep watch [--from REV] [options]

Prints one line per committed transition, in order, until Ctrl-C. Without --from, starts with the
next transition; with it, replays from revision REV (if still kept). Resumes by itself after a
lost connection, without gaps or repeats.
`,
};

export function commandHelp(name: ClientCommandName): string {
  return `${usageByCommand[name]}${commonHelp}`;
}
