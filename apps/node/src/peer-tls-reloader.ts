import { readFile } from "node:fs/promises";
import type { Logger, MetricsSink } from "@lockstep/consensus";
import type { PeerTlsMaterial, TcpTransport } from "@lockstep/transport-tcp";
import type { PeerTlsFiles } from "./config/load-config.js";

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

export type ReloadOutcome = "reloaded" | "unchanged" | "failed";

/**
 * Reloads the peer port's TLS material without a restart: on `reload()` (the node calls it on
 * SIGHUP) and, every `intervalMs`, when one of the files changed. A change is applied as a
 * whole or not at all (the transport validates it); an unusable one is logged and counted
 * (`peer_tls_reloads_total{result="failed"}`) and the material in use stays. The same unusable
 * content is reported once, not on every poll.
 */
export class PeerTlsReloader {
  private applied: string;
  private lastFailed: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReloadOutcome> | undefined;

  constructor(
    private readonly options: {
      files: PeerTlsFiles;
      transport: Pick<TcpTransport, "reloadTls">;
      metrics: MetricsSink;
      logger: Logger;
      /** 0: no polling, only `reload()`. */
      intervalMs: number;
      initial: PeerTlsMaterial;
    },
  ) {
    this.applied = fingerprint(options.initial);
  }

  start(): void {
    if (this.options.intervalMs === 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.check(false), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the files now and applies them if they changed (what SIGHUP does). */
  reload(): Promise<ReloadOutcome> {
    return this.check(true);
  }

  private check(requested: boolean): Promise<ReloadOutcome> {
    // One check at a time: a SIGHUP during a poll waits for it rather than racing it.
    const previous = this.running ?? Promise.resolve("unchanged" as ReloadOutcome);
    const next = previous.then(() => this.checkOnce(requested));
    this.running = next;
    return next;
  }

  private async checkOnce(requested: boolean): Promise<ReloadOutcome> {
    const { logger, metrics, transport } = this.options;
    let material: PeerTlsMaterial;
    try {
      material = await readPeerTlsMaterial(this.options.files);
    } catch (error) {
      return this.failed(error instanceof Error ? error.message : String(error), `unreadable:${String(error)}`, requested);
    }
    const current = fingerprint(material);
    if (current === this.applied) {
      if (requested) logger.info({}, "peer TLS reload requested: files unchanged");
      return "unchanged";
    }
    if (current === this.lastFailed && !requested) return "failed";
    try {
      const summary = transport.reloadTls(material);
      this.applied = current;
      this.lastFailed = undefined;
      metrics.increment("peer_tls_reloads_total", { result: "ok" });
      logger.info(
        { certificateExpires: new Date(summary.expiresAtSeconds * 1000).toISOString(), authorities: summary.authorities, connectionsClosed: summary.connectionsClosed },
        "peer TLS material reloaded",
      );
      return "reloaded";
    } catch (error) {
      return this.failed(error instanceof Error ? error.message : String(error), current, requested);
    }
  }

  private failed(message: string, content: string, requested: boolean): ReloadOutcome {
    if (content !== this.lastFailed || requested) {
      this.options.metrics.increment("peer_tls_reloads_total", { result: "failed" });
      this.options.logger.error({ error: message }, "peer TLS reload refused; the material in use stays");
    }
    this.lastFailed = content;
    return "failed";
  }
}

function fingerprint(material: PeerTlsMaterial): string {
  return JSON.stringify([material.caPem, material.certPem, material.keyPem]);
}
