import { readFile } from "node:fs/promises";
import type { Logger, MetricsSink } from "@lockstep/consensus";
import type { PeerTlsMaterial, TcpTransport } from "@lockstep/transport-tcp";
import type { PeerTlsFiles } from "./config/load-config.js";
import { TlsReloader } from "./tls-reloader.js";

/** A peer TLS file could not be read at start: the node does not start without its certificates. */
export class PeerTlsFileError extends Error {
  override readonly name = "PeerTlsFileError";
  readonly code = "read_failed";
}

/** Reads the CA bundle, certificate and key. Throws `PeerTlsFileError` naming the file and how to make one. */
export async function readPeerTlsMaterial(files: PeerTlsFiles): Promise<PeerTlsMaterial> {
  const read = async (path: string, role: string): Promise<string> => {
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      throw new PeerTlsFileError(
        `cannot read the peer ${role} ${path}: ${error instanceof Error ? error.message : String(error)} (the peer port is always mutual TLS: make certificates with \`lockstep certs\`, see docs/security.md)`,
        { cause: error },
      );
    }
  };
  const [caPem, certPem, keyPem] = await Promise.all([read(files.caFile, "CA bundle"), read(files.certFile, "certificate"), read(files.keyFile, "key")]);
  return { caPem, certPem, keyPem };
}

export type { ReloadOutcome } from "./tls-reloader.js";

/**
 * Reloads the peer port's CA bundle, certificate and key without a restart (SIGHUP, or a changed
 * file every `intervalMs`): the transport validates the new material as a whole, new connections
 * use it, and connections whose peer certificate no longer chains to the new bundle are closed.
 */
export class PeerTlsReloader extends TlsReloader<PeerTlsMaterial> {
  constructor(options: {
    files: PeerTlsFiles;
    transport: Pick<TcpTransport, "reloadTls">;
    metrics: MetricsSink;
    logger: Logger;
    /** 0: no polling, only `reload()`. */
    intervalMs: number;
    initial: PeerTlsMaterial;
  }) {
    super({
      target: {
        port: "peer",
        read: () => readPeerTlsMaterial(options.files),
        fingerprint: (material) => JSON.stringify([material.caPem, material.certPem, material.keyPem]),
        apply: (material) => {
          const summary = options.transport.reloadTls(material);
          return { certificateExpires: new Date(summary.expiresAtSeconds * 1000).toISOString(), authorities: summary.authorities, connectionsClosed: summary.connectionsClosed };
        },
      },
      metrics: options.metrics,
      logger: options.logger,
      intervalMs: options.intervalMs,
      initial: options.initial,
    });
  }
}
