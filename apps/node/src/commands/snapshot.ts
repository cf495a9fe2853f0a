import { createHash } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { LockstepClient, LockstepError } from "@lockstep/client";
import { Store } from "@lockstep/state-machine";
import { loadNodeSetup } from "../config/load-node-setup.js";
import { decodeBackup } from "../backup/backup-file.js";
import { seedDataDirectory } from "../backup/seed-data-directory.js";
import { parseEndpoints, defaultEndpoints } from "../cli/client-args.js";
import { connectionFlagOptions, connectionFlagsHelp, parseConnectionFlags, readConnectionMaterial, type ConnectionMaterial } from "../cli/connection-flags.js";
import { bootstrapClusterUuid } from "../membership/cluster-identity.js";
import { syncDirectorySync } from "../sync-directory.js";

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly workingDirectory: string;
}

const usage = `Usage:
  lockstep snapshot save FILE [--endpoints URL,...] [--token T --cacert F --cert F --key F]
      Takes a consistent, checksummed backup from a running node (GET /v1/snapshot) into FILE.
      Needs an admin token on a cluster with tokens on.
  lockstep snapshot restore FILE [--config FILE] [--node-id ID --members JSON --data-directory DIR ...]
      Seeds an EMPTY data directory of a NEW cluster from FILE. Run it for every member, with the
      same members list: they derive the same new cluster uuid from the backup and the list, so
      the new cluster never merges with the old one. Then start each node as usual.

Options of save:
${connectionFlagsHelp}`;

/** `lockstep snapshot save|restore`: 0 done, 1 failed, 2 usage. */
export async function runSnapshotCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const [action, file, ...rest] = argv;
  if (action === undefined || action === "--help" || action === "-h") {
    io.stdout(usage);
    return action === undefined ? 2 : 0;
  }
  if ((action !== "save" && action !== "restore") || file === undefined || file.startsWith("--")) {
    io.stderr(`lockstep snapshot: expected save FILE or restore FILE\n\n${usage}`);
    return 2;
  }
  return action === "save" ? saveSnapshot(file, rest, io) : restoreSnapshot(file, rest, io);
}

async function saveSnapshot(file: string, argv: readonly string[], io: CommandIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: { endpoints: { type: "string" }, ...connectionFlagOptions }, strict: true }).values;
  } catch (error) {
    io.stderr(`lockstep snapshot save: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const endpointsText = typeof values.endpoints === "string" ? values.endpoints : undefined;
  const endpoints = parseEndpoints(endpointsText ?? io.env.LOCKSTEP_ENDPOINTS ?? defaultEndpoints.join(","));
  if (typeof endpoints === "string") {
    io.stderr(`lockstep snapshot save: ${endpoints}\n`);
    return 2;
  }
  const connection = parseConnectionFlags(values, io.env, endpoints);
  const material = typeof connection === "string" ? { ok: false as const, message: connection } : readConnectionMaterial(connection);
  if (!material.ok) {
    io.stderr(`lockstep snapshot save: ${material.message}\n`);
    return 2;
  }
  const connectionMaterial: ConnectionMaterial = material.material;
  let bytes: Uint8Array;
  try {
    bytes = await new LockstepClient({ endpoints, ...connectionMaterial }).snapshot();
  } catch (error) {
    if (!(error instanceof LockstepError)) throw error;
    io.stderr(`lockstep snapshot save: ${error.code}: ${error.message}\n`);
    return 1;
  }
  const decoded = decodeBackup(bytes);
  if (!decoded.ok) {
    io.stderr(`lockstep snapshot save: the node sent an unusable backup (${decoded.reason}: ${decoded.detail}); nothing written\n`);
    return 1;
  }
  try {
    // Through a temporary file: FILE is either the old one or the whole new backup, never half.
    writeFileSync(`${file}.tmp`, bytes, { flush: true });
    renameSync(`${file}.tmp`, file);
    // The rename is durable only once the directory is: before that a power cut can undo it.
    syncDirectorySync(dirname(resolve(file)));
  } catch (error) {
    io.stderr(`lockstep snapshot save: cannot write ${file}: ${(error as Error).message}\n`);
    return 1;
  }
  const { header } = decoded;
  io.stdout(
    `saved a backup of cluster ${header.cluster} (uuid ${header.clusterUuid}) at revision ${header.index}, taken by ${header.takenBy}: ${bytes.byteLength} bytes, sha256 ${sha256Hex(bytes)}, to ${file}\n`,
  );
  return 0;
}

async function restoreSnapshot(file: string, argv: readonly string[], io: CommandIo): Promise<number> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    io.stderr(`lockstep snapshot restore: cannot read ${file}: ${(error as Error).message}\n`);
    return 1;
  }
  const decoded = decodeBackup(bytes);
  if (!decoded.ok) {
    io.stderr(`lockstep snapshot restore: ${file} is not a usable backup (${decoded.reason}: ${decoded.detail})\n`);
    return 1;
  }
  const setup = loadNodeSetup({ argv, environment: io.env, workingDirectory: io.workingDirectory });
  if (!setup.ok) {
    io.stderr(`${setup.message}\n`);
    return 2;
  }
  const { config } = setup;
  const restored = Store.restore(setup.definition, decoded.data);
  if (!restored.ok) {
    io.stderr(`lockstep snapshot restore: the backup's state does not fit this node's definition (${restored.reason}: ${restored.detail})\n`);
    return 1;
  }
  const members = config.members.map((member) => ({ id: member.id, peerAddress: member.peerAddress, clientUrl: member.clientUrl, voter: true }));
  const clusterUuid = bootstrapClusterUuid({ cluster: config.cluster, members, bootstrapToken: `restore:${sha256Hex(bytes)}` });
  try {
    const { index } = await seedDataDirectory({
      directory: config.dataDirectory,
      store: restored.store,
      members,
      identity: { format: 1, cluster: config.cluster, clusterUuid, nodeId: config.nodeId, origin: "restore" },
    });
    io.stdout(
      `restored ${file} (cluster ${decoded.header.cluster} at revision ${decoded.header.index}) into ${config.dataDirectory} for ${config.nodeId}: new cluster ${config.cluster} uuid ${clusterUuid}, members ${members.map((member) => member.id).join(", ")}, first index ${index}\n`,
    );
    return 0;
  } catch (error) {
    io.stderr(`lockstep snapshot restore: ${(error as Error).message}\n`);
    return 1;
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
