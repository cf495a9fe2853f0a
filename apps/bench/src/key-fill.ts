import type { HttpJsonClient } from "./http-json-client.js";
import { errorOf } from "./lockstep-load-client.js";

/** Concurrent requests while filling; a fill is a setup step, not a measurement. */
export const fillConcurrency = 256;
/** A key whose transition keeps failing is abandoned after this many tries, and the fill fails. */
export const fillAttemptsMax = 20;
/** The first retry's delay; each next one doubles, up to `fillRetryDelayMaxMs` (about 16 s in all: a leader election on a loaded machine fits). */
const fillRetryDelayMs = 50;
const fillRetryDelayMaxMs = 1_000;

/**
 * Brings keys `fill-<from>` .. `fill-<to - 1>` into the store by moving each from `Init` to
 * `Running` (a key exists in the store once a transition touched it), with `fillConcurrency`
 * requests in flight. An `invalid_transition` from `Running` means an earlier attempt landed.
 */
export async function fillKeys(http: HttpJsonClient, from: number, to: number): Promise<void> {
  let next = from;
  async function worker(): Promise<void> {
    while (next < to) {
      const index = next;
      next += 1;
      await fillOne(http, `fill-${index}`);
    }
  }
  await Promise.all(Array.from({ length: Math.min(fillConcurrency, Math.max(0, to - from)) }, worker));
}

async function fillOne(http: HttpJsonClient, key: string): Promise<void> {
  for (let attempt = 1; attempt <= fillAttemptsMax; attempt++) {
    const result = await http.post(`/v1/machines/${key}/transition`, { to: "Running" });
    if (result.ok && result.status === 200) return;
    if (result.ok && errorOf(result.body).code === "invalid_transition") return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(fillRetryDelayMaxMs, fillRetryDelayMs * 2 ** (attempt - 1))));
  }
  throw new Error(`fill: ${key} was not written after ${fillAttemptsMax} attempts`);
}
