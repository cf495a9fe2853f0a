import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ChildProcessGroup } from "./child-process-group.js";
import { ensureLocalCertificates, freePorts } from "node";
import { concurrencyMax, keyCountMax } from "./bench-args.js";
import { pollUntil } from "./poll-until.js";
import { createWriteToken, newAdminToken, setupRequest, type ClientPortCredentials } from "./secure-client-port.js";

export interface LockstepClusterOptions {
  /** The repository root: the node is `apps/node/dist/cli.js` under it (built by `pnpm bench`). */
  repositoryRoot: string;
  /** Configs, data directories and logs go here. */
  workDirectory: string;
  nodeCount: number;
  /** When set, every node runs under `--cpu-prof` and writes `lockstep-<id>.cpuprofile` here on exit. */
  profileDirectory: string | null;
  leaderWaitMs: number;
  /**
   * Secure the client port as production does: HTTPS with the node's certificate of the cluster
   * CA, and tokens required (the load clients then use a `write` token). The peer port is
   * mutual TLS either way.
   */
  secureClientPort?: boolean;
  /** The cluster's name in the report (default `lockstep`). */
  name?: string;
}

export interface RunningCluster {
  name: string;
  /** The leader's client URL: the load generator sends every request there. */
  leaderUrl: URL;
  leaderName: string;
  processes: ChildProcessGroup;
  /** Set when the client port serves HTTPS and requires tokens: what the load clients must present. */
  credentials?: ClientPortCredentials;
  stop(): Promise<void>;
}

const host = "127.0.0.1";

/**
 * Client connections a bench node accepts, from one address and in all: the HTTP rows open one
 * socket per client (up to `concurrencyMax`), all from 127.0.0.1, plus the bench's own probes and
 * metrics scrapes. The node's defaults (256 per source, 1024 in all) would close the excess at
 * once and the rows would measure the limit, not the node.
 */
export const benchClientConnectionsMax = concurrencyMax + 64;

/**
 * Store quotas of a bench cluster: room for every key `--scaling --keys` may fill (the defaults,
 * 100,000 keys and 32 MiB, would refuse the fill past them with `quota_exceeded`), at 64 bytes
 * a key (a fill key, its state and the per-key overhead take about 35).
 */
export const benchStoreLimits = { keysMax: keyCountMax + 1024, stateBytesMax: (keyCountMax + 1024) * 64 };

/** One bench node's config file: fsync always, logs at `warn`, connection limits above the load. */
export function benchNodeConfig(parts: { nodeId: string; members: readonly { id: string; peerAddress: string; clientUrl: string }[]; dataDirectory: string; certsDirectory: string }): Record<string, unknown> {
  return {
    nodeId: parts.nodeId,
    cluster: "bench",
    members: parts.members,
    dataDirectory: parts.dataDirectory,
    certsDirectory: parts.certsDirectory,
    fsyncPolicy: "always",
    logLevel: "warn",
    clientConnectionsPerSourceMax: benchClientConnectionsMax,
    httpConnectionsMax: benchClientConnectionsMax,
    ...benchStoreLimits,
  };
}

/**
 * A lockstep cluster of `lockstep start` processes on loopback, each with its own FileStorage
 * directory and the default fsync policy ("always"). Logs at `warn` so that logging costs
 * nothing on the measured path, as etcd's do.
 */
export async function startLockstepCluster(options: LockstepClusterOptions): Promise<RunningCluster> {
  const cliPath = join(options.repositoryRoot, "apps", "node", "dist", "cli.js");
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: build first (pnpm bench builds everything)`);
  mkdirSync(options.workDirectory, { recursive: true });
  if (options.profileDirectory !== null) mkdirSync(options.profileDirectory, { recursive: true });
  const ports = await freePorts(host, options.nodeCount * 2);
  const members = Array.from({ length: options.nodeCount }, (_, index) => ({
    id: `n${index + 1}`,
    peerAddress: `${host}:${ports[index]!}`,
    clientUrl: `${options.secureClientPort === true ? "https" : "http"}://${host}:${ports[options.nodeCount + index]!}`,
  }));
  // The nodes must not inherit this shell's LOCKSTEP_* settings: their config file says it all.
  const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("LOCKSTEP_")));
  // The peer port is always mutual TLS, so the benchmark measures it.
  const certificates = await ensureLocalCertificates({ directory: join(options.workDirectory, "certs"), nodeIds: members.map((member) => member.id), hosts: [host] });
  const processes = new ChildProcessGroup();
  const adminToken = newAdminToken();
  const adminTokenFile = join(options.workDirectory, "admin-token");
  if (options.secureClientPort === true) writeFileSync(adminTokenFile, `${adminToken}\n`, { mode: 0o600 });
  for (const member of members) {
    const configFile = join(options.workDirectory, `${member.id}.json`);
    const files = certificates.nodes[member.id]!;
    const certsDirectory = dirname(files.certFile);
    const clientSecurity =
      options.secureClientPort === true ? { clientTlsCertFile: files.certFile, clientTlsKeyFile: files.keyFile, clientAuthentication: "tokens", initialAdminTokenFile: adminTokenFile } : {};
    const config = { ...benchNodeConfig({ nodeId: member.id, members, dataDirectory: join(options.workDirectory, member.id), certsDirectory }), ...clientSecurity };
    writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
    const profileArguments = options.profileDirectory === null ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.profileDirectory}`, `--cpu-prof-name=lockstep-${member.id}.cpuprofile`];
    processes.spawn(`lockstep ${member.id}`, process.execPath, [...profileArguments, cliPath, "start", "--config", configFile], {
      logFile: join(options.workDirectory, `${member.id}.log`),
      env: environment,
    });
  }
  const stop = (): Promise<void> => processes.stopAll();
  const ca = options.secureClientPort === true ? readFileSync(certificates.caFile, "utf8") : undefined;
  const probe = ca === undefined ? {} : { ca, token: adminToken };
  const leader = await pollUntil(options.leaderWaitMs, () => agreedLeader(members.map((member) => member.clientUrl), probe)).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  if (leader === null) {
    await stop();
    throw new Error(`the lockstep cluster elected no leader within ${options.leaderWaitMs} ms (logs in ${options.workDirectory}); exited: ${processes.exited().join(", ") || "none"}`);
  }
  const leaderMember = members.find((member) => member.id === leader)!;
  const leaderUrl = new URL(leaderMember.clientUrl);
  const name = options.name ?? "lockstep";
  if (ca === undefined) return { name, leaderUrl, leaderName: leader, processes, stop };
  const token = await createWriteToken(leaderUrl, ca, adminToken).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { name, leaderUrl, leaderName: leader, processes, credentials: { ca, token }, stop };
}

/**
 * The leader every node names, once all of them answer `/v1/cluster` and agree; otherwise null.
 * On a secured client port the probe trusts the cluster CA and carries the admin token, which
 * works once a node has applied its bootstrap entry.
 */
async function agreedLeader(clientUrls: readonly string[], probe: { ca?: string; token?: string }): Promise<string | null> {
  const leaders = await Promise.all(
    clientUrls.map(async (url) => {
      try {
        const answer = await setupRequest(new URL("/v1/cluster", url), probe);
        if (answer.status !== 200) return null;
        const body = answer.body as { leader?: unknown } | null;
        return typeof body?.leader === "string" ? body.leader : null;
      } catch {
        return null;
      }
    }),
  );
  const first = leaders[0] ?? null;
  return first !== null && leaders.every((leader) => leader === first) ? first : null;
}
