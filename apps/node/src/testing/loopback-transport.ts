import type { ConsensusEnvelope, Envelope } from "@lockstep/protocol";
import type { Transport } from "@lockstep/consensus";

/**
 * A Transport for a single-node cluster in tests: there is no peer, so nothing is ever sent;
 * a message addressed to this node itself is delivered back asynchronously, like a network would.
 */
export class LoopbackTransport implements Transport {
  private handler: ((envelope: ConsensusEnvelope) => void) | undefined;
  sentCount = 0;

  constructor(private readonly nodeId: string) {}

  send(envelope: Envelope): void {
    this.sentCount++;
    if (envelope.to !== this.nodeId || envelope.body.type === "Hello" || envelope.body.type === "Goodbye") return;
    queueMicrotask(() => this.handler?.(envelope as ConsensusEnvelope));
  }

  onMessage(handler: (envelope: ConsensusEnvelope) => void): void {
    this.handler = handler;
  }

  close(): Promise<void> {
    this.handler = undefined;
    return Promise.resolve();
  }
}
