import {
  TokenCreatedSchema,
  TokenListSchema,
  TokenRevokedSchema,
  type TokenCreateRequest,
  type TokenCreated,
  type TokenList,
  type TokenRevoked,
  AddMemberRequestSchema,
  ClusterStatusSchema,
  CreateJoinTokenResponseSchema,
  MembershipChangeResponseSchema,
  MembersResponseSchema,
  NodeIdSchema,
  formatRequestId,
  KeySchema,
  MachineListSchema,
  MachineStateSchema,
  StateNameSchema,
  TransitionResponseSchema,
  type AddMemberRequest,
  type ClusterStatus,
  type CreateJoinTokenResponse,
  type MembershipChangeResponse,
  type MembersResponse,
  type MachineList,
  type MachineState,
  type TransitionRequest,
  type TransitionResponse,
} from "@lockstep/protocol";
import { resolveClientOptions, normalizeEndpoint, type LockstepClientOptions, type ResolvedClientOptions } from "./client-options.js";
import { downloadSnapshot, snapshotBytesMaxDefault } from "./download-snapshot.js";
import { EndpointRouter } from "./endpoint-router.js";
import { LockstepError } from "./lockstep-error.js";
import { fetchClusterOnce, requestWithRetries, type RetriedRequest } from "./request-with-retries.js";
import { WatchStream, type WatchHandle, type WatchOptions } from "./watch-stream.js";

export interface TransitionOptions {
  /** Apply only if the key is in this state now (compare-and-set); else `expect_failed`. */
  readonly expect?: string;
}

export interface GetOptions {
  /** `stale` answers from the asked node's local state, without confirming leadership. */
  readonly consistency?: "linearizable" | "stale";
}

export interface ClusterOptions {
  /** Ask this node only, once, without retries (e.g. to show every member's own view). */
  readonly endpoint?: string;
}

/**
 * A client for a lockstep cluster. Every method either returns the server's validated answer or
 * throws a `LockstepError`. See README.md for what retries promise.
 */
export class LockstepClient {
  readonly clientId: string;
  readonly #options: ResolvedClientOptions;
  readonly #router: EndpointRouter;
  #seq = 0;
  /** The one-time leader lookup, started by the first call that sends a request. */
  #discovery: Promise<void> | undefined;

  constructor(options: LockstepClientOptions) {
    this.#options = resolveClientOptions(options);
    this.clientId = this.#options.clientId;
    this.#router = new EndpointRouter(this.#options.endpoints);
  }

  /** The leader's client URL as far as this client knows, or undefined. */
  get leaderUrl(): string | undefined {
    return this.#router.leaderUrl;
  }

  /**
   * Moves `key` to state `to`. One request id is allocated per call and every retry reuses it, so
   * the transition is applied at most once however many attempts it takes.
   */
  async transition(key: string, to: string, options: TransitionOptions = {}): Promise<TransitionResponse> {
    checkInput("key", key, KeySchema);
    checkInput("state", to, StateNameSchema);
    if (options.expect !== undefined) checkInput("expected state", options.expect, StateNameSchema);
    this.#seq += 1;
    const body: TransitionRequest = {
      to,
      ...(options.expect === undefined ? {} : { expect: options.expect }),
      requestId: formatRequestId({ clientId: this.clientId, seq: this.#seq }),
    };
    const response = await this.#request({
      method: "POST",
      path: `/v1/machines/${encodeURIComponent(key)}/transition`,
      body,
      schema: TransitionResponseSchema,
      mutating: true,
    });
    if (response.key !== key || response.to !== to) {
      throw new LockstepError("protocol", `transition of ${key} to ${to} answered for ${response.key} to ${response.to}`, {
        status: 200,
        outcomeUnknown: true,
      });
    }
    return response;
  }

