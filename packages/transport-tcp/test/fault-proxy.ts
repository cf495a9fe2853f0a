/**
 * A TCP proxy that sits between two lockstep endpoints and injects network faults, for
 * integration tests: `pass` forwards, `drop` loses whole TLS records (with a probability),
 * `tamper` flips a bit in every application-data record, `delay` holds every record for a time
 * (order preserved, as TCP would), `cut` destroys every connection and refuses new ones until the
 * mode changes. Peer traffic is TLS, so the proxy splits the stream on TLS record headers (5
 * bytes: type, version, length): a lost or altered record is exactly what TLS detects, so
 * `drop` and `tamper` break the connection (the transport then redials) rather than lose or
 * corrupt one message. A header announcing more than `recordBytesMax` switches that direction
 * to raw forwarding (the garbage passes through untouched).
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";

export type FaultMode =
  | { kind: "pass" }
  | { kind: "drop"; probability?: number }
  | { kind: "tamper" }
  | { kind: "delay"; delayMs: number }
  | { kind: "cut" };

export type Endpoint = { host: string; port: number };

export type FaultProxyOptions = {
  target: Endpoint;
  /** Default 127.0.0.1 on a free port. */
  listen?: Endpoint;
  mode?: FaultMode;
  /** For `drop` with a probability below 1. Default `Math.random`. */
  random?: () => number;
  /** Larger record lengths are not TLS: the direction falls back to raw forwarding. Default 18 432 (2^14 + 2048, RFC 8446 §5.2). */
  recordBytesMax?: number;
  /** Bytes held back per direction (delayed or awaiting 'drain'); past it the source is paused. Default 8 MiB. */
  heldBytesMax?: number;
};

const recordHeaderBytes = 5;
const applicationDataRecord = 23;

export class FaultProxy {
  private currentMode: FaultMode;
  private readonly links = new Set<ProxyLink>();

  private constructor(
    private readonly server: Server,
    private readonly options: Required<Omit<FaultProxyOptions, "listen" | "mode">>,
    mode: FaultMode,
  ) {
    this.currentMode = mode;
    server.on("connection", (client) => this.onConnection(client));
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = createServer();
    const listen = options.listen ?? { host: "127.0.0.1", port: 0 };
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
    return new FaultProxy(
      server,
      {
        target: options.target,
        random: options.random ?? Math.random,
        recordBytesMax: options.recordBytesMax ?? 18_432,
        heldBytesMax: options.heldBytesMax ?? 8 * 1024 * 1024,
      },
      options.mode ?? { kind: "pass" },
    );
  }

  address(): Endpoint {
    const bound = this.server.address() as AddressInfo;
    return { host: bound.address, port: bound.port };
  }

  get mode(): FaultMode {
    return this.currentMode;
  }

  /** Open client connections (each paired with one upstream connection). */
  get connectionCount(): number {
    return this.links.size;
  }

  setMode(mode: FaultMode): void {
    this.currentMode = mode;
    if (mode.kind === "cut") for (const link of this.links) link.destroy();
  }

  async close(): Promise<void> {
    for (const link of this.links) link.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private onConnection(client: Socket): void {
    if (this.currentMode.kind === "cut") return void client.destroy();
    const link = new ProxyLink(client, this.options, () => this.currentMode, () => this.links.delete(link));
    this.links.add(link);
  }
}

class ProxyLink {
  private readonly upstream: Socket;
  private destroyed = false;

  constructor(
    private readonly client: Socket,
    options: Required<Omit<FaultProxyOptions, "listen" | "mode">>,
    mode: () => FaultMode,
    onDestroyed: () => void,
  ) {
    client.pause();
    this.upstream = connect(options.target);
    this.upstream.once("connect", () => client.resume());
    new ProxyDirection(client, this.upstream, options, mode);
    new ProxyDirection(this.upstream, client, options, mode);
    for (const socket of [client, this.upstream]) {
      socket.on("error", () => undefined);
      socket.on("close", () => {
        this.destroy();
        onDestroyed();
      });
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.client.destroy();
    this.upstream.destroy();
  }
}

/** One direction of a link: split into TLS records, apply the mode, release in order. */
class ProxyDirection {
  private pending: Buffer = Buffer.alloc(0);
  private raw = false;
  private readonly held: { bytes: Buffer; releaseAtMs: number }[] = [];
  private heldBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;

  constructor(
    private readonly source: Socket,
    private readonly destination: Socket,
    private readonly options: Required<Omit<FaultProxyOptions, "listen" | "mode">>,
    private readonly mode: () => FaultMode,
  ) {
    source.on("data", (chunk: Buffer) => this.onData(chunk));
    destination.on("drain", () => {
      this.waitingForDrain = false;
      this.release();
    });
    source.on("close", () => clearTimeout(this.timer));
  }

  private onData(chunk: Buffer): void {
    if (this.raw) return this.admit(chunk);
    this.pending = this.pending.byteLength === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.byteLength >= recordHeaderBytes) {
      const payloadBytes = this.pending.readUInt16BE(3);
      if (payloadBytes > this.options.recordBytesMax) {
        this.raw = true;
        this.admit(this.pending);
        this.pending = Buffer.alloc(0);
        return;
      }
      if (this.pending.byteLength < recordHeaderBytes + payloadBytes) return;
      this.admit(this.pending.subarray(0, recordHeaderBytes + payloadBytes));
      this.pending = this.pending.subarray(recordHeaderBytes + payloadBytes);
    }
  }

  private admit(bytes: Buffer): void {
    const mode = this.mode();
    const nowMs = performance.now();
    let releaseAtMs = nowMs;
    switch (mode.kind) {
      case "cut":
        return;
      case "drop":
        if (this.options.random() < (mode.probability ?? 1)) return;
        break;
      case "tamper":
        if (!this.raw && bytes[0] === applicationDataRecord && bytes.byteLength > recordHeaderBytes) {
          bytes = Buffer.from(bytes);
          bytes[bytes.byteLength - 1] = bytes[bytes.byteLength - 1]! ^ 0x01;
        }
        break;
      case "delay":
        releaseAtMs = nowMs + mode.delayMs;
        break;
      case "pass":
        break;
    }
    // TCP never reorders: a frame is released no earlier than the one before it.
    const last = this.held.at(-1);
    if (last !== undefined) releaseAtMs = Math.max(releaseAtMs, last.releaseAtMs);
    this.held.push({ bytes, releaseAtMs });
    this.heldBytes += bytes.byteLength;
    if (this.heldBytes > this.options.heldBytesMax) this.source.pause();
    this.release();
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const nowMs = performance.now();
    while (!this.waitingForDrain && this.held.length > 0) {
      const next = this.held[0]!;
      if (next.releaseAtMs > nowMs) {
        this.timer = setTimeout(() => this.release(), next.releaseAtMs - nowMs);
        return;
      }
      this.held.shift();
      this.heldBytes -= next.bytes.byteLength;
      if (this.destination.destroyed) continue;
      this.waitingForDrain = !this.destination.write(next.bytes);
    }
    if (this.heldBytes <= this.options.heldBytesMax && this.source.isPaused() && !this.source.destroyed) this.source.resume();
  }
}
