import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { defaultKeyType, generateKeyPair } from "@lockstep/certs";
import type { Logger } from "@lockstep/consensus";
import type { FileStorage } from "@lockstep/storage";
import { definitionHash, type Definition } from "@lockstep/state-machine";
import type { NodeConfig } from "../config/load-config.js";
import type { MemberConfig } from "../config/node-options.js";
import { writeClusterIdentity, type ClusterIdentity } from "./cluster-identity.js";
import { discoverJoinUrls } from "./dns-discovery.js";
import { joinCluster } from "./join-cluster.js";
import { resolveIdentity } from "./resolve-identity.js";

/** The first join round starts after this delay; later rounds double it up to `joinRetryDelayMaxMs`. */
const joinRetryDelayMinMs = 100;

export interface EstablishedMembership {
  identity: ClusterIdentity;
  /** The members this node starts with: the founders, or the configuration the cluster sent when it joined. */
  members: MemberConfig[];
  /** Set when the node joined now; it starts as a learner. */
  joined: boolean;
}

/**
 * Which cluster the data directory belongs to and with which members the node starts
 * (DESIGN.md §9): a directory that belongs to the cluster restarts as it is (`--join` ignored);
 * an empty directory with `--join`/`--join-dns` asks the cluster; otherwise the founders
 * bootstrap. Throws with a message that says what to fix.
 */
export async function establishMembership(config: NodeConfig, definition: Definition, storage: FileStorage, logger: Logger): Promise<EstablishedMembership> {
  const status = storage.status();
  const joinRequested = config.join !== undefined || config.joinDns !== undefined;
  const resolved = resolveIdentity({
    dataDirectory: config.dataDirectory,
    cluster: config.cluster,
    nodeId: config.nodeId,
    members: config.members,
    dataDirectoryEmpty: status.lastIndex === 0 && status.snapshotIndex === 0,
    joinRequested,
  });
  switch (resolved.kind) {
    case "existing":
      if (joinRequested) logger.info({ clusterUuid: resolved.identity.clusterUuid }, "the data directory already belongs to the cluster: restarting, join options ignored");
      return { identity: resolved.identity, members: config.members, joined: false };
    case "created":
      return { identity: resolved.identity, members: config.members, joined: false };
    case "refused":
      throw new Error(resolved.message);
    case "needs_join":
      return join(config, definition, logger);
  }
}

async function join(config: NodeConfig, definition: Definition, logger: Logger): Promise<EstablishedMembership> {
  const urls = await joinUrls(config);
  logger.info({ urls }, "empty data directory: asking the cluster to join");
  // The node's key never leaves it: the cluster certifies its public half.
  const hasOwnCertificate = existsSync(config.peerTls.certFile) && existsSync(config.peerTls.keyFile) && existsSync(config.peerTls.caFile);
  const keys = hasOwnCertificate ? null : generateKeyPair(defaultKeyType);
  const result = await joinCluster({
    urls,
    request: {
      token: config.joinToken!,
      member: { id: config.self.id, peerAddress: config.self.peerAddress, clientUrl: config.self.clientUrl },
      dataDirectoryEmpty: true,
      ...(keys === null ? {} : { publicKeyPem: keys.publicKeyPem }),
    },
    attemptsMax: config.joinAttemptsMax,
    retryDelayMinMs: joinRetryDelayMinMs,
    retryDelayMaxMs: config.joinRetryDelayMaxMs,
    requestTimeoutMs: config.consensusTimeoutMs * 3,
    onAttemptFailed: (url, reason) => logger.warn({ url, reason }, "join attempt failed"),
  });
  if (!result.ok) throw new Error(result.message);
  const { answer } = result;
  if (answer.cluster !== config.cluster) throw new Error(`the cluster at ${result.url} is "${answer.cluster}", this node is configured for "${config.cluster}"`);
  const ours = definitionHash(definition);
  if (answer.definitionHash !== ours) throw new Error(`the cluster runs definition ${answer.definitionHash}, this node ${ours}: start it with the cluster's definitionFile`);
  if (keys !== null) {
    if (answer.certificatePem === undefined || answer.caCertificatePem === undefined) {
      throw new Error(`the leader certified no key (it holds no joinCaKeyFile), and this node has no certificate at ${config.peerTls.certFile}`);
    }
    writeCertificateFiles(config.peerTls, { keyPem: keys.privateKeyPem, certPem: answer.certificatePem, caCertPem: answer.caCertificatePem });
    logger.info({ certFile: config.peerTls.certFile }, "the cluster certified this node's key");
  }
  const identity: ClusterIdentity = { format: 1, cluster: answer.cluster, clusterUuid: answer.clusterUuid, nodeId: config.nodeId, origin: "join" };
  writeClusterIdentity(config.dataDirectory, identity);
  logger.info({ clusterUuid: answer.clusterUuid, index: answer.index, members: answer.members.map((member) => `${member.id}${member.voter ? "" : " (learner)"}`) }, "joined the cluster as a learner");
  return { identity, members: answer.members.map((member) => ({ id: member.id, peerAddress: member.peerAddress, clientUrl: member.clientUrl })), joined: true };
}

/**
 * Writes the key (mode 600), certificate and CA bundle where the peer TLS options expect them.
 * A CA bundle already there (shared by the local nodes) is kept; a key or certificate already
 * there is never overwritten.
 */
function writeCertificateFiles(files: { caFile: string; certFile: string; keyFile: string }, pems: { keyPem: string; certPem: string; caCertPem: string }): void {
  for (const path of [files.keyFile, files.certFile]) {
    if (existsSync(path)) throw new Error(`${path} exists but the rest of this node's certificate files do not; remove it or complete them`);
  }
  for (const [path, text, mode] of [
    [files.keyFile, pems.keyPem, 0o600],
    [files.certFile, pems.certPem, 0o644],
    [files.caFile, pems.caCertPem, 0o644],
  ] as const) {
    if (path === files.caFile && existsSync(path)) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, { mode, flag: "wx" });
  }
}

async function joinUrls(config: NodeConfig): Promise<string[]> {
  if (config.join !== undefined) return config.join.split(",");
  const discovered = await discoverJoinUrls(config.joinDns!);
  if (!discovered.ok) throw new Error(discovered.message);
  return discovered.urls;
}
