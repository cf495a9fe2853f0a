import type { WatchEvent } from "@lockstep/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockstepClient } from "./lockstep-client.js";
import type { LockstepError } from "./lockstep-error.js";
import { FakeCluster, unusedEndpoint } from "./testing/fake-server.js";
import { waitFor } from "./testing/wait-for.js";

let fake: FakeCluster;

beforeEach(async () => {
  fake = await FakeCluster.start(3);
});
afterEach(async () => {
  await fake.stop();
});

function client(endpoints: string[], watchReconnectAttemptsMax = 10): LockstepClient {
  return new LockstepClient({ endpoints, retryDelayMs: 1, retryDelayMaxMs: 5, watchReconnectAttemptsMax });
}

describe("watch", () => {
  it("resumes after the server drops the socket, with no gap and no duplicate", async () => {
    const received: WatchEvent[] = [];
    const watch = client([fake.node("n1").url, fake.node("n2").url]).watch({ from: 1, onEvent: (event) => received.push(event) });
    await waitFor(() => fake.watchFroms.length === 1);
    fake.applyTransition("a", "Running");
    fake.applyTransition("b", "Running");
    await waitFor(() => received.length === 2);
    // The resumed stream repeats two old events; the client must drop them.
    fake.watchReplayOverlap = 2;
    fake.dropWatchers();
    fake.applyTransition("a", "Stopped");
    fake.applyTransition("c", "Running");
    await waitFor(() => received.length === 4);
    fake.applyTransition("c", "Stopped");
    await waitFor(() => received.length === 5);
    expect(received.map((event) => event.revision)).toEqual([1, 2, 3, 4, 5]);
    expect(received[2]).toEqual({ type: "transition", revision: 3, key: "a", from: "Running", to: "Stopped" });
    expect(fake.watchFroms).toEqual([1, 3]);
    expect(watch.lastRevision).toBe(5);
    watch.close();
    expect(await watch.stopped).toBeUndefined();
  });

  it("resumes on another endpoint when its node goes away", async () => {
    const received: number[] = [];
    const watch = client([fake.node("n1").url, fake.node("n2").url]).watch({ from: 1, onEvent: (event) => received.push(event.revision) });
    fake.applyTransition("a", "Running");
    await waitFor(() => received.length === 1);
    fake.leaderId = "n2";
    await fake.stopNode("n1");
    fake.applyTransition("a", "Stopped");
    await waitFor(() => received.length === 2);
    expect(received).toEqual([1, 2]);
    watch.close();
  });

  it("without from, delivers only what commits after it started", async () => {
    fake.applyTransition("a", "Running");
    const received: number[] = [];
    const watch = client([fake.node("n1").url]).watch({ onEvent: (event) => received.push(event.revision) });
    await waitFor(() => fake.watchFroms.length === 1);
    expect(fake.watchFroms).toEqual([2]);
    expect(watch.lastRevision).toBe(1);
    fake.applyTransition("a", "Stopped");
    await waitFor(() => received.length === 1);
    expect(received).toEqual([2]);
    watch.close();
  });

  it("stops with compacted when the revision is gone, and reports it once", async () => {
    fake.watchOldestRevision = 5;
    const errors: LockstepError[] = [];
    const watch = client([fake.node("n1").url]).watch({ from: 2, onEvent: () => undefined, onError: (error) => errors.push(error) });
    const stoppedWith = await watch.stopped;
    expect(stoppedWith?.code).toBe("compacted");
    expect(stoppedWith?.details.oldestRevision).toBe(5);
    expect(errors).toEqual([stoppedWith]);
  });

  it("gives up with unavailable after watchReconnectAttemptsMax failed connections", async () => {
    const watch = client([await unusedEndpoint()], 3).watch({ from: 1, onEvent: () => undefined });
    const stoppedWith = await watch.stopped;
    expect(stoppedWith?.code).toBe("unavailable");
  });

  it("delivers nothing after close", async () => {
    const received: number[] = [];
    const watch = client([fake.node("n1").url]).watch({ from: 1, onEvent: (event) => received.push(event.revision) });
    await waitFor(() => fake.watchFroms.length === 1);
    watch.close();
    fake.applyTransition("a", "Running");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toEqual([]);
  });

  it("refuses a from below 1", () => {
    expect(() => client([fake.node("n1").url]).watch({ from: 0, onEvent: () => undefined })).toThrow(TypeError);
  });
});
