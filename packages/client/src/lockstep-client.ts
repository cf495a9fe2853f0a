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
DeleteResponseSchema,
  MembershipChangeResponseSchema,
  MembersResponseSchema,
  NodeIdSchema,
  formatRequestId,
  KeySchema,
  MachineListSchema,
  machineListLimitMax,
  MachineStateSchema,
  SessionResponseSchema,
  StateNameSchema,
  TransitionResponseSchema,
  type AddMemberRequest,
  type ClusterStatus,
  type CreateJoinTokenResponse,
type DeleteResponse,
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
import { RpcPool } from "./rpc-attempt.js";
import { fetchClusterOnce, requestWithRetries, type RetriedRequest } from "./request-with-retries.js";
import { WatchStream, type WatchHandle, type WatchOptions } from "./watch-stream.js";

export interface TransitionOptions {
  /** Apply only if the key is in this state now (compare-and-set); else `expect_failed`. */
  readonly expect?: string;
}

export interface DeleteOptions {
  /** Delete only if the key is in this state now (compare-and-delete); else `expect_failed`. */
  readonly expect?: string;
}

export interface ListOptions {
  /** Keys per page, 1 to 10 000; default the server's (1 000). */
  readonly limit?: number;
  /** Start after this key (the `next` of the previous page). */
  readonly after?: string;
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
  readonly #options: ResolvedClientOptions;
  readonly #router: EndpointRouter;
  /** This client's session (registered through the cluster's log) and the last seq it used. */
  #session: { id: string; seq: number } | undefined;
  #registering: Promise<{ id: string; seq: number }> | undefined;
  /** The one-time leader lookup, started by the first call that sends a request. */
  #discovery: Promise<void> | undefined;

  /** The `/v1/rpc` connections, with the `ws` transport. */
  readonly #rpc: RpcPool | undefined;

  constructor(options: LockstepClientOptions) {
    this.#options = resolveClientOptions(options);
    this.#router = new EndpointRouter(this.#options.endpoints);
    this.#rpc =
      this.#options.transport === "ws"
        ? new RpcPool({
            token: this.#options.token,
            ca: this.#options.ca,
            cert: this.#options.cert,
            key: this.#options.key,
            answerBytesMax: this.#options.responseBytesMax,
            requestsInflightMax: this.#options.rpcRequestsInflightMax,
            pingIntervalMs: this.#options.rpcPingIntervalMs,
          })
        : undefined;
  }

  /**
   * Closes the client's `/v1/rpc` connections (the `ws` transport); requests still waiting fail
   * as `unavailable` with an unknown outcome. Watches are closed by their own handles. A later
   * call opens new connections.
   */
  close(): void {
    this.#rpc?.close();
  }

  /** The leader's client URL as far as this client knows, or undefined. */
  get leaderUrl(): string | undefined {
    return this.#router.leaderUrl;
  }

  /** The session id the cluster gave this client, once it registered one (on the first write). */
  get sessionId(): string | undefined {
    return this.#session?.id;
  }

