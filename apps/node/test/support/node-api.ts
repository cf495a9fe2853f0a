import { ClusterStatusSchema, MachineListSchema, SessionResponseSchema, type ClusterStatus, type MachineList } from "@lockstep/protocol";
import { fetchClusterStatus } from "../../src/cluster/cluster-probe.js";

/** Raw HTTP against one node, as curl would: the tests see exactly what a user sees. */
const requestTimeoutMs = 10_000;
const pollIntervalMs = 25;

export type HttpAnswer = { status: number; body: unknown };

export async function postTransition(clientUrl: string, key: string, body: { to: string; expect?: string; requestId?: string }): Promise<HttpAnswer> {
  const response = await fetch(`${clientUrl}/v1/machines/${encodeURIComponent(key)}/transition`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  return { status: response.status, body: await response.json() };
}

/** Registers a client session (`POST /v1/sessions`) and returns its id; throws unless it is answered 200. */
export async function registerSession(clientUrl: string): Promise<string> {
  const response = await fetch(`${clientUrl}/v1/sessions`, { method: "POST", headers: { "Content-Type": "application/json" }, signal: AbortSignal.timeout(requestTimeoutMs) });
  const body: unknown = await response.json();
  if (response.status !== 200) throw new Error(`POST ${clientUrl}/v1/sessions answered ${response.status}: ${JSON.stringify(body)}`);
  return SessionResponseSchema.parse(body).sessionId;
}

export async function getJson(url: string): Promise<HttpAnswer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(requestTimeoutMs) });
  return { status: response.status, body: await response.json() };
}

/** Every key's state as this node has applied it (`consistency=stale`: no leader involved). */
export async function staleStates(clientUrl: string): Promise<MachineList> {
  const answer = await getJson(`${clientUrl}/v1/machines?consistency=stale`);
  if (answer.status !== 200) throw new Error(`GET ${clientUrl}/v1/machines answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return MachineListSchema.parse(answer.body);
}

export async function clusterStatus(clientUrl: string): Promise<ClusterStatus> {
  const answer = await getJson(`${clientUrl}/v1/cluster`);
  return ClusterStatusSchema.parse(answer.body);
}

export { fetchClusterStatus };

/** Polls `probe` until it returns a value other than undefined; throws with `what` at the deadline. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(pollIntervalMs);
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}

export function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

/**
 * Resolves once every listed node has applied the same index as the others and they all show
 * the same states (stale reads); returns those states. This is what "converged" means to a user.
 */
export async function waitForConvergence(clientUrls: readonly string[], timeoutMs: number): Promise<MachineList> {
  return waitFor(
    `${clientUrls.join(", ")} to converge`,
    async () => {
      const statuses = await Promise.all(clientUrls.map(fetchClusterStatus));
      if (statuses.some((status) => status === null || status.leader === null)) return undefined;
      const applied = new Set(statuses.map((status) => status!.appliedIndex));
      const committed = Math.max(...statuses.map((status) => status!.commitIndex));
      if (applied.size !== 1 || [...applied][0]! < committed) return undefined;
      const lists = await Promise.all(clientUrls.map(staleStates));
      const texts = new Set(lists.map((list) => JSON.stringify(list)));
      return texts.size === 1 ? lists[0] : undefined;
    },
    timeoutMs,
  );
}

/** Prometheus text -> the sum of every series of `name` whose labels include `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const seriesLabels = parseLabels(match[3] ?? "");
    if (Object.entries(labels).every(([label, value]) => seriesLabels.get(label) === value)) sum += Number(match[4]);
  }
  return sum;
}

/** Does the text declare metric `name` (a `# TYPE` line)? */
export function hasMetric(text: string, name: string): boolean {
  return text.split("\n").some((line) => line.startsWith(`# TYPE ${name} `));
}

function parseLabels(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const match of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels.set(match[1]!, match[2]!);
  return labels;
}

export async function metricsText(clientUrl: string): Promise<string> {
  const response = await fetch(`${clientUrl}/metrics`, { signal: AbortSignal.timeout(requestTimeoutMs) });
  if (!response.ok) throw new Error(`GET ${clientUrl}/metrics answered ${response.status}`);
  return response.text();
}
