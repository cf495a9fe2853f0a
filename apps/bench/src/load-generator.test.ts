import { describe, expect, it } from "vitest";
import { runPhase, type LoadClient, type OperationOutcome } from "./load-generator.js";

/** A client whose every request takes one macrotask and ends as the script says. */
function scriptedClient(outcome: () => OperationOutcome): LoadClient & { calls: number } {
  const client = {
    calls: 0,
    next(): Promise<OperationOutcome> {
      client.calls += 1;
      return new Promise((resolve) => setImmediate(() => resolve(outcome())));
    },
  };
  return client;
}

/** The same, answering through `nextThen`; `synchronous` answers inside the call itself. */
function callbackClient(outcome: () => OperationOutcome, synchronous = false): LoadClient & { calls: number; nextCalls: number } {
  const client = {
    calls: 0,
    nextCalls: 0,
    next(): Promise<OperationOutcome> {
      client.nextCalls += 1;
      return Promise.resolve(outcome());
    },
    nextThen(done: (answer: OperationOutcome) => void): void {
      client.calls += 1;
      if (synchronous) done(outcome());
      else setImmediate(() => done(outcome()));
    },
  };
  return client;
}

describe("runPhase", () => {
  it("runs every client in a closed loop for the duration and counts what they committed", async () => {
    const clients = [scriptedClient(() => ({ ok: true })), scriptedClient(() => ({ ok: true }))];
    const started = performance.now();
    const result = await runPhase({ clients, durationMs: 200 });
    const elapsedMs = performance.now() - started;
    expect(elapsedMs).toBeGreaterThanOrEqual(199);
    expect(elapsedMs).toBeLessThan(1000);
    expect(result.concurrency).toBe(2);
    expect(result.committed).toBeGreaterThan(100);
    // Both clients took part, and the answers counted are those that came within the window.
    for (const client of clients) expect(client.calls).toBeGreaterThan(50);
    expect(result.committed).toBeLessThanOrEqual(clients[0]!.calls + clients[1]!.calls);
    expect(result.committedPerSecond).toBeCloseTo(result.committed / 0.2, 6);
    expect(result.latency.count).toBe(clients[0]!.calls + clients[1]!.calls);
    expect(result.failed).toBe(0);
  });

  it("counts failures by code and backs off after each one instead of spinning", async () => {
    const failing = scriptedClient(() => ({ ok: false, code: "timeout" }));
    const result = await runPhase({ clients: [failing], durationMs: 200 });
    expect(result.committed).toBe(0);
    expect(result.failuresByCode["timeout"]).toBe(failing.calls);
    // A 10 ms pause per failure: about 20 attempts in 200 ms, never thousands.
    expect(failing.calls).toBeGreaterThan(5);
    expect(failing.calls).toBeLessThan(40);
    expect(result.latency.count).toBe(0);
  });

  it("reports progress while it runs", async () => {
    const updates: number[] = [];
    await runPhase({ clients: [scriptedClient(() => ({ ok: true }))], durationMs: 250, progressIntervalMs: 50, onProgress: (progress) => updates.push(progress.committed) });
    expect(updates.length).toBeGreaterThanOrEqual(3);
    expect(updates[updates.length - 1]!).toBeGreaterThan(updates[0]!);
  });

  it("drives a client with nextThen through it, with the same counting, latencies and back-off", async () => {
    const committing = callbackClient(() => ({ ok: true }));
    const failing = callbackClient(() => ({ ok: false, code: "timeout" }));
    const result = await runPhase({ clients: [committing, failing], durationMs: 200 });
    expect(committing.nextCalls + failing.nextCalls).toBe(0);
    expect(committing.calls).toBeGreaterThan(50);
    expect(result.committed).toBeGreaterThan(50);
    expect(result.committed).toBeLessThanOrEqual(committing.calls);
    expect(result.latency.count).toBe(committing.calls);
    expect(result.failuresByCode["timeout"]).toBe(failing.calls);
    expect(failing.calls).toBeGreaterThan(5);
    expect(failing.calls).toBeLessThan(40);
  });

  it("does not grow the stack when nextThen answers inside the call", async () => {
    const client = callbackClient(() => ({ ok: true }), true);
    const result = await runPhase({ clients: [client], durationMs: 100 });
    // Hundreds of thousands of answers in 100 ms would overflow a recursive loop.
    expect(result.committed).toBeGreaterThan(10_000);
  });

  it("ends the phase with the error of a request whose promise rejects", async () => {
    const broken: LoadClient = { next: () => Promise.reject(new Error("socket gone mad")) };
    await expect(runPhase({ clients: [broken, scriptedClient(() => ({ ok: true }))], durationMs: 200 })).rejects.toThrow("socket gone mad");
  });
});
