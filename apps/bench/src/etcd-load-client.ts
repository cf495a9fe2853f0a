import type { HttpJsonClient } from "./http-json-client.js";
import { lifecycleNext } from "./lockstep-load-client.js";
import type { LoadClient, OperationOutcome } from "./load-generator.js";

/**
 * A closed-loop etcd client on its own key: it writes the next lifecycle state as the key's value
 * through the v3 HTTP JSON gateway (`POST <gatewayPath>/kv/put`, key and value base64), the same
 * one-small-write-per-request shape as a lockstep transition. A put is idempotent, so a failed one
 * is simply sent again.
 */
export class EtcdLoadClient implements LoadClient {
  private state = "Init";
  private readonly keyBase64: string;
  private readonly path: string;

  constructor(
    private readonly http: HttpJsonClient,
    gatewayPath: string,
    runId: string,
    index: number,
  ) {
    this.keyBase64 = Buffer.from(`bench-${runId}-${index}`).toString("base64");
    this.path = `${gatewayPath}/kv/put`;
  }

  async next(): Promise<OperationOutcome> {
    const to = lifecycleNext[this.state] ?? "Running";
    const result = await this.http.post(this.path, { key: this.keyBase64, value: Buffer.from(to).toString("base64") });
    if (!result.ok) return result;
    if (result.status !== 200) return { ok: false, code: `http_${result.status}` };
    // The gateway answers 200 with a header for a committed put; an error comes back as a non-200 with `error`.
    if (typeof result.body !== "object" || result.body === null || !("header" in result.body)) return { ok: false, code: "unparsable_answer" };
    this.state = to;
    return { ok: true };
  }
}
