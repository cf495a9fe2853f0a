import { ErrorResponseSchema, JoinResponseSchema, type JoinRequest, type JoinResponse } from "@lockstep/protocol";

export interface JoinClusterOptions {
  /** Client URLs of members to ask, in order. */
  urls: readonly string[];
  request: JoinRequest;
  /** Join requests in all before giving up. */
  attemptsMax: number;
  retryDelayMinMs: number;
  retryDelayMaxMs: number;
  /** One request's deadline (the leader waits for two log entries to commit). */
  requestTimeoutMs: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  onAttemptFailed?: (url: string, reason: string) => void;
}

export type JoinClusterResult = { ok: true; answer: JoinResponse; url: string } | { ok: false; message: string };

/** Answers after which asking again cannot help: the token, the request or the configuration refuses. */
const finalCodes = new Set(["join_token_refused", "bad_request", "already_member", "would_lose_quorum", "unknown_member", "not_a_learner", "payload_too_large", "not_found"]);
/** The answer to a join is small; anything larger is not a lockstep node. */
const answerBytesMax = 1024 * 1024;

/**
 * Asks the members in turn to let this node join (`POST /v1/join`). Any member will do: a
 * follower forwards the request to its leader. A member that does not answer, has no leader or
 * is busy with another change is retried after an exponential backoff with jitter, up to
 * `attemptsMax` requests in all; a refusal (a spent token, a taken id) ends the attempt at once.
 * The same request is sent every time, so a join whose answer was lost is answered again.
 */
export async function joinCluster(options: JoinClusterOptions): Promise<JoinClusterResult> {
  const fetchFunction = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let lastReason = "no member was asked";
  let round = 0;
  for (let attempt = 0; attempt < options.attemptsMax; attempt++) {
    const url = options.urls[attempt % options.urls.length]!.replace(/\/+$/, "");
    if (attempt > 0 && attempt % options.urls.length === 0) {
      round++;
      const capped = Math.min(options.retryDelayMaxMs, options.retryDelayMinMs * 2 ** (round - 1));
      await sleep(capped / 2 + Math.random() * (capped / 2));
    }
    const outcome = await askOnce(fetchFunction, url, options);
    if (outcome.kind === "joined") return { ok: true, answer: outcome.answer, url };
    lastReason = `${url}: ${outcome.reason}`;
    options.onAttemptFailed?.(url, outcome.reason);
    if (outcome.kind === "refused") return { ok: false, message: `the cluster refused the join: ${outcome.reason}` };
  }
  return { ok: false, message: `no member let this node join after ${options.attemptsMax} attempts; last: ${lastReason}` };
}

type AskOutcome = { kind: "joined"; answer: JoinResponse } | { kind: "refused"; reason: string } | { kind: "retry"; reason: string };

async function askOnce(fetchFunction: typeof fetch, url: string, options: JoinClusterOptions): Promise<AskOutcome> {
  let response: Response;
  let text: string;
  try {
    response = await fetchFunction(`${url}/v1/join`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(options.request),
      signal: AbortSignal.timeout(options.requestTimeoutMs),
    });
    text = await response.text();
  } catch (error) {
    return { kind: "retry", reason: error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error) };
  }
  if (text.length > answerBytesMax) return { kind: "retry", reason: `answer larger than ${answerBytesMax} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "retry", reason: `status ${response.status}, not JSON` };
  }
  if (response.status === 200) {
    const parsed = JoinResponseSchema.safeParse(json);
    return parsed.success ? { kind: "joined", answer: parsed.data } : { kind: "retry", reason: `the answer does not match the join schema: ${parsed.error.issues[0]?.message ?? ""}` };
  }
  const error = ErrorResponseSchema.safeParse(json);
  if (!error.success) return { kind: "retry", reason: `status ${response.status} without an error body` };
  const { code, message, reason } = error.data.error;
  const described = `${code}${reason === undefined || reason === code ? "" : ` (${reason})`}: ${message}`;
  return finalCodes.has(code) ? { kind: "refused", reason: described } : { kind: "retry", reason: described };
}
