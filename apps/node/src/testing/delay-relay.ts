import { createConnection, createServer, type Server, type Socket } from "node:net";

/** One listening address and where its connections are relayed to. */
export interface RelayRoute {
  listen: { host: string; port: number };
  target: { host: string; port: number };
}

export interface RelayDelay {
  /** Added to every chunk in each direction. */
  delayMs: number;
  /** Up to this much more, drawn per chunk; chunks still leave in the order they came. */
  jitterMs: number;
}

/** A direction holding more than this many undelivered bytes pauses its reader (backpressure). */
const pendingBytesMax = 4 * 1024 * 1024;
const connectTimeoutMs = 2_000;
/** Timers fire with millisecond granularity: a chunk due within this much is sent now. */
const timerSlackMs = 1;

/**
 * A TCP relay that delays the bytes it carries, for networks whose kernel has no `netem`: each
 * chunk read from one side is written to the other `delayMs + random(0..jitterMs)` later, never
 * before the chunk ahead of it (TCP's order holds). The delay can change while connections are
 * open. A direction with more than `pendingBytesMax` waiting pauses its source until it drains.
 */
export class DelayRelay {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private delay: RelayDelay = { delayMs: 0, jitterMs: 0 };

  private constructor(private readonly random: () => number) {}

  static async start(routes: readonly RelayRoute[], random: () => number = Math.random): Promise<DelayRelay> {
    const relay = new DelayRelay(random);
    for (const route of routes) relay.servers.push(await relay.listen(route));
    return relay;
  }

  setDelay(delay: RelayDelay): void {
    this.delay = { delayMs: Math.max(0, delay.delayMs), jitterMs: Math.max(0, delay.jitterMs) };
  }

  get currentDelay(): RelayDelay {
    return { ...this.delay };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  private listen(route: RelayRoute): Promise<Server> {
    const server = createServer((inbound) => this.relay(inbound, route));
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(route.listen.port, route.listen.host, () => resolve(server));
    });
  }

  private relay(inbound: Socket, route: RelayRoute): void {
    const outbound = createConnection({ host: route.target.host, port: route.target.port, timeout: connectTimeoutMs });
    outbound.once("connect", () => outbound.setTimeout(0));
    outbound.once("timeout", () => outbound.destroy());
    for (const socket of [inbound, outbound]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.once("close", () => {
        this.sockets.delete(socket);
        inbound.destroy();
        outbound.destroy();
      });
      socket.on("error", () => socket.destroy());
    }
    this.pipe(inbound, outbound);
    this.pipe(outbound, inbound);
  }

  /** Carries `from`'s bytes to `to` after the current delay, in order, with bounded buffering. */
  private pipe(from: Socket, to: Socket): void {
    const queue: Array<{ chunk: Buffer; dueMs: number }> = [];
    let pendingBytes = 0;
    let timer: NodeJS.Timeout | null = null;
    // One timer per direction, always for the head of the queue: chunks can only leave in order.
    const flush = (): void => {
      timer = null;
      const now = performance.now();
      while (queue.length > 0 && queue[0]!.dueMs <= now + timerSlackMs) {
        const { chunk } = queue.shift()!;
        pendingBytes -= chunk.length;
        if (!to.destroyed) to.write(chunk);
      }
      if (pendingBytes <= pendingBytesMax && from.isPaused()) from.resume();
      if (queue.length > 0) timer = setTimeout(flush, queue[0]!.dueMs - now);
    };
    from.on("data", (chunk: Buffer) => {
      const now = performance.now();
      const previousDueMs = queue.at(-1)?.dueMs ?? 0;
      queue.push({ chunk, dueMs: Math.max(previousDueMs, now + this.delay.delayMs + this.random() * this.delay.jitterMs) });
      pendingBytes += chunk.length;
      if (pendingBytes > pendingBytesMax) from.pause();
      if (timer === null) {
        if (queue[0]!.dueMs <= now) flush();
        else timer = setTimeout(flush, queue[0]!.dueMs - now);
      }
    });
    from.once("close", () => {
      if (timer !== null) clearTimeout(timer);
    });
  }
}
