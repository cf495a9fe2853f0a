import type { Logger, MetricsSink } from "@lockstep/consensus";

export type ReloadOutcome = "reloaded" | "unchanged" | "failed";

/** What one port's TLS files are, and how that port takes new ones. */
export interface TlsReloadTarget<Material> {
  /** Names the metric (`<port>_tls_reloads_total`) and the log lines. */
  readonly port: "peer" | "client";
  /** Reads every file; throws an Error that names the file it could not read. */
  read(): Promise<Material>;
  /** Equal for equal contents: an unchanged poll does nothing. */
  fingerprint(material: Material): string;
  /**
   * Validates the material as a whole and puts it in use, or throws naming what is wrong (then
   * nothing changed). Returns what the log line of a successful reload should say.
   */
  apply(material: Material): Record<string, unknown>;
}

export interface TlsReloaderOptions<Material> {
  target: TlsReloadTarget<Material>;
  metrics: MetricsSink;
  logger: Logger;
  /** 0: no polling, only `reload()`. */
  intervalMs: number;
  /** What the port was started with. */
  initial: Material;
}

/**
 * Reloads one port's TLS material without a restart: on `reload()` (the node calls it on
 * SIGHUP) and, every `intervalMs`, when one of the files changed. A change is applied as a
 * whole or not at all (the target validates it); an unusable one is logged and counted
 * (`<port>_tls_reloads_total{result="failed"}`) and the material in use stays. The same unusable
 * content is reported once, not on every poll. The peer and the client port both use it.
 */
export class TlsReloader<Material> {
  private applied: string;
  private lastFailed: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReloadOutcome> | undefined;

  constructor(private readonly options: TlsReloaderOptions<Material>) {
    this.applied = options.target.fingerprint(options.initial);
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
    const { logger, metrics, target } = this.options;
    let material: Material;
    try {
      material = await target.read();
    } catch (error) {
      return this.failed(error instanceof Error ? error.message : String(error), `unreadable:${String(error)}`, requested);
    }
    const current = target.fingerprint(material);
    if (current === this.applied) {
      if (requested) logger.info({}, `${target.port} TLS reload requested: files unchanged`);
      return "unchanged";
    }
    if (current === this.lastFailed && !requested) return "failed";
    try {
      const summary = target.apply(material);
      this.applied = current;
      this.lastFailed = undefined;
      metrics.increment(`${target.port}_tls_reloads_total`, { result: "ok" });
      logger.info(summary, `${target.port} TLS material reloaded`);
      return "reloaded";
    } catch (error) {
      return this.failed(error instanceof Error ? error.message : String(error), current, requested);
    }
  }

  private failed(message: string, content: string, requested: boolean): ReloadOutcome {
    if (content !== this.lastFailed || requested) {
      this.options.metrics.increment(`${this.options.target.port}_tls_reloads_total`, { result: "failed" });
      this.options.logger.error({ error: message }, `${this.options.target.port} TLS reload refused; the material in use stays`);
    }
    this.lastFailed = content;
    return "failed";
  }
}
