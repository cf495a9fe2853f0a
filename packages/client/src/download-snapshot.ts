import { ErrorResponseSchema } from "@lockstep/protocol";
import type { ResolvedClientOptions } from "./client-options.js";
import type { EndpointRouter } from "./endpoint-router.js";
import { LockstepError } from "./lockstep-error.js";
import { readBodyBytes } from "./read-body-bytes.js";

/** A backup is the whole replicated state; the default cap is far above any store a cluster keeps in memory. */
export const snapshotBytesMaxDefault = 1024 * 1024 * 1024;

/**
 * `GET /v1/snapshot` from the first endpoint that answers (the leader first when known): the
 * backup file's bytes, as the node wrote them. A node that answers with an error ends the call
 * (the backup is consistent or refused, never partial); a node that does not answer is skipped.
 */
export async function downloadSnapshot(options: ResolvedClientOptions, router: EndpointRouter, bytesMax: number): Promise<Uint8Array> {
  const tried = new Set<string>();
  let lastError: LockstepError | undefined;
  for (let url = router.pick(tried); url !== undefined; url = router.pick(tried)) {
    tried.add(url);
    let response: Response;
    try {
      response = await options.fetch(`${url}/v1/snapshot`, { method: "GET", signal: AbortSignal.timeout(options.requestTimeoutMs) });
    } catch (error) {
      lastError = new LockstepError("unavailable", `GET ${url}/v1/snapshot: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      continue;
    }
    const bytes = await readBodyBytes(response, bytesMax);
    if (bytes === undefined) throw new LockstepError("protocol", `GET ${url}/v1/snapshot: larger than ${bytesMax} bytes`, { status: response.status });
    if (response.status === 200) return bytes;
    throw errorFrom(url, response.status, bytes);
  }
  throw new LockstepError("unavailable", `no endpoint served a snapshot; last: ${lastError?.message ?? "none"}`, { cause: lastError });
}

function errorFrom(url: string, status: number, bytes: Uint8Array): LockstepError {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return new LockstepError("protocol", `GET ${url}/v1/snapshot: status ${status}, body is not JSON`, { status });
  }
  const parsed = ErrorResponseSchema.safeParse(json);
  if (!parsed.success) return new LockstepError("protocol", `GET ${url}/v1/snapshot: status ${status} without a valid error body`, { status });
  const { code, message, leader } = parsed.data.error;
  return new LockstepError(code, message, { status, details: leader === undefined ? {} : { leader } });
}
