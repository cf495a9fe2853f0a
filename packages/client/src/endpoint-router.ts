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

  /** The configured endpoints' scheme: a member URL of another scheme is never followed. */
  readonly #protocol: string | undefined;

  constructor(endpoints: readonly string[]) {
    this.#endpoints = endpoints;
    this.#protocol = endpoints[0] === undefined ? undefined : new URL(endpoints[0]).protocol;
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
      // A leader hint must not downgrade https to http (nor lead elsewhere than the configured scheme).
      if (!URL.canParse(member.clientUrl) || new URL(member.clientUrl).protocol !== this.#protocol) continue;
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
