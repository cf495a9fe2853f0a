import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { waitForAgreedLeader } from "./cluster/cluster-probe.js";
import { formatLogLine } from "./cluster/format-log-line.js";
import { LocalCluster } from "./cluster/local-cluster.js";

/** `pnpm start`: a 3-node cluster on loopback, its data under .lockstep-data/ in the repository. */
const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
const leaderWaitMs = 20_000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "data-root": { type: "string", default: resolve(repositoryRoot, ".lockstep-data") },
      "peer-port": { type: "string", default: "7401" },
      "client-port": { type: "string", default: "8401" },
      "log-level": { type: "string", default: "info" },
    },
  });
  const color = process.stdout.isTTY;
  let stopping = false;
  const cluster = await LocalCluster.prepare({
    dataRoot: values["data-root"],
    nodeCount: 3,
    host: "127.0.0.1",
    peerPortBase: Number(values["peer-port"]),
    clientPortBase: Number(values["client-port"]),
    cluster: "local",
    extraConfig: { logLevel: values["log-level"] },
    onLine: (nodeId, nodeIndex, line) => process.stdout.write(`${formatLogLine(nodeId, line, { color, nodeIndex })}\n`),
    onExit: (nodeId, code, signal) => {
      if (!stopping) process.stdout.write(`${nodeId} exited (${signal ?? `code ${code}`}); the others keep running\n`);
    },
  });

  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nstopping the cluster…\n");
    cluster.stopAll().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  cluster.startAll();
  const leader = await waitForAgreedLeader(
    cluster.nodes.map((node) => node.clientUrl),
    leaderWaitMs,
  );
  if (stopping) return 0;
  printEndpoints(cluster, leader);
  return new Promise<number>(() => undefined);
}

function printEndpoints(cluster: LocalCluster, leader: string | null): void {
  const first = cluster.nodes[0]!;
  const lines = [
    "",
    leader === null ? "lockstep: the 3 nodes started but did not agree on a leader yet (see the logs above)" : `lockstep: local 3-node cluster is up; leader ${leader}`,
    ...cluster.nodes.map(
      (node) => `  ${node.id}  client ${node.clientUrl}  peer ${node.peerAddress}  data ${relative(process.cwd(), node.dataDirectory) || node.dataDirectory}`,
    ),
    "",
    `  dashboard  ${first.clientUrl}/`,
    "  security   the client ports are plain HTTP without tokens: they listen on loopback only (see docs/security.md)",
    `  try        curl -X POST -H 'Content-Type: application/json' ${first.clientUrl}/v1/machines/web-1/transition -d '{"to":"Running"}'`,
    `             curl ${first.clientUrl}/v1/machines/web-1`,
    "",
    "Press Ctrl-C to stop all three.",
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`local cluster: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
