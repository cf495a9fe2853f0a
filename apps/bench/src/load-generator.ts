import { performance } from "node:perf_hooks";
import { LatencySamples, type LatencySummary } from "./latency-samples.js";

/** What one request ended with: committed, or a failure with the server's (or the socket's) code. */
export type OperationOutcome = { ok: true } | { ok: false; code: string };

/**
 * One closed-loop client: it has at most one request in flight and issues the next as soon as
 * the previous one is answered. It keeps its own key and state, so every request is valid.
 */
export interface LoadClient {
  next(): Promise<OperationOutcome>;
  /**
   * Optional: the same request as `next`, answered through a callback. A client that calls a
   * node in this process implements it so that the generator costs one promise hop per request,
   * not three (two async functions awaiting each other cost the in-process bench about 15 % of
   * its rate). `runPhase` uses it when it is there.
   */
  nextThen?(done: (outcome: OperationOutcome) => void): void;
}

export interface PhaseOptions {
  clients: readonly LoadClient[];
  durationMs: number;
  /** Called about every `progressIntervalMs` with what has completed so far in this phase. */
  onProgress?: (progress: PhaseProgress) => void;
  progressIntervalMs?: number;
}

export interface PhaseProgress {
  elapsedMs: number;
  durationMs: number;
  committed: number;
  failed: number;
}

export interface PhaseResult {
  concurrency: number;
  seconds: number;
  committed: number;
  failed: number;
  failuresByCode: Record<string, number>;
  committedPerSecond: number;
  latency: LatencySummary;
  /** CPU this process (the load generator) used during the phase, user + system. */
  generatorCpuMs: number;
}

/** A failed request is retried by its client after this pause, so a down server is not hammered in a tight loop. */
export const failureBackoffMs = 10;
/** Distinct failure codes kept per phase; any further code is counted under "other". */
export const failureCodesMax = 32;

/**
 * Runs every client in a closed loop for `durationMs`. The rate counts requests answered within
 * the window; latencies are kept for every request started in it. Resolves once the requests
 * still in flight at the deadline are answered, so the next phase starts from a quiet system.
 */
export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const samples = new LatencySamples();
  const failuresByCode: Record<string, number> = {};
  let committed = 0;
  let failed = 0;
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  const deadlineMs = startedMs + options.durationMs;
  const progressTimer =
    options.onProgress === undefined
      ? null
      : setInterval(() => options.onProgress?.({ elapsedMs: performance.now() - startedMs, durationMs: options.durationMs, committed, failed }), options.progressIntervalMs ?? 1000);

  /** Counts one answer: committed (with its latency) or failed by code. Returns whether to back off first. */
  function record(outcome: OperationOutcome, sentMs: number, answeredMs: number): boolean {
    const inWindow = answeredMs <= deadlineMs;
    if (outcome.ok) {
      samples.record((answeredMs - sentMs) * 1000);
      if (inWindow) committed += 1;
      return false;
    }
    if (inWindow) failed += 1;
    const code = outcome.code in failuresByCode || Object.keys(failuresByCode).length < failureCodesMax ? outcome.code : "other";
    failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
    return true;
  }

  /**
   * One client's closed loop: a request, its answer counted, the next request (after a pause if
   * it failed), until the deadline. A client's `nextThen` is called directly; a client with only
   * `next` is called through its promise, whose rejection ends the phase with that error.
   */
  function drive(client: LoadClient): Promise<void> {
    return new Promise((finished, failedWith) => {
      const request = client.nextThen?.bind(client) ?? ((done: (outcome: OperationOutcome) => void): void => void client.next().then(done, failedWith));
      let sentMs = 0;
      let sending = false;
      const send = (): void => {
        sentMs = performance.now();
        if (sentMs >= deadlineMs) return finished();
        sending = true;
        try {
          request(answered);
        } catch (error) {
          failedWith(error instanceof Error ? error : new Error(String(error)));
        } finally {
          sending = false;
        }
      };
      const answered = (outcome: OperationOutcome): void => {
        if (record(outcome, sentMs, performance.now())) setTimeout(send, failureBackoffMs);
        // Answered inside `nextThen` itself: the next request waits for a microtask, so a client
        // that answers synchronously cannot grow the stack.
        else if (sending) queueMicrotask(send);
        else send();
      };
      send();
    });
  }

  try {
    await Promise.all(options.clients.map(drive));
  } finally {
    if (progressTimer !== null) clearInterval(progressTimer);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = options.durationMs / 1000;
  return {
    concurrency: options.clients.length,
    seconds,
    committed,
    failed,
    failuresByCode,
    committedPerSecond: committed / seconds,
    latency: samples.summary(),
    generatorCpuMs: (cpu.user + cpu.system) / 1000,
  };
}
