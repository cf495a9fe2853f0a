import { parseArgs } from "node:util";
import { LockstepClient, LockstepError, type MemberInfo, type MembershipChangeResponse } from "@lockstep/client";
import type { CommandIo } from "../commands/snapshot.js";
import { defaultEndpoints, parseEndpoints } from "./client-args.js";
import { connectionFlagOptions, connectionFlagsHelp, parseConnectionFlags, readConnectionMaterial } from "./connection-flags.js";

const usage = `Usage:
  lockstep member list                                   every member, voter or learner
  lockstep member add ID --peer-address HOST:PORT --client-url URL
                                                         add a learner (promoted once it has caught up)
  lockstep member promote ID                             make a learner a voter now
  lockstep member remove ID                              remove a voter or learner (the leader too)
  lockstep member join-token [--ttl-seconds N]           a one-time token for lockstep start --join
Options:
  --endpoints URL,...       nodes to talk to (default $LOCKSTEP_ENDPOINTS, else the local cluster)
${connectionFlagsHelp}  --json                    print the answer as JSON
Exit codes: 0 done, 1 refused or unreachable, 2 usage.
`;

/** `lockstep member ...`, over the membership API (docs/api.md). */
export async function runMemberCommand(argv: readonly string[], io: CommandIo, clientOptions: { retryDelayMs?: number } = {}): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr(`lockstep member: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [action, id, ...extra] = positionals;
  if (values.help === true || action === undefined) {
    (action === undefined && values.help !== true ? io.stderr : io.stdout)(usage);
    return values.help === true ? 0 : 2;
  }
  const endpoints = parseEndpoints(values.endpoints ?? io.env.LOCKSTEP_ENDPOINTS ?? defaultEndpoints.join(","));
  if (typeof endpoints === "string") return usageError(io, endpoints);
  if (extra.length > 0) return usageError(io, `unexpected argument ${JSON.stringify(extra[0])}`);
  const connection = parseConnectionFlags(values, io.env, endpoints);
  if (typeof connection === "string") return usageError(io, connection);
  const material = readConnectionMaterial(connection);
  if (!material.ok) return usageError(io, material.message);
  const client = new LockstepClient({ endpoints, ...material.material, ...clientOptions });
  const print = (text: string, json: unknown): void => io.stdout(values.json === true ? `${JSON.stringify(json)}\n` : text);
  try {
    switch (action) {
      case "list": {
        const answer = await client.members();
        print(formatMembers(answer.members, answer.leader), answer);
        return 0;
      }
      case "add": {
        if (id === undefined || values["peer-address"] === undefined || values["client-url"] === undefined) return usageError(io, "member add needs ID, --peer-address and --client-url");
        const answer = await client.addMember({ id, peerAddress: values["peer-address"], clientUrl: values["client-url"] });
        print(`added ${id} as a learner at index ${answer.index}\n${formatMembers(answer.members, null)}`, answer);
        return 0;
      }
      case "promote":
      case "remove": {
        if (id === undefined) return usageError(io, `member ${action} needs ID`);
        const answer: MembershipChangeResponse = action === "promote" ? await client.promoteMember(id) : await client.removeMember(id);
        print(`${action === "promote" ? "promoted" : "removed"} ${id} at index ${answer.index}\n${formatMembers(answer.members, null)}`, answer);
        return 0;
      }
      case "join-token": {
        const ttl = values["ttl-seconds"] === undefined ? undefined : Number(values["ttl-seconds"]);
        if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) return usageError(io, "--ttl-seconds: expected a positive integer");
        const answer = await client.createJoinToken(ttl === undefined ? {} : { ttlSeconds: ttl });
        print(`${answer.token}\n(one use, until ${new Date(answer.expiresAtMs).toISOString()}; the cluster keeps only its hash)\n`, answer);
        return 0;
      }
      default:
        return usageError(io, `unknown action ${JSON.stringify(action)}`);
    }
  } catch (error) {
    if (!(error instanceof LockstepError)) throw error;
    io.stderr(`lockstep member ${action}: ${error.code}: ${error.message}\n`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      endpoints: { type: "string" },
      ...connectionFlagOptions,
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      "peer-address": { type: "string" },
      "client-url": { type: "string" },
      "ttl-seconds": { type: "string" },
    },
  });
}

function usageError(io: CommandIo, message: string): number {
  io.stderr(`lockstep member: ${message}\n\n${usage}`);
  return 2;
}

/** One line per member: id, voter or learner, addresses; the leader marked. */
export function formatMembers(members: readonly MemberInfo[], leader: string | null): string {
  const rows = members.map((member) => `${member.id.padEnd(12)} ${(member.voter ? "voter" : "learner").padEnd(8)} ${member.id === leader ? "leader " : "       "} peer ${member.peerAddress}  client ${member.clientUrl}`);
  return `${rows.join("\n")}\n`;
}
