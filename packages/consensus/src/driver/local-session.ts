import type { ClientSession } from "@lockstep/protocol";
import type { RequestFailure } from "./pending-requests.js";

export type RegisterOutcome = { ok: true; clientId: string } | RequestFailure;

/**
 * The node's own client session, for writes that arrive without one (a curl without `requestId`,
 * the CLI, tests). Like every client it registers through the log first (Raft thesis §6.3); its
 * seqs then make the driver's own re-proposals of a pending write harmless. One registration is
 * in flight at a time; writes wait for it.
 */
export class LocalSession {
  private clientId: string | null = null;
  private seq = 0;
  private registering: Promise<RegisterOutcome> | null = null;

  constructor(private readonly register: () => Promise<RegisterOutcome>) {}

  /** The session for one more write, registering one first when there is none. */
  async next(): Promise<{ ok: true; session: ClientSession } | RequestFailure> {
    if (this.clientId === null) {
      this.registering ??= this.register().finally(() => {
        this.registering = null;
      });
      const outcome = await this.registering;
      if (!outcome.ok) return outcome;
      if (this.clientId === null) {
        this.clientId = outcome.clientId;
        this.seq = 0;
      }
    }
    return { ok: true, session: { clientId: this.clientId, seq: ++this.seq } };
  }

  /** The store no longer holds `clientId` (it expired): the next write registers again. */
  forget(clientId: string): void {
    if (this.clientId === clientId) this.clientId = null;
  }
}
