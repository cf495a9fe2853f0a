import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProcessCluster, type ProcessClusterOptions } from "./process-cluster.js";
import { waitFor } from "./node-api.js";
import { secureRequest } from "./secure-api.js";

export interface SecureProcessCluster {
  cluster: ProcessCluster;
  /** What a client of the client ports trusts (PEM): the cluster CA, or the `clientTls` certificate given. */
  ca: string;
  /** The initial admin token every node bootstraps from the same file. */
  adminToken: string;
}

/**
 * A ProcessCluster as production runs it: peer mTLS (always), HTTPS on every client port with a
 * certificate of the cluster CA (a copy of the node's, so rotating the peer files leaves HTTPS
 * alone), and `clientAuthentication: "tokens"` with an initial admin token known in advance.
 * Call `cluster.startAll()` (or start nodes one by one) afterwards.
 */
export async function prepareSecureCluster(
  options: Omit<ProcessClusterOptions, "clientScheme"> & {
    /** One certificate and key (PEM) for every client port instead of the node's own, e.g. an ECDSA one a browser accepts. */
    clientTls?: { certPem: string; keyPem: string };
  },
): Promise<SecureProcessCluster> {
  const nodeCount = options.nodeCount ?? 3;
  const ids = Array.from({ length: nodeCount }, (_, index) => `n${index + 1}`);
  // Paths in a config file are relative to it, so these name files under the cluster's folder.
  const tlsConfig = Object.fromEntries(ids.map((id) => [id, { clientTlsCertFile: `client-tls/${id}.crt`, clientTlsKeyFile: `client-tls/${id}.key`, ...options.nodeConfig?.[id] }]));
  const { clientTls, ...clusterOptions } = options;
  const cluster = await ProcessCluster.prepare({
    ...clusterOptions,
    clientScheme: "https",
    nodeConfig: tlsConfig,
    config: { clientAuthentication: "tokens", initialAdminTokenFile: "admin-token", ...options.config },
  });
  mkdirSync(join(cluster.root, "client-tls"));
  for (const id of ids) {
    if (clientTls !== undefined) {
      writeFileSync(join(cluster.root, "client-tls", `${id}.crt`), clientTls.certPem);
      writeFileSync(join(cluster.root, "client-tls", `${id}.key`), clientTls.keyPem, { mode: 0o600 });
      continue;
    }
    copyFileSync(join(cluster.certsDirectory(id), "node.crt"), join(cluster.root, "client-tls", `${id}.crt`));
    copyFileSync(join(cluster.certsDirectory(id), "node.key"), join(cluster.root, "client-tls", `${id}.key`));
  }
  const adminToken = `initial-admin.${randomBytes(32).toString("base64url")}`;
  writeFileSync(join(cluster.root, "admin-token"), `${adminToken}\n`, { mode: 0o600 });
  return { cluster, ca: clientTls?.certPem ?? readFileSync(cluster.caFiles.certFile, "utf8"), adminToken };
}

/** Resolves once every node has applied the bootstrap of the initial admin token (it is a log entry). */
export async function waitForAdminToken(secure: SecureProcessCluster, timeoutMs: number): Promise<void> {
  for (const node of secure.cluster.nodes) {
    await waitFor(
      `${node.id} accepts the initial admin token`,
      async () => ((await secureRequest(`${node.clientUrl}/v1/machines/probe?consistency=stale`, { ca: secure.ca, token: secure.adminToken })).status === 200 ? true : undefined),
      timeoutMs,
    );
  }
}
