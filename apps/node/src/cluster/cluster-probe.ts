import { ClusterStatusSchema, type ClusterStatus } from "@lockstep/protocol";

const probeTimeoutMs = 1_000;
const pollIntervalMs = 50;

/** One node's `/v1/cluster`, or null when it does not answer in time or answers nonsense. */
export async function fetchClusterStatus(clientUrl: string): Promise<ClusterStatus | null> {
  try {
    const response = await fetch(`${clientUrl}/v1/cluster`, { signal: AbortSignal.timeout(probeTimeoutMs) });
    if (!response.ok) return null;
    const parsed = ClusterStatusSchema.safeParse(await response.json());
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Polls until every listed node answers and all of them name the same leader (one of them);
 * resolves that leader's id, or null at the deadline.
 */
export async function waitForAgreedLeader(clientUrls: readonly string[], timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const statuses = await Promise.all(clientUrls.map(fetchClusterStatus));
    const leaders = new Set(statuses.map((status) => status?.leader ?? null));
    const [leader] = leaders;
    if (leaders.size === 1 && leader !== null && leader !== undefined && statuses.some((status) => status?.self === leader)) return leader;
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
  return null;
}