  /**
   * Moves `key` to state `to`. One request id is allocated per call and every retry reuses it, so
   * the transition is applied at most once however many attempts it takes.
   */
  async transition(key: string, to: string, options: TransitionOptions = {}): Promise<TransitionResponse> {
    checkInput("key", key, KeySchema);
    checkInput("state", to, StateNameSchema);
    if (options.expect !== undefined) checkInput("expected state", options.expect, StateNameSchema);
    const response = await this.#write((requestId) => {
      const body: TransitionRequest = { to, ...(options.expect === undefined ? {} : { expect: options.expect }), requestId };
      return { method: "POST", path: `/v1/machines/${encodeURIComponent(key)}/transition`, body, schema: TransitionResponseSchema, mutating: true };
    });
    if (response.key !== key || response.to !== to) {
      throw new LockstepError("protocol", `transition of ${key} to ${to} answered for ${response.key} to ${response.to}`, {
        status: 200,
        outcomeUnknown: true,
      });
    }
    return response;
  }

  /**
   * Deletes `key` (it is back in the initial state at revision 0); always allowed, also when the
   * cluster is over its quota. Applied at most once, like a transition.
   */
  async delete(key: string, options: DeleteOptions = {}): Promise<DeleteResponse> {
    checkInput("key", key, KeySchema);
    if (options.expect !== undefined) checkInput("expected state", options.expect, StateNameSchema);
    const response = await this.#write((requestId) => {
      const query = new URLSearchParams({ ...(options.expect === undefined ? {} : { expect: options.expect }), requestId });
      // An empty JSON body: the server asks every state-changing request for `Content-Type: application/json`.
      return { method: "DELETE", path: `/v1/machines/${encodeURIComponent(key)}?${query.toString()}`, body: {}, schema: DeleteResponseSchema, mutating: true };
    });
    if (response.key !== key) throw new LockstepError("protocol", `delete of ${key} answered for ${response.key}`, { status: 200, outcomeUnknown: true });
    return response;
  }

  /**
   * Sends one write with a fresh request id of this client's session, registering a session first
   * when it has none. When the cluster answers `session_expired` and no attempt of this write may
   * have been applied, it is certainly not applied: the write is sent once more with a new
   * session (or a new seq). When an attempt may have been applied, the error is thrown with
   * `outcomeUnknown`: sending it again could apply it twice.
   */
  async #write<T>(build: (requestId: string) => RetriedRequest<T>): Promise<T> {
    for (let renewal = 0; ; renewal += 1) {
      const session = await this.#currentSession();
      session.seq += 1;
      try {
        return await this.#request(build(formatRequestId({ clientId: session.id, seq: session.seq })));
      } catch (error) {
        const expired = error instanceof LockstepError && error.code === "session_expired" && !error.outcomeUnknown;
        if (!expired || renewal >= sessionRenewalsMax) throw error;
        if (error.details.reason !== "seq_below_window" && this.#session === session) this.#session = undefined;
      }
    }
  }

  async #currentSession(): Promise<{ id: string; seq: number }> {
    if (this.#session !== undefined) return this.#session;
    this.#registering ??= this.#register().finally(() => {
      this.#registering = undefined;
    });
    return this.#registering;
  }

  /** Registering is safe to retry: a session registered twice leaves one unused, which expires. */
  async #register(): Promise<{ id: string; seq: number }> {
    const answer = await this.#request({ method: "POST", path: "/v1/sessions", body: {}, schema: SessionResponseSchema, mutating: false });
    const session = { id: answer.sessionId, seq: 0 };
    this.#session = session;
    return session;
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

  /** One page of the keys held, sorted; pass `next` as `after` for the following page (null: the last). */
  async list(options: ListOptions = {}): Promise<MachineList> {
    if (options.limit !== undefined && !(Number.isSafeInteger(options.limit) && options.limit >= 1 && options.limit <= machineListLimitMax)) {
      throw new LockstepError("bad_request", `invalid limit: ${options.limit} (1 to ${machineListLimitMax})`);
    }
    if (options.after !== undefined) checkInput("key", options.after, KeySchema);
    const query = new URLSearchParams({
      ...(options.limit === undefined ? {} : { limit: String(options.limit) }),
      ...(options.after === undefined ? {} : { after: options.after }),
    }).toString();
    return this.#request({ method: "GET", path: `/v1/machines${query === "" ? "" : `?${query}`}`, schema: MachineListSchema, mutating: false });
  }

  /** Every key held, page after page (each page is consistent; the whole is not one snapshot). */
  async *listAll(options: { limit?: number } = {}): AsyncGenerator<MachineState> {
    let after: string | undefined;
    for (let page = 0; page < listPagesMax; page += 1) {
      const answer = await this.list({ ...options, ...(after === undefined ? {} : { after }) });
      yield* answer.machines;
      if (answer.next === null) return;
      after = answer.next;
    }
    throw new LockstepError("protocol", `listAll: more than ${listPagesMax} pages`);
  }

  async cluster(options: ClusterOptions = {}): Promise<ClusterStatus> {
    if (options.endpoint !== undefined) {
      const result = await fetchClusterOnce({ options: this.#options, rpc: this.#rpc }, normalizeEndpoint(options.endpoint));
      if (result.kind !== "ok") throw result.error;
      return result.value;
    }
    // This call learns the leader itself, so the first-call lookup has nothing left to do.
    this.#discovery ??= Promise.resolve();
    const status = await requestWithRetries(
      { options: this.#options, router: this.#router, rpc: this.#rpc },
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

  /** Makes a learner a voter. Refusals: `unknown_member`, `not_a_learner`, `learner_not_caught_up`, `change_in_progress`. */
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
        currentRevision: async () => (await this.list({ limit: 1 })).revision,
      },
      options,
    );
  }

  async #request<T>(request: RetriedRequest<T>): Promise<T> {
    this.#discovery ??= this.#discoverLeader();
    await this.#discovery;
    return requestWithRetries({ options: this.#options, router: this.#router, rpc: this.#rpc }, request);
  }

  /**
   * Asks the endpoints in turn, once each, where the leader is. Best effort: if none answers, the
   * request itself will find out, and followers forward to the leader anyway.
   */
  async #discoverLeader(): Promise<void> {
    for (const endpoint of this.#router.candidates()) {
      const result = await fetchClusterOnce({ options: this.#options, rpc: this.#rpc }, endpoint);
      if (result.kind === "ok") {
        this.#router.noteCluster(result.value);
        return;
      }
    }
  }
}

/** How many times one write is sent again with a new session after `session_expired` proved it was not applied. */
const sessionRenewalsMax = 2;
/** Pages `listAll` reads at most: far beyond any keysMax, so only a misbehaving server reaches it. */
const listPagesMax = 100_000;

/** Bad input is refused before anything is sent, the way the server would refuse it. */
function checkInput(what: string, value: string, schema: { safeParse(input: unknown): { success: boolean } }): void {
  if (!schema.safeParse(value).success) {
    throw new LockstepError("bad_request", `invalid ${what}: ${JSON.stringify(value)}`);
  }
}
