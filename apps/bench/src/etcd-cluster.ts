import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ChildProcessGroup } from "./child-process-group.js";
import { freePorts } from "node";
import { pollUntil } from "./poll-until.js";
import type { RunningCluster } from "./lockstep-cluster.js";

export interface EtcdClusterOptions {
  etcdPath: string;
  workDirectory: string;
  memberCount: number;
  leaderWaitMs: number;
}

export interface RunningEtcdCluster extends RunningCluster {
  /** `/v3` on etcd 3.4 and later, `/v3beta` on 3.3, `/v3alpha` on 3.2: whichever this etcd answers. */
  gatewayPath: string;
  version: string;
}

const host = "127.0.0.1";
/** The JSON gateway's prefix by etcd release, newest first; the first one the cluster answers is used. */
export const gatewayPaths = ["/v3", "/v3beta", "/v3alpha"] as const;

/** The `etcd` on PATH (or null): an external program found at run time, never part of this repository. */
export function findEtcd(): { path: string; version: string } | null {
  try {
    const path = execFileSync("sh", ["-c", "command -v etcd"], { encoding: "utf8" }).trim();
    if (path === "") return null;
    const versionText = execFileSync(path, ["--version"], { encoding: "utf8" });
    const version = /etcd Version:\s*(\S+)/.exec(versionText)?.[1] ?? "unknown";
    return { path, version };
  } catch {
    return null;
  }
}

/**
 * A 3-member etcd cluster on loopback, with its own data directories and etcd's default fsync
 * behaviour (every raft write is fdatasync'ed). Logs at `warn`, like the lockstep nodes.
 */
export async function startEtcdCluster(options: EtcdClusterOptions, version: string): Promise<RunningEtcdCluster> {
  mkdirSync(options.workDirectory, { recursive: true });
  const ports = await freePorts(host, options.memberCount * 2);
  const members = Array.from({ length: options.memberCount }, (_, index) => ({
    name: `m${index + 1}`,
    peerUrl: `http://${host}:${ports[index]!}`,
    clientUrl: `http://${host}:${ports[options.memberCount + index]!}`,
  }));
  const initialCluster = members.map((member) => `${member.name}=${member.peerUrl}`).join(",");
  // etcd reads ETCD_* variables as flags; the bench's flags must be the whole configuration.
  const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ETCD_")));
  // One token for the whole cluster: members started with different tokens form different clusters.
  const token = `bench-${process.pid}-${Date.now()}`;
  const processes = new ChildProcessGroup();
  for (const member of members) {
    const args = [
      ["--name", member.name],
      ["--data-dir", join(options.workDirectory, member.name)],
      ["--listen-client-urls", member.clientUrl],
      ["--advertise-client-urls", member.clientUrl],
      ["--listen-peer-urls", member.peerUrl],
      ["--initial-advertise-peer-urls", member.peerUrl],
      ["--initial-cluster", initialCluster],
      ["--initial-cluster-state", "new"],
      ["--initial-cluster-token", token],
      ["--logger", "zap"],
      ["--log-level", "warn"],
    ].flat();
    processes.spawn(`etcd ${member.name}`, options.etcdPath, args, { logFile: join(options.workDirectory, `${member.name}.log`), env: environment });
  }
  const stop = (): Promise<void> => processes.stopAll();
  const found = await pollUntil(options.leaderWaitMs, () => agreedEtcdLeader(members.map((member) => member.clientUrl))).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  if (found === null) {
    await stop();
    throw new Error(`the etcd cluster elected no leader within ${options.leaderWaitMs} ms (logs in ${options.workDirectory}); exited: ${processes.exited().join(", ") || "none"}`);
  }
  return { name: "etcd", leaderUrl: new URL(found.leaderUrl), leaderName: members[found.leaderPosition]!.name, processes, stop, gatewayPath: found.gatewayPath, version };
}

interface MemberStatus {
  memberId: string;
  leader: string;
}

/** Every member answers `maintenance/status` and names the same leader: which member it is, and the gateway path that worked. */
async function agreedEtcdLeader(clientUrls: readonly string[]): Promise<{ leaderUrl: string; leaderPosition: number; gatewayPath: string } | null> {
  for (const gatewayPath of gatewayPaths) {
    const statuses = await Promise.all(clientUrls.map((url) => memberStatus(url, gatewayPath)));
    if (statuses.every((status) => status === "not_found")) continue;
    const known = statuses.filter((status): status is MemberStatus => status !== null && status !== "not_found");
    if (known.length !== clientUrls.length) return null;
    const leader = known[0]!.leader;
    if (leader === "0" || !known.every((status) => status.leader === leader)) return null;
    const leaderPosition = known.findIndex((status) => status.memberId === leader);
    return leaderPosition < 0 ? null : { leaderUrl: clientUrls[leaderPosition]!, leaderPosition, gatewayPath };
  }
  return null;
}

async function memberStatus(clientUrl: string, gatewayPath: string): Promise<MemberStatus | "not_found" | null> {
  try {
    const response = await fetch(`${clientUrl}${gatewayPath}/maintenance/status`, { method: "POST", body: "{}", signal: AbortSignal.timeout(1000) });
    if (response.status === 404) return "not_found";
    if (!response.ok) return null;
    const body = (await response.json()) as { header?: { member_id?: unknown }; leader?: unknown } | null;
    const memberId = body?.header?.member_id;
    const leader = body?.leader;
    return typeof memberId === "string" && typeof leader === "string" ? { memberId, leader } : null;
  } catch {
    return null;
  }
}
