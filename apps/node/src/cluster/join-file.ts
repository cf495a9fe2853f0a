import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LockstepClient } from "@lockstep/client";

/** `.lockstep-data/join.json` (DESIGN.md §9): what a fourth local node, or a membership script, needs. */
export interface LocalJoinFile {
  /** Client URLs of the running members. */
  join: string[];
  /** A one-time join token for the next node. */
  joinToken: string;
  joinTokenExpiresAtMs: number;
  cluster: string;
  /** The command that starts one more local node, with its id, addresses and data directory filled in. */
  example: string;
}

/** Join tokens written by `pnpm start` last a day: long enough to try a fourth node at leisure. */
const localJoinTokenTtlSeconds = 24 * 3600;

/**
 * Creates a join token on the running local cluster and writes `join.json` under `dataRoot`
 * (through a temporary file). Returns the file's path.
 */
export async function writeLocalJoinFile(options: { dataRoot: string; clientUrls: readonly string[]; cluster: string; host: string; nextPeerPort: number; nextClientPort: number; nextNodeId: string }): Promise<string> {
  const client = new LockstepClient({ endpoints: options.clientUrls });
  const created = await client.createJoinToken({ ttlSeconds: localJoinTokenTtlSeconds });
  const dataDirectory = join(options.dataRoot, `node-${options.nextNodeId.replace(/^n/, "")}`);
  const content: LocalJoinFile = {
    join: [...options.clientUrls],
    joinToken: created.token,
    joinTokenExpiresAtMs: created.expiresAtMs,
    cluster: options.cluster,
    example: [
      "node apps/node/dist/cli.js start",
      `--node-id ${options.nextNodeId} --cluster ${options.cluster}`,
      `--peer-listen-address ${options.host}:${options.nextPeerPort} --client-listen-address ${options.host}:${options.nextClientPort}`,
      `--data-directory ${dataDirectory} --certs-directory ${join(options.dataRoot, "certs", options.nextNodeId)}`,
      `--join ${options.clientUrls.join(",")} --join-token ${created.token}`,
    ].join(" "),
  };
  const path = join(options.dataRoot, "join.json");
  writeFileSync(`${path}.tmp`, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return path;
}
