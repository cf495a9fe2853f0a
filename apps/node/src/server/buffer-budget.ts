/** A socket whose unsent bytes count against the budget. */
export interface BufferedSocket {
  readonly bufferedAmount: number;
}

/**
 * One budget of bytes buffered for every watch, dashboard and rpc socket together: per-socket limits
 * alone let `clientsMax × bufferedBytesMax` pile up. The sum is recomputed at most once per
 * event-loop turn, so checking it before every send costs a comparison.
 */
export class BufferBudget {
  private readonly sockets = new Set<BufferedSocket>();
  private usedBytesCached = 0;
  private stale = true;

  constructor(
    readonly bytesMax: number,
    private readonly onCut: (stream: "watch" | "dashboard" | "rpc") => void,
  ) {}

  add(socket: BufferedSocket): void {
    this.sockets.add(socket);
  }

  remove(socket: BufferedSocket): void {
    this.sockets.delete(socket);
  }

  /** Bytes buffered now across every tracked socket (as of this turn). */
  usedBytes(): number {
    if (this.stale) {
      let total = 0;
      for (const socket of this.sockets) total += socket.bufferedAmount;
      this.usedBytesCached = total;
      this.stale = false;
      setImmediate(() => (this.stale = true));
    }
    return this.usedBytesCached;
  }

  /**
   * True when `socket` must be cut before more is sent to it: the budget is spent and this socket
   * is one of those holding it (it still has unsent bytes). A socket that keeps up is never cut.
   * The caller closes it; this counts it.
   */
  shouldCut(socket: BufferedSocket, stream: "watch" | "dashboard" | "rpc"): boolean {
    if (socket.bufferedAmount === 0 || this.usedBytes() <= this.bytesMax) return false;
    this.onCut(stream);
    this.sockets.delete(socket);
    this.stale = true;
    return true;
  }
}
