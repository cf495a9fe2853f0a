import type { Transport } from "@lockstep/consensus";
import type { ConsensusEnvelope, Envelope, NodeId } from "@lockstep/protocol";

/** Envelopes waiting for the next delivery turn; beyond it a send is dropped, as a full network link would. */
export const queuedEnvelopesMax = 1_000_000;

/**
 * A zero-latency in-process network on real time, for measuring the consensus core and driver
 * alone: what is sent in one event-loop turn is delivered, in order, in the next `setImmediate`
 * turn (so the sender's Ready loop runs to completion first, and timers still fire). Envelopes are
 * handed over by reference, not serialised: serialisation is the TCP transport's cost, not the
 * core's. Nothing is lost, duplicated or reordered, which every Transport is allowed to do but
 * need not.
 */
export class DirectNetwork {
  private readonly handlers = new Map<NodeId, (envelope: ConsensusEnvelope) => void>();
  private queue: ConsensusEnvelope[] = [];
  private flushScheduled = false;
  private closed = new Set<NodeId>();
  delivered = 0;
  dropped = 0;

  transport(id: NodeId): Transport {
    return {
      send: (envelope) => this.send(id, envelope),
      onMessage: (handler) => {
        this.handlers.set(id, handler);
      },
      close: () => {
        this.closed.add(id);
        this.handlers.delete(id);
        return Promise.resolve();
      },
    };
  }

  private send(from: NodeId, envelope: Envelope): void {
    if (this.closed.has(from) || !isConsensusEnvelope(envelope) || this.queue.length >= queuedEnvelopesMax) {
      this.dropped += 1;
      return;
    }
    this.queue.push(envelope);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.flushScheduled = false;
    for (const envelope of batch) {
      const handler = this.handlers.get(envelope.to);
      if (handler === undefined) {
        this.dropped += 1;
        continue;
      }
      this.delivered += 1;
      handler(envelope);
    }
  }
}

/** Hello and Goodbye belong to connection set-up, which an in-process network has none of. */
function isConsensusEnvelope(envelope: Envelope): envelope is ConsensusEnvelope {
  return envelope.body.type !== "Hello" && envelope.body.type !== "Goodbye";
}
