import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { FileStorage } from "@lockstep/storage";
import { loadNodeSetup } from "../config/load-node-setup.js";
import { rebuildStore } from "../backup/rebuild-store.js";
import { seedDataDirectory } from "../backup/seed-data-directory.js";
import { newClusterUuid, readClusterIdentity } from "../membership/cluster-identity.js";
import type { CommandIo } from "./snapshot.js";
import { syncDirectorySync } from "../sync-directory.js";

const usage = `Usage: lockstep recover --force-new-cluster [--config FILE] [--node-id ID --data-directory DIR ...]

DANGER: for the loss of a majority only. Rewrites this node's data directory as a ONE-member
cluster (itself, a voter) with a NEW cluster uuid, applying every entry of its log (entries it
had not yet seen committed included). The old directory is kept beside it as
DIR.before-recover-<time>. The other old members must never start again with their old data:
wipe them and add them back with lockstep start --join. Stop the node first.
`;

/** `lockstep recover --force-new-cluster`: 0 recovered, 1 failed, 2 usage. */
export async function runRecoverCommand(argv: readonly string[], io: CommandIo, nowMs: number = Date.now()): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(usage);
    return 0;
  }
  if (!argv.includes("--force-new-cluster")) {
    io.stderr(`lockstep recover: --force-new-cluster is required (it says out loud that this discards the old cluster)\n\n${usage}`);
    return 2;
  }
  const setup = loadNodeSetup({ argv: argv.filter((argument) => argument !== "--force-new-cluster"), environment: io.env, workingDirectory: io.workingDirectory });
  if (!setup.ok) {
    io.stderr(`${setup.message}\n`);
    return 2;
  }
  const { config } = setup;
  const directory = config.dataDirectory;
  const identity = readClusterIdentity(directory);
  if (identity.kind !== "ok" && existsSync(directory) === false) {
    io.stderr(`lockstep recover: ${directory} does not exist\n`);
    return 1;
  }
  if (identity.kind === "ok" && identity.identity.nodeId !== config.nodeId) {
    io.stderr(`lockstep recover: ${directory} belongs to node ${identity.identity.nodeId}, not ${config.nodeId}\n`);
    return 1;
  }
  try {
    const storage = await FileStorage.open({ directory, fsyncPolicy: "always" });
    const persisted = await storage.load().finally(() => storage.close());
    const rebuilt = rebuildStore(setup.definition, persisted);
    if (!rebuilt.ok) {
      io.stderr(`lockstep recover: ${rebuilt.message}\n`);
      return 1;
    }
    const clusterUuid = newClusterUuid();
    const staging = `${directory}.recovering`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging);
    const self = { id: config.self.id, peerAddress: config.self.peerAddress, clientUrl: config.self.clientUrl, voter: true };
    const { index } = await seedDataDirectory({
      directory: staging,
      store: rebuilt.store,
      members: [self],
      identity: { format: 1, cluster: config.cluster, clusterUuid, nodeId: config.nodeId, origin: "recover" },
    });
    const kept = `${directory}.before-recover-${new Date(nowMs).toISOString().replace(/[:.]/g, "-")}`;
    renameSync(directory, kept);
    renameSync(staging, directory);
    // Both renames must survive a power cut before the operator is told to start the node.
    syncDirectorySync(dirname(directory));
    io.stdout(
      [
        `recovered ${config.nodeId} as a one-member cluster ${config.cluster} (new uuid ${clusterUuid}) at index ${index}: ${rebuilt.appliedEntries} log entries applied on top of the last snapshot`,
        `the old data directory is kept at ${kept}`,
        `start the node as usual, then add new members with lockstep start --join (never restart the old members with their old data)`,
        "",
      ].join("\n"),
    );
    return 0;
  } catch (error) {
    io.stderr(`lockstep recover: ${(error as Error).message}\n`);
    return 1;
  }
}
