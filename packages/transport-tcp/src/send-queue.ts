/** One encoded frame waiting for its peer's connection. */
export type QueuedFrame = {
  frame: Uint8Array;
  /** The body type, for the `type` label of the metrics it ends up in. */
  type: string;
  /** Delivery retries spent while the connection was down. */
  retries: number;
};

export type SendQueueLimits = { messagesMax: number; bytesMax: number };

/**
 * A FIFO bounded in messages and in bytes. When a push would exceed either bound the OLDEST
 * frames are dropped, not the new one: consensus messages supersede older ones (a newer heartbeat
 * or proposal carries the newer commit index), so the freshest are the ones worth keeping.
 * Consumption is by a moving head index so that taking from the front costs O(1).
 */
export class SendQueue {
  private frames: QueuedFrame[] = [];
  private head = 0;
  private queuedBytes = 0;

  constructor(private readonly limits: SendQueueLimits) {}

  get length(): number {
    return this.frames.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /** Appends `item` and returns the frames dropped to make room (oldest first). */
  push(item: QueuedFrame): QueuedFrame[] {
    const dropped: QueuedFrame[] = [];
    while (
      this.length > 0 &&
      (this.length + 1 > this.limits.messagesMax || this.queuedBytes + item.frame.byteLength > this.limits.bytesMax)
    ) {
      const oldest = this.shift();
      if (oldest !== undefined) dropped.push(oldest);
    }
    this.frames.push(item);
    this.queuedBytes += item.frame.byteLength;
    return dropped;
  }

  /** Removes frames from the front up to `bytesMax` in total, always at least one if any are queued. */
  takeBatch(bytesMax: number): QueuedFrame[] {
    const batch: QueuedFrame[] = [];
    let batchBytes = 0;
    while (this.length > 0) {
      const next = this.frames[this.head];
      if (next === undefined) break;
      if (batch.length > 0 && batchBytes + next.frame.byteLength > bytesMax) break;
      batch.push(next);
      batchBytes += next.frame.byteLength;
      this.shift();
    }
    return batch;
  }

  /** Calls `visit` on every queued frame, oldest first, and removes those for which it returns false. */
  retain(visit: (item: QueuedFrame) => boolean): QueuedFrame[] {
    const kept: QueuedFrame[] = [];
    const removed: QueuedFrame[] = [];
    for (let index = this.head; index < this.frames.length; index++) {
      const item = this.frames[index];
      if (item === undefined) continue;
      if (visit(item)) kept.push(item);
      else removed.push(item);
    }
    this.frames = kept;
    this.head = 0;
    this.queuedBytes = kept.reduce((total, item) => total + item.frame.byteLength, 0);
    return removed;
  }

  clear(): QueuedFrame[] {
    return this.retain(() => false);
  }

  private shift(): QueuedFrame | undefined {
    const item = this.frames[this.head];
    if (item === undefined) return undefined;
    this.head++;
    this.queuedBytes -= item.frame.byteLength;
    // Compact once the consumed prefix dominates, so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
