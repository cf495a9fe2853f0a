import type { ClusterStatus } from "@lockstep/protocol";
import { normalizeEndpoint } from "./client-options.js";

/**
 * Which node to ask next. The leader first when we know it (writes and linearizable reads end
 * there anyway, so asking it saves a forwarding hop), then the configured endpoints in order.
 * What it knows comes from `/v1/cluster` answers and from errors' `leader` hints.
 */
export class EndpointRouter {
  readonly #endpoints: readonly string[];
  readonly #clientUrlByNodeId = new Map<string, string>();
  #leaderUrl: string | undefined;

  constructor(endpoints: readonly string[]) {
    this.#endpoints = endpoints;
  }

  get leaderUrl(): string | undefined {
    return this.#leaderUrl;
  }

  /** Every endpoint worth asking, best first, each once. */
  candidates(): string[] {
    const ordered = this.#leaderUrl === undefined ? this.#endpoints : [this.#leaderUrl, ...this.#endpoints];
    return [...new Set(ordered)];
  }

  /** The best candidate not in `tried`, or undefined when every one was tried. */
  pick(tried: ReadonlySet<string>): string | undefined {
    return this.candidates().find((endpoint) => !tried.has(endpoint));
  }

  noteCluster(status: ClusterStatus): void {
    for (const member of status.members) {
      this.#clientUrlByNodeId.set(member.id, normalizeEndpoint(member.clientUrl));
    }
    if (status.leader !== null) this.noteLeaderId(status.leader);
  }

  /** Returns the leader's URL, or undefined when we do not know where that node listens. */
  noteLeaderId(nodeId: string): string | undefined {
    const url = this.#clientUrlByNodeId.get(nodeId);
    if (url !== undefined) this.#leaderUrl = url;
    return url;
  }

  /** The leader we knew did not answer: stop preferring it until we hear of a leader again. */
  forgetLeader(url: string): void {
    if (this.#leaderUrl === url) this.#leaderUrl = undefined;
  }
}