  async get(key: string, options: GetOptions = {}): Promise<MachineState> {
    checkInput("key", key, KeySchema);
    const query = options.consistency === "stale" ? "?consistency=stale" : "";
    const state = await this.#request({
      method: "GET",
      path: `/v1/machines/${encodeURIComponent(key)}${query}`,
      schema: MachineStateSchema,
      mutating: false,
    });
    if (state.key !== key) throw new LockstepError("protocol", `asked for ${key}, answered for ${state.key}`, { status: 200 });
    return state;
  }

  list(): Promise<MachineList> {
    return this.#request({ method: "GET", path: "/v1/machines", schema: MachineListSchema, mutating: false });
  }

  async cluster(options: ClusterOptions = {}): Promise<ClusterStatus> {
    if (options.endpoint !== undefined) {
      const result = await fetchClusterOnce(this.#options, normalizeEndpoint(options.endpoint));
      if (result.kind !== "ok") throw result.error;
      return result.value;
    }
    // This call learns the leader itself, so the first-call lookup has nothing left to do.
    this.#discovery ??= Promise.resolve();
    const status = await requestWithRetries(
      { options: this.#options, router: this.#router },
      { method: "GET", path: "/v1/cluster", schema: ClusterStatusSchema, mutating: false },
    );
    this.#router.noteCluster(status);
    return status;
  }

  /** The cluster's configuration: every member with its `voter` flag, and the leader. */
  members(): Promise<MembersResponse> {
    return this.#request({ method: "GET", path: "/v1/members", schema: MembersResponseSchema, mutating: false });
  }

  /**
   * Adds a learner: it receives the log but does not vote until promoted (by the cluster once it
   * has caught up, or with `promoteMember`). Refusals: `already_member`, `change_in_progress`.
   */
  async addMember(member: AddMemberRequest): Promise<MembershipChangeResponse> {
    const parsed = AddMemberRequestSchema.safeParse(member);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new LockstepError("bad_request", `invalid member: ${issue.path.join(".")}: ${issue.message}`);
    }
    return this.#request({ method: "POST", path: "/v1/members", body: parsed.data, schema: MembershipChangeResponseSchema, mutating: true });
  }

  /** Makes a learner a voter. Refusals: `unknown_member`, `not_a_learner`, `change_in_progress`. */
  async promoteMember(id: string): Promise<MembershipChangeResponse> {
    checkInput("member id", id, NodeIdSchema);
    return this.#request({ method: "POST", path: `/v1/members/${encodeURIComponent(id)}/promote`, body: {}, schema: MembershipChangeResponseSchema, mutating: true });
  }

  /** Removes a voter or a learner, the leader too (it hands leadership over first). Refusals: `unknown_member`, `would_lose_quorum`. */
  async removeMember(id: string): Promise<MembershipChangeResponse> {
    checkInput("member id", id, NodeIdSchema);
    return this.#request({ method: "DELETE", path: `/v1/members/${encodeURIComponent(id)}`, schema: MembershipChangeResponseSchema, mutating: true });
  }

  /** Creates a client token (needs an admin token); the answer holds the token, shown this once. */
  createToken(request: TokenCreateRequest): Promise<TokenCreated> {
    return this.#request({ method: "POST", path: "/v1/tokens", body: request, schema: TokenCreatedSchema, mutating: true });
  }

  /** Every client token: names, roles, prefixes, creation revisions (never secrets). */
  listTokens(): Promise<TokenList> {
    return this.#request({ method: "GET", path: "/v1/tokens", schema: TokenListSchema, mutating: false });
  }

  /** Revokes a client token on every node (through the log). */
  revokeToken(name: string): Promise<TokenRevoked> {
    return this.#request({ method: "DELETE", path: `/v1/tokens/${encodeURIComponent(name)}`, schema: TokenRevokedSchema, mutating: true });
  }

  /** A new one-time join token for `lockstep start --join ... --join-token TOKEN` (shown once; the cluster keeps its hash). */
  createJoinToken(options: { ttlSeconds?: number } = {}): Promise<CreateJoinTokenResponse> {
    return this.#request({ method: "POST", path: "/v1/join-tokens", body: options, schema: CreateJoinTokenResponseSchema, mutating: true });
  }

  /** A consistent, checksummed backup of the replicated state (`GET /v1/snapshot`), as file bytes. */
  async snapshot(options: { bytesMax?: number } = {}): Promise<Uint8Array> {
    this.#discovery ??= this.#discoverLeader();
    await this.#discovery;
    return downloadSnapshot(this.#options, this.#router, options.bytesMax ?? snapshotBytesMaxDefault);
  }

  /** Streams committed transitions; resumes by itself after a lost connection. */
  watch(options: WatchOptions): WatchHandle {
    if (options.from !== undefined && (!Number.isSafeInteger(options.from) || options.from < 1)) {
      throw new TypeError(`watch: from must be an integer >= 1, got ${options.from}`);
    }
    return new WatchStream(
      {
        options: this.#options,
        router: this.#router,
        currentRevision: async () => (await this.list()).revision,
      },
      options,
    );
  }

  async #request<T>(request: RetriedRequest<T>): Promise<T> {
    this.#discovery ??= this.#discoverLeader();
    await this.#discovery;
    return requestWithRetries({ options: this.#options, router: this.#router }, request);
  }

  /**
   * Asks the endpoints in turn, once each, where the leader is. Best effort: if none answers, the
   * request itself will find out, and followers forward to the leader anyway.
   */
  async #discoverLeader(): Promise<void> {
    for (const endpoint of this.#router.candidates()) {
      const result = await fetchClusterOnce(this.#options, endpoint);
      if (result.kind === "ok") {
        this.#router.noteCluster(result.value);
        return;
      }
    }
  }
}

/** Bad input is refused before anything is sent, the way the server would refuse it. */
function checkInput(what: string, value: string, schema: { safeParse(input: unknown): { success: boolean } }): void {
  if (!schema.safeParse(value).success) {
    throw new LockstepError("bad_request", `invalid ${what}: ${JSON.stringify(value)}`);
  }
}
