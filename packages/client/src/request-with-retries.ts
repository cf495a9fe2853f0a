import { ClusterStatusSchema, type ClusterStatus } from "@lockstep/protocol";
import type { ResolvedClientOptions } from "./client-options.js";
import type { EndpointRouter } from "./endpoint-router.js";
import { httpAttempt, type HttpAttemptRequest, type HttpAttemptResult, type ResponseSchema } from "./http-attempt.js";
import { LockstepError, type LockstepErrorCode } from "./lockstep-error.js";
import { computeRetryDelayMs } from "./retry-delay.js";
import { rpcAttempt, type RpcPool } from "./rpc-attempt.js";

export interface RetryContext {
  readonly options: ResolvedClientOptions;
  readonly router: EndpointRouter;
  /** With the `ws` transport: the `/v1/rpc` connections every attempt goes over. */
  readonly rpc?: RpcPool | undefined;
}

export interface RetriedRequest<T> {
  readonly method: "GET" | "POST" | "DELETE";
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly body?: unknown;
  readonly schema: ResponseSchema<T>;
  /** True for a transition: a failure then says whether it may have been applied. */
  readonly mutating: boolean;
}

/** 503 answers: the server could not tell whether it worked, so the same request may be retried. */
const retryableCodes: ReadonlySet<LockstepErrorCode> = new Set(["no_quorum", "timeout", "shutting_down", "overloaded", "no_leader"]);

/** Where the next attempt goes, and whether to wait first. */
interface NextAttempt {
  readonly url: string;
  readonly wait: boolean;
}

/**
 * Sends one logical request, retrying network failures and 503s up to `retryAttemptsMax` times
 * with the identical body (so a transition keeps its request id). Anything else the server says
 * (4xx, 500) or a malformed answer ends the call at once.
 */
export async function requestWithRetries<T>(context: RetryContext, request: RetriedRequest<T>): Promise<T> {
  const { options, router } = context;
  const tried = new Set<string>();
  let mayHaveApplied = false;
  let waits = 0;
  let lastError: LockstepError | undefined;
  let url = firstUntried(router, tried);
  for (let attempt = 0; attempt <= options.retryAttemptsMax; attempt += 1) {
    const result = await attemptOnce(context, url, request);
    let next: NextAttempt;
    switch (result.kind) {
      case "ok":
        return result.value;
      case "protocol":
        throw withOutcomeUnknown(result.error, request.mutating);
      case "api_error":
        if (!retryableCodes.has(result.error.code)) {
          throw withOutcomeUnknown(result.error, request.mutating && outcomeStaysUnknown(result.error.code, mayHaveApplied));
        }
        mayHaveApplied = true;
        lastError = result.error;
        next = await afterUnavailableAnswer(context, url, result.error, tried);
        break;
      case "network":
        mayHaveApplied ||= result.sent;
        lastError = result.error;
        next = afterNetworkFailure(router, url, tried);
        break;
    }
    if (attempt === options.retryAttemptsMax) break;
    if (next.wait) {
      waits += 1;
      await sleep(computeRetryDelayMs({ ...options, retryNumber: waits }));
    }
    url = next.url;
  }
  const attempts = options.retryAttemptsMax + 1;
  throw new LockstepError("unavailable", `gave up after ${attempts} attempts; last: ${lastError?.message ?? "none"}`, {
    cause: lastError,
    outcomeUnknown: request.mutating && mayHaveApplied,
  });
}

/** One attempt over the client's transport: the outcome kinds, and so the retry rules, are the same. */
function attemptOnce<T>(context: Pick<RetryContext, "options" | "rpc">, url: string, request: RetriedRequest<T>): Promise<HttpAttemptResult<T>> {
  if (context.rpc === undefined) return httpAttempt(attemptRequest(context.options, url, request));
  return rpcAttempt(context.rpc, {
    endpoint: url,
    method: request.method,
    path: request.path,
    ...(request.body === undefined ? {} : { body: request.body }),
    timeoutMs: context.options.requestTimeoutMs,
    schema: request.schema,
  });
}

function attemptRequest<T>(options: ResolvedClientOptions, url: string, request: RetriedRequest<T>): HttpAttemptRequest<T> {
  return {
    fetch: options.fetch,
    url: `${url}${request.path}`,
    method: request.method,
    ...(request.body === undefined ? {} : { body: request.body }),
    timeoutMs: options.requestTimeoutMs,
    responseBytesMax: options.responseBytesMax,
    schema: request.schema,
    token: options.token,
  };
}

function firstUntried(router: EndpointRouter, tried: Set<string>): string {
  const url = router.pick(tried);
  if (url !== undefined) return url;
  // Every endpoint failed once in this call: start a new round (after a delay, see callers).
  tried.clear();
  const first = router.pick(tried);
  if (first === undefined) throw new Error("EndpointRouter has no candidates; the options check guarantees one");
  return first;
}

/** No answer: try the next endpoint at once; wait only when a whole round has failed. */
function afterNetworkFailure(router: EndpointRouter, url: string, tried: Set<string>): NextAttempt {
  tried.add(url);
  router.forgetLeader(url);
  const untried = router.pick(tried);
  if (untried !== undefined) return { url: untried, wait: false };
  return { url: firstUntried(router, tried), wait: true };
}

/**
 * A 503. When it names a leader elsewhere, go there at once; when it names itself, wait and ask it
 * again; when it names none (an election, or a node cut off from the majority), wait and move on.
 */
async function afterUnavailableAnswer(
  context: RetryContext,
  url: string,
  error: LockstepError,
  tried: Set<string>,
): Promise<NextAttempt> {
  const leaderId = error.details.leader;
  const leaderUrl =
    leaderId === undefined ? undefined : (context.router.noteLeaderId(leaderId) ?? (await locateLeader(context, url, leaderId)));
  if (leaderUrl !== undefined) return { url: leaderUrl, wait: leaderUrl === url };
  tried.add(url);
  context.router.forgetLeader(url);
  return { url: firstUntried(context.router, tried), wait: true };
}

/** Learns the members' URLs from the node that named the leader; one attempt, failures ignored. */
async function locateLeader(context: RetryContext, url: string, leaderId: string): Promise<string | undefined> {
  const status = await fetchClusterOnce(context, url);
  if (status.kind === "ok") context.router.noteCluster(status.value);
  return context.router.noteLeaderId(leaderId);
}

/** One `GET /v1/cluster` to one node, over the client's transport. */
export function fetchClusterOnce(context: Pick<RetryContext, "options" | "rpc">, url: string): Promise<HttpAttemptResult<ClusterStatus>> {
  return attemptOnce(context, url, { method: "GET", path: "/v1/cluster", schema: ClusterStatusSchema, mutating: false });
}

/**
 * A 500 may come after the entry was committed. `session_expired` after an earlier attempt that may
 * have been applied means the cluster forgot that attempt's answer, so it cannot tell us either.
 */
function outcomeStaysUnknown(code: LockstepErrorCode, mayHaveApplied: boolean): boolean {
  return code === "internal" || (code === "session_expired" && mayHaveApplied);
}

function withOutcomeUnknown(error: LockstepError, outcomeUnknown: boolean): LockstepError {
  if (error.outcomeUnknown === outcomeUnknown) return error;
  return new LockstepError(error.code, error.message, {
    status: error.status,
    details: error.details,
    cause: error.cause,
    outcomeUnknown,
  });
}

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}
