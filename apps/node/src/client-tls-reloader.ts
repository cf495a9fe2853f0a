import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fetchWithTls } from "@lockstep/client";
import type { Logger, MetricsSink } from "@lockstep/consensus";
import type { NodeConfig } from "./config/load-config.js";
import type { ApiServer } from "./server/api-server.js";
import type { ApiTls } from "./server/client-tls-material.js";
import { TlsReloader } from "./tls-reloader.js";

export type ClientTlsFiles = NonNullable<NodeConfig["clientTls"]>;

/** The client port's PEM files, read at start (a missing file stops the start with its path). */
export function readClientTlsSync(files: ClientTlsFiles): ApiTls {
  return {
    cert: readFileSync(files.certFile, "utf8"),
    key: readFileSync(files.keyFile, "utf8"),
    ...(files.caFile === undefined ? {} : { ca: readFileSync(files.caFile, "utf8") }),
  };
}

async function readClientTls(files: ClientTlsFiles): Promise<ApiTls> {
  const read = async (path: string, role: string): Promise<string> => {
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      throw new Error(`cannot read the client-port ${role} ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(files.certFile, "certificate"),
    read(files.keyFile, "key"),
    files.caFile === undefined ? Promise.resolve(undefined) : read(files.caFile, "client CA bundle"),
  ]);
  return { cert, key, ...(ca === undefined ? {} : { ca }) };
}

/**
 * The fetch a follower forwards with when the members' client ports serve HTTPS: it trusts the
 * cluster CA bundle and this node's own client-port certificate (members usually share its
 * issuer), and presents that certificate and key, so a leader that requires client certificates
 * admits it. Never plain HTTP (fetchWithTls refuses http://).
 */
export function leaderFetch(own: ApiTls, peerCaFile: string): typeof fetch {
  return fetchWithTls({ ca: `${readFileSync(peerCaFile, "utf8")}\n${own.cert}${own.ca === undefined ? "" : `\n${own.ca}`}`, cert: own.cert, key: own.key });
}

/**
 * Reloads the client port's certificate, key and client CA bundle the way the peer port's are
 * reloaded (the same `TlsReloader`: SIGHUP, and a changed file every `intervalMs`): the API
 * server validates and swaps its TLS context, so new connections get the new certificate and
 * open ones stay; the fetch a follower forwards with presents the new certificate too.
 */
export function createClientTlsReloader(options: {
  files: ClientTlsFiles;
  initial: ApiTls;
  api: Pick<ApiServer, "reloadTls">;
  /** Called with each new material once the API server took it (the forwarding fetch follows). */
  onApplied: (material: ApiTls) => void;
  metrics: MetricsSink;
  logger: Logger;
  intervalMs: number;
}): TlsReloader<ApiTls> {
  return new TlsReloader<ApiTls>({
    target: {
      port: "client",
      read: () => readClientTls(options.files),
      fingerprint: (material) => JSON.stringify([material.cert, material.key, material.ca ?? null]),
      apply: (material) => {
        const summary = options.api.reloadTls(material);
        options.onApplied(material);
        options.metrics.set("client_certificate_expiry_timestamp_seconds", {}, summary.expiresAtSeconds);
        return { certificateExpires: new Date(summary.expiresAtSeconds * 1000).toISOString(), socketsClosed: summary.socketsClosed };
      },
    },
    metrics: options.metrics,
    logger: options.logger,
    intervalMs: options.intervalMs,
    initial: options.initial,
  });
}
